"""Kind ``iec_hs``: immune effector cell-associated HLH-like syndrome (ASTCT, Hines 2023) per group.

Identification and grade from :func:`cartscope.clinical.iec_hs.identify_iec_hs` (criteria and
their unverified parts in that module) on labs, the daily toxicity table and events, in days
from the window's infusion. Tables: ``per_patient_iec_hs`` (flag, grade, onset day, criteria met)
and ``iec_hs_summary`` (per group: patients with IEC-HS, grade 1-4, median onset day).
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses import _toxsummary as T
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.iec_hs import IecHsRules, identify_iec_hs

METHOD = "ASTCT IEC-HS (Hines 2023): ferritin > 2 x ULN/baseline on or after the CRS peak plus >= 1 manifestation"


class IecHsOptions(Options):
    end_day: float = Field(100.0, gt=0)
    """Last day after infusion examined."""
    ferritin_uln: float = Field(400.0, gt=0)
    """Ferritin ULN (ng/mL) where the lab gives none."""
    ldh_uln: float = Field(250.0, gt=0)
    """LDH ULN (U/L) where the lab gives none."""
    min_manifestations: int = Field(1, ge=1)


def needs(rc: RunContext) -> str:
    return "" if rc.has("labs") else "no labs table"


def run(rc: RunContext) -> None:
    o: IecHsOptions = rc.options
    w = T.window(rc)
    ids = T.analysis_ids(rc, w)
    rules = IecHsRules(window=(0.0, o.end_day), ferritin_uln=o.ferritin_uln, ldh_uln=o.ldh_uln,
                       min_manifestations=o.min_manifestations)
    tox = T.shifted(rc, "toxicity_daily", w) if rc.has("toxicity_daily") else None
    res = identify_iec_hs(T.shifted(rc, "labs", w), toxicity_daily=tox, events=T.shifted(rc, "events", w),
                          patients=ids, rules=rules)
    per = res.patients.set_index("patient_id")
    if per["iec_hs"].isna().all():
        rc.skip("no ferritin values after infusion")
    rc.add_table("per_patient_iec_hs", res.patients)
    T.exclude_reasons(rc, per, per["iec_hs"].isna(), "ferritin")
    rows = []
    for g in rc.groups():
        sub = T.members(rc, g, per)
        rows.append(T.count_row(rc, g, "IEC-HS", sub["iec_hs"], METHOD) | {"grade": "any"})
        flagged = sub[sub["iec_hs"].fillna(False).astype(bool)]
        for k in (1, 2, 3, 4):
            r = T.count_row(rc, g, f"IEC-HS grade {k}", (sub["grade"] == k).where(sub["iec_hs"].notna()), METHOD)
            rows.append(r | {"grade": str(k)})
        rows.append(T.continuous_row(rc, g, "IEC-HS onset day", flagged["onset_day"], METHOD) | {"grade": "any"})
    rc.add_table("iec_hs_summary", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: IecHsOptions) -> str:
    return (f"IEC-HS (ASTCT, Hines 2023) up to day {o.end_day:g}: ferritin above twice the ULN "
            f"({o.ferritin_uln:g} ng/mL default) or the raised baseline, on or after the CRS peak, with at least "
            f"{o.min_manifestations} of transaminases > 5 x ULN, fibrinogen < 1.5 g/L, new grade >= 3 cytopenia "
            "or LDH > ULN; graded 1-4 from directed therapy, coagulopathy/ICU and vasopressors/ventilation.")


KINDS = (Kind("iec_hs", IecHsOptions, run, describe, needs, section="iec_hs",
              summary="IEC-HS identification, criteria met and grade per patient and group"),)
