"""The analysis-plan language: strict checking with key paths and did-you-mean, migration of
old protocols, windows per infusion, analyte aliases, ARD determinism and the commands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cartscope.analysis.plan import ARD_COLUMNS, kinds
from cartscope.analysis.plan.check import PlanError, check_plan, load_and_check, read_plan
from cartscope.analysis.plan.expr import ExpressionError, parse
from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import ProtocolError, load_protocol
from cartscope.analysis.results import write_results
from cartscope.analysis.study import run_study
from cartscope.cli import app
from cartscope.cohort.write import write_cohort

ENDPOINTS = {"endpoints": [{"name": "os", "relapse": False, "death": True},
                           {"name": "pfs", "relapse": True, "death": True, "no_response": "assessment"}]}


@pytest.fixture(scope="module")
def jin():
    return synthesize("jin2023", seed=2023)


@pytest.fixture(scope="module")
def li():
    return synthesize("li2023", seed=2023)


@pytest.fixture(scope="module")
def lu():
    return synthesize("lu2021", seed=2023)


def _plan(*analyses, **extra):
    return {"version": 1, "name": "t", "endpoints": ENDPOINTS, "analyses": list(analyses), **extra}


def _errors(exc: PlanError) -> list[str]:
    return [str(p) for p in exc.findings if p.is_error]


def test_the_issues_value_mistakes_are_refused_with_key_path_and_suggestion(jin):
    """Undefined endpoint efs, covariates LDH / ecog_ps, timepoint day_7, marker sIL2R."""
    data = _plan(
        {"id": "km", "kind": "km", "endpoints": ["os", "efs"]},
        {"id": "cox", "kind": "cox", "endpoint": "pfs", "covariates": ["age", "LDH", "ecog_ps"]},
        {"id": "screen", "kind": "biomarker_screen", "timepoint": "day_7", "markers": ["MIP3a", "sIL2R"]},
    )
    with pytest.raises(PlanError) as info:
        load_and_check(data, jin, source="protocol.yaml")
    errors = _errors(info.value)
    assert "protocol.yaml: analyses[0].endpoints[1]: unknown endpoint 'efs' (did you mean 'pfs'?); the plan's " \
           "endpoints are os, pfs" in errors
    assert "protocol.yaml: analyses[1].covariates[1]: unknown variable 'LDH' (did you mean 'ldh'?)" in errors
    assert "protocol.yaml: analyses[1].covariates[2]: unknown variable 'ecog_ps' (did you mean 'ecog'?)" in errors
    assert any(e.startswith("protocol.yaml: analyses[2].timepoint: unknown timepoint 'day_7'") for e in errors)
    assert any(e.startswith("protocol.yaml: analyses[2].markers[1]: unknown analyte 'sIL2R': not measured")
               for e in errors)
    assert len(errors) == 5


@pytest.mark.slow
def test_cli_check_exits_2_and_runs_nothing(li, tmp_path):
    cohort = li
    labs = cohort.labs.assign(role=cohort.labs["role"].fillna("patient"))
    cdir = write_cohort(cohort.__class__(patients=cohort.patients, infusions=cohort.infusions,
                                         assessments=cohort.assessments, events=cohort.events, labs=labs,
                                         kinetics=cohort.kinetics, toxicity_daily=cohort.toxicity_daily),
                        tmp_path / "c", fmt="csv")
    bad = tmp_path / "protocol.yaml"
    bad.write_text("version: 1\nname: t\nanalyses:\n  - {id: a, kind: describe}\n"
                   "  - {id: cox, kind: cox, endpoint: pfs, covariates: [age, ecog_ps]}\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["protocol", "check", str(bad), "--cohort", str(cdir)])
    assert r.exit_code == 2
    assert f"{bad}: analyses[1].covariates[1]: unknown variable 'ecog_ps' (did you mean 'ecog'?)" in r.output
    r = CliRunner().invoke(app, ["analyze", str(cdir), "--protocol", str(bad), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and not (tmp_path / "out").exists()
    # init -> check -> analyze: the starter plan runs as it is
    plan = tmp_path / "starter.yaml"
    assert CliRunner().invoke(app, ["protocol", "init", "--cohort", str(cdir), "--out", str(plan)]).exit_code == 0
    r = CliRunner().invoke(app, ["protocol", "check", str(plan), "--cohort", str(cdir)])
    assert r.exit_code == 0 and "OK:" in r.output, r.output
    r = CliRunner().invoke(app, ["analyze", str(cdir), "--protocol", str(plan), "--out", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    status = pd.read_csv(tmp_path / "r" / "analyses.csv")
    assert list(status["status"].unique()) == ["ran"]
    assert (tmp_path / "r" / "ard.parquet").is_file()


def test_unknown_kind_option_and_schema_keys(li):
    with pytest.raises(PlanError) as info:
        read_plan(_plan({"id": "a", "kind": "kmm"}, {"id": "b", "kind": "km", "endpoint": ["os"]},
                        {"id": "c", "kind": "km", "conf_type": "loglog"}), "p.yaml")
    errors = _errors(info.value)
    assert errors[0].startswith("p.yaml: analyses[0].kind: unknown analysis kind 'kmm' (did you mean 'km'?)")
    assert "p.yaml: analyses[1].endpoint: unknown key (did you mean 'endpoints'?) for kind km" in errors
    assert "p.yaml: analyses[2].conf_type: 'loglog' is not allowed here; allowed values: plain, log, log-log " \
           "(did you mean 'log-log'?)" in errors
    with pytest.raises(PlanError) as info:
        read_plan({"version": 1, "name": "x", "analyses": [], "variabels": {}}, "p.yaml")
    assert _errors(info.value) == ["p.yaml: variabels: unknown key (did you mean 'variables'?)"]
    with pytest.raises(PlanError) as info:
        read_plan(_plan({"id": "a", "kind": "describe"}, {"id": "a", "kind": "response"}), "p.yaml")
    assert "analysis id 'a' is used twice" in _errors(info.value)[0]
    with pytest.raises(ProtocolError):  # a PlanError is a ProtocolError for old callers
        read_plan({"version": 2, "name": "x", "analyses": []})


def test_variable_population_and_window_names_are_resolved(li):
    data = _plan(
        {"id": "d", "kind": "describe", "variables": ["il6_pk", "ratio"], "population": "kids", "window": "w1"},
        variables={"il6_pk": {"derive": "cytokine", "analyte": "IL6", "window": "after2"},
                   "ratio": {"derive": "ratio", "numerator": "il6_pk", "denominator": "agee"},
                   "loop_a": {"derive": "transform", "of": "loop_b"}, "loop_b": {"derive": "transform", "of": "loop_a"}},
        populations={"kids": {"where": "age < 12 and sexx == 'F'"}},
        windows={"after_2": {"infusion": 2}})
    plan, _ = read_plan(data, "p.yaml")
    errors = [str(p) for p in check_plan(plan, li, "p.yaml") if p.is_error]
    assert "p.yaml: variables.il6_pk.window: unknown window 'after2' (did you mean 'after_2'?); known: after_2" in errors
    assert "p.yaml: variables.ratio.denominator: unknown variable 'agee' (did you mean 'age'?)" in errors
    assert any("circular definition: loop_a -> loop_b -> loop_a" in e for e in errors)
    assert "p.yaml: populations.kids.where: unknown variable 'sexx' (did you mean 'sex'?)" in errors
    assert "p.yaml: analyses[0].window: unknown window 'w1'" in " ".join(errors)


def test_type_mismatch_empty_population_and_small_groups_warn(li):
    data = _plan({"id": "s", "kind": "biomarker_screen", "timepoint": "baseline", "outcome": "age"},
                 {"id": "k", "kind": "km", "endpoints": ["os"], "population": "nobody"},
                 {"id": "t", "kind": "describe", "by": "age_at_cart2"},
                 populations={"nobody": {"where": "age > 100"}})
    plan, _ = read_plan(data, "p.yaml")
    found = check_plan(plan, li, "p.yaml")
    text = [str(p) for p in found]
    assert "p.yaml: analyses[0].outcome: 'age' is a continuous variable; this key needs a binary variable" in text
    assert "p.yaml: analyses[1].population: warning: population 'nobody' of analysis 'k' has no patients" in text
    small = [str(p) for p in found if p.severity == "warning" and p.path == "analyses[2].by[0]"]
    assert len(small) == 5 and "of analysis 't' has 1 patient (fewer than 2)" in small[0]  # 5 distinct ages


def test_old_protocol_migrates_with_a_note_and_a_bad_one_is_refused(li):
    old = {"name": "old", "subgroups": "disease_group", "survival": {"endpoints": ["os"], "by": []},
           "sections": ["cohort", "survival", "exclusions"]}
    plan, notes = read_plan(old, "old.yaml")
    assert [a.kind for a in plan.analyses] == ["describe", "km", "followup", "exclusions"]
    assert notes[0].severity == "note" and "old section form" in notes[0].message
    assert run_study(li, plan).status["status"].tolist() == ["ran"] * 4
    with pytest.raises(PlanError) as info:
        read_plan({"name": "x", "sections": ["cohort", "nope"]}, "old.yaml")
    assert "no 'version' key" in str(info.value)


def test_expressions_cannot_run_code():
    for text in ("__import__('os').system('x')", "age.real", "x[0]", "open('f')", "lambda: 1"):
        with pytest.raises(ExpressionError):
            parse(text)


def test_lu2021_crs_after_the_first_infusion_is_the_listings_71_4(lu):
    """Grading over all follow-up counts pt09's grade-2 CRS after the third infusion (64.3 %)."""
    data = _plan({"id": "crs", "kind": "describe", "population": "mrd", "variables": ["crs_first", "crs_all"]},
                 variables={"crs_first": {"derive": "crs", "window": "first"}, "crs_all": {"derive": "crs"}},
                 windows={"first": {"infusion": 1, "until_next_infusion": True}},
                 populations={"mrd": {"where": "disease_burden == 'MRD-positive'"}})
    plan, _ = read_plan(data)
    ard = run_study(lu, plan).ard
    pct = ard[(ard["stat_name"] == "pct") & (ard["variable_level"] == "1") & (ard["group1"] == "")]
    assert pct.set_index("variable")["stat"].round(1).to_dict() == {"crs_first": 71.4, "crs_all": 64.3}


def test_analytes_by_any_alias_in_a_cohort_built_in_memory(li):
    labs = li.labs.copy()
    labs["analyte"] = labs["analyte"].replace({"il6": "IL-6"})
    c = li.__class__(patients=li.patients, infusions=li.infusions, assessments=li.assessments, events=li.events,
                     labs=labs, kinetics=li.kinetics, toxicity_daily=li.toxicity_daily)
    data = _plan({"id": "cy", "kind": "cytokines", "analytes": ["interleukin-6"], "window": "w"},
                 windows={"w": {"infusion": 2, "end": 30}})
    plan, _ = load_and_check(data, c)
    peaks = run_study(c, plan).tables["cytokine_peaks"]
    assert len(peaks) == 5 and np.isfinite(peaks["peak"]).all()
    assert sorted(peaks["peak"].round(1)) == sorted(run_study(li, plan).tables["cytokine_peaks"]["peak"].round(1))


@pytest.mark.slow
def test_ard_has_its_columns_and_is_written_byte_identically(li, tmp_path):
    plan = load_protocol("li2023")
    a, b = run_study(li, plan), run_study(li, plan)
    assert tuple(a.ard.columns) == ARD_COLUMNS and len(a.ard) > 100
    ran = set(a.status.loc[a.status["status"] == "ran", "analysis"])
    assert ran - {"swimmer"} <= set(a.ard["analysis"])
    out_a, out_b = write_results(a, tmp_path / "a"), write_results(b, tmp_path / "b")
    for name in ("ard.csv", "ard.json", "ard.parquet", "analyses.csv", "results.json"):
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name
    rows = json.loads((out_a / "ard.json").read_text(encoding="utf-8"))
    orr = [r for r in rows if r["analysis"] == "response" and r["variable"] == "orr" and r["stat_name"] == "estimate"]
    assert orr[0]["stat"] == 1.0 and orr[0]["method"] == "proportion, clopper-pearson CI"


def test_li2023_efs_readings_and_cd4_cd8_per_infusion(li):
    r = run_study(li, load_protocol("li2023"))
    lm = r.tables["km_landmarks"].set_index(["endpoint", "month"])["survival"]
    assert (lm[("efs_hsct_ignored", 6.0)], lm[("efs_hsct_ignored", 12.0)]) == (1.0, 0.8)
    assert (lm[("efs_hsct_censored", 6.0)], lm[("efs_hsct_censored", 12.0)]) == (1.0, 0.5)
    s = r.tables["cd4_cd8_summary"]
    after2 = s[s["infusion_no"] == 2]
    assert len(after2) == 5 and after2["inverts"].all() and (after2["inversion_day"] <= 6).all()
    peaks = r.tables["cytokine_summary"]
    assert {"il10", "ifng", "il6"} <= set(peaks["analyte"])


def test_every_kind_declares_its_contract():
    for name, k in kinds().items():
        assert k.name == name and callable(k.run) and callable(k.describe) and callable(k.needs)
        assert k.options.model_config.get("extra") == "forbid", name
        for key in k.names:
            assert key in k.options.model_fields, (name, key)


@pytest.mark.slow
def test_jin2023_table1_follow_up_and_cohort_table_from_the_plan(jin):
    """Table 1 of jin2023 (presets.md): doses, IL-6 max and its day, ferritin max; follow-up as a
    simple median (range) and by reverse KM; the training vs validation baseline table."""
    r = run_study(jin, load_protocol("jin2023"))
    t = r.tables["cohort_description"]
    t1 = t[t["analysis"] == "table1"].set_index(["group", "variable"])
    expect = {("B-ALL", "car19_dose"): (3.04, 1.0, 10.0), ("B-NHL", "car19_dose"): (4.55, 1.35, 10.0),
              ("B-ALL", "car22_dose"): (3.41, 1.0, 10.0), ("B-NHL", "car22_dose"): (5.77, 1.9, 11.35),
              ("B-ALL", "il6_max"): (269.8, 15.73, 5000.0), ("B-NHL", "il6_max"): (214.8, 9.71, 5000.0),
              ("B-ALL", "il6_max_day"): (5.0, 2.0, 9.0), ("B-NHL", "il6_max_day"): (5.0, 2.0, 10.0),
              ("B-ALL", "ferritin_max"): (1083.5, 77.4, 50000.0), ("B-NHL", "ferritin_max"): (845.1, 174.7, 50000.0)}
    for key, (med, lo, hi) in expect.items():
        row = t1.loc[key]
        assert (round(row["median"], 2), row["min"], row["max"]) == (med, lo, hi), key
    fu = r.tables["followup"].set_index("group")
    assert tuple(fu.loc["B-ALL", ["simple_median", "simple_min", "simple_max"]]) == (265, 9, 988)
    assert tuple(fu.loc["B-NHL", ["simple_median", "simple_min", "simple_max"]]) == (192, 25, 1005)
    assert np.isfinite(fu.loc["all", "median"])  # reverse Kaplan-Meier
    roles = t[(t["analysis"] == "baseline_by_cohort") & (t["variable"] == "patients")]
    assert set(roles["group"]) >= {"all", "training", "validation"}
