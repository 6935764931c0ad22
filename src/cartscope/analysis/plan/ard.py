"""The analysis-results dataset (ARD): one row per analysis x group x variable x statistic.

In the spirit of the CDISC Analysis Results Standard and of R's cards/gtsummary ARD: a long,
tidy frame that every table and figure of the report can be rendered from. Columns:

- ``analysis``, ``kind``: the analysis id and kind of the plan; ``population``: its population
  name ('' = every patient with an index infusion);
- ``group1``, ``group1_level``: the ``by`` variable and its level ('' for the whole population);
  ``group2``, ``group2_level``: the ``within`` variable and its level (nested analyses only);
- ``variable``, ``variable_level``: what the statistic is about (e.g. ``os`` and ``12`` months,
  ``crs_grade`` and ``2``);
- ``stat_name``: ``n``, ``pct``, ``median``, ``estimate``, ``lower``, ``upper``, ``p_value``, ...;
- ``stat``: the number (NaN when the statistic is text); ``stat_text``: text statistics;
- ``method``: how it was computed (e.g. ``kaplan-meier log-log 95%``, ``mann-whitney exact``).

Rows keep the order the analyses wrote them in (the plan's order): the same data and plan
give the same frame, byte for byte once written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ARD_COLUMNS = ("analysis", "kind", "population", "group1", "group1_level", "group2", "group2_level",
               "variable", "variable_level", "stat_name", "stat", "stat_text", "method")

_TEXT = [c for c in ARD_COLUMNS if c != "stat"]


def empty_ard() -> pd.DataFrame:
    """An ARD without rows, with its column types."""
    return ard_frame([])


def ard_frame(rows: list[dict]) -> pd.DataFrame:
    """ARD rows (dicts with the :data:`ARD_COLUMNS` keys) as a typed frame."""
    frame = pd.DataFrame(rows, columns=list(ARD_COLUMNS))
    for col in _TEXT:
        frame[col] = frame[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                    else str(v)).astype(object)
    frame["stat"] = pd.to_numeric(frame["stat"], errors="coerce").astype(float)
    return frame.reset_index(drop=True)


def ard_value(ard: pd.DataFrame, analysis: str, stat_name: str, **where: str) -> float:
    """The one number of ``ard`` for ``analysis`` / ``stat_name`` and the other columns in
    ``where`` (KeyError when none or several rows match)."""
    sel = (ard["analysis"] == analysis) & (ard["stat_name"] == stat_name)
    for col, val in where.items():
        sel &= ard[col] == str(val)
    hit = ard[sel]
    if len(hit) != 1:
        raise KeyError(f"{len(hit)} ARD rows for analysis={analysis!r} stat_name={stat_name!r} {where}")
    return float(hit["stat"].iloc[0])


__all__ = ["ARD_COLUMNS", "ard_frame", "ard_value", "empty_ard"]
