"""Toxicity: ASTCT CRS / ICANS grade distribution and supportive care by disease group
(section ``toxicity``), and the CTCAE adverse-event table (section ``ae_table``).

Grades come from :func:`cartscope.clinical.grade_crs` / :func:`grade_icans` (Lee et al. 2019)
on days from the index infusion, and :func:`cartscope.clinical.grade_labs` (CTCAE v5.0,
window day 0-28 after the index) with febrile neutropenia from ``toxicity_daily``; the AE
table is the per-term worst-grade layout of Lu et al. 2021, Table 3, with CRS added as a row,
for all patients and within each level of the protocol's ``subgroups`` column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.analyses._context import StudyContext, rebase
from cartscope.clinical.crs import grade_crs
from cartscope.clinical.ctcae import grade_labs
from cartscope.clinical.icans import grade_icans


def needs(ctx: StudyContext) -> str:
    if not ctx.has("toxicity_daily"):
        return "no toxicity_daily table"
    return ""


def _index_day(ctx: StudyContext) -> pd.Series:
    return ctx.endpoints.set_index("patient_id")["index_day"]


def run(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    idx = _index_day(ctx)
    tox = rebase(ctx.cohort.toxicity_daily, idx)
    events = rebase(ctx.cohort.events, idx)
    pats = ep[["patient_id"]]
    crs = grade_crs(tox, events, patients=pats)
    patients = ctx.cohort.patients.assign(patient_id=ctx.cohort.patients["patient_id"].astype(str))
    icans = grade_icans(tox, patients.set_index("patient_id").reindex(ep["patient_id"]).reset_index(), events)
    per = crs[["patient_id", "crs_grade", "onset_day", "duration_days", "tocilizumab", "steroids", "reason"]]
    per = per.merge(icans[["patient_id", "icans_grade"]], on="patient_id", how="left")
    per = per[per["patient_id"].isin(ep["patient_id"])]
    per.insert(1, "disease_group", per["patient_id"].map(ep.set_index("patient_id")["disease_group"]))
    ctx.add_table("toxicity_patients", per)
    ungraded = per["crs_grade"].isna().to_numpy()
    ctx.exclude("toxicity:crs", per.loc[ungraded, "patient_id"], per.loc[ungraded, "reason"].astype(str).tolist())
    rows, care = [], []
    g = per["disease_group"].to_numpy(dtype=object)
    for level in ["all", *sorted(set(g))]:
        sub = per if level == "all" else per[g == level]
        for what in ("crs_grade", "icans_grade"):
            graded = sub[what].dropna().astype(int)
            for grade in range(6):
                c = int((graded == grade).sum())
                rows.append({"group": level, "toxicity": what.split("_")[0].upper(), "grade": grade,
                             "n": c, "evaluable": int(len(graded)),
                             "pct": 100.0 * c / len(graded) if len(graded) else np.nan})
            ctx.key(f"toxicity.{what}.{level}.any", int((graded >= 1).sum()))
        k = ctx.protocol.crs_high_grade
        graded = sub["crs_grade"].dropna().astype(int)
        ctx.key(f"toxicity.crs_high.{level}", int((graded >= k).sum()))
        for what in ("tocilizumab", "steroids"):
            used = sub[what].fillna(False).astype(bool)
            care.append({"group": level, "treatment": what, "n": int(used.sum()), "patients": int(len(sub)),
                         "pct": 100.0 * used.sum() / len(sub) if len(sub) else np.nan})
    ctx.add_table("toxicity_grades", pd.DataFrame(rows))
    ctx.add_table("toxicity_treatment", pd.DataFrame(care))
    durations = per["duration_days"].to_numpy(dtype=float)
    ok = np.isfinite(durations)
    if ok.any():
        ctx.key("toxicity.crs_duration_days.median", float(np.median(durations[ok])))


def needs_ae_table(ctx: StudyContext) -> str:
    if not ctx.has("labs"):
        return "no labs table"
    return ""


def run_ae_table(ctx: StudyContext) -> None:
    ep = ctx.endpoints
    idx = _index_day(ctx)
    labs = ctx.cohort.labs
    if "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    labs = rebase(labs, idx)
    tox = rebase(ctx.cohort.toxicity_daily, idx) if ctx.has("toxicity_daily") else None
    try:
        group = ctx.column(ctx.protocol.subgroups).astype(object).to_numpy()
    except KeyError:
        group = np.full(len(ep), None, dtype=object)
    has_index = ep["index_day"].notna().to_numpy()
    crs = None
    if tox is not None:
        crs = grade_crs(tox, rebase(ctx.cohort.events, idx), patients=ep[["patient_id"]]).set_index("patient_id")
    parts, worst = [], None
    levels = [("all", has_index)] + [(str(g), has_index & (group == g))
                                     for g in sorted({g for g in group if g is not None and g == g})]
    for level, sel in levels:
        ids = ep.loc[sel, ["patient_id"]]
        grades = grade_labs(labs[labs["patient_id"].isin(ids["patient_id"])], patients=ids, toxicity_daily=tox)
        part = grades.ae_table()
        if crs is not None:
            graded = crs["crs_grade"].reindex(ids["patient_id"]).dropna().astype(int)
            n = grades.n_patients
            row = {"term": "crs", "label": "Cytokine release syndrome (ASTCT)", "n": n,
                   "n_evaluable": int(len(graded))}
            for g in (1, 2, 3, 4):
                k = int((graded == g).sum())
                row[f"grade_{g}_n"] = k
                row[f"grade_{g}_pct"] = 100.0 * k / n if n else np.nan
            part = pd.concat([part, pd.DataFrame([row])], ignore_index=True)
        part.insert(0, "group", level)
        parts.append(part)
        if level == "all":
            worst = grades.worst
        for rec in part.itertuples():
            for g in (1, 2, 3, 4):
                ctx.key(f"ae.{level}.{rec.term}.grade{g}_pct", getattr(rec, f"grade_{g}_pct"))
    table = pd.concat(parts, ignore_index=True)
    ctx.add_table("ae_table", table)
    ctx.add_table("ae_worst", worst)
