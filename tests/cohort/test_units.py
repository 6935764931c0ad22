"""Unit vocabulary and conversion factors (design.md: one canonical unit per analyte)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartscope.cohort.units import (
    ANALYTES,
    DIMENSIONS,
    KINETIC_UNITS,
    UNIT_SPELLINGS,
    UnitError,
    canonical_analyte,
    conversion_factor,
    normalise_unit,
)


@pytest.mark.parametrize(
    ("from_unit", "to_unit", "analyte", "factor"),
    [
        ("ng/mL", "pg/mL", "il6", 1000.0),
        ("pg/mL", "ng/mL", "il6", 1e-3),
        ("ug/L", "ng/mL", "ferritin", 1.0),
        ("mg/dL", "mg/L", "crp", 10.0),
        ("x10^9/L", "/uL", "platelets", 1000.0),
        ("g/L", "g/dL", "hemoglobin", 0.1),
        ("umol/L", "mg/dL", "bilirubin", 1 / 17.1),
        ("mg/dL", "umol/L", "bilirubin", 17.1),
        ("umol/L", "mg/dL", "creatinine", 1 / 88.4),
        ("mmol/L", "mg/dL", "creatinine", 1000 / 88.4),
        ("copies/ng", "copies/ug", None, 1000.0),
        ("ukat/L", "U/L", "alt", 60.0),
    ],
)
def test_known_factors(from_unit: str, to_unit: str, analyte: str | None, factor: float) -> None:
    assert conversion_factor(from_unit, to_unit, analyte=analyte) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("pg/ml", "pg/mL"), ("PG/ML", "pg/mL"), ("µg/L", "ug/L"), ("mcg/l", "ug/L"), ("mg/dl", "mg/dL"),
        ("10^9/L", "x10^9/L"), ("x10e9/l", "x10^9/L"), ("G/L", "g/L"), ("cells/µL", "/uL"), ("/mm3", "/uL"),
        ("copies/µg gDNA", "copies/ug"), ("copies/ug DNA", "copies/ug"), ("copies / ug", "copies/ug"),
        ("µmol/L", "umol/L"), ("IU/L", "U/L"), (" g/dl ", "g/dL"),
    ],
)
def test_spellings(spelling: str, canonical: str) -> None:
    assert normalise_unit(spelling) == canonical


def test_unknown_spelling_is_not_guessed() -> None:
    assert normalise_unit("mg/deciL") is None
    assert normalise_unit("furlongs") is None
    assert normalise_unit(None) is None


def test_wrong_dimension_raises() -> None:
    with pytest.raises(UnitError, match="cannot be converted"):
        conversion_factor("g/L", "/uL", analyte="platelets")
    with pytest.raises(UnitError):  # molar needs a molar factor; CRP has none
        conversion_factor("umol/L", "mg/L", analyte="crp")


def test_vocabulary_is_closed() -> None:
    assert set(UNIT_SPELLINGS.values()) <= set(DIMENSIONS)
    assert {a.unit for a in ANALYTES.values()} <= set(DIMENSIONS)
    assert set(KINETIC_UNITS.values()) <= set(DIMENSIONS)
    assert ANALYTES["ferritin"].unit == "ng/mL" and ANALYTES["crp"].unit == "mg/L"
    assert ANALYTES["il6"].unit == "pg/mL" and ANALYTES["platelets"].unit == "/uL"
    assert KINETIC_UNITS["car_copies_per_ug"] == "copies/ug"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("IL-6", "il6"), ("il6", "il6"), ("Interleukin-6", "il6"), ("IFN-γ", "ifng"), ("TNF-alpha", "tnfa"),
     ("Ferritin", "ferritin"), ("hs-CRP", "crp"), ("Hb", "hemoglobin"), ("PLT", "platelets"), ("sIL-2R", "il2r"),
     ("sCD163", None), ("", None)],
)
def test_canonical_analyte(name: str, canonical: str | None) -> None:
    assert canonical_analyte(name) == canonical


_UNITS = sorted(DIMENSIONS)


@given(st.sampled_from(_UNITS), st.sampled_from(_UNITS))
def test_factors_invert_within_a_dimension(a: str, b: str) -> None:
    if DIMENSIONS[a][0] != DIMENSIONS[b][0]:
        return
    assert conversion_factor(a, b) * conversion_factor(b, a) == pytest.approx(1.0, rel=1e-12)


@given(st.sampled_from(["bilirubin", "creatinine"]), st.sampled_from(["mg/dL", "mg/L", "g/L", "ug/mL"]),
       st.sampled_from(["umol/L", "mmol/L"]))
def test_molar_round_trip(analyte: str, mass: str, molar: str) -> None:
    there = conversion_factor(mass, molar, analyte=analyte)
    back = conversion_factor(molar, mass, analyte=analyte)
    assert there * back == pytest.approx(1.0, rel=1e-12)


class _Text(str):
    """A str that is not exactly ``str``: parse_lab_value takes its general path for it."""


@pytest.mark.parametrize("cell", ["12.5", "0", "-0", "+3", ".5", "5.", "1e5", "1E-3", "-.5e+2", "007", "١٢",
                                  "12\n", " 12", "1e", "e5", "1.2.3", "1_000", "nd", ">5000", "<= 3"])
def test_bare_numbers_parse_as_the_general_lab_value_rules_parse_them(cell: str) -> None:
    from cartscope.cohort.checks_units import parse_lab_value

    assert parse_lab_value(cell) == parse_lab_value(_Text(cell))
