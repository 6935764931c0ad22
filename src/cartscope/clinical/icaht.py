"""Immune effector cell-associated haematotoxicity (ICAHT): neutropenia and thrombocytopenia grades.

Sources
-------
- N-ICAHT (neutrophils): Rejeski K, Subklewe M, Aljurf M, et al. *Immune effector
  cell-associated hematotoxicity: EHA/EBMT consensus grading and best practice
  recommendations.* Blood 2023;142(10):865-877, doi:10.1182/blood.2023020578. Verified from
  stored abstracts: grading by depth and duration of neutropenia, early = day 0-30, late =
  after day +30.
- T-ICAHT (platelets): Rejeski K, Sanz J, Fei T, et al. *T-ICAHT: grading and prognostic
  impact of thrombocytopenia after CAR T-cell therapy.* Blood 2025, doi:10.1182/blood.2025028833,
  Table 1 (stored copy). Verified there, and stated to follow the N-ICAHT logic: the early
  duration is the *cumulative* number of days below a threshold, censored at progression,
  subsequent therapy or death; days of non-stable count recovery (< 3 days) count towards the
  total; late grades need two or more laboratory tests (or non-transient cytopenia); platelet
  recovery = first of 3 consecutive days >= 20 x 10^9/L without a platelet transfusion for
  7 consecutive days.

N-ICAHT thresholds (⚠ the consensus table itself was not in the stored corpus; the numbers
are the published table as recalled, matching two independent implementations seen; treat as
protocol defaults a study may override):

===========================  =========  =========  ==========  ==========
early (day 0-30)             grade 1    grade 2    grade 3     grade 4
===========================  =========  =========  ==========  ==========
ANC <= 500/uL, days          1-6        7-13       14-30       > 30 (all 31)
ANC <= 100/uL, days          --         --         >= 7        >= 14
late (after day 30)          ANC <= 1500  <= 1000  <= 500      <= 100
===========================  =========  =========  ==========  ==========

T-ICAHT (verified, Table 1 of the 2025 paper): early (day 0-30) platelets < 50 x 10^9/L for
1-6 days grade 1, >= 7 days grade 2; < 20 x 10^9/L for 1-13 days grade 3, >= 14 days grade 4.
Late (days 31-100): < 100 x 10^9/L grade 1, < 50 x 10^9/L grade 2 (the stored table's row is
garbled; grade 2 by the row order), < 20 x 10^9/L for 1-13 days grade 3, >= 14 days grade 4.

Project conventions (stated, protocol-overridable, ⚠ not in the sources):
- laboratories measure on some days only: a day takes the last value measured on or before it,
  carried forward for at most ``max_carry_days`` (7); a day further from any measurement is
  unobserved and counts neither as cytopenic nor as recovered;
- a censoring event on day c ends the observation before day c (day c is not counted);
- a run of fewer than ``recovery_days`` (3) non-cytopenic days *between* two cytopenic days is
  a non-stable recovery and counts as cytopenic; a run cut short by the end of observation is
  not counted (it cannot be shown to be non-stable);
- late grades count distinct measurement days (values are not carried forward) and need
  ``late_min_measurements`` (2) at or below the grade's threshold;
- the neutrophil recovery day is the first day of the first run of ``recovery_days``
  observed days with ANC > 500/uL after the first day <= 500/uL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._labs import CENSORING_EVENTS, censoring, daily_grid, event_rows, lab_values

PATIENT_COLUMNS = (
    "patient_id", "early_grade", "late_grade", "days_anc_le500", "days_anc_le100", "early_nadir_anc",
    "anc_recovery_day", "late_nadir_anc", "late_n_measurements", "early_days_observed",
    "t_early_grade", "t_late_grade", "days_plt_lt50k", "days_plt_lt20k", "late_days_plt_lt20k",
    "platelet_recovery_day", "gcsf_days", "first_gcsf_day", "rbc_transfusions", "platelet_transfusions",
    "censor_day", "censor_reason", "reason",
)


@dataclass(frozen=True)
class IcahtRules:
    """Thresholds and durations of N-ICAHT and T-ICAHT (module docstring for sources).

    ANC thresholds are inclusive (``<=``), platelet thresholds strict (``<``), as the sources
    write them. ``*_days`` tuples give the first duration (days) of each higher grade.
    """

    early_window: tuple[int, int] = (0, 30)
    late_end: int | None = None
    anc_severe: float = 500.0
    anc_profound: float = 100.0
    severe_days: tuple[int, int, int] = (7, 14, 31)
    profound_days: tuple[int, int] = (7, 14)
    late_anc: tuple[float, float, float, float] = (1500.0, 1000.0, 500.0, 100.0)
    late_min_measurements: int = 2
    recovery_days: int = 3
    max_carry_days: float = 7.0
    platelets_early: tuple[float, float] = (50000.0, 20000.0)
    platelets_early_days: tuple[int, int] = (7, 14)
    platelets_late: tuple[float, float, float] = (100000.0, 50000.0, 20000.0)
    platelets_late_end: int = 100
    platelet_transfusion_free_days: int = 7
    censor_events: tuple[str, ...] = CENSORING_EVENTS

    def __post_init__(self) -> None:
        a, b = self.early_window
        if a > b:
            raise ValueError(f"early_window start {a} is after its end {b}")
        if self.recovery_days < 1 or self.late_min_measurements < 1:
            raise ValueError("recovery_days and late_min_measurements must be >= 1")
        if list(self.late_anc) != sorted(self.late_anc, reverse=True):
            raise ValueError("late_anc thresholds must be descending (grade 1 to 4)")


@dataclass(frozen=True)
class IcahtResult:
    """Per-patient ICAHT grades (columns :data:`PATIENT_COLUMNS`) and the rules used."""

    patients: pd.DataFrame
    rules: IcahtRules = field(default_factory=IcahtRules)

    def to_frame(self) -> pd.DataFrame:
        return self.patients.copy()

    def grade_table(self, column: str = "early_grade") -> pd.DataFrame:
        """Number and percentage of evaluable patients per grade 0-4 of ``column``."""
        g = self.patients[column].dropna().astype(int)
        n = len(g)
        rows = [{"grade": k, "n": int((g == k).sum()), "n_evaluable": n,
                 "pct": 100.0 * int((g == k).sum()) / n if n else np.nan} for k in range(5)]
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        p = self.patients
        def dist(col: str) -> str:
            g = p[col].dropna().astype(int)
            return " ".join(f"{k}:{int((g == k).sum())}" for k in range(5)) + f" (n={len(g)})"
        return (f"ICAHT ({len(p)} patients)\n  early N-ICAHT  {dist('early_grade')}\n"
                f"  late N-ICAHT   {dist('late_grade')}\n  early T-ICAHT  {dist('t_early_grade')}")


# --- kernels (pure numpy; one patient) -------------------------------------------------------


def cumulative_days(low: np.ndarray, recovery_days: int) -> tuple[int, np.ndarray]:
    """Days counted as cytopenic: ``low`` days plus non-stable recoveries between them.

    A gap of fewer than ``recovery_days`` days between two low days counts in full; a gap of
    ``recovery_days`` or more is a stable recovery and does not count. Returns the count and
    the counted-day mask.
    """
    low = np.asarray(low, dtype=bool)
    counted = low.copy()
    idx = np.flatnonzero(low)
    if len(idx) > 1:
        gaps = np.diff(idx) - 1
        for i in np.flatnonzero((gaps > 0) & (gaps < recovery_days)):
            counted[idx[i] + 1: idx[i + 1]] = True
    return int(counted.sum()), counted


def first_stable_run(ok: np.ndarray, after: int, length: int) -> int | None:
    """Index of the first run of ``length`` consecutive ``ok`` entries starting after ``after``."""
    run = 0
    for i in range(after + 1, len(ok)):
        run = run + 1 if ok[i] else 0
        if run >= length:
            return i - length + 1
    return None


def early_neutropenia_grade(days_le500: int, days_le100: int, rules: IcahtRules = IcahtRules()) -> int:
    """Early N-ICAHT grade from cumulative days with ANC <= 500 and <= 100/uL (table above)."""
    g2, g3, g4 = rules.severe_days
    p3, p4 = rules.profound_days
    if days_le500 >= g4 or days_le100 >= p4:
        return 4
    if days_le500 >= g3 or days_le100 >= p3:
        return 3
    if days_le500 >= g2:
        return 2
    return 1 if days_le500 >= 1 else 0


def late_neutropenia_grade(values: np.ndarray, rules: IcahtRules = IcahtRules()) -> int:
    """Late N-ICAHT grade: highest grade whose threshold >= ``late_min_measurements`` values reach."""
    v = np.asarray(values, dtype=float)
    grade = 0
    for g, thr in enumerate(rules.late_anc, start=1):
        if int((v <= thr).sum()) >= rules.late_min_measurements:
            grade = g
    return grade


def early_thrombocytopenia_grade(days_lt50k: int, days_lt20k: int, rules: IcahtRules = IcahtRules()) -> int:
    """Early T-ICAHT grade (Rejeski 2025 Table 1): < 50k 1-6 d -> 1, >= 7 d -> 2; < 20k 1-13 d -> 3, >= 14 -> 4."""
    d2, d4 = rules.platelets_early_days
    if days_lt20k >= d4:
        return 4
    if days_lt20k >= 1:
        return 3
    if days_lt50k >= d2:
        return 2
    return 1 if days_lt50k >= 1 else 0


def late_thrombocytopenia_grade(values: np.ndarray, days_lt20k: int, rules: IcahtRules = IcahtRules()) -> int:
    """Late T-ICAHT grade: < 20k for >= 14 days -> 4, 1-13 days -> 3; else < 50k -> 2, < 100k -> 1.

    Every late grade needs ``late_min_measurements`` tests below its threshold (the source's
    "two or more laboratory tests"); ``days_lt20k`` is the cumulative late duration < 20k.
    """
    v = np.asarray(values, dtype=float)
    t100, t50, t20 = rules.platelets_late
    if days_lt20k >= 1 and int((v < t20).sum()) >= rules.late_min_measurements:
        return 4 if days_lt20k >= rules.platelets_early_days[1] else 3
    if int((v < t50).sum()) >= rules.late_min_measurements:
        return 2
    if int((v < t100).sum()) >= rules.late_min_measurements:
        return 1
    return 0


# --- cohort level ---------------------------------------------------------------------------


def _platelet_agent(agent: object) -> str:
    text = str(agent).strip().lower() if isinstance(agent, str) else ""
    if "plt" in text or "platelet" in text or "thrombo" in text:
        return "platelets"
    if any(k in text for k in ("rbc", "red", "erythro", "packed", "prbc", "blood")):
        return "red cells"
    return "other"


def _by_patient(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {pid: (g["day"].to_numpy(dtype=float), g["value"].to_numpy(dtype=float))
            for pid, g in frame.groupby("patient_id", sort=False)}


def _observation_end(pid: str, cens: pd.DataFrame, last_day: float) -> float:
    c = cens.at[pid, "censor_day"] if pid in cens.index else np.nan
    return min(last_day, c - 1) if np.isfinite(c) else last_day


def grade_icaht(
    labs: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    patients: pd.DataFrame | Sequence[str] | None = None,
    rules: IcahtRules = IcahtRules(),
) -> IcahtResult:
    """Early and late N-ICAHT and T-ICAHT per patient, with days below each threshold.

    ``labs`` holds ANC (analyte ``anc``/neutrophils) and platelets in any convertible unit;
    days are days from the index infusion. ``events`` gives the censoring events
    (progression, relapse, new therapy, HSCT, death), G-CSF (``g_csf``) and transfusions
    (``transfusion`` with ``agent`` red cells / platelets), which are recorded per patient and,
    for platelets, used by the transfusion-free recovery rule. ``patients`` fixes the
    analysis set (default: every patient with an ANC or platelet value).
    """
    anc = lab_values(labs, "anc")
    plt = lab_values(labs, "platelets")
    if patients is None:
        ids = sorted(set(anc["patient_id"]) | set(plt["patient_id"]))
    elif isinstance(patients, pd.DataFrame):
        ids = [str(p) for p in patients["patient_id"]]
    else:
        ids = [str(p) for p in patients]
    cens = censoring(events, ids, rules.censor_events)
    gcsf = event_rows(events, ("g_csf",))
    trans = event_rows(events, ("transfusion",))
    if "agent" in trans.columns:
        trans["product"] = trans["agent"].map(_platelet_agent)
    else:
        trans["product"] = "other"
    anc_by, plt_by = _by_patient(anc), _by_patient(plt)
    gcsf_by = {p: g["day"].to_numpy(dtype=float) for p, g in gcsf.groupby("patient_id")}
    ptx_by = {p: g.loc[g["product"] == "platelets", "day"].to_numpy(dtype=float)
              for p, g in trans.groupby("patient_id")}
    rbc_n = trans[trans["product"] == "red cells"].groupby("patient_id").size()
    plt_n = trans[trans["product"] == "platelets"].groupby("patient_id").size()
    rows = [_patient(pid, anc_by.get(pid), plt_by.get(pid), cens, gcsf_by.get(pid, np.empty(0)),
                     ptx_by.get(pid, np.empty(0)), rules) for pid in ids]
    out = pd.DataFrame(rows, columns=list(PATIENT_COLUMNS))
    out["rbc_transfusions"] = out["patient_id"].map(rbc_n).fillna(0).astype(int)
    out["platelet_transfusions"] = out["patient_id"].map(plt_n).fillna(0).astype(int)
    for col in ("early_grade", "late_grade", "t_early_grade", "t_late_grade", "days_anc_le500",
                "days_anc_le100", "days_plt_lt50k", "days_plt_lt20k", "late_days_plt_lt20k",
                "late_n_measurements", "early_days_observed", "gcsf_days"):
        out[col] = pd.array(out[col], dtype="Int64")
    for col in ("early_nadir_anc", "anc_recovery_day", "late_nadir_anc", "platelet_recovery_day",
                "first_gcsf_day", "censor_day"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return IcahtResult(out, rules)


def _patient(pid: str, anc: tuple | None, plt: tuple | None, cens: pd.DataFrame, gcsf: np.ndarray,
             ptx: np.ndarray, rules: IcahtRules) -> dict:
    start, end = rules.early_window
    row: dict[str, object] = {c: None for c in PATIENT_COLUMNS}
    row["patient_id"] = pid
    row["censor_day"] = float(cens.at[pid, "censor_day"]) if pid in cens.index else np.nan
    row["censor_reason"] = cens.at[pid, "censor_reason"] if pid in cens.index else None
    reasons = []
    g_days = np.unique(np.floor(gcsf[gcsf >= start])) if len(gcsf) else np.empty(0)
    row["gcsf_days"] = int(len(g_days))
    row["first_gcsf_day"] = float(g_days[0]) if len(g_days) else np.nan

    if anc is None or len(anc[0]) == 0:
        reasons.append("no ANC values")
    else:
        d, v = anc
        last = max(float(np.floor(d.max())) + rules.max_carry_days, float(end))
        obs_end = int(np.floor(_observation_end(pid, cens, last)))
        e_end = min(end, obs_end)
        grid = daily_grid(d, v, start, e_end, rules.max_carry_days) if e_end >= start else np.empty(0)
        observed = ~np.isnan(grid)
        if not observed.any():
            reasons.append(f"no ANC in day {start}-{end}")
        else:
            n500, _ = cumulative_days(observed & (grid <= rules.anc_severe), rules.recovery_days)
            n100, _ = cumulative_days(observed & (grid <= rules.anc_profound), rules.recovery_days)
            row.update(early_grade=early_neutropenia_grade(n500, n100, rules), days_anc_le500=n500,
                       days_anc_le100=n100, early_nadir_anc=float(np.nanmin(grid)),
                       early_days_observed=int(observed.sum()))
        full = daily_grid(d, v, start, obs_end, rules.max_carry_days) if obs_end >= start else np.empty(0)
        low = np.flatnonzero(~np.isnan(full) & (full <= rules.anc_severe))
        if len(low):
            ok = ~np.isnan(full) & (full > rules.anc_severe)
            r = first_stable_run(ok, int(low[0]), rules.recovery_days)
            row["anc_recovery_day"] = float(start + r) if r is not None else np.nan
        late_stop = obs_end if rules.late_end is None else min(obs_end, rules.late_end)
        late = (d > end) & (d <= late_stop)
        if late.any():
            day_min = pd.Series(v[late]).groupby(np.floor(d[late])).min().to_numpy()
            row.update(late_grade=late_neutropenia_grade(day_min, rules), late_nadir_anc=float(day_min.min()),
                       late_n_measurements=int(len(day_min)))
        else:
            reasons.append(f"no ANC after day {end}")

    if plt is not None and len(plt[0]):
        d, v = plt
        last = max(float(np.floor(d.max())) + rules.max_carry_days, float(end))
        obs_end = int(np.floor(_observation_end(pid, cens, last)))
        e_end = min(end, obs_end)
        grid = daily_grid(d, v, start, e_end, rules.max_carry_days) if e_end >= start else np.empty(0)
        observed = ~np.isnan(grid)
        if observed.any():
            t50, t20 = rules.platelets_early
            n50, _ = cumulative_days(observed & (grid < t50), rules.recovery_days)
            n20, _ = cumulative_days(observed & (grid < t20), rules.recovery_days)
            row.update(t_early_grade=early_thrombocytopenia_grade(n50, n20, rules), days_plt_lt50k=n50,
                       days_plt_lt20k=n20)
        l_end = min(obs_end, rules.platelets_late_end)
        if l_end > end:
            lgrid = daily_grid(d, v, end + 1, l_end, rules.max_carry_days)
            lobs = ~np.isnan(lgrid)
            late = (d > end) & (d <= l_end)
            if late.any():
                n20l, _ = cumulative_days(lobs & (lgrid < rules.platelets_late[2]), rules.recovery_days)
                day_min = pd.Series(v[late]).groupby(np.floor(d[late])).min().to_numpy()
                row.update(t_late_grade=late_thrombocytopenia_grade(day_min, n20l, rules),
                           late_days_plt_lt20k=n20l)
        full = daily_grid(d, v, start, obs_end, rules.max_carry_days) if obs_end >= start else np.empty(0)
        t20 = rules.platelets_early[1]
        low = np.flatnonzero(~np.isnan(full) & (full < t20))
        if len(low):
            days = np.arange(start, start + len(full))
            tx_free = np.array([not np.any((ptx <= x) & (ptx > x - rules.platelet_transfusion_free_days))
                                for x in days])
            ok = ~np.isnan(full) & (full >= t20) & tx_free
            r = first_stable_run(ok, int(low[0]), rules.recovery_days)
            row["platelet_recovery_day"] = float(start + r) if r is not None else np.nan
    row["reason"] = "; ".join(reasons)
    return row
