"""Cohort description by disease group: counts, medians and ranges (section ``cohort``).

Descriptive only; the tested Table 1 lives in the report layer. Patients are counted in the
group given by the protocol's ``subgroups`` column (default disease group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext

NUMERIC = ("age", "prior_lines", "weight_kg", "ldh")
CATEGORICAL = ("sex", "cohort", "disease", "disease_status", "prior_hsct", "cns_involvement", "tp53",
               "ph_positive")


def needs(ctx: StudyContext) -> str:
    return ""


def _groups(ctx: StudyContext) -> pd.Series:
    name = ctx.protocol.subgroups
    try:
        g = ctx.column(name).astype(object)
    except KeyError:
        g = ctx.endpoints["disease_group"].astype(object)
    return g.where(g.notna(), "missing")


def run(ctx: StudyContext) -> None:
    pats = ctx.cohort.patients.assign(patient_id=ctx.cohort.patients["patient_id"].astype(str))
    pats = pats.set_index("patient_id").reindex(ctx.endpoints["patient_id"])
    group = _groups(ctx).to_numpy()
    levels = ["all", *sorted(set(group))]
    rows = []
    for level in levels:
        sel = np.ones(len(group), dtype=bool) if level == "all" else group == level
        sub = pats[sel]
        rows.append({"group": level, "variable": "patients", "level": "", "n": int(sel.sum()),
                     "value": float(sel.sum()), "median": np.nan, "min": np.nan, "max": np.nan})
        for col in NUMERIC:
            if col not in sub:
                continue
            x = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size == 0:
                continue
            rows.append({"group": level, "variable": col, "level": "", "n": int(x.size), "value": np.nan,
                         "median": float(np.median(x)), "min": float(x.min()), "max": float(x.max())})
        for col in CATEGORICAL:
            if col not in sub or sub[col].isna().all():
                continue
            counts = sub[col].astype(object).where(sub[col].notna(), "missing").astype(str).value_counts()
            for lab in sorted(counts.index):
                rows.append({"group": level, "variable": col, "level": lab, "n": int(sel.sum()),
                             "value": float(counts[lab]), "median": np.nan, "min": np.nan, "max": np.nan})
    table = pd.DataFrame(rows)
    ctx.add_table("cohort_description", table)
    n = table[(table["variable"] == "patients")]
    for rec in n.itertuples():
        ctx.key(f"cohort.n.{rec.group}", int(rec.value))
