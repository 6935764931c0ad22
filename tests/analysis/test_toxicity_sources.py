"""The toxicity kind's tocilizumab / steroid shares read the daily flags and the treatment
events; a patient no source covers is "not recorded" (listed, out of the denominator)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.study import run_study
from cartscope.clinical.supportive_care import supportive_care


def test_supportive_care_merges_daily_flags_and_events() -> None:
    daily = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "day": [1, 2, 1, 40],
                          "tocilizumab": [False, True, None, True], "steroids": [None, None, False, None]})
    events = pd.DataFrame({"patient_id": ["b", "d", "d"], "day": [3.0, 2.0, 50.0],
                           "type": ["tocilizumab", "tocilizumab", "corticosteroid"]})
    out = supportive_care(["a", "b", "c", "d", "e"], daily, events, window=(0.0, 28.0)).set_index("patient_id")
    # tocilizumab: the cohort records tocilizumab events, so every patient is covered
    assert out["tocilizumab"].tolist() == [True, True, False, True, False]
    # b's flag is missing and c's lies outside the window: events alone cover them
    assert out["tocilizumab_source"].tolist() == ["daily data and events", "events", "events", "events", "events"]
    # steroids: the cohort records corticosteroid events (d, day 50: outside the window) -> covered
    assert out["steroids"].tolist() == [False, False, False, False, False]
    assert out["steroids_source"].tolist() == ["events", "daily data and events", "events", "events", "events"]
    # without any corticosteroid event type, only b's non-missing daily flag records steroids
    out2 = supportive_care(["a", "b", "c", "d", "e"], daily, events.iloc[:2], window=(0.0, 28.0))
    s = out2.set_index("patient_id")["steroids"]
    assert s.isna().tolist() == [True, False, True, True, True] and not bool(s["b"])
    src = out2.set_index("patient_id")["steroids_source"]
    assert [None if pd.isna(v) else v for v in src] == [None, "daily data", None, None, None]


@pytest.fixture(scope="module")
def recorded_only():
    """li2023 with the daily table removed, recorded grades kept and tocilizumab as events only."""
    cohort = synthesize("li2023", seed=2023)
    res = run_study(cohort, load_protocol("li2023"))
    per = res.tables["toxicity_patients"].set_index("patient_id")
    patients = cohort.patients.copy()
    ids = patients["patient_id"].astype(str)
    patients["crs_grade"] = pd.array(ids.map(per["crs_grade"]).tolist(), dtype="Int64")
    patients["icans_grade"] = pd.array(ids.map(per["icans_grade"]).tolist(), dtype="Int64")
    ev = cohort.events[cohort.events["type"].astype(str) != "tocilizumab"]
    treated = [str(p) for p in ids.iloc[:2]]
    index_day = res.endpoints.set_index(res.endpoints["patient_id"].astype(str))["index_day"]
    toci = pd.DataFrame({"patient_id": treated, "type": ["tocilizumab"] * 2,
                         "day": pd.array([int(index_day[p]) + 2 for p in treated], dtype="Int64")})
    events = pd.concat([ev, toci], ignore_index=True)
    recorded = dataclasses.replace(cohort, patients=patients, toxicity_daily=cohort.toxicity_daily.iloc[0:0],
                                   events=events, present=cohort.present - {"toxicity_daily"})
    return treated, run_study(recorded, load_protocol("li2023"))


@pytest.mark.slow
def test_tocilizumab_events_count_without_daily_flags(recorded_only) -> None:
    treated, res = recorded_only
    t = res.tables["toxicity_treatment"]
    row = t[(t["group"] == "all") & (t["treatment"] == "tocilizumab")].iloc[0]
    n_all = int(res.tables["toxicity_patients"]["patient_id"].nunique())
    assert (int(row["n"]), int(row["patients"]), int(row["not_recorded"])) == (2, n_all, 0)
    assert row["pct"] == pytest.approx(100.0 * 2 / n_all, rel=1e-12)
    per = res.tables["toxicity_patients"].set_index("patient_id")
    assert sorted(per.index[per["tocilizumab"].astype("boolean").fillna(False)]) == sorted(treated)


@pytest.mark.slow
def test_steroids_without_any_source_are_not_recorded_and_listed(recorded_only) -> None:
    _, res = recorded_only
    t = res.tables["toxicity_treatment"]
    row = t[(t["group"] == "all") & (t["treatment"] == "steroids")].iloc[0]
    n_all = int(res.tables["toxicity_patients"]["patient_id"].nunique())
    assert (int(row["n"]), int(row["patients"]), int(row["not_recorded"])) == (0, 0, n_all)
    assert pd.isna(row["pct"])
    ex = res.exclusions
    listed = ex[ex["analysis"].astype(str).str.endswith(":steroids")]
    assert len(listed) == n_all and listed["reason"].str.contains("not recorded").all()


def _sources(daily: int, recorded: int, none: int = 0, icans: tuple[int, int, int] | None = None) -> pd.DataFrame:
    i = icans or (daily, recorded, none)
    return pd.DataFrame({"analysis": ["tox", "tox"], "group": ["all", "all"], "toxicity": ["CRS", "ICANS"],
                         "graded_daily": [daily, i[0]], "recorded": [recorded, i[1]], "no_grade": [none, i[2]]})


def test_methods_sentence_follows_the_grade_provenance() -> None:
    from types import SimpleNamespace

    from cartscope.report.toxicity_methods import grading_sentence

    recorded = grading_sentence(SimpleNamespace(tables={"toxicity_sources": _sources(0, 28)}))
    assert "recorded by the treating centre for 28 patients" in recorded
    assert "daily" not in recorded
    daily = grading_sentence(SimpleNamespace(tables={"toxicity_sources": _sources(12, 0)}))
    assert "graded from the daily observations for 12 patients" in daily and "recorded" not in daily
    both = grading_sentence(SimpleNamespace(tables={"toxicity_sources": _sources(20, 7, 1, icans=(20, 0, 8))}))
    assert ("cytokine release syndrome was graded from the daily observations for 20 patients, "
            "recorded by the treating centre for 7 patients and ungraded for 1 patient; "
            "ICANS was graded from the daily observations for 20 patients and ungraded for 8 patients;") in both


@pytest.mark.slow
def test_recorded_grades_are_stated_as_recorded_in_the_report(recorded_only) -> None:
    from cartscope.report.methods import methods_paragraphs
    from cartscope.report.sections._base import SectionInput
    from cartscope.report.sections.toxicity import toxicity_section

    _, res = recorded_only
    src = res.tables["toxicity_sources"].set_index(["group", "toxicity"])
    n_all = int(res.tables["toxicity_patients"]["patient_id"].nunique())
    assert (int(src.loc[("all", "CRS"), "recorded"]), int(src.loc[("all", "CRS"), "graded_daily"])) == (n_all, 0)
    text = " ".join(methods_paragraphs(res))
    assert f"recorded by the treating centre for {n_all} patients" in text
    assert "graded daily" not in text and "daily observations" not in text
    items = toxicity_section(SectionInput(res, None))
    note = items[0].table.footnotes[0]
    assert note.endswith(f"CRS recorded by the treating centre for {n_all} patients; "
                         f"ICANS recorded by the treating centre for {n_all} patients.")
    assert "daily" not in note


AE_PLAN = """
version: 1
name: ae
analyses:
  - {id: ae, kind: ae_table}
"""


def _run_ae(cohort):
    import yaml

    from cartscope.analysis.analyses import toxicity
    from cartscope.analysis.plan import AnalysisSkipped, Plan, RunContext
    from cartscope.analysis.plan.context import StudyRun
    from cartscope.clinical.endpoints import derive_endpoints

    plan = Plan.model_validate(yaml.safe_load(AE_PLAN))
    run = StudyRun(cohort=cohort, plan=plan, endpoints=derive_endpoints(cohort, plan.endpoint_rules()))
    spec = plan.analyses[0]
    kind = next(k for k in toxicity.KINDS if k.name == "ae_table")
    rc = RunContext(run, spec, kind, kind.options.model_validate(spec.options))
    reason = kind.needs(rc)
    if reason:
        return reason, None
    try:
        kind.run(rc)
    except AnalysisSkipped as exc:
        return str(exc), None
    return "", pd.concat(run.tables["ae_table"], ignore_index=True)


def _recorded_cohort():
    cohort = synthesize("li2023", seed=2023)
    patients = cohort.patients.copy()
    grades = [2, 0, 3, 1, 2][: len(patients)]
    patients["crs_grade"] = pd.array(grades, dtype="Int64")
    return dataclasses.replace(cohort, patients=patients, toxicity_daily=cohort.toxicity_daily.iloc[0:0],
                               present=cohort.present - {"toxicity_daily"}), grades


@pytest.mark.slow
def test_ae_table_without_gradable_labs_is_skipped_with_the_reason() -> None:
    cohort, _ = _recorded_cohort()
    labs = cohort.labs[cohort.labs["analyte"].astype(str).isin(["il6", "il10", "ifng", "crp", "ldh"])]
    assert len(labs) and len(labs) < len(cohort.labs)
    reason, table = _run_ae(dataclasses.replace(cohort, labs=labs))
    assert table is None and reason.startswith("no CTCAE-gradable labs (none of alt, ast,")


@pytest.mark.slow
def test_ae_table_crs_row_uses_recorded_grades() -> None:
    cohort, grades = _recorded_cohort()
    reason, table = _run_ae(cohort)
    assert reason == ""
    crs = table[(table["group"] == "all") & (table["term"] == "crs")].iloc[0]
    assert (int(crs["n_evaluable"]), int(crs["recorded"]), int(crs["graded_daily"])) == (len(grades), len(grades), 0)
    for k in (1, 2, 3, 4):
        assert int(crs[f"grade_{k}_n"]) == grades.count(k)
        assert crs[f"grade_{k}_pct"] == pytest.approx(100.0 * grades.count(k) / len(grades), rel=1e-12)
    assert int(table["patients"].iloc[0]) == len(grades)
    from types import SimpleNamespace

    from cartscope.report.sections._base import SectionInput
    from cartscope.report.sections.ae import ae_section

    items = ae_section(SectionInput(SimpleNamespace(tables={"ae_table": table}), None))
    t = items[0].table
    assert t.title == f"Adverse events by CTCAE grade, all patients (n={len(grades)})"
    assert t.footnotes[-1] == f"Cytokine release syndrome: ASTCT grade recorded by the treating centre for {len(grades)} patients."
