"""Plan errors in one round and in clinical words: a plan with key errors, value errors and
unknown names gets every problem from one ``check_plan`` (the command line's ``protocol check``
and ``analyze`` included), each as ``file: key.path: message`` with the allowed values and a
did-you-mean, never pydantic's own text."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from cartscope.analysis.plan.check import PlanError, check_plan, load_and_check, parse_plan, read_plan
from cartscope.cli import app
from cartscope.cohort.load import load_cohort
from hand_typed import NEW_USER_PLAN, write_registry

BAD = """\
version: 1
name: registry
variables:
  ldh_high: {derive: expresion, expr: "ldh > 250"}
  uses_bad: {derive: expression, expr: "ldh_high and crs3"}
  crs3: {derive: crs, at_least: 9}
  nod: {expr: "1"}
populations:
  ball: {where: "disease_grop == 'B-ALL'"}
  hi: {where: "ldh_high == 1"}
panels:
  inflammation: [IL-6, CRP, feritin]
analyses:
  - {id: table1, kind: describe, by: disease_grup, variables: [age, il6_peek], population: hi}
  - {id: cyto, kind: cytokines, analytes: inflammation, by: crs3}
  - {id: cox, kind: cox, endpoint: pfs, covariates: [age], time_varying: [hsct, relapse]}
  - {id: cmp, kind: compare, by: responder, variables: [age], categorical_tst: fisher}
  - {id: km, kind: km, endpoints: [os, efss], populaton: ball}
  - {id: tox, kind: toxicty}
  - {id: km, kind: km}
"""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return load_cohort(write_registry(tmp_path_factory.mktemp("reg") / "registry.xlsx"))


def _lines(found):
    return [str(p) for p in found if p.is_error]


@pytest.mark.slow
def test_every_problem_in_one_round_in_file_order(cohort):
    errors = _lines(check_plan(BAD, cohort, "bad.yaml"))
    assert errors == [
        "bad.yaml: variables.ldh_high: unknown derive rule 'expresion' (did you mean 'expression'?); known: column, "
        "expression, nr_er, response, crs, icans, car_kinetics, cytokine, lab, pre_infusion, infusion, "
        "response_duration, ratio, transform, cut, score, expander",
        "bad.yaml: variables.crs3.at_least: needs a number of at most 5; got 9",
        "bad.yaml: variables.nod: needs a 'derive' key (one of column, expression, nr_er, response, crs, icans, "
        "car_kinetics, cytokine, lab, pre_infusion, infusion, response_duration, ratio, transform, cut, score, "
        "expander)",
        "bad.yaml: populations.ball.where: unknown variable 'disease_grop' (did you mean 'disease_group'?)",
        "bad.yaml: panels.inflammation[2]: unknown analyte 'feritin': not measured in this cohort "
        "(did you mean 'ferritin'?)",
        "bad.yaml: analyses[0].by[0]: unknown variable 'disease_grup' (did you mean 'disease_group'?)",
        "bad.yaml: analyses[0].variables[1]: unknown variable 'il6_peek'",
        "bad.yaml: analyses[1].analytes: needs a list of analytes; got 'inflammation' "
        "(a list is written in brackets: [inflammation])",
        "bad.yaml: analyses[2].time_varying[1]: 'relapse' is not allowed here; allowed values: hsct, response, "
        "reinfusion, crs, new_therapy (did you mean 'response'?)",
        "bad.yaml: analyses[3].categorical_tst: unknown key (did you mean 'categorical_test'?) for kind compare",
        "bad.yaml: analyses[4].populaton: unknown key (did you mean 'population'?) for kind km",
        "bad.yaml: analyses[4].endpoints[1]: unknown endpoint 'efss' (did you mean 'efs'?); the plan's endpoints "
        "are dor, efs, os, pfs",
        "bad.yaml: analyses[5].kind: unknown analysis kind 'toxicty' (did you mean 'toxicity'?); kinds are "
        + ", ".join(__import__("cartscope.analysis.plan", fromlist=["kinds"]).kinds()),
        "bad.yaml: analyses[6].id: analysis id 'km' is used twice",
    ]
    # the broken variables' users are not reported again as unknown names
    assert not any("'ldh_high'" in e and "unknown" in e for e in errors)
    assert not any("'crs3'" in e for e in errors)


def test_read_plan_raises_with_every_schema_problem_and_no_pydantic_text():
    with pytest.raises(PlanError) as info:
        read_plan(BAD, "bad.yaml")
    lines = [str(p) for p in info.value.findings]
    assert len(lines) == 9
    assert not any("Input should be" in x or "valid tuple" in x for x in lines)


def test_value_messages_in_clinical_words(cohort):
    plan = yaml.safe_load(NEW_USER_PLAN)
    plan["variables"]["cut"] = {"derive": "cut", "of": "age", "breaks": "mean"}
    plan["variables"]["param"] = {"derive": "car_kinetics", "parameter": "cmx"}
    plan["windows"] = {"w": {"start": "day 3"}}
    plan["analyses"].append({"id": "cx", "kind": "cox", "covariates": ["age"], "firth": "maybe", "robust": "yes please"})
    errors = _lines(check_plan(plan, cohort, "p.yaml"))
    assert "p.yaml: variables.cut.breaks: needs a list of values or median; got 'mean' " \
           "(did you mean 'median'?) (a list is written in brackets: [mean])" in errors
    assert "p.yaml: variables.param.parameter: 'cmx' is not allowed here; allowed values: cmax, tmax, auc0_28, " \
           "persistence_day, expansion_fold (did you mean 'cmax'?)" in errors
    assert "p.yaml: windows.w.start: needs a number; got 'day 3'" in errors
    assert "p.yaml: analyses[4].firth: 'maybe' is not allowed here; allowed values: auto, True, False" in errors
    assert "p.yaml: analyses[4].robust: needs true or false; got 'yes please'" in errors


@pytest.mark.slow
def test_the_new_user_plan_checks(cohort):
    plan, found = load_and_check(yaml.safe_load(NEW_USER_PLAN), cohort)
    assert [a.id for a in plan.analyses] == ["table1", "cyto", "il6_by_response", "il6_paired"]
    assert not [p for p in found if p.is_error]
    assert parse_plan(NEW_USER_PLAN).problems == ()


@pytest.mark.slow
def test_protocol_check_prints_every_problem_at_once(tmp_path, cohort):
    book = write_registry(tmp_path / "registry.xlsx")
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    out = CliRunner().invoke(app, ["protocol", "check", str(tmp_path / "bad.yaml"), "--cohort", str(book)])
    assert out.exit_code == 2
    assert "14 error(s) in the protocol; nothing was run." in out.output
    assert "analyses[1].analytes: needs a list of analytes" in out.output
    assert "analyses[0].by[0]: unknown variable 'disease_grup'" in out.output


@pytest.mark.slow
def test_analyze_reports_every_problem_at_once(tmp_path):
    book = write_registry(tmp_path / "registry.xlsx", n=10)
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    out = CliRunner().invoke(app, ["analyze", str(book), "--protocol", str(tmp_path / "bad.yaml"),
                                   "--out", str(tmp_path / "r")])
    assert out.exit_code == 2
    assert "14 error(s) in the protocol; nothing was run." in out.output
    assert not (tmp_path / "r").exists()
