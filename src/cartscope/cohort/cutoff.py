"""Data cut-off: the calendar date up to which a cohort is analysed.

A study reports its data "as of" a cut-off date (the date of database lock); anything recorded
later must not enter the analysis, and a patient still followed at the cut-off is censored
there (administrative censoring, as in every registration trial's survival analysis). So:

- every timed row later than the cut-off (day from infusion 1 > the cut-off's day for that
  patient) is left out, each with a warning naming file, row and column;
- a patient who had any such later record was, by that record, alive and in follow-up at the
  cut-off: unless they died on or before it, a ``last_contact`` event is placed on the cut-off
  day, so that follow-up (and every time-to-event endpoint) is censored there.

The cut-off is a date, so it needs each patient's infusion-1 date; a cohort given in days only
cannot be cut (an error says so).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cartscope.cohort.checks_common import Table, emit, number_text
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.schema import TABLE_ORDER, TABLES


def apply_data_cutoff(
    tables: dict[str, Table | None], anchors: pd.Series | None, cutoff: dt.date, out: list[Problem]
) -> None:
    """Drop rows after ``cutoff`` and censor followed patients at it (see the module docstring)."""
    infusions = tables.get("infusions")
    if anchors is None:
        where = infusions.file if infusions is not None else "infusions"
        out.append(Problem(where, None, None, "cutoff-without-dates",
                           f"a data cut-off ({cutoff.isoformat()}) needs the date of each patient's infusion 1, "
                           "and infusions give days only"))
        return
    cut_day = float(cutoff.toordinal()) - anchors  # per patient: the cut-off as a day from infusion 1
    followed_after: set[str] = set()
    for name in TABLE_ORDER:
        table = tables.get(name)
        if table is None or not TABLES[name].timed or not table.usable or name == "infusions":
            continue
        f = table.frame
        limit = f["patient_id"].map(cut_day).to_numpy(dtype="float64", na_value=np.nan)
        day = f["day"].to_numpy(dtype="float64")
        later = ~np.isnan(limit) & ~np.isnan(day) & (day > limit)
        if not later.any():
            continue
        emit(out, table, later, "day", "after-data-cutoff",
             [f"day {number_text(d)} is after the data cut-off {cutoff.isoformat()} (day {number_text(c)}); "
              "left out" for d, c in zip(day[later], limit[later])], Severity.WARNING)
        followed_after.update(f.loc[later, "patient_id"].dropna().astype(str))
        keep = ~later
        table.frame = f.loc[keep].reset_index(drop=True)
        table.raw = table.raw.loc[keep].reset_index(drop=True)
        if table.row_context is not None:
            table.row_context = table.row_context[keep]
        table.column_fields = {k: v[keep] for k, v in table.column_fields.items()}
    events = tables.get("events")
    if events is None or not events.usable or not followed_after:
        return
    _censor_at_cutoff(events, sorted(followed_after), cut_day)


def _censor_at_cutoff(events: Table, patients: list[str], cut_day: pd.Series) -> None:
    """A ``last_contact`` event on the cut-off day for each followed patient not dead by then."""
    f = events.frame
    dead = set(f.loc[(f["type"] == "death").fillna(False).to_numpy(dtype=bool), "patient_id"].astype(str))
    rows = []
    for pid in patients:
        if pid in dead or pid not in cut_day.index:
            continue
        rows.append({"_row": events.header_row, "patient_id": pid, "type": "last_contact",
                     "detail": "data cut-off", "day": float(cut_day[pid]),
                     "_day_given": np.nan, "_date_ord": np.nan, "_from_date": True})
    if not rows:
        return
    added = pd.DataFrame(rows)
    frame = pd.concat([f, added.reindex(columns=f.columns)], ignore_index=True)
    for col in f.columns:  # keep the typed columns' dtypes
        if col in frame:
            frame[col] = frame[col].astype(f[col].dtype)
    events.frame = frame
    blank = pd.DataFrame(index=range(len(rows)), columns=events.raw.columns, dtype=object)
    events.raw = pd.concat([events.raw, blank], ignore_index=True)
    if events.row_context is not None:
        events.row_context = np.concatenate([events.row_context, np.full(len(rows), "", dtype=object)])
    events.column_fields = {k: np.concatenate([v, np.full(len(rows), None, dtype=object)])
                            for k, v in events.column_fields.items()}
