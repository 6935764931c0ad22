"""Kind ``icaht``: early and late N-ICAHT (EHA/EBMT, Rejeski 2023) and T-ICAHT (Rejeski 2025) per group.

Grades come from :func:`cartscope.clinical.icaht.grade_icaht` on labs and events counted in days
from the window's infusion (default the index infusion; the window's end is not used, the
consensus fixes day 0-30 for early and after day 30 for late ICAHT). Tables: ``per_patient_icaht``
(per patient: grades, days with ANC <= 500 and <= 100/uL, recovery days, G-CSF, transfusions,
censoring) and ``icaht_grades`` (per group x measure x grade: n, evaluable, %), ``icaht_durations``
(median days below each threshold and recovery day per group).
"""

from __future__ import annotations

from pydantic import Field

from cartscope.analysis.analyses import _toxsummary as T
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.icaht import IcahtRules, grade_icaht

import pandas as pd

METHOD_N = "EHA/EBMT ICAHT consensus (Rejeski 2023), cumulative days incl. non-stable recovery, censored at progression, new therapy or death"
METHOD_T = "T-ICAHT (Rejeski 2025), cumulative days below the platelet thresholds"


class IcahtOptions(Options):
    recovery_days: int = Field(3, ge=1)
    """Days above a threshold that make a recovery stable (shorter rises count as cytopenic)."""
    max_carry_days: float = Field(7.0, ge=0)
    """A measured count stands for at most this many following days."""
    late_end: int | None = Field(None, ge=31)
    """Last day of late N-ICAHT (default: the end of follow-up)."""
    late_min_measurements: int = Field(2, ge=1)
    """Measurements at or below a threshold a late grade needs."""


def needs(rc: RunContext) -> str:
    return "" if rc.has("labs") else "no labs table"


def run(rc: RunContext) -> None:
    o: IcahtOptions = rc.options
    w = T.window(rc)
    ids = T.analysis_ids(rc, w)
    rules = IcahtRules(recovery_days=o.recovery_days, max_carry_days=o.max_carry_days, late_end=o.late_end,
                       late_min_measurements=o.late_min_measurements)
    res = grade_icaht(T.shifted(rc, "labs", w), T.shifted(rc, "events", w), patients=ids, rules=rules)
    per = res.patients.set_index("patient_id")
    if per["early_grade"].isna().all() and per["t_early_grade"].isna().all():
        rc.skip("no ANC or platelet counts after infusion")
    rc.add_table("per_patient_icaht", res.patients)
    T.exclude_reasons(rc, per, per["early_grade"].isna(), "early")
    rows, durations = [], []
    for g in rc.groups():
        sub = T.members(rc, g, per)
        for col, label, method in (("early_grade", "early N-ICAHT", METHOD_N), ("late_grade", "late N-ICAHT", METHOD_N),
                                   ("t_early_grade", "early T-ICAHT", METHOD_T), ("t_late_grade", "late T-ICAHT", METHOD_T)):
            rows += T.grade_rows(rc, g, label, sub[col], method)
        for col, label in (("days_anc_le500", "days ANC <= 500/uL (day 0-30)"),
                           ("days_anc_le100", "days ANC <= 100/uL (day 0-30)"),
                           ("days_plt_lt50k", "days platelets < 50,000/uL (day 0-30)"),
                           ("days_plt_lt20k", "days platelets < 20,000/uL (day 0-30)"),
                           ("anc_recovery_day", "ANC recovery day (> 500/uL for 3 days)"),
                           ("platelet_recovery_day", "platelet recovery day (>= 20,000/uL, transfusion-free)")):
            durations.append(T.continuous_row(rc, g, label, sub[col], METHOD_N))
        durations.append(T.count_row(rc, g, "G-CSF given", sub["gcsf_days"] > 0, "events of type g_csf"))
    rc.add_table("icaht_grades", pd.DataFrame(rows))
    rc.add_table("icaht_durations", pd.DataFrame(durations))


def describe(spec: AnalysisSpec, o: IcahtOptions) -> str:
    return ("Early (day 0-30) and late (after day 30) ICAHT by the EHA/EBMT consensus (Rejeski 2023) and "
            "T-ICAHT (Rejeski 2025): cumulative days below ANC 500 / 100 per uL and platelets 50,000 / "
            f"20,000 per uL, rises shorter than {o.recovery_days} days counted, censored at progression, new "
            "therapy or death; G-CSF and transfusions recorded.")


KINDS = (Kind("icaht", IcahtOptions, run, describe, needs, section="icaht",
              summary="ICAHT (neutropenia and thrombocytopenia) early and late grades per patient and group"),)
