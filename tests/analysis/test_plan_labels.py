"""The plan's ``labels:`` mapping and variable titles: read by the schema (a text or {label,
unit}), every code checked (unknown codes are problems with a did-you-mean), and printed
through the report's label registry by every table and figure (Table 1 rows of lu2021 read
"MRD", not "Mrd"; a derived ``crs3`` with a title reads its title, not "Crs3")."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cartscope.analysis.plan.labels import known_codes, label_problems
from cartscope.analysis.plan.schema import Plan
from cartscope.report.labels import default_registry, humanise, plan_labels, registry_for


def _plan(**more) -> Plan:
    base = {"version": 1, "name": "t", "analyses": [],
            "variables": {"crs3": {"derive": "crs", "at_least": 3, "title": "CRS grade >= 3"},
                          "mrd": {"derive": "pre_infusion", "of": "mrd_pct", "title": "pre-infusion MRD %"}}}
    return Plan.model_validate({**base, **more})


def test_labels_read_as_text_or_label_and_unit():
    p = _plan(labels={"il6": {"label": "Interleukin-6", "unit": "pg/mL"}, "crs3": "Severe CRS"})
    assert p.labels["crs3"].label == "Severe CRS" and p.labels["crs3"].unit == ""
    assert p.labels["il6"].unit == "pg/mL"
    with pytest.raises(ValidationError):
        _plan(labels={"il6": {"label": "IL-6", "units": "pg/mL"}})  # unknown key
    with pytest.raises(ValidationError):
        _plan(labels={"il6": {"label": ""}})


def test_unknown_codes_are_problems_with_did_you_mean():
    p = _plan(labels={"crs_grd": "CRS grade", "crs3": "x", "il6": "IL-6", "os": "OS", "mrd_pct": "MRD (%)"})
    assert [path for path, _ in label_problems(p)] == ["labels.crs_grd"]
    assert "did you mean 'crs_grade'?" in label_problems(p)[0][1]
    assert {"crs3", "mrd", "os", "os_time", "il6", "crs_group"} <= known_codes(p)
    assert label_problems(_plan()) == []


def test_registry_prints_titles_and_labels():
    p = _plan(labels={"il6": {"label": "Interleukin-6", "unit": "pg/mL"}})
    reg = registry_for(plan=p)
    assert reg("crs3") == "CRS grade >= 3"
    assert reg("mrd") == "Pre-infusion MRD %"
    assert reg("il6") == "Interleukin-6 (pg/mL)"
    assert plan_labels(p)["crs3"].text == "CRS grade >= 3"
    d = default_registry()
    assert (d("crs_grade"), d("icans_grade"), d("mrd")) == ("CRS grade", "ICANS grade", "MRD")
    assert humanise("crs3") == "CRS3" and humanise("mrd_level") == "MRD level" and humanise("car_dose") == "CAR dose"
    assert humanise("persistence_day") == "Persistence day"


@pytest.mark.slow
def test_lu2021_table_one_rows_read_clinical_labels():
    from cartscope.analysis.plan.check import load_plan
    from cartscope.analysis.presets import synthesize
    from cartscope.analysis.study import run_study
    from cartscope.report.items import TableItem
    from cartscope.report.sections import build_sections

    cohort = synthesize("lu2021", seed=2023)
    res = run_study(cohort, load_plan("lu2021"))
    text = " ".join(i.table.display.to_string() for s in build_sections(res, cohort) for i in s.items
                    if isinstance(i, TableItem))
    for bad in ("Mrd", "Crs grade", "Icans grade", "Crs3"):
        assert bad not in text


def test_check_plan_reports_an_unknown_label_code():
    from cartscope.analysis.plan.check import check_plan
    from cartscope.analysis.presets import synthesize

    cohort = synthesize("lu2021", seed=2023)
    plan = {"version": 1, "name": "t", "labels": {"crs_grd": "CRS grade", "il6": "IL-6", "mrd_pct": "MRD"},
            "analyses": []}
    found = [str(p) for p in check_plan(plan, cohort, "p.yaml")]
    assert [f for f in found if "labels" in f] == [
        "p.yaml: labels.crs_grd: unknown code 'crs_grd' (did you mean 'crs_grade'?); a label names a plan "
        "variable, population, window, panel or endpoint, a cohort column, an analyte or a kinetics measure"]
