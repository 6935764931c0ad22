"""Report labels take an analyte's unit from the cohort's data when it differs from the
built-in analyte dictionary (an ``analytes`` sheet keeping sIL-2R in U/mL)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from cartscope.report.labels import data_units, registry_for


def _cohort(rows):
    return SimpleNamespace(labs=pd.DataFrame(rows, columns=["patient_id", "analyte", "value", "unit"]))


def test_data_unit_replaces_the_builtin_one_only_where_it_differs():
    c = _cohort([("P1", "il2r", 4100.0, "U/mL"), ("P2", "il2r", 2100.0, "U/mL"), ("P1", "il6", 50.0, "pg/mL"),
                 ("P1", "wbc", 3.0, "/uL")])
    reg = registry_for(None, cohort=c)
    assert reg("il2r") == "sIL-2R (U/mL)"
    assert reg("il6") == "IL-6 (pg/mL)"
    assert registry_for(None)("il2r") == "sIL-2R (pg/mL)"
    assert reg("wbc") == registry_for(None)("wbc")  # the built-in unit, unchanged


def test_an_analyte_in_two_units_keeps_the_builtin_label():
    c = _cohort([("P1", "il2r", 4100.0, "U/mL"), ("P2", "il2r", 900.0, "pg/mL")])
    assert data_units(c) == {}
    assert registry_for(None, cohort=c)("il2r") == "sIL-2R (pg/mL)"


def test_plan_variables_without_a_title_are_named_from_their_derivation():
    from cartscope.analysis.plan.check import parse_plan
    from cartscope.report.labels import registry_for

    plan = parse_plan({"version": 1, "name": "x", "variables": {
        "crs3": {"derive": "crs", "at_least": 3},
        "icans_any": {"derive": "icans"},
        "il6_base": {"derive": "cytokine", "analyte": "IL-6", "statistic": "baseline"},
        "ferr_day": {"derive": "cytokine", "analyte": "ferritin", "statistic": "peak_day"},
        "mip_fold": {"derive": "cytokine", "analyte": "MIP3a", "statistic": "fold_change"},
        "crs_first": {"derive": "crs"},
        "named": {"derive": "crs", "at_least": 2, "title": "severe CRS"},
    }, "analyses": []}, "x.yaml").plan
    reg = registry_for(plan=plan)
    assert reg("crs3") == "CRS grade >= 3"
    assert reg("icans_any") == "ICANS grade"
    assert reg("il6_base") == "IL-6 baseline (pg/mL)"
    assert reg("ferr_day") == "Ferritin day of the peak (day)"
    assert reg("mip_fold") == "MIP3a fold change over baseline"
    assert reg("crs_first") == "CRS grade after the first infusion"  # the built-in label of the code stays
    assert reg("named") == "Severe CRS"  # a title wins
