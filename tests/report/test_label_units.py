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
