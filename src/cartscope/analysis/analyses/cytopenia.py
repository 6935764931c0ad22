"""Kind ``prolonged_cytopenia``: CTCAE grade >= 3 cytopenia at landmark days (default 28 and 90).

From :func:`cartscope.clinical.cytopenia.prolonged_cytopenia` (CTCAE v5.0 via
``clinical/ctcae.py``). Tables: ``per_patient_prolonged_cytopenia`` and ``prolonged_cytopenia_summary`` (per group x
landmark x lineage: n, evaluable, %).
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from cartscope.analysis.analyses import _toxsummary as T
from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext
from cartscope.clinical.cytopenia import LINEAGES, CytopeniaRules, prolonged_cytopenia

LINEAGE_LABEL = {"anc": "neutropenia", "platelets": "thrombocytopenia", "hemoglobin": "anaemia"}


class CytopeniaOptions(Options):
    landmarks: list[int] = Field(default_factory=lambda: [28, 90])
    tolerance_days: float = Field(7.0, ge=0)
    """The count nearest each landmark within this many days is used."""
    min_grade: int = Field(3, ge=1, le=4)


def needs(rc: RunContext) -> str:
    return "" if rc.has("labs") else "no labs table"


def run(rc: RunContext) -> None:
    o: CytopeniaOptions = rc.options
    w = T.window(rc)
    ids = T.analysis_ids(rc, w)
    rules = CytopeniaRules(landmarks=tuple(o.landmarks), tolerance_days=o.tolerance_days, min_grade=o.min_grade)
    res = prolonged_cytopenia(T.shifted(rc, "labs", w), T.shifted(rc, "events", w), patients=ids, rules=rules)
    per = res.patients.set_index("patient_id")
    if all(per[f"cytopenia_d{d}"].isna().all() for d in o.landmarks):
        rc.skip("no blood counts near the landmark days")
    rc.add_table("per_patient_prolonged_cytopenia", res.patients)
    rows = []
    for d in o.landmarks:
        T.exclude_reasons(rc, per, per[f"cytopenia_d{d}"].isna(), f"day{d}", column=f"reason_d{d}")
        method = f"CTCAE v5.0 grade >= {o.min_grade}, count nearest day {d} (+-{o.tolerance_days:g} days)"
        for g in rc.groups():
            sub = T.members(rc, g, per)
            rows.append(T.count_row(rc, g, f"any cytopenia, day {d}", sub[f"cytopenia_d{d}"], method, landmark=d))
            for a in LINEAGES:
                grade = sub[f"{a}_grade_d{d}"]
                rows.append(T.count_row(rc, g, f"{LINEAGE_LABEL[a]}, day {d}", (grade >= o.min_grade).where(grade.notna()),
                                        method, landmark=d))
    rc.add_table("prolonged_cytopenia_summary", pd.DataFrame(rows))


def describe(spec: AnalysisSpec, o: CytopeniaOptions) -> str:
    return (f"Prolonged cytopenia: CTCAE v5.0 grade >= {o.min_grade} neutropenia, thrombocytopenia or anaemia at "
            f"days {', '.join(map(str, o.landmarks))} (nearest count within {o.tolerance_days:g} days), patients "
            "censored before a landmark not evaluable there.")


KINDS = (Kind("prolonged_cytopenia", CytopeniaOptions, run, describe, needs, section="prolonged_cytopenia",
              summary="CTCAE grade >= 3 cytopenias at day 28 and day 90"),)
