"""The ICAHT, IEC-HS, infection, IgG, cytopenia and toxicity-treatment kinds through a plan.

Each analysis is parsed by the plan schema and run through its kind with a RunContext, as the
plan runner calls it, on the li2023 synthetic cohort (5 patients, with the haematology courses
of ``presets/_hematology.py``). The per-group tables must equal the clinical functions run
directly on the same days (those are tested edge by edge in tests/clinical).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from cartscope.analysis.analyses import cytopenia, hypogamma, icaht, iec_hs, infections, toxicity_exposure
from cartscope.analysis.plan import AnalysisSkipped, Plan, RunContext
from cartscope.analysis.plan.context import StudyRun
from cartscope.clinical.endpoints import derive_endpoints
from cartscope.clinical.icaht import grade_icaht
from cartscope.clinical.infections import summarise_infections
from cartscope.stats import cumulative_incidence

PLAN = """
version: 1
name: haematotoxicity
analyses:
  - {id: icaht, kind: icaht, by: sex}
  - {id: iec-hs, kind: iec_hs}
  - {id: infections, kind: infections, cif_days: [30, 180]}
  - {id: igg, kind: hypogammaglobulinemia, threshold_mg_dl: 400}
  - {id: cytopenia, kind: prolonged_cytopenia, landmarks: [28, 90]}
  - {id: treatment, kind: toxicity_treatment, end_day: 30}
"""
MODULES = {"icaht": icaht, "iec_hs": iec_hs, "infections": infections, "hypogammaglobulinemia": hypogamma,
           "prolonged_cytopenia": cytopenia, "toxicity_treatment": toxicity_exposure}


@pytest.fixture(scope="module")
def study() -> StudyRun:
    from cartscope.analysis.presets import synthesize

    cohort = synthesize("li2023", seed=2023)
    plan = Plan.model_validate(yaml.safe_load(PLAN))
    run = StudyRun(cohort=cohort, plan=plan, endpoints=derive_endpoints(cohort, plan.endpoint_rules()))
    for spec in plan.analyses:
        kind = next(k for k in MODULES[spec.kind].KINDS if k.name == spec.kind)
        rc = RunContext(run, spec, kind, kind.options.model_validate(spec.options))
        reason = kind.needs(rc)
        if reason:
            run.skipped[spec.id] = reason
            continue
        try:
            kind.run(rc)
        except AnalysisSkipped as exc:
            run.skipped[spec.id] = str(exc)
    return run


def table(run: StudyRun, name: str) -> pd.DataFrame:
    return pd.concat(run.tables[name], ignore_index=True)


def test_icaht_groups_match_the_grading(study: StudyRun) -> None:
    c = study.cohort
    direct = grade_icaht(c.labs, c.events, patients=c.patients).patients.set_index("patient_id")
    g = table(study, "icaht_grades")
    allg = g[(g["group"] == "all") & (g["measure"] == "early N-ICAHT")].set_index("grade")
    for k in range(5):
        assert allg.loc[str(k), "n"] == int((direct["early_grade"] == k).sum())
    assert allg.loc[">=3", "n"] == int((direct["early_grade"] >= 3).sum())
    sexes = set(g["group"]) - {"all"}
    assert sexes and sexes <= {"F", "M"}
    per_sex = g[(g["measure"] == "early N-ICAHT") & (g["grade"] == "0") & (g["group"] != "all")]
    assert per_sex["n_evaluable"].sum() == allg.loc["0", "n_evaluable"]
    ard = pd.DataFrame(study.ard_rows)
    row = ard[(ard["analysis"] == "icaht") & (ard["variable"] == "early N-ICAHT") & (ard["stat_name"] == "n")
              & (ard["group1"] == "") & (ard["variable_level"] == "2")]
    assert row["stat"].iloc[0] == int((direct["early_grade"] == 2).sum())
    d = table(study, "icaht_durations").set_index(["group", "measure"])
    med = d.loc[("all", "days ANC <= 500/uL (day 0-30)"), "median"]
    assert med == pytest.approx(float(np.median(direct["days_anc_le500"].dropna().astype(float))))


def test_iec_hs_is_skipped_without_ferritin(study: StudyRun) -> None:
    assert study.skipped["iec-hs"] == "no ferritin values after infusion"


def test_infection_windows_and_cif_match(study: StudyRun) -> None:
    c = study.cohort
    s = summarise_infections(c.events, patients=c.patients)
    w = table(study, "infections_windows")
    allw = w[w["group"] == "all"].set_index("window")
    direct = s.table().set_index("window")
    assert allw["n_episodes"].tolist() == direct["episodes"].tolist()
    assert allw["n_with_infection"].tolist() == direct["patients_any"].tolist()
    if "infections_cif" in study.tables:
        cif = table(study, "infections_cif")
        fs = pd.concat(study.tables["per_patient_infections"]).drop_duplicates("patient_id")
        assert set(cif["day"]) <= {30.0, 180.0}
        assert (cif["cumulative_incidence"] >= 0).all() and (cif["cumulative_incidence"] <= 1).all()
        assert len(fs) == len(c.patients)
    assert cumulative_incidence is not None


def test_igg_cytopenia_and_treatment_tables(study: StudyRun) -> None:
    igg = table(study, "hypogammaglobulinemia_summary").set_index("measure")
    per = table(study, "per_patient_hypogammaglobulinemia")
    assert igg.loc["IgG < 400 mg/dL", "n"] == int(per["hypogammaglobulinemia"].sum())
    cyt = table(study, "prolonged_cytopenia_summary")
    assert {"any cytopenia, day 28", "neutropenia, day 90"} <= set(cyt["measure"])
    tr = table(study, "toxicity_treatment_summary").set_index("measure")
    tp = table(study, "per_patient_toxicity_treatment")
    assert tr.loc["tocilizumab", "n"] == int((tp["tocilizumab_doses"] > 0).sum())
    assert tr.loc["tocilizumab", "n_evaluable"] == len(c_ids(study))


def c_ids(study: StudyRun) -> list[str]:
    return study.endpoints.loc[study.endpoints["index_day"].notna(), "patient_id"].astype(str).tolist()


def test_every_kind_describes_itself() -> None:
    plan = Plan.model_validate(yaml.safe_load(PLAN))
    for spec in plan.analyses:
        kind = next(k for k in MODULES[spec.kind].KINDS if k.name == spec.kind)
        text = kind.describe(spec, kind.options.model_validate(spec.options))
        assert len(text) > 40 and text.endswith(".")


def test_scores_as_variables(study: StudyRun) -> None:
    from types import SimpleNamespace

    from cartscope.analysis.analyses._riskscores import derive_score
    from cartscope.clinical.scores import risk_scores

    c = study.cohort
    direct = risk_scores(c.patients, c.labs)  # li2023 days are already days from the index infusion
    easix = derive_score(study, SimpleNamespace(score="easix"))
    assert easix.dtype == float
    assert easix.reindex(direct.index).tolist() == pytest.approx(direct["easix"].astype(float).tolist(), nan_ok=True)
    group = derive_score(study, SimpleNamespace(score="hematotox_group"))
    assert list(group.cat.categories) == ["HT-low", "HT-high"]
    late = derive_score(study, SimpleNamespace(score="s_easix", start_day=-2, end_day=0))
    assert late.isna().all()  # the synthetic pre-lymphodepletion sample is on day -5
    with pytest.raises(ValueError, match="unknown score"):
        derive_score(study, SimpleNamespace(score="nope"))


def test_score_variables_through_the_plan_schema(study: StudyRun) -> None:
    from cartscope.analysis.plan.variables import variable_type

    plan = Plan.model_validate(yaml.safe_load("""
version: 1
name: scores
variables:
  ht: {derive: score, score: hematotox_group}
  ex: {derive: score, score: log2_easix, start_day: -10, end_day: -3}
  ip: {derive: score, score: ipi_group}
analyses: []
"""))
    run = StudyRun(cohort=study.cohort, plan=plan, endpoints=study.endpoints)
    assert variable_type(run, "ht") == "categorical" and variable_type(run, "ex") == "continuous"
    ex = run.variable("ex")
    assert ex.notna().all() and (ex > 0).all()  # li2023: LDH, creatinine and platelets on day -5
    with pytest.raises(Exception):
        Plan.model_validate({"version": 1, "name": "x", "variables": {"a": {"derive": "score", "score": "easx"}}})
