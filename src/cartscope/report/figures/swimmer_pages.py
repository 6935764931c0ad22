"""The order and pages of the swimmer plot (:mod:`cartscope.report.figures.swimmer`), without
matplotlib: the report decides how many swimmer figures it shows before any figure is drawn,
and the process that builds the report need not import matplotlib (figures are drawn in
worker processes, :mod:`cartscope.report.render`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_REQUIRED = ("patient_id", "last_contact_day")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)


def swimmer_order(endpoints: pd.DataFrame) -> pd.DataFrame:
    """Patients with their follow-up end (last contact or death, days) and whether follow-up
    is ongoing, sorted by follow-up (longest first, ties by patient id)."""
    missing = [c for c in _REQUIRED if c not in endpoints]
    if missing:
        raise ValueError(f"the endpoints frame lacks {missing}; pass derive_endpoints() output")
    ep = endpoints.copy()
    ep["patient_id"] = ep["patient_id"].astype(str)
    end = np.fmax(_num(ep, "last_contact_day"), _num(ep, "death_day"))
    ep["followup_end"] = end
    ep["ongoing"] = np.isnan(_num(ep, "death_day")) & np.isnan(_num(ep, "lost_day"))
    ep = ep[np.isfinite(end)]
    return ep.sort_values(["followup_end", "patient_id"], ascending=[False, True], kind="mergesort")


ROW_HEIGHT = 0.14
"""Inches per patient bar (10 pt: room for a 6-pt id beside each bar)."""

PER_PAGE = 48
"""Patients per swimmer page: 48 bars make a figure under 8 inches, printed unscaled on A4."""


def swimmer_pages(endpoints: pd.DataFrame, per_page: int = PER_PAGE) -> list[pd.DataFrame]:
    """The patients of :func:`swimmer_order` in pages of at most ``per_page``, balanced
    (119 patients -> 40 + 40 + 39), each a slice of ``endpoints`` in plot order."""
    order = swimmer_order(endpoints)
    n = len(order)
    pages = max(1, -(-n // per_page))
    size = -(-n // pages)
    ids = order["patient_id"].tolist()
    pid = endpoints["patient_id"].astype(str)
    return [endpoints[pid.isin(ids[k:k + size])] for k in range(0, n, size)] or [endpoints]


__all__ = ["PER_PAGE", "ROW_HEIGHT", "swimmer_order", "swimmer_pages"]
