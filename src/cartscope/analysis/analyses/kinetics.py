"""CAR-T and cytokine kinetics summaries (section ``kinetics``).

Per patient x infusion x measure (the protocol's ``kinetics_measure`` and the CD19 / CD22 CAR
components): Cmax, Tmax, AUC0-28, persistence (last detectable day) from
:func:`cartscope.clinical.car_kinetics` (non-compartmental, linear trapezoid), summarised per
infusion and measure by median and range. IL-6 and ferritin peaks in days 0-30 after the
index (:func:`cytokine_kinetics`, assay-limit values flagged as censored).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext, float_days, rebase
from cartscope.clinical.kinetics import car_kinetics, cytokine_kinetics

CYTOKINES = ("il6", "ferritin")
SUMMARISED = ("cmax", "tmax", "auc0_28", "persistence_day", "expansion_fold")


def needs(ctx: StudyContext) -> str:
    if not ctx.has("kinetics") and not ctx.has("labs"):
        return "no kinetics or labs table"
    return ""


def nca(ctx: StudyContext) -> pd.DataFrame:
    """Per patient x infusion x measure NCA parameters (empty without kinetics rows)."""
    if not ctx.has("kinetics"):
        return pd.DataFrame()
    return car_kinetics(ctx.cohort.kinetics, measure=ctx.protocol.kinetics_measure, infusions=float_days(ctx.cohort.infusions))


def cytokine_peaks(ctx: StudyContext, infusion: int | None = None) -> pd.DataFrame:
    """IL-6 / ferritin baseline, peak (days 0-30) and fold change from the index infusion, or
    from infusion number ``infusion`` when given."""
    labs = ctx.cohort.labs
    if "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    if infusion is None:
        day0 = ctx.endpoints.set_index("patient_id")["index_day"]
    else:
        inf = ctx.cohort.infusions.assign(patient_id=ctx.cohort.infusions["patient_id"].astype(str))
        inf = inf[pd.to_numeric(inf["infusion_no"], errors="coerce") == infusion]
        day0 = inf.set_index("patient_id")["day"].astype(float)
    return cytokine_kinetics(rebase(labs, day0), analytes=[a for a in CYTOKINES])


def run(ctx: StudyContext) -> None:
    if ctx.has("kinetics"):
        per = nca(ctx)
        ctx.add_table("kinetics_nca", per)
        rows = []
        for (no, measure), g in per.groupby(["infusion_no", "measure"], sort=True):
            for p in SUMMARISED:
                x = pd.to_numeric(g[p], errors="coerce").to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                rows.append({"infusion_no": int(no), "measure": measure, "parameter": p, "n": int(x.size),
                             "median": float(np.median(x)) if x.size else np.nan,
                             "min": float(x.min()) if x.size else np.nan,
                             "max": float(x.max()) if x.size else np.nan})
                if x.size and p in ("cmax", "tmax"):
                    ctx.key(f"kinetics.{measure}.infusion{int(no)}.{p}.median", float(np.median(x)))
        ctx.add_table("kinetics_summary", pd.DataFrame(rows))
    else:
        ctx.notes["kinetics:car"] = "no kinetics table"
    if ctx.has("labs"):
        peaks = cytokine_peaks(ctx)
        peaks.insert(1, "disease_group", peaks["patient_id"].map(ctx.endpoints.set_index("patient_id")["disease_group"]))
        peaks = peaks[peaks["disease_group"].notna()]
        ctx.add_table("cytokine_peaks", peaks)
        rows = []
        for (analyte, group), g in pd.concat([peaks, peaks.assign(disease_group="all")]).groupby(
                ["analyte", "disease_group"], sort=True):
            for p in ("peak", "peak_day", "fold_change"):
                x = g[p].to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                rows.append({"analyte": analyte, "group": group, "parameter": p, "n": int(x.size),
                             "median": float(np.median(x)) if x.size else np.nan,
                             "min": float(x.min()) if x.size else np.nan,
                             "max": float(x.max()) if x.size else np.nan,
                             "censored_at_limit": int(g["peak_censored"].fillna(False).sum())})
                if x.size:
                    ctx.key(f"cytokines.{analyte}.{group}.{p}.median", float(np.median(x)))
        ctx.add_table("cytokine_summary", pd.DataFrame(rows))
