"""Time-dependent covariates after CAR-T: (start, stop] rows, as R survival's ``tmerge`` builds them.

A covariate that changes during follow-up (a consolidative allogeneic HSCT after CAR-T, the
first response, a reinfusion, CRS onset) must not be treated as known at day 0: comparing
patients by a status reached later credits the "exposed" group with the time they had to
survive to reach it (immortal-time bias; Suissa, Am J Epidemiol 2008;167:492-499; for
HSCT after CAR-T, e.g. Shah et al., J Clin Oncol 2021;39:1650-1659 model consolidative
transplant as a time-dependent covariate). The standard remedy (Therneau, Crowson and
Atkinson, "Using time dependent covariates and time dependent coefficients in the Cox
model", survival package vignette) splits each patient's follow-up at the days the
covariate changes:

* a patient followed to day T with event indicator e gives rows (0, c1], (c1, c2], ...,
  (ck, T] at the change days c strictly inside (0, T); only the last row carries e;
* ``tdc`` (0/1): the covariate is 1 on every row starting on or after the first change day
  (a change on or before day 0 applies from the start, one at or after T never applies) -
  R ``tmerge(..., x = tdc(day))``;
* ``cumtdc``: the number of change days on or before the row's start (e.g. reinfusions so
  far) - R ``tmerge(..., x = cumtdc(day))``.

Days are days from the index infusion (the cohort tables are rebased by ``index_day``).
The day extractors below read the cohort tables; the table builder is independent of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "TimeVaryingSpec",
    "counting_process_table",
    "crs_onset_days",
    "event_days",
    "reinfusion_days",
    "response_days",
]

ChangeKind = Literal["tdc", "cumtdc"]


class TimeVaryingSpec(tuple):
    """(days, kind): the change days of one covariate (patient_id, day) and ``tdc``/``cumtdc``."""

    def __new__(cls, days: pd.DataFrame, kind: ChangeKind = "tdc") -> "TimeVaryingSpec":
        if kind not in ("tdc", "cumtdc"):
            raise ValueError(f"kind must be 'tdc' or 'cumtdc', got {kind!r}")
        return super().__new__(cls, (days, kind))


def _as_days(days: pd.DataFrame | pd.Series, name: str) -> pd.DataFrame:
    if isinstance(days, pd.Series):
        days = days.dropna().rename("day").rename_axis("patient_id").reset_index()
    missing = {"patient_id", "day"} - set(days.columns)
    if missing:
        raise ValueError(f"change days of {name!r} need the column(s) {sorted(missing)}")
    out = days.loc[:, ["patient_id", "day"]].copy()
    out["patient_id"] = out["patient_id"].astype(str)
    out["day"] = pd.to_numeric(out["day"], errors="coerce")
    return out.dropna(subset=["day"])


def counting_process_table(
    followup: pd.DataFrame,
    covariates: Mapping[str, pd.DataFrame | pd.Series | TimeVaryingSpec],
) -> pd.DataFrame:
    """Split follow-up into (tstart, tstop] rows at the change days of each covariate.

    Args:
        followup: one row per patient with ``patient_id``, ``time`` (> 0, days from the index
            infusion) and ``event`` (0/1); further columns (baseline covariates) are copied
            to every row of the patient.
        covariates: name -> change days, a DataFrame (``patient_id``, ``day``), a Series
            (index patient_id, value day) or a :class:`TimeVaryingSpec` for ``cumtdc``.

    Returns:
        ``patient_id, tstart, tstop, event``, the baseline columns and one column per
        covariate, rows sorted by patient (input order) then tstart - R ``tmerge``'s layout.

    Raises:
        ValueError: a follow-up time <= 0 or missing (names the patients), duplicate patients,
            an event that is not 0/1.
    """
    need = {"patient_id", "time", "event"} - set(followup.columns)
    if need:
        raise ValueError(f"followup needs the column(s) {sorted(need)}")
    base = followup.copy()
    base["patient_id"] = base["patient_id"].astype(str)
    dup = base["patient_id"][base["patient_id"].duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"followup has more than one row for patient(s) {dup[:5]}")
    time = pd.to_numeric(base["time"], errors="coerce").to_numpy(dtype=float)
    bad = ~(time > 0)
    if bad.any():
        ids = base["patient_id"][bad].tolist()
        raise ValueError(f"follow-up time must be > 0; patient(s) {ids[:5]}{' ...' if len(ids) > 5 else ''}")
    event = pd.to_numeric(base["event"], errors="coerce").to_numpy(dtype=float)
    if not np.all((event == 0) | (event == 1)):
        raise ValueError("event must be 0/1")

    specs: dict[str, tuple[pd.DataFrame, str]] = {}
    for name, value in covariates.items():
        if name in base.columns or name in ("tstart", "tstop"):
            raise ValueError(f"covariate name {name!r} is already a column of the follow-up table")
        days, kind = value if isinstance(value, TimeVaryingSpec) else (value, "tdc")
        specs[name] = (_as_days(days, name), kind)
    by_patient = {name: d.groupby("patient_id")["day"].apply(lambda s: np.sort(s.to_numpy(float)))
                  for name, (d, _) in specs.items()}

    rows: list[dict] = []
    extra = [c for c in base.columns if c not in ("patient_id", "time", "event")]
    for k, rec in enumerate(base.itertuples(index=False)):
        pid = rec.patient_id
        t = time[k]
        cuts = set()
        per = {}
        for name in specs:
            d = by_patient[name].get(pid, np.zeros(0))
            per[name] = d
            cuts.update(float(v) for v in d if 0.0 < v < t)
        edges = [0.0, *sorted(cuts), t]
        values = {c: getattr(rec, c) for c in extra} if extra else {}
        for a, b in zip(edges[:-1], edges[1:]):
            row = {"patient_id": pid, "tstart": a, "tstop": b,
                   "event": int(event[k]) if b == t else 0, **values}
            for name, (_, kind) in specs.items():
                count = int(np.sum(per[name] <= a))
                row[name] = count if kind == "cumtdc" else int(count > 0)
            rows.append(row)
    cols = ["patient_id", "tstart", "tstop", "event", *extra, *specs]
    return pd.DataFrame(rows, columns=cols)


# --- change days from the cohort tables ---------------------------------------------------


def _rebase(frame: pd.DataFrame, index_day: pd.Series) -> pd.DataFrame:
    f = frame.assign(patient_id=frame["patient_id"].astype(str))
    offset = f["patient_id"].map(index_day.rename(index=str))
    return f.assign(day=pd.to_numeric(f["day"], errors="coerce") - offset).dropna(subset=["day"])


def event_days(events: pd.DataFrame, event_type: str, index_day: pd.Series) -> pd.DataFrame:
    """Days (from the index infusion) of events of ``event_type`` (e.g. ``hsct``), every one."""
    e = events[events["type"].astype(str).str.casefold() == event_type.casefold()]
    return _rebase(e, index_day)[["patient_id", "day"]].reset_index(drop=True)


def reinfusion_days(infusions: pd.DataFrame, index_day: pd.Series, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Days of every infusion after the index one (and of ``reinfusion`` events, if any)."""
    inf = _rebase(infusions, index_day)
    parts = [inf[inf["day"] > 0][["patient_id", "day"]]]
    if events is not None and "type" in events:
        parts.append(event_days(events, "reinfusion", index_day))
    out = pd.concat(parts, ignore_index=True).drop_duplicates().sort_values(["patient_id", "day"])
    return out.reset_index(drop=True)


def response_days(
    assessments: pd.DataFrame,
    index_day: pd.Series,
    responses: Iterable[str] = ("CR", "CRi", "MRD-negative CR"),
) -> pd.DataFrame:
    """First day of an assessment with one of ``responses`` (default complete remission,
    as in the ASTCT/Lugano-type response tables of the presets), after the index infusion."""
    if "response" not in assessments:
        return pd.DataFrame({"patient_id": pd.Series(dtype=str), "day": pd.Series(dtype=float)})
    want = {r.casefold() for r in responses}
    a = assessments[assessments["response"].astype(str).str.casefold().isin(want)]
    a = _rebase(a, index_day)
    a = a[a["day"] >= 0]
    return a.groupby("patient_id", as_index=False)["day"].min()


def crs_onset_days(toxicity_daily: pd.DataFrame, index_day: pd.Series, at_least: int = 1) -> pd.DataFrame:
    """Onset day of CRS of grade >= ``at_least`` (ASTCT 2019 grading, :func:`cartscope.clinical.crs.grade_crs`)."""
    from cartscope.clinical.crs import grade_crs

    graded = grade_crs(_rebase(toxicity_daily, index_day))
    g = graded[pd.to_numeric(graded["crs_grade"], errors="coerce") >= at_least]
    g = g.rename(columns={"onset_day": "day"})[["patient_id", "day"]]
    g = g.assign(day=pd.to_numeric(g["day"], errors="coerce")).dropna()
    return g.reset_index(drop=True)
