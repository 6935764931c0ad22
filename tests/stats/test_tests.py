"""cartscope.stats.tests against R's stats package (R script: tests/stats/r/tests.R)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.tests import (
    adjust_pvalues,
    chi_square,
    correlation,
    fisher_exact,
    kruskal_wallis,
    mann_whitney,
)

from r_json import ALTERNATIVE as ALT, case as _get, num, reference_fixture

RTOL = 1e-8
ref = reference_fixture(Path(__file__).parent / "r" / "tests.R")


WILCOX = [
    "exact_small", "exact_less", "exact_greater", "tiny_1_vs_2", "tiny_2_vs_2", "ties_normal",
    "ties_greater", "ties_nocorrect", "ties_less_nocorrect", "large_normal", "forced_asymptotic",
    "forced_exact_49", "large_rounded", "all_tied",
]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", WILCOX)
def test_mann_whitney_matches_wilcox_test(ref: Any, name: str) -> None:
    c = _get(ref, "wilcox", name)
    res = mann_whitney(num(c["x"]), num(c["y"]), alternative=ALT[c["alternative"]],
                       method=c["exact"], correct=c["correct"])
    assert res.statistic == num(c["W"])
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)
    assert res.method == ("exact" if "exact" in c["method"] else "normal")


@pytest.mark.r_reference
def test_mann_whitney_panel_matches_per_column(ref: Any) -> None:
    panel = ref["wilcox_panel"]
    x = np.array([[num(v) for v in row] for row in panel["x"]])
    y = np.array([[num(v) for v in row] for row in panel["y"]])
    res = mann_whitney(x, y)
    for j, r in enumerate(panel["results"]):
        assert res.statistic[j] == num(r["W"])
        np.testing.assert_allclose(res.p_value[j], num(r["p"]), rtol=RTOL)
        one = mann_whitney(x[:, j], y[:, j])
        assert one.p_value == res.p_value[j]
    assert len(res.to_frame()) == x.shape[1]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["ties", "random"])
def test_kruskal_wallis_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "kruskal", name)
    res = kruskal_wallis(*[num(g) for g in c["groups"]])
    np.testing.assert_allclose(res.statistic, num(c["H"]), rtol=RTOL)
    assert res.df == int(num(c["df"]))
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)


FISHER = ["classic", "unbalanced", "zero_cell", "less", "greater", "large", "r3x3", "r2x4", "r3x2",
          "t1_8x2", "t1_4x3", "t1_3x5", "t1_5x2_zero"]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", FISHER)
def test_fisher_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "fisher", name)
    table = np.array([[num(v) for v in row] for row in c["table"]])
    res = fisher_exact(table, alternative=ALT[c["alternative"]])
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)
    if "estimate" in c:
        # same formula, root found to machine precision on both sides
        np.testing.assert_allclose(res.odds_ratio, num(c["estimate_tight"]), rtol=RTOL)
        np.testing.assert_allclose([res.ci_lower, res.ci_upper], num(c["ci_tight"]), rtol=RTOL)
        # fisher.test's default uniroot tolerance (~1e-4 on the root) limits agreement with it
        np.testing.assert_allclose(res.odds_ratio, num(c["estimate"]), rtol=1e-3)
        np.testing.assert_allclose([res.ci_lower, res.ci_upper], num(c["ci"]), rtol=2e-2)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["yates", "no_yates", "yates_small_diff", "r3x4"])
def test_chi_square_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "chisq", name)
    table = np.array([[num(v) for v in row] for row in c["table"]])
    res = chi_square(table, correct=c["correct"])
    np.testing.assert_allclose(res.statistic, num(c["stat"]), rtol=RTOL, atol=1e-14)
    assert res.df == int(num(c["df"]))
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)
    expected = np.array([[num(v) for v in row] for row in c["expected"]])
    np.testing.assert_allclose(res.expected, expected, rtol=RTOL)


@pytest.mark.r_reference
def test_chi_square_goodness_of_fit(ref: Any) -> None:
    g = ref["chisq_gof"]
    res = chi_square(num(g["x"]))
    np.testing.assert_allclose([res.statistic, res.p_value], [num(g["stat"]), num(g["p"])], rtol=RTOL)
    res = chi_square(num(g["x"]), p=[0.3, 0.3, 0.2, 0.2])
    np.testing.assert_allclose([res.statistic, res.p_value], [num(g["stat_p"]), num(g["p_p"])], rtol=RTOL)


COR = [
    "pearson", "pearson_less", "pearson_greater", "pearson_n4", "spearman_n7_exact",
    "spearman_n9_exact", "spearman_n9_greater", "spearman_edgeworth", "spearman_edgeworth_less",
    "spearman_negative", "spearman_ties", "spearman_large", "kendall_exact",
    "kendall_exact_greater", "kendall_ties", "kendall_large", "na_pairs",
]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", COR)
def test_correlation_matches_cor_test(ref: Any, name: str) -> None:
    c = _get(ref, "cor", name)
    res = correlation(num(c["x"]), num(c["y"]), method=c["method"], alternative=ALT[c["alternative"]])
    np.testing.assert_allclose(res.estimate, num(c["estimate"]), rtol=RTOL)
    np.testing.assert_allclose(res.statistic, num(c["statistic"]), rtol=RTOL)
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)
    lo, hi = num(c["ci"])
    if np.isnan(lo):
        assert np.isnan(res.ci_lower) and np.isnan(res.ci_upper)
    else:
        np.testing.assert_allclose([res.ci_lower, res.ci_upper], [lo, hi], rtol=RTOL)


@pytest.mark.r_reference
def test_adjust_pvalues_matches_p_adjust(ref: Any) -> None:
    p = num(ref["padjust"]["p"])
    names = {"BH": "bh", "BY": "by", "holm": "holm", "bonferroni": "bonferroni", "hochberg": "hochberg",
             "hommel": "hommel"}
    for r in ref["padjust"]["results"]:
        got = adjust_pvalues(p, names[r["method"]])
        np.testing.assert_allclose(got, num(r["adjusted"]), rtol=1e-12, equal_nan=True)
        got = adjust_pvalues(p, names[r["method"]], n=40)
        np.testing.assert_allclose(got, num(r["adjusted_n40"]), rtol=1e-12, equal_nan=True)
    assert {r["method"] for r in ref["padjust"]["results"]} == set(names)
    for h in ref["padjust"]["hommel_small"]:
        np.testing.assert_allclose(adjust_pvalues(num(h["p"]), "hommel"), num(h["adjusted"]), rtol=1e-12)


# --- behaviour without R --------------------------------------------------------------------


def test_wilcox_book_case() -> None:
    """x = (1, 2), y = (3, 4, 5): W = 0; exact two-sided p = 2 * 1/C(5,2) = 0.2."""
    res = mann_whitney([1.0, 2.0], [3.0, 4.0, 5.0])
    assert res.statistic == 0.0 and res.method == "exact"
    assert res.p_value == pytest.approx(0.2, rel=1e-14)


def test_fisher_book_case() -> None:
    """Tea tasting 3/1/1/3: two-sided p = (1 + 16 + 16 + 1) / 70."""
    assert fisher_exact([[3, 1], [1, 3]]).p_value == pytest.approx(34 / 70, rel=1e-13)


def test_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="not enough"):
        mann_whitney([np.nan, np.nan], [1.0, 2.0])
    tab = [[9, 3, 5, 1, 7], [2, 8, 4, 6, 3], [5, 5, 9, 2, 1], [3, 7, 2, 8, 6]]
    with pytest.raises(ValueError, match="too large"):
        fisher_exact(tab, max_tables=1000)
    with pytest.raises(ValueError, match="whole counts"):
        fisher_exact([[1.5, 2], [3, 4]])
    with pytest.raises(ValueError, match="method"):
        adjust_pvalues([0.1, 0.2], "sidak")
    with pytest.raises(ValueError, match="same length"):
        correlation([1.0, 2.0, 3.0], [1.0, 2.0])


def test_adjust_keeps_shape_and_nan() -> None:
    p = np.array([[0.01, np.nan], [0.2, 0.03]])
    out = adjust_pvalues(p, "bonferroni")
    assert out.shape == p.shape and np.isnan(out[0, 1])
    np.testing.assert_allclose(out[~np.isnan(p)], [0.03, 0.6, 0.09])


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-20, 20), min_size=2, max_size=25),
    st.lists(st.integers(-20, 20), min_size=2, max_size=25),
    st.randoms(),
)
def test_mann_whitney_invariances(xs: list[int], ys: list[int], rnd: Any) -> None:
    x = np.array(xs, dtype=float)
    y = np.array(ys, dtype=float)
    base = mann_whitney(x, y)
    # strictly increasing transform
    tr = mann_whitney(np.arctan(x / 7.0) * 3.0 - 2.0, np.arctan(y / 7.0) * 3.0 - 2.0)
    assert tr.statistic == base.statistic
    assert tr.p_value == pytest.approx(base.p_value, rel=1e-12, nan_ok=True)
    # permuting patients within each sample
    px = np.array(rnd.sample(list(x), x.size))
    py = np.array(rnd.sample(list(y), y.size))
    perm = mann_whitney(px, py)
    assert perm.statistic == base.statistic
    assert perm.p_value == pytest.approx(base.p_value, rel=1e-12, nan_ok=True)
    # W(x, y) + W(y, x) = n_x n_y, and the two-sided p is symmetric
    rev = mann_whitney(y, x)
    assert rev.statistic + base.statistic == x.size * y.size
    assert rev.p_value == pytest.approx(base.p_value, rel=1e-12, nan_ok=True)
    # the panel path equals the single-marker path
    panel = mann_whitney(np.column_stack([x, -x]), np.column_stack([y, -y]))
    assert panel.statistic[0] == base.statistic
    assert panel.p_value[0] == pytest.approx(base.p_value, rel=0, abs=0, nan_ok=True)


def test_mann_whitney_panel_peak_memory() -> None:
    import tracemalloc

    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 600))
    y = rng.normal(size=(250, 600))
    tracemalloc.start()
    try:
        mann_whitney(x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.0 * (x.nbytes + y.nbytes)
