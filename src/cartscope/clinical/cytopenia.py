"""Prolonged cytopenia at fixed landmarks (day 28, day 90) by CTCAE v5 grade.

"Prolonged cytopenia" in CAR-T series is a CTCAE grade >= 3 neutropenia, thrombocytopenia or
anaemia still present at a landmark after infusion (day 28 in the ZUMA-1/JULIET reports,
day 90 for late cytopenia; e.g. Fried S et al. Bone Marrow Transplant 2019;54:1643 and
Jain T et al. Blood Adv 2020;4(15):3776 †; ⚠ each paper's landmark tolerance was not checked
in a stored copy). Grades come from :func:`cartscope.clinical.ctcae.grade_values` (NCI CTCAE
v5.0; ANC < 1000/uL, platelets < 50,000/uL, haemoglobin < 80 g/L are grade 3). The
measurement used at a landmark is the one nearest to it within ``tolerance_days`` (ties: the
earlier); a patient censored (progression, relapse, new therapy, HSCT, death) before the
landmark is not evaluable there and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from cartscope.clinical._labs import CENSORING_EVENTS, censoring, lab_values
from cartscope.clinical.ctcae import DEFAULT_REFERENCE_RANGES, grade_values

LINEAGES = {"anc": "neutrophils", "platelets": "platelets", "hemoglobin": "haemoglobin"}
"""Cohort analyte -> CTCAE analyte of :mod:`cartscope.clinical.ctcae`."""


@dataclass(frozen=True)
class CytopeniaRules:
    """Landmark days, the nearest-measurement tolerance (days) and the minimum CTCAE grade."""

    landmarks: tuple[int, ...] = (28, 90)
    tolerance_days: float = 7.0
    min_grade: int = 3
    censor_events: tuple[str, ...] = CENSORING_EVENTS


@dataclass(frozen=True)
class CytopeniaResult:
    """Per patient: for each landmark L, ``<lineage>_grade_dL`` and ``cytopenia_dL`` (any lineage)."""

    patients: pd.DataFrame
    rules: CytopeniaRules = field(default_factory=CytopeniaRules)

    def to_frame(self) -> pd.DataFrame:
        return self.patients.copy()

    def __repr__(self) -> str:
        parts = []
        for d in self.rules.landmarks:
            c = self.patients[f"cytopenia_d{d}"].dropna()
            parts.append(f"day {d}: {int(c.sum())}/{len(c)}")
        return f"Prolonged cytopenia (CTCAE grade >= {self.rules.min_grade}) " + ", ".join(parts)


def prolonged_cytopenia(
    labs: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    patients: pd.DataFrame | Sequence[str] | None = None,
    rules: CytopeniaRules = CytopeniaRules(),
) -> CytopeniaResult:
    """CTCAE grade of ANC, platelets and haemoglobin at each landmark, and grade >= 3 in any."""
    values = {a: lab_values(labs, a) for a in LINEAGES}
    if patients is None:
        ids = sorted(set().union(*(set(v["patient_id"]) for v in values.values())))
    elif isinstance(patients, pd.DataFrame):
        ids = [str(p) for p in patients["patient_id"]]
    else:
        ids = [str(p) for p in patients]
    idx = pd.Index(ids, name="patient_id")
    cens = censoring(events, ids, rules.censor_events)
    out = pd.DataFrame({"patient_id": ids})
    for d in rules.landmarks:
        any_cyto = pd.Series(False, index=idx)
        known = pd.Series(False, index=idx)
        for analyte, ctc in LINEAGES.items():
            v = values[analyte]
            near = v[(v["day"] - d).abs() <= rules.tolerance_days].copy()
            near["dist"] = (near["day"] - d).abs()
            near = near.sort_values(["patient_id", "dist", "day"], kind="mergesort").drop_duplicates("patient_id")
            lln = np.full(len(near), DEFAULT_REFERENCE_RANGES[ctc][0])
            nan = np.full(len(near), np.nan)
            g, _, _ = grade_values(ctc, near["value"].to_numpy(), lln=lln, uln=nan, baseline=nan)
            grade = pd.Series(g, index=near["patient_id"].to_numpy()).reindex(idx)
            censored = cens["censor_day"].reindex(idx) <= d
            grade = grade.where(~censored.to_numpy())
            out[f"{analyte}_grade_d{d}"] = pd.array(grade.to_numpy(), dtype="Float64").astype("Int64")
            any_cyto |= (grade >= rules.min_grade).fillna(False)
            known |= grade.notna()
        censored = (cens["censor_day"].reindex(idx) <= d).to_numpy()
        out[f"cytopenia_d{d}"] = pd.array(np.where(known.to_numpy(), any_cyto.to_numpy(), None), dtype="boolean")
        out[f"reason_d{d}"] = np.where(censored, "censored before day " + str(d),
                                       np.where(known.to_numpy(), "", f"no count within {rules.tolerance_days:g} days of day {d}"))
    return CytopeniaResult(out, rules)
