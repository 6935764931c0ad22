"""CTCAE v5.0 / v4 lab grades: every threshold of every analyte, at and beside the boundary.

Criteria from NCI CTCAE v5.0 / v4.0 as tabulated in domain-reference.md section 3 (admiral
ncictcaev5.json / ncictcaev4.json). Range semantics: decreased "<A - B" is B <= x < A,
increased ">A - B" is A < x <= B.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cartscope.clinical.ctcae import CtcaeRules, grade_labs, grade_values

NAN = np.nan


def grades(analyte: str, values: list[float], *, lln: float = NAN, uln: float = NAN,
           baseline: float = NAN, version: str = "5.0") -> list[float]:
    x = np.asarray(values, dtype=float)
    g, _, _ = grade_values(
        analyte, x, lln=np.full(len(x), lln), uln=np.full(len(x), uln),
        baseline=np.full(len(x), baseline), version=version,  # type: ignore[arg-type]
    )
    return [None if np.isnan(v) else int(v) for v in g]


@pytest.mark.parametrize(
    ("analyte", "lln", "values", "expected"),
    [
        ("neutrophils", 2000, [2000, 1999, 1500, 1499, 1000, 999, 500, 499, 0],
         [0, 1, 1, 2, 2, 3, 3, 4, 4]),
        ("wbc", 4000, [4000, 3999, 3000, 2999, 2000, 1999, 1000, 999],
         [0, 1, 1, 2, 2, 3, 3, 4]),
        ("lymphocytes", 1000, [1000, 999, 800, 799, 500, 499, 200, 199],
         [0, 1, 1, 2, 2, 3, 3, 4]),
        ("platelets", 150000, [150000, 149999, 75000, 74999, 50000, 49999, 25000, 24999],
         [0, 1, 1, 2, 2, 3, 3, 4]),
        ("haemoglobin", 120, [120, 119.9, 100, 99.9, 80, 79.9, 30], [0, 1, 1, 2, 2, 3, 3]),
    ],
)
def test_haematology_boundaries(analyte: str, lln: float, values: list[float], expected: list[int]) -> None:
    assert grades(analyte, values, lln=lln) == expected
    assert grades(analyte, values, lln=lln, version="4.03") == expected


def test_decreased_grade_1_needs_lln() -> None:
    assert grades("neutrophils", [1800, 1500, 1499, 400]) == [None, None, 2, 4]


def test_fibrinogen_baseline_normal_uses_lln_multiples() -> None:
    values = [2.0, 1.99, 1.5, 1.49, 1.0, 0.99, 0.5, 0.49]
    assert grades("fibrinogen", values, lln=2.0, baseline=2.5) == [0, 1, 1, 2, 2, 3, 3, 4]
    assert grades("fibrinogen", values, lln=2.0) == [0, 1, 1, 2, 2, 3, 3, 4]
    # 0.25 x LLN above the absolute 0.5 g/L limit: grade 4 starts below 0.25 x LLN
    assert grades("fibrinogen", [1.0, 0.99, 0.5, 0.49], lln=4.0) == [3, 4, 4, 4]


def test_fibrinogen_baseline_abnormal_uses_percent_decrease() -> None:
    values = [4.5, 4.0, 3.99, 3.01, 3.0, 2.01, 2.0, 1.01, 1.0]
    assert grades("fibrinogen", values, lln=5.0, baseline=4.0) == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    # absolute < 0.5 g/L is grade 4 in every branch
    assert grades("fibrinogen", [0.49], lln=5.0, baseline=0.6) == [4]


def test_fibrinogen_tiny_baseline_or_value_does_not_overflow() -> None:
    # 100 * (x - base) / base overflowed for a subnormal baseline (hypothesis found it).
    tiny = 5e-324
    assert grades("fibrinogen", [1.0], lln=2.0, baseline=tiny) == [0]  # above a tiny baseline
    assert grades("fibrinogen", [0.4], lln=2.0, baseline=tiny) == [4]  # absolute < 0.5 g/L
    assert grades("fibrinogen", [tiny], lln=2.0, baseline=1e-300) == [4]
    assert grades("fibrinogen", [0.0], lln=2.0, baseline=tiny, version="4.03") == [4]


def test_fibrinogen_percent_bands_are_exact_at_their_edges() -> None:
    # baseline 4.0 < LLN 5.0: -25 % = 3.0 (grade 2), -50 % = 2.0 (grade 3), -75 % = 1.0 (grade 4)
    assert grades("fibrinogen", [4.0, 3.0000001, 3.0, 2.0000001, 2.0, 1.0000001, 1.0], lln=5.0,
                  baseline=4.0) == [0, 1, 2, 2, 3, 3, 4]


def test_fibrinogen_v4_joins_lln_and_percent_with_or() -> None:
    # 2.7 is above LLN but 10 % below baseline: v4 grade 1 by percent change, v5 grade 0
    assert grades("fibrinogen", [2.7], lln=2.0, baseline=3.0, version="4.03") == [1]
    assert grades("fibrinogen", [2.7], lln=2.0, baseline=3.0) == [0]


@pytest.mark.parametrize(
    ("analyte", "uln", "values", "expected"),
    [
        ("alt", 40, [40, 40.01, 120, 120.01, 200, 200.01, 800, 800.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("ast", 40, [40, 40.01, 120, 120.01, 200, 200.01, 800, 800.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("ggt", 50, [50, 50.01, 125, 125.01, 250, 250.01, 1000, 1000.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("bilirubin", 21, [21, 21.01, 31.5, 31.51, 63, 63.01, 210, 210.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("creatinine", 106, [106, 106.01, 159, 159.01, 318, 318.01, 636, 636.01],
         [0, 1, 1, 2, 2, 3, 3, 4]),
    ],
)
def test_increased_terms_against_uln(analyte: str, uln: float, values: list[float], expected: list[int]) -> None:
    assert grades(analyte, values, uln=uln) == expected  # no baseline
    assert grades(analyte, values, uln=uln, baseline=uln) == expected  # baseline at ULN = normal
    assert grades(analyte, values, uln=uln, version="4.03") == expected


@pytest.mark.parametrize(
    ("analyte", "baseline", "values", "expected"),
    [
        ("alt", 60, [89.99, 90, 180, 180.01, 300, 300.01, 1200, 1200.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("ast", 60, [89.99, 90, 180, 180.01, 300, 300.01, 1200, 1200.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("ggt", 100, [199.99, 200, 250, 250.01, 500, 500.01, 2000, 2000.01], [0, 1, 1, 2, 2, 3, 3, 4]),
        ("bilirubin", 30, [30, 30.01, 45, 45.01, 90, 90.01, 300, 300.01], [0, 1, 1, 2, 2, 3, 3, 4]),
    ],
)
def test_v5_baseline_abnormal_branch(analyte: str, baseline: float, values: list[float], expected: list[int]) -> None:
    uln = {"alt": 40, "ast": 40, "ggt": 50, "bilirubin": 21}[analyte]
    assert grades(analyte, values, uln=uln, baseline=baseline) == expected


def test_v4_ignores_abnormal_baseline_for_liver_terms() -> None:
    assert grades("alt", [89.99, 121], uln=40, baseline=60, version="4.03") == [1, 2]


def test_creatinine_takes_the_higher_of_uln_and_baseline_branches() -> None:
    values = [50.01, 75, 75.01, 150, 150.01, 700]
    assert grades("creatinine", values, uln=106, baseline=50) == [0, 0, 2, 2, 3, 4]
    assert grades("creatinine", values, uln=106, baseline=50, version="4.03") == [1, 1, 2, 2, 3, 4]
    # missing baseline: ULN branch only
    assert grades("creatinine", [150.01], uln=106) == [1]


# --- table level ----------------------------------------------------------------------------


def lab(pid: str, d: float, analyte: str, value: float, unit: str, **extra: object) -> dict[str, object]:
    return {"patient_id": pid, "day": d, "analyte": analyte, "value": value, "unit": unit, **extra}


def test_baseline_taken_from_label_then_last_pre_infusion_value() -> None:
    labs = pd.DataFrame([
        lab("a", -7, "ALT", 60, "U/L", timepoint="baseline"),
        lab("a", -1, "ALT", 30, "U/L"),
        lab("a", 3, "ALT", 100, "U/L"),  # 1.67 x baseline 60 -> grade 1 (abnormal branch)
        lab("b", -5, "alt", 30, "IU/L"),
        lab("b", -1, "alt", 70, "IU/L"),  # last pre-infusion value is the baseline
        lab("b", 3, "alt", 100, "IU/L"),
    ])
    worst = grade_labs(labs).worst.set_index("patient_id")
    assert worst.loc["a", "baseline"] == 60 and worst.loc["a", "worst_grade"] == 1
    assert worst.loc["b", "baseline"] == 70 and worst.loc["b", "worst_grade"] == 0
    given = pd.DataFrame({"patient_id": ["b"], "analyte": ["alt"], "value": [30.0], "unit": ["U/L"]})
    overridden = grade_labs(labs, baseline=given).worst.set_index("patient_id")
    assert overridden.loc["b", "worst_grade"] == 1 and overridden.loc["b", "baseline"] == 30


def test_lab_limits_from_columns_and_rules() -> None:
    labs = pd.DataFrame([
        lab("a", 2, "anc", 1700, "/uL", lln=1800.0),
        lab("a", 3, "anc", 1700, "/uL", lln=1600.0),
    ])
    assert grade_labs(labs).daily["grade"].tolist() == [1, 0]
    plain = pd.DataFrame([lab("a", 2, "anc", 1700, "/uL")])
    assert grade_labs(plain).daily["grade"].tolist() == [1]
    low = CtcaeRules(reference_ranges={"neutrophils": (1600.0, None)})
    assert grade_labs(plain, rules=low).daily["grade"].tolist() == [0]


def test_qualified_values_healthy_donors_and_other_analytes() -> None:
    labs = pd.DataFrame([
        lab("a", 2, "platelets", 25000, "/uL", qualifier="<"),  # strictly below 25,000 -> 4
        lab("a", 3, "platelets", 25000, "/uL", qualifier="="),
        lab("hd1", 0, "platelets", 1000, "/uL", role="healthy_donor"),
        lab("a", 2, "IL-6", 500, "pg/mL"),
    ])
    out = grade_labs(labs)
    assert out.daily["grade"].tolist() == [4, 3]
    assert out.patient_ids == ("a",)


def test_wrong_unit_is_a_clear_error() -> None:
    labs = pd.DataFrame([lab("a", 2, "haemoglobin", 9.5, "g/dL")])
    with pytest.raises(ValueError, match=r"haemoglobin in 'g/dL' \(expected g/L\)"):
        grade_labs(labs)
    with pytest.raises(ValueError, match="version"):
        grade_labs(labs, version="6.0")  # type: ignore[arg-type]


def test_febrile_neutropenia_needs_same_day_temperature_above_38_3() -> None:
    labs = pd.DataFrame([
        lab("a", 3, "anc", 999, "/uL"), lab("b", 3, "anc", 999, "/uL"),
        lab("c", 3, "anc", 1000, "/uL"), lab("d", 3, "anc", 200, "/uL"),
    ])
    tox = pd.DataFrame({
        "patient_id": ["a", "b", "c", "d"], "day": [3, 3, 3, 4],
        "temperature_c": [38.4, 38.3, 39.5, 40.0],
    })
    worst = grade_labs(labs, toxicity_daily=tox).worst
    fn = worst[worst["term"] == "Febrile neutropenia"].set_index("patient_id")["worst_grade"]
    assert fn.to_dict() == {"a": 3, "b": 0, "c": 0}


def test_window_worst_day_and_ae_table() -> None:
    labs = pd.DataFrame([
        lab("a", -2, "hb", 130, "g/L"), lab("a", 5, "hb", 95, "g/L"),
        lab("a", 9, "hb", 90, "g/L"), lab("a", 40, "hb", 70, "g/L"),
        lab("b", 1, "hb", 79, "g/L"), lab("c", 1, "hb", 119, "g/L"),
        lab("a", 4, "plt", 20000, "/uL"), lab("b", 4, "plt", 60000, "/uL"),
    ])
    patients = pd.DataFrame({"patient_id": ["a", "b", "c", "d"]})
    out = grade_labs(labs, patients=patients)
    worst = out.worst[out.worst["term"] == "Anemia"].set_index("patient_id")
    assert worst["worst_grade"].to_dict() == {"a": 2, "b": 3, "c": 1}
    assert worst.loc["a", "worst_day"] == 5 and worst.loc["a", "n_measurements"] == 2
    assert worst.loc["a", "baseline_grade"] == 0
    whole = grade_labs(labs, patients=patients, rules=CtcaeRules(window=(0, None)))
    assert whole.worst.set_index(["patient_id", "term"]).loc[("a", "Anemia"), "worst_grade"] == 3

    table = out.ae_table().set_index("label")
    assert table.loc["Anaemia", ["grade_1_pct", "grade_2_pct", "grade_3_pct", "grade_4_pct"]].tolist() == [25.0, 25.0, 25.0, 0.0]
    assert table.loc["Thrombocytopenia", ["grade_2_n", "grade_4_n", "n"]].tolist() == [1, 1, 4]
    assert table.loc["Leukopenia", "n_evaluable"] == 0
    evaluable = out.ae_table("evaluable").set_index("label")
    assert evaluable.loc["Thrombocytopenia", "grade_4_pct"] == 50.0


# --- properties ------------------------------------------------------------------------------

ANALYTES = {
    "neutrophils": ("/uL", st.floats(0, 5000)), "platelets": ("/uL", st.floats(0, 300000)),
    "haemoglobin": ("g/L", st.floats(40, 160)), "fibrinogen": ("g/L", st.floats(0, 5)),
    "alt": ("U/L", st.floats(5, 1200)), "creatinine": ("umol/L", st.floats(20, 800)),
}


@st.composite
def lab_tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for k in range(draw(st.integers(1, 3))):
        for analyte in draw(st.lists(st.sampled_from(sorted(ANALYTES)), min_size=1, max_size=3, unique=True)):
            unit, values = ANALYTES[analyte]
            for d in draw(st.lists(st.integers(-5, 35), min_size=1, max_size=5, unique=True)):
                rows.append(lab(f"p{k}", d, analyte, draw(values), unit))
    return pd.DataFrame(rows)


PROPS = settings(
    max_examples=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPS
@given(lab_tables())
@example(pd.DataFrame([lab("p0", 0, "fibrinogen", 5e-324, "g/L"), lab("p0", 1, "fibrinogen", 1.0, "g/L")]))
def test_worst_grade_is_max_daily_grade_in_window(labs: pd.DataFrame) -> None:
    out = grade_labs(labs)
    d = out.daily[(out.daily["day"] >= 0) & (out.daily["day"] <= 28)]
    expected = d.groupby(["patient_id", "term"])["grade"].max()
    got = out.worst.set_index(["patient_id", "term"])["worst_grade"]
    assert got.sort_index().astype(int).tolist() == expected.sort_index().astype(int).tolist()


@PROPS
@given(lab_tables(), st.randoms(use_true_random=False))
def test_lab_row_order_changes_nothing(labs: pd.DataFrame, rnd: object) -> None:
    order = list(range(len(labs)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    a, b = grade_labs(labs), grade_labs(labs.iloc[order].reset_index(drop=True))
    pd.testing.assert_frame_equal(a.worst, b.worst)
