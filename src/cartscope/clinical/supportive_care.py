"""Tocilizumab and corticosteroid use per patient in a toxicity window, from every source.

A centre records CRS / ICANS treatment as daily flags (``toxicity_daily.tocilizumab`` /
``steroids``, one row per day) or as treatment events (``events`` of type ``tocilizumab`` /
``corticosteroid``, one row per dose; :data:`cartscope.cohort.schema.TREATMENT_EVENTS`), or
both. The ASTCT consensus counts tocilizumab and corticosteroids as CRS / ICANS treatment (Lee
et al., Biol Blood Marrow Transplant 2019;25:625-638), and the share of treated patients is a
standard toxicity table row (e.g. Lu et al. 2021, Table 3), so neither source may be ignored.

Rule (project rule; no guideline defines the merging of sources):

- treated (True) when a daily flag in the window is true **or** an event of the type lies in
  the window (closed interval of days from the index infusion, as
  :func:`cartscope.clinical.crs.grade_crs` uses);
- not treated (False) when at least one source covers the patient and none says treated: the
  daily source covers a patient with a non-missing flag in the window, the event source covers
  every patient once the cohort records that treatment as events at all (``recorded_types``,
  default: the types present in ``events``), because then the absence of a dose is a "no";
- not recorded (NA) otherwise: a missing flag is not a "no". ``*_source`` names the sources
  that covered the patient ("daily data", "events", "daily data and events") or is None.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._episodes import in_window
from cartscope.clinical._labs import event_rows

TREATMENTS: tuple[tuple[str, str, str], ...] = (
    ("tocilizumab", "tocilizumab", "tocilizumab"),
    ("steroids", "steroids", "corticosteroid"),
)
"""(output column, ``toxicity_daily`` flag, ``events`` type)."""

DAILY = "daily data"
EVENTS = "events"
BOTH = "daily data and events"
NOT_RECORDED = "not recorded"


def _daily_flags(toxicity_daily: pd.DataFrame | None, column: str, ids: pd.Index,
                 window: tuple[float | None, float | None]) -> tuple[pd.Series, pd.Series]:
    """(any true flag, any non-missing flag) per patient of ``ids``."""
    none = pd.Series(False, index=ids)
    if toxicity_daily is None or toxicity_daily.empty or column not in toxicity_daily.columns:
        return none, none
    t = toxicity_daily.assign(patient_id=toxicity_daily["patient_id"].astype(str),
                              day=pd.to_numeric(toxicity_daily["day"], errors="coerce"))
    t = t[in_window(t["day"], window)]
    try:
        flag = t[column].astype("boolean")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"toxicity_daily column {column!r} must hold true/false values; got e.g. "
                         f"{t[column].dropna().head(3).tolist()}") from exc
    pid = t["patient_id"].to_numpy()
    seen = pd.Series(flag.notna().to_numpy(dtype=bool)).groupby(pid).any().reindex(ids, fill_value=False)
    on = pd.Series(flag.fillna(False).to_numpy(dtype=bool)).groupby(pid).any().reindex(ids, fill_value=False)
    return on.astype(bool), seen.astype(bool)


def supportive_care(
    patient_ids: Sequence[str],
    toxicity_daily: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    *,
    window: tuple[float | None, float | None] = (0.0, None),
    recorded_types: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per patient: ``tocilizumab`` / ``steroids`` (boolean, NA = not recorded) and their
    ``tocilizumab_source`` / ``steroids_source`` (module docstring).

    ``toxicity_daily`` and ``events`` are on days from the index infusion; ``recorded_types``
    are the event types the cohort records at all (default: those in ``events``).
    """
    ids = pd.Index([str(p) for p in patient_ids], name="patient_id")
    ev = event_rows(events, [t for _, _, t in TREATMENTS])
    types = set(recorded_types) if recorded_types is not None else set(ev["type"].astype(str))
    ev = ev[in_window(ev["day"], window)]
    out: dict[str, object] = {"patient_id": ids.astype(object)}
    for name, column, etype in TREATMENTS:
        on_daily, seen_daily = _daily_flags(toxicity_daily, column, ids, window)
        covered_events = etype in types
        on_events = pd.Series(False, index=ids)
        if covered_events:
            hit = set(ev.loc[ev["type"].astype(str) == etype, "patient_id"].astype(str))
            on_events = pd.Series([p in hit for p in ids], index=ids)
        treated = on_daily | on_events
        covered = seen_daily | covered_events
        out[name] = pd.array([bool(t) if c else pd.NA for t, c in zip(treated, covered)], dtype="boolean")
        out[f"{name}_source"] = np.array(
            [BOTH if d and covered_events else DAILY if d else EVENTS if covered_events else None
             for d in seen_daily], dtype=object)
    return pd.DataFrame(out)
