"""Table 1: statistics against R (r/table_one.R), printed strings on a hand-made cohort, and
the number formatting helpers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.report.tables.formatting import (
    fmt_ci,
    fmt_estimate_ci,
    fmt_fraction_pct,
    fmt_mean_sd,
    fmt_median_range,
    fmt_n_pct,
    fmt_num,
    fmt_p,
    fmt_pct,
)
from cartscope.report.tables.table_one import PRIOR_LINES_BINS, Bins, table_one

R_SCRIPT = Path(__file__).parent / "r" / "table_one.R"
R_VARIABLES = ["age", "ldh", "sex", "cns_involvement", "disease_status", "score"]

# --- against R ---------------------------------------------------------------------------


def _r_frame(ref: dict[str, Any], design: str) -> pd.DataFrame:
    data = ref["data"]
    frame = pd.DataFrame(
        {
            "group": data["group"],
            "age": [math.nan if v is None else v for v in data["age"]],
            "ldh": data["ldh"],
            "sex": data["sex"],
            "cns_involvement": pd.array(data["cns_involvement"], dtype="boolean"),
            "disease_status": data["disease_status"],
            "score": data["score"],
        }
    )
    if design == "two_groups":
        frame = frame[frame["group"].isin(["A", "B"])]
    return frame


@pytest.mark.r_reference
@pytest.mark.parametrize("design", ["two_groups", "three_groups"])
def test_tests_and_p_values_match_r(r_reference: Any, design: str) -> None:
    ref = r_reference(R_SCRIPT)
    expected = ref[design]
    t = table_one(_r_frame(ref, design), "group", R_VARIABLES)
    tests = t.tests.set_index("variable")
    assert list(tests.index) == R_VARIABLES
    worst = 0.0
    for var, r in expected["tests"].items():
        assert tests.loc[var, "test"] == r["test"], var
        got = tests.loc[var, "p_value"]
        assert got == pytest.approx(r["p"], rel=1e-8, abs=1e-14), var
        worst = max(worst, abs(got - r["p"]) / r["p"])
        if r["statistic"] is None:
            assert math.isnan(tests.loc[var, "statistic"])
        else:
            assert tests.loc[var, "statistic"] == pytest.approx(r["statistic"], rel=1e-8, abs=1e-12)
    assert worst < 1e-8
    # the printed p column carries the same p-values
    shown = t.display.set_index("Characteristic")
    assert shown.loc["Age, years, median (range)", "p"] == fmt_p(expected["tests"]["age"]["p"])


@pytest.mark.r_reference
def test_yates_option_matches_r_chisq_default(r_reference: Any) -> None:
    ref = r_reference(R_SCRIPT)
    r = ref["two_groups"]["yates_score"]
    t = table_one(_r_frame(ref, "two_groups"), "group", ["score"], correct=True)
    row = t.tests.iloc[0]
    assert row["test"] == r["test"] == "Chi-square (Yates)"
    assert row["p_value"] == pytest.approx(r["p"], rel=1e-8)
    assert row["statistic"] == pytest.approx(r["statistic"], rel=1e-8)
    uncorrected = table_one(_r_frame(ref, "two_groups"), "group", ["score"]).tests.iloc[0]
    assert uncorrected["p_value"] == pytest.approx(ref["two_groups"]["tests"]["score"]["p"], rel=1e-8)
    assert uncorrected["p_value"] < row["p_value"]


@pytest.mark.r_reference
@pytest.mark.parametrize("design", ["two_groups", "three_groups"])
def test_descriptive_statistics_match_r(r_reference: Any, design: str) -> None:
    ref = r_reference(R_SCRIPT)
    t = table_one(_r_frame(ref, design), "group", ["age", "ldh"])
    frame = t.frame.set_index(["variable", "group", "statistic"])["value"]
    for var, by_group in ref[design]["describe"].items():
        for group, stats_ in by_group.items():
            for stat, value in stats_.items():
                assert frame[(var, group, stat)] == pytest.approx(value, rel=1e-12), (var, group, stat)


# --- printed strings on a hand-made cohort -------------------------------------------------


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(1, 9)],
            "disease": ["B-ALL"] * 4 + ["DLBCL"] * 4,
            "sex": ["F", "F", "M", "F", "M", "M", "F", "M"],
            "age": [11.0, 33.0, 60.0, np.nan, 47.0, 17.0, 67.0, 50.0],
            "prior_lines": [1, 2, 3, 4, 1, 2, 5, 2],
            "cns_involvement": [True, False, False, None, True, False, False, True],
        }
    )


def test_display_strings_by_hand(small: pd.DataFrame) -> None:
    # Hand computations: age B-ALL {11,33,60} vs DLBCL {17,47,50,67}: W = 4, exact two-sided
    # p = 2 * 11/35 = 0.6286. Sex [[3,1],[1,3]]: Fisher p = 34/70 = 0.4857. Prior lines
    # [[1,1],[1,2],[2,1]] and CNS [[1,2],[2,2]]: the observed table is the most likely one, p = 1.
    t = table_one(small, "disease", bins={"prior_lines": PRIOR_LINES_BINS})
    assert list(t.display.columns) == [
        "Characteristic", "B-ALL (n=4)", "DLBCL (n=4)", "Overall (n=8)", "p", "Test",
    ]
    assert t.display.values.tolist() == [
        ["Sex, n (%)", "", "", "", "0.486", "Fisher"],
        ["    Female", "3 (75.0)", "1 (25.0)", "4 (50.0)", "", ""],
        ["    Male", "1 (25.0)", "3 (75.0)", "4 (50.0)", "", ""],
        ["Age, years, median (range)", "33 (11\u201360)", "48.5 (17\u201367)", "47 (11\u201367)",
         "0.629", "Mann-Whitney"],
        ["    Missing", "1", "0", "1", "", ""],
        ["Prior lines of therapy, n (%)", "", "", "", "1.000", "Fisher"],
        ["    1", "1 (25.0)", "1 (25.0)", "2 (25.0)", "", ""],
        ["    2", "1 (25.0)", "2 (50.0)", "3 (37.5)", "", ""],
        ["    \u22653", "2 (50.0)", "1 (25.0)", "3 (37.5)", "", ""],
        ["CNS involvement, n (%)", "1 (33.3)", "2 (50.0)", "3 (42.9)", "1.000", "Fisher"],
        ["    Missing", "1", "0", "1", "", ""],
    ]
    tests = t.tests.set_index("variable")
    assert tests.loc["age", "p_value"] == pytest.approx(22 / 35, rel=1e-12)
    assert tests.loc["sex", "p_value"] == pytest.approx(34 / 70, rel=1e-12)
    assert t.title == "Baseline characteristics by disease"
    assert t.footnotes[0] == "Continuous variables: median (range)."
    assert any(f.startswith("Fisher: Fisher's exact test") for f in t.footnotes)
    assert any(f.startswith("Mann-Whitney:") for f in t.footnotes)
    assert not any(f.startswith("Chi-square") for f in t.footnotes)


def test_iqr_and_mean_sd_summaries(small: pd.DataFrame) -> None:
    # B-ALL ages 11, 33, 60: R quantile type 7 gives Q1 = 22, Q3 = 46.5; mean 34.67, SD 24.54.
    iqr = table_one(small, "disease", ["age"], spread="iqr").display
    assert iqr.iloc[0, 0] == "Age, years, median (IQR)"
    assert iqr.iloc[0, 1] == "33 (22\u201346.5)"
    mean = table_one(small, "disease", ["age"], nonnormal=False).display
    assert mean.iloc[0, 0] == "Age, years, mean (SD)"
    assert mean.iloc[0, 1] == "34.7 (24.5)"
    mixed = table_one(small, "disease", ["age", "prior_lines"], nonnormal=["prior_lines"],
                      decimals={"age": 2})
    assert mixed.display.iloc[0, 1] == "34.67 (24.54)"
    assert mixed.display.iloc[2, 0] == "Prior lines of therapy, median (range)"
    assert mixed.display.iloc[2, 1] == "2.5 (1\u20134)"
    # the test stays the rank test whatever the summary
    assert mean.iloc[0, 5] == "Mann-Whitney"


def test_no_group_gives_one_column_and_no_tests(small: pd.DataFrame) -> None:
    t = table_one(small, None, ["sex", "age"])
    assert list(t.display.columns) == ["Characteristic", "Overall (n=8)"]
    assert t.display.values.tolist() == [
        ["Sex, n (%)", ""],
        ["    Female", "4 (50.0)"],
        ["    Male", "4 (50.0)"],
        ["Age, years, median (range)", "47 (11\u201367)"],
        ["    Missing", "1"],
    ]
    assert t.tests.empty
    assert t.title == "Baseline characteristics"


def test_patients_without_group_are_left_out_and_footnoted(small: pd.DataFrame) -> None:
    data = small.copy()
    data.loc[0, "disease"] = None
    t = table_one(data, "disease", ["sex"], overall=True)
    assert list(t.display.columns)[1:4] == ["B-ALL (n=3)", "DLBCL (n=4)", "Overall (n=7)"]
    assert "1 patient with unknown disease not shown." in t.footnotes


def test_schema_level_order_and_labels() -> None:
    data = pd.DataFrame(
        {
            "disease_status": ["second+ relapse", "refractory", "first relapse", "refractory"],
            "prior_hsct": ["allo", "none", "auto", "none"],
        }
    )
    t = table_one(data, None)
    assert t.display["Characteristic"].tolist() == [
        "Disease status, n (%)", "    Refractory", "    First relapse", "    \u2265 Second relapse",
        "Prior HSCT, n (%)", "    None", "    Autologous", "    Allogeneic",
    ]
    relabelled = table_one(data, None, ["prior_hsct"], labels={"prior_hsct": "Previous SCT"},
                           level_labels={"prior_hsct": {"none": "No"}})
    assert relabelled.display["Characteristic"].tolist()[:2] == ["Previous SCT, n (%)", "    No"]


def test_three_groups_choose_kruskal_and_chi_square() -> None:
    rng = np.random.default_rng(7)
    n = 90
    data = pd.DataFrame(
        {
            "arm": np.repeat(["x", "y", "z"], 30),
            "age": rng.normal(50, 10, n).round(3),
            "sex": np.tile(["F", "M"], 45),
        }
    )
    t = table_one(data, "arm")
    assert t.tests["test"].tolist() == ["Chi-square", "Kruskal-Wallis"]
    assert t.tests.set_index("variable").loc["sex", "p_value"] == pytest.approx(1.0)


def test_tidy_frame_is_long_and_unrounded(small: pd.DataFrame) -> None:
    t = table_one(small, "disease", ["cns_involvement", "age"])
    frame = t.to_frame()
    assert list(frame.columns) == [
        "variable", "label", "kind", "level", "group", "statistic", "value", "n", "missing",
    ]
    cns = frame[(frame["variable"] == "cns_involvement") & (frame["group"] == "Overall")]
    assert cns.set_index("statistic")["value"].to_dict() == pytest.approx(
        {"count": 3.0, "percent": 300 / 7}
    )
    assert int(cns["n"].iloc[0]) == 7 and int(cns["missing"].iloc[0]) == 1
    age = frame[(frame["variable"] == "age") & (frame["group"] == "B-ALL")].set_index("statistic")
    assert age.loc["sd", "value"] == pytest.approx(np.std([11, 33, 60], ddof=1), rel=1e-14)


def test_bad_input_gives_clear_errors(small: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="group column 'arm'"):
        table_one(small, "arm")
    with pytest.raises(ValueError, match=r"variables not in patients: \['weight'\]"):
        table_one(small, "disease", ["weight"])
    data = small.assign(prior_lines=[0, 1, 2, 3, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="prior_lines: 1 value.* below the first bin edge 1"):
        table_one(data, "disease", ["prior_lines"], bins={"prior_lines": PRIOR_LINES_BINS})
    with pytest.raises(ValueError, match="non-numeric"):
        table_one(small.assign(age=["x"] * 8), "disease", ["age"], continuous=["age"])
    with pytest.raises(ValueError, match="not a yes/no value"):
        table_one(small.assign(cns_involvement=["maybe"] * 8), "disease", ["cns_involvement"])
    with pytest.raises(ValueError, match="one label per lower edge"):
        Bins(edges=(1.0, 2.0), labels=("1",))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["F", "M", None])),
        min_size=1, max_size=30,
    )
)
def test_counts_add_up(rows: list[tuple[str, str | None]]) -> None:
    data = pd.DataFrame(rows, columns=["arm", "sex"])
    t = table_one(data, "arm", ["sex"])
    counts = t.frame[t.frame["statistic"] == "count"]
    per_group = counts.groupby("group")["value"].sum()
    for g, size in data["arm"].value_counts().items():
        missing = int(data.loc[data["arm"] == g, "sex"].isna().sum())
        assert per_group.get(g, 0) + missing == size
    groups = [g for g in per_group.index if g != "Overall"]
    assert per_group.get("Overall", 0) == sum(per_group[g] for g in groups)
    overall_pct = t.frame[(t.frame["statistic"] == "percent") & (t.frame["group"] == "Overall")]
    if data["sex"].notna().any():
        assert overall_pct["value"].sum() == pytest.approx(100.0)


# --- formatting helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0049, "0.005"), (4.9e-5, "<0.001"), (0.00096, "<0.001"), (0.001, "0.001"),
        (0.0045, "0.005"), (0.05, "0.050"), (0.9996, "1.000"), (1.0, "1.000"), (0.0, "<0.001"),
        (1.0 + 1e-15, "1.000"), (float("nan"), ""), (None, ""),
    ],
)
def test_fmt_p(p: float | None, text: str) -> None:
    assert fmt_p(p) == text


def test_fmt_p_options_and_errors() -> None:
    assert fmt_p(0.0049, 2) == "<0.01"
    assert fmt_p(0.012, 2) == "0.01"
    assert fmt_p(0.0002, 4) == "0.0002"
    assert fmt_p(0.03, threshold=0.05) == "<0.050"
    with pytest.raises(ValueError, match=r"lies in \[0, 1\]"):
        fmt_p(1.2)
    with pytest.raises(ValueError, match="at least one decimal"):
        fmt_p(0.5, 0)


def test_fmt_number_helpers() -> None:
    assert fmt_pct(92.307) == "92.31%"
    assert fmt_pct(12 / 13 * 100, 1) == "92.3%"
    assert fmt_pct(100.0) == "100.00%"
    assert fmt_pct(65.384615, 2, sign=False) == "65.38"
    assert fmt_num(2.675, 2) == "2.68"  # half-up on the printed decimal, not the binary value
    assert fmt_num(-0.0004, 3) == "0.000"
    assert fmt_num(33.0, 1, strip_zeros=True) == "33"
    assert fmt_num(float("inf")) == "Inf"
    assert fmt_ci(66.69, 99.61) == "66.69\u201399.61"
    assert fmt_ci(-0.5, -0.2, sep="-") == "-0.50 to -0.20"
    assert fmt_ci(float("nan"), 1.0) == ""
    assert fmt_estimate_ci(0.80179, 0.66568, 0.93791, 4) == "0.8018 (0.6657\u20130.9379)"
    assert fmt_estimate_ci(5.0, None, None, 1) == "5.0"
    assert fmt_median_range(3.04, 1.0, 10.0) == "3.04 (1.00\u201310.00)"
    assert fmt_median_range(33, 11, 60, 0) == "33 (11\u201360)"
    assert fmt_mean_sd(41.2, 12.345, 2) == "41.20 (12.35)"
    assert fmt_mean_sd(41.2, float("nan"), 1) == "41.2 (NA)"
    assert fmt_n_pct(22, 35) == "22 (62.9)"
    assert fmt_n_pct(0, 0) == "0"
    assert fmt_fraction_pct(12, 13) == "12/13 (92.3)"
    with pytest.raises(ValueError, match="non-negative integer"):
        fmt_num(1.0, -1)


def test_disease_group_is_derived_from_disease(small: pd.DataFrame) -> None:
    data = small.assign(disease=["B-ALL", "B-ALL", "B-ALL", "B-ALL", "DLBCL", "FL", "MCL", "DLBCL"])
    t = table_one(data, "disease_group", ["sex"])
    assert list(t.display.columns)[1:4] == ["B-ALL (n=4)", "B-NHL (n=4)", "Overall (n=8)"]
    assert t.title == "Baseline characteristics by disease group"
    with pytest.raises(ValueError, match=r"no disease group for \['AML'\]"):
        table_one(data.assign(disease=["AML"] * 8), "disease_group", ["sex"])
