"""Toxicity: ASTCT CRS / ICANS grades and supportive care (kind ``toxicity``) and the CTCAE
adverse-event table (kind ``ae_table``), each in a window relative to any infusion.

Grades come from :func:`cartscope.clinical.recorded_grades.patient_toxicity_grades`: ASTCT
grading of ``toxicity_daily`` (:func:`cartscope.clinical.grade_crs` / :func:`grade_icans`, Lee et
al. 2019) where a patient has daily rows, else the grade the centre recorded (``crs_source`` /
``icans_source`` say which; a disagreement is a note). Tocilizumab / steroid use comes from the
daily flags or the ``tocilizumab`` / ``corticosteroid`` events
(:func:`cartscope.clinical.supportive_care.supportive_care`); a patient no source covers is
"not recorded", listed and left out of the share's denominator. Daily grades are
on the days of the analysis' window (default: the whole follow-up after the index infusion;
lu2021's "after the first infusion" is ``{infusion: 1, until_next_infusion: true}``), and
:func:`cartscope.clinical.grade_labs` (CTCAE v5.0, default days 0-28 after the index) with
febrile neutropenia from ``toxicity_daily``. The AE table is the per-term worst-grade layout of
Lu et al. 2021, Table 3, with CRS added as a row; its percentages are over the patients
assessed for the term (``denominator: assessed``, a term nobody was measured for is "not
assessed") or over every patient of the group (``denominator: all``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cartscope.analysis.plan import AnalysisSpec, Kind, Options, RunContext, WindowSpec
from cartscope.clinical.crs import CrsRules
from cartscope.clinical.ctcae import ANALYTE_ALIASES, CtcaeRules, grade_labs
from cartscope.clinical.icans import IcansRules
from cartscope.clinical.recorded_grades import DAILY, RECORDED, has_toxicity_grades, patient_toxicity_grades
from cartscope.clinical.supportive_care import NOT_RECORDED, supportive_care

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.plan.context import StudyRun, Window

GRADE_COLUMNS = ["patient_id", "crs_grade", "onset_day", "duration_days", "tocilizumab", "steroids", "reason",
                 "icans_grade", "crs_source", "icans_source", "tocilizumab_source", "steroids_source"]


def _window_rules(w: "Window") -> tuple[float, float | None]:
    return (float(w.spec.start), None if w.spec.end is None else float(w.spec.end))


def _events(study: "StudyRun", w: "Window") -> pd.DataFrame:
    ev = w.shift(study.cohort.events)
    stop = ev["patient_id"].map(w.stop)
    day_abs = ev["day"] + ev["patient_id"].map(w.day0)
    return ev[(stop.isna() | (day_abs < stop)).to_numpy()].reset_index(drop=True)


def patient_grades(study: "StudyRun", window: str | WindowSpec | None) -> pd.DataFrame:
    """Per patient with the window's infusion: CRS and ICANS grade in the window, CRS onset,
    duration and supportive care (columns :data:`GRADE_COLUMNS`)."""
    key = ("grades", window if not isinstance(window, WindowSpec) else window.model_dump_json())
    if key in study.cache:
        return study.cache[key]
    w = study.window(window, WindowSpec())
    ids = [p for p in study.patient_ids if np.isfinite(w.day0.get(p, np.nan))]
    pats = pd.DataFrame({"patient_id": ids})
    tox = w.rebase(study.cohort.toxicity_daily) if "toxicity_daily" in study.cohort.present else None
    if tox is not None and tox.empty:
        tox = None
    # graded from daily data where there are daily rows, else the grades the centre recorded
    # (clinical.recorded_grades); provenance per patient in crs_source / icans_source
    p = study.cohort.patients.assign(patient_id=study.cohort.patients["patient_id"].astype(str))
    p = p.drop_duplicates("patient_id").set_index("patient_id").reindex(ids).reset_index()
    win = _window_rules(w)
    events = _events(study, w)
    graded = patient_toxicity_grades(p, tox, events, crs_rules=CrsRules(window=win),
                                     icans_rules=IcansRules(window=win))
    out = graded.table.rename(columns={"crs_onset_day": "onset_day", "crs_duration_days": "duration_days"})
    # tocilizumab / steroids from the daily flags or the treatment events; NA = not recorded
    recorded = set(study.cohort.events["type"].astype(str)) if len(study.cohort.events) else set()
    care = supportive_care(ids, tox, events, window=win, recorded_types=recorded)
    out = out.drop(columns=["tocilizumab", "steroids"]).merge(care, on="patient_id", how="left")
    out = out[GRADE_COLUMNS]
    study.cache[key] = out
    study.cache[("grade-warnings", key[1])] = graded.warnings
    return out


class ToxicityOptions(Options):
    high_grade: int | None = Field(None, ge=1, le=5)
    """CRS grade counted as high (default: the plan's ``crs_high_grade``)."""


def needs(rc: RunContext) -> str:
    daily = rc.cohort.toxicity_daily if rc.has("toxicity_daily") else None
    if not has_toxicity_grades(rc.cohort.patients, daily):
        return "no toxicity_daily table"  # nor a recorded crs_grade / icans_grade
    return ""


def run(rc: RunContext) -> None:
    o: ToxicityOptions = rc.options
    k = o.high_grade or rc.plan.crs_high_grade
    grades = patient_grades(rc.study, rc.spec.window).set_index("patient_id")
    window_key = rc.spec.window if not isinstance(rc.spec.window, WindowSpec) else rc.spec.window.model_dump_json()
    for i, warning in enumerate(rc.study.cache.get(("grade-warnings", window_key), ())):
        rc.note(f"grades-{i + 1}", warning)  # graded and recorded grade disagree for a patient
    ids = rc.endpoints["patient_id"].astype(str)
    in_window = ids.isin(grades.index).to_numpy()
    rc.exclude(rc.ids(~in_window), "no infusion of this window")
    per = grades.reindex(ids[in_window]).reset_index()
    per.insert(1, "disease_group", rc.endpoints.loc[in_window, "disease_group"].to_numpy())
    rc.add_table("toxicity_patients", per)
    ungraded = per["crs_grade"].isna().to_numpy()
    rc.exclude(per.loc[ungraded, "patient_id"], per.loc[ungraded, "reason"].astype(str).tolist(), part="crs")
    rows, care, provenance = [], [], []
    pos = {p: i for i, p in enumerate(per["patient_id"])}
    for g in rc.groups():
        sel = [pos[p] for p in ids[g.mask & in_window]]
        sub = per.iloc[sel]
        for what in ("crs_grade", "icans_grade"):
            graded = pd.to_numeric(sub[what], errors="coerce").dropna().astype(int)
            name = what.split("_")[0].upper()
            for grade in range(6):
                c = int((graded == grade).sum())
                pct = 100.0 * c / len(graded) if len(graded) else np.nan
                rows.append({"group": g.label, "toxicity": name, "grade": grade, "n": c,
                             "evaluable": int(len(graded)), "pct": pct})
                rc.stats({"n": c, "N": int(len(graded)), "pct": pct}, group=g, variable=what, variable_level=grade,
                         method=f"ASTCT 2019 maximum grade, {rc.window().text()}")
            rc.key(f"toxicity.{what}.{g.label}.any", int((graded >= 1).sum()))
        graded = pd.to_numeric(sub["crs_grade"], errors="coerce").dropna().astype(int)
        rc.key(f"toxicity.crs_high.{g.label}", int((graded >= k).sum()))
        rc.stats({"n": int((graded >= k).sum()), "N": int(len(graded))}, group=g, variable="crs_grade",
                 variable_level=f">={k}", method="ASTCT 2019 maximum grade")
        for what in ("crs", "icans"):
            src = sub[f"{what}_source"].astype(object)
            n_daily, n_rec = int((src == DAILY).sum()), int((src == RECORDED).sum())
            provenance.append({"group": g.label, "toxicity": what.upper(), "graded_daily": n_daily, "recorded": n_rec,
                            "no_grade": int(len(sub) - n_daily - n_rec)})
            rc.stats({"graded_daily": n_daily, "recorded": n_rec}, group=g, variable=f"{what}_source",
                     method="provenance of the grade: ASTCT grading of toxicity_daily, or the centre's recorded grade")
        for what in ("tocilizumab", "steroids"):
            known = sub[what].astype("boolean").dropna().astype(bool)
            pct = 100.0 * known.sum() / len(known) if len(known) else np.nan
            sources = sorted(set(sub[f"{what}_source"].dropna().astype(str)))
            care.append({"group": g.label, "treatment": what, "n": int(known.sum()), "patients": int(len(known)),
                         "pct": pct, "not_recorded": int(len(sub) - len(known)), "source": "; ".join(sources)})
            rc.stats({"n": int(known.sum()), "N": int(len(known)), "pct": pct}, group=g, variable=what,
                     method="count of patients treated (daily flag or treatment event), of the patients recorded")
    for what in ("tocilizumab", "steroids"):
        missing = per[what].astype("boolean").isna().to_numpy()
        rc.exclude(per.loc[missing, "patient_id"], f"{what} {NOT_RECORDED} (no daily flag, no treatment events)",
                   part=what)
    rc.add_table("toxicity_grades", pd.DataFrame(rows))
    rc.add_table("toxicity_treatment", pd.DataFrame(care))
    rc.add_table("toxicity_sources", pd.DataFrame(provenance))
    durations = pd.to_numeric(per["duration_days"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(durations)
    if ok.any():
        rc.key("toxicity.crs_duration_days.median", float(np.median(durations[ok])))


def describe(spec: AnalysisSpec, o: ToxicityOptions) -> str:
    where = f"in window {spec.window!r}" if spec.window else "over the whole follow-up after the index infusion"
    return ("ASTCT CRS and ICANS maximum grade per patient " + where +
            ", grade distribution, high-grade CRS and tocilizumab / steroid use.")


class AeTableOptions(Options):
    denominator: Literal["assessed", "all"] = "assessed"
    include_crs: bool = True
    version: Literal["5.0", "4.03"] = "5.0"


NO_GRADABLE_LABS = "no CTCAE-gradable labs"


def _patient_labs(labs: pd.DataFrame) -> pd.DataFrame:
    """The patients' lab rows (healthy-donor reference rows left out)."""
    if "role" in labs:
        labs = labs[labs["role"].astype(object).fillna("patient") != "healthy_donor"]
    return labs


def _gradable(labs: pd.DataFrame) -> np.ndarray:
    """Rows whose analyte CTCAE grades (:data:`cartscope.clinical.ctcae.ANALYTE_ALIASES`)."""
    key = labs["analyte"].astype("string").str.strip().str.lower()
    return key.isin(list(ANALYTE_ALIASES)).fillna(False).to_numpy(dtype=bool)


def needs_ae_table(rc: RunContext) -> str:
    if not rc.has("labs"):
        return "no labs table"
    if not _gradable(_patient_labs(rc.cohort.labs)).any():
        return f"{NO_GRADABLE_LABS} (none of {', '.join(sorted(set(ANALYTE_ALIASES.values())))})"
    return ""


def run_ae_table(rc: RunContext) -> None:
    o: AeTableOptions = rc.options
    w = rc.window(default=WindowSpec(start=0, end=28))
    labs = _patient_labs(rc.cohort.labs)
    labs = w.shift(labs[_gradable(labs)])
    stop = labs["patient_id"].map(w.stop)
    labs = labs[(stop.isna() | (labs["day"] + labs["patient_id"].map(w.day0) < stop)).to_numpy()]
    rules = CtcaeRules(window=_window_rules(w))
    lo, hi = rules.window
    if not ((labs["day"] >= lo) & ((labs["day"] <= hi) if hi is not None else True)).any():
        rc.skip(f"{NO_GRADABLE_LABS} in {w.text()}")
    tox = w.rebase(rc.cohort.toxicity_daily) if rc.has("toxicity_daily") else None
    crs = None
    daily = rc.cohort.toxicity_daily if rc.has("toxicity_daily") else None
    if o.include_crs and has_toxicity_grades(rc.cohort.patients, daily):
        # daily-graded or recorded ASTCT grades, with provenance (clinical.recorded_grades)
        crs = patient_grades(rc.study, rc.spec.window).set_index("patient_id")
    elif o.include_crs:
        rc.note("crs", "no CRS row: no toxicity_daily table nor recorded crs_grade")
    in_window = np.isfinite(rc.endpoints["patient_id"].astype(str).map(w.day0).to_numpy(dtype=float))
    rc.exclude(rc.ids(~in_window), "no infusion of this window")
    parts, worst = [], None
    denom = "evaluable" if o.denominator == "assessed" else "all"
    for g in rc.groups():
        ids = rc.endpoints.loc[g.mask & in_window, ["patient_id"]].astype(str)
        grades = grade_labs(labs[labs["patient_id"].isin(ids["patient_id"])], patients=ids, toxicity_daily=tox,
                            version=o.version, rules=rules)
        part = grades.ae_table(denominator=denom)
        if crs is not None:
            graded = pd.to_numeric(crs["crs_grade"].reindex(ids["patient_id"]), errors="coerce").dropna().astype(int)
            n = int(len(graded)) if o.denominator == "assessed" else grades.n_patients
            src = crs["crs_source"].reindex(ids["patient_id"]).astype(object)
            row = {"term": "crs", "label": "Cytokine release syndrome (ASTCT)", "n": n, "n_evaluable": int(len(graded)),
                   "graded_daily": int((src == DAILY).sum()), "recorded": int((src == RECORDED).sum())}
            for k in (1, 2, 3, 4):
                c = int((graded == k).sum())
                row[f"grade_{k}_n"] = c
                row[f"grade_{k}_pct"] = 100.0 * c / n if n else np.nan
            part = pd.concat([part, pd.DataFrame([row])], ignore_index=True)
        part["status"] = np.where(part["n_evaluable"] > 0, "assessed", "not assessed")
        part.insert(0, "group", g.label)
        part["patients"] = int(len(ids))  # the group's size (``n`` is the denominator of each term)
        parts.append(part)
        if not g.by and worst is None:
            worst = grades.worst
        for rec in part.itertuples():
            for k in (1, 2, 3, 4):
                pct = getattr(rec, f"grade_{k}_pct")
                rc.key(f"ae.{g.label}.{rec.term}.grade{k}_pct", pct)
                if rec.status == "assessed":
                    rc.stats({"n": getattr(rec, f"grade_{k}_n"), "N": rec.n, "pct": pct}, group=g,
                             variable=str(rec.term), variable_level=k,
                             method=f"CTCAE v{o.version} worst grade, % of patients {o.denominator}")
            if rec.status != "assessed":
                rc.stat("status", "not assessed", group=g, variable=str(rec.term), method="no measurement in the window")
    rc.add_table("ae_table", pd.concat(parts, ignore_index=True))
    if worst is not None:
        rc.add_table("ae_worst", worst)


def describe_ae_table(spec: AnalysisSpec, o: AeTableOptions) -> str:
    where = f"window {spec.window!r}" if spec.window else "days 0-28 after the index infusion"
    return (f"CTCAE v{o.version} worst grade per term in {where}" + (" with ASTCT CRS" if o.include_crs else "") +
            f"; % of patients {o.denominator} (a term nobody was measured for is 'not assessed').")


KINDS = (
    Kind("toxicity", ToxicityOptions, run, describe, needs, section="toxicity",
         summary="CRS / ICANS grade distribution and supportive care in a window"),
    Kind("ae_table", AeTableOptions, run_ae_table, describe_ae_table, needs_ae_table, section="ae_table",
         summary="CTCAE worst-grade adverse-event table (+ CRS) in a window"),
)
