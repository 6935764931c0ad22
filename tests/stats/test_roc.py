"""cartscope.stats.roc against pROC 1.18 (R script: tests/stats/r/roc.R), plus properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.roc import delong_test, roc

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "roc.R"
RTOL = 1e-8


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


def _case_ids() -> list[str]:
    return [
        "ties_ordinal", "tiny_2x2", "tiny_1case", "perfect", "perfect_forced", "constant",
        "auto_below_half", "youden_ties", "direction_gt", "random_continuous",
        "random_rounded", "random_large",
    ]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", _case_ids())
def test_single_marker_matches_proc(ref: Any, name: str) -> None:
    case = next(c for c in ref["cases"] if c["name"] == name)
    score = num(case["score"])
    label = num(case["label"]).astype(int)
    res = roc(score, label, direction=case["direction_in"])
    assert res.direction == case["direction"]
    assert res.n_cases == case["n_cases"] and res.n_controls == case["n_controls"]
    np.testing.assert_allclose(res.auc, num(case["auc"]), rtol=RTOL)
    ci = res.auc_ci("delong")
    lo, _, hi = num(case["ci_delong"])
    np.testing.assert_allclose([ci.lower, ci.upper], [lo, hi], rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(ci.se**2, num(case["var_delong"]), rtol=1e-7, atol=1e-15)
    hm = res.auc_ci("hanley-mcneil")
    np.testing.assert_allclose(hm.se, num(case["hanley_mcneil_se"]), rtol=RTOL, atol=1e-15)
    curve = res.curve
    np.testing.assert_array_equal(curve.thresholds, num(case["curve"]["threshold"]))
    np.testing.assert_allclose(curve.sensitivity, num(case["curve"]["sensitivity"]), rtol=RTOL)
    np.testing.assert_allclose(curve.specificity, num(case["curve"]["specificity"]), rtol=RTOL)
    # pROC returns every tied optimum; we report the first (highest sensitivity) and list all
    best_thr = np.atleast_1d(num(case["best"]["threshold"]))
    yd = res.youden()
    assert yd.all_thresholds == tuple(best_thr)
    assert yd.n_optimal == best_thr.size
    assert yd.threshold == best_thr[0]
    np.testing.assert_allclose(yd.sensitivity, np.atleast_1d(num(case["best"]["sensitivity"]))[0], rtol=RTOL)
    np.testing.assert_allclose(yd.specificity, np.atleast_1d(num(case["best"]["specificity"]))[0], rtol=RTOL)


@pytest.mark.r_reference
def test_auto_direction_can_leave_auc_below_half(ref: Any) -> None:
    case = next(c for c in ref["cases"] if c["name"] == "auto_below_half")
    res = roc(num(case["score"]), num(case["label"]))
    assert res.direction == "<" and res.auc < 0.5  # medians decide, as in pROC
    np.testing.assert_allclose(res.auc, 0.44, rtol=1e-15)


@pytest.mark.r_reference
def test_panel_matches_each_marker(ref: Any) -> None:
    panel = ref["panel"]
    score = np.array([[num(v) for v in row] for row in panel["score"]])
    label = num(panel["label"]).astype(int)
    res = roc(score, label)
    ci = res.auc_ci()
    yd = res.youden()
    frame = res.to_frame()
    assert len(frame) == score.shape[1]
    for j, case in enumerate(panel["markers"]):
        assert res.direction[j] == case["direction"]
        assert res.n_cases[j] == case["n_cases"]
        np.testing.assert_allclose(res.auc[j], num(case["auc"]), rtol=RTOL)
        lo, _, hi = num(case["ci_delong"])
        np.testing.assert_allclose([ci.lower[j], ci.upper[j]], [lo, hi], rtol=RTOL)
        best = np.atleast_1d(num(case["best"]["threshold"]))
        assert yd.threshold[j] == best[0]
        assert yd.n_optimal[j] == best.size
        np.testing.assert_allclose(yd.sensitivity[j], np.atleast_1d(num(case["best"]["sensitivity"]))[0], rtol=RTOL)
        one = res.marker(j)
        assert one.auc == pytest.approx(res.auc[j], rel=1e-12)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["correlated", "opposite_direction", "ties"])
def test_delong_paired_matches_roc_test(ref: Any, name: str) -> None:
    t = next(c for c in ref["tests"] if c["name"] == name)
    res = delong_test(num(t["a"]), num(t["b"]), num(t["label"]))
    assert (res.direction_a, res.direction_b) == tuple(t["directions"])
    np.testing.assert_allclose([res.auc_a, res.auc_b], num(t["auc"]), rtol=RTOL)
    np.testing.assert_allclose(res.statistic, num(t["z"]), rtol=RTOL)
    np.testing.assert_allclose(res.p_value, num(t["p"]), rtol=RTOL)
    np.testing.assert_allclose([res.ci_lower, res.ci_upper], num(t["ci"]), rtol=RTOL)


# --- behaviour without R --------------------------------------------------------------------


def test_operating_point_counts_and_intervals() -> None:
    score = np.array([1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 3, 3, 9, 1.5])
    label = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0])
    res = roc(score, label)
    op = res.at(3.5)
    assert (op.tp, op.fp, op.tn, op.fn) == (6, 1, 5, 2)
    assert op.sensitivity == pytest.approx(0.75) and op.npv == pytest.approx(5 / 7)
    from cartscope.stats.proportions import proportion_ci

    ci = proportion_ci(6, 8, method="wilson")
    assert op.sensitivity_ci == (pytest.approx(float(ci.lower)), pytest.approx(float(ci.upper)))
    # a threshold equal to an observed value counts it positive for "<" (pROC: score >= t)
    assert res.at(3.0).tp == 7
    # nobody positive: PPV undefined, not an error
    none = res.at(100.0)
    assert none.tp == 0 and np.isnan(none.ppv) and np.isnan(none.ppv_ci[0])


def test_bad_input_gives_clear_errors() -> None:
    with pytest.raises(ValueError, match="no case"):
        roc([1.0, 2.0, 3.0], [0, 0, 0])
    with pytest.raises(ValueError, match="0/1"):
        roc([1.0, 2.0, 3.0], [0, 2, 1])
    with pytest.raises(ValueError, match="infinite"):
        roc([1.0, np.inf, 3.0], [0, 1, 1])
    with pytest.raises(ValueError, match="seed"):
        roc([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1]).auc_ci("bootstrap")


def test_bootstrap_is_reproducible_and_sensible() -> None:
    rng = np.random.default_rng(3)
    label = rng.random(120) < 0.4
    score = rng.normal(size=120) + 0.9 * label
    res = roc(score, label)
    a = res.auc_ci("bootstrap", n_boot=500, seed=11)
    b = res.auc_ci("bootstrap", n_boot=500, seed=11)
    c = res.auc_ci("bootstrap", n_boot=500, seed=12)
    assert (a.lower, a.upper) == (b.lower, b.upper)
    assert (a.lower, a.upper) != (c.lower, c.upper)
    assert a.lower < res.auc < a.upper
    # the percentile interval is close to DeLong's for a moderate sample
    d = res.auc_ci("delong")
    assert abs(a.lower - d.lower) < 0.03 and abs(a.upper - d.upper) < 0.03


def test_bootstrap_coverage_is_roughly_nominal() -> None:
    """Over simulated data sets with known AUC, the 90% stratified bootstrap CI covers it often."""
    rng = np.random.default_rng(5)
    shift = 1.0
    true_auc = 0.7602499389065233  # Phi(1 / sqrt(2))
    hits = 0
    reps = 40
    for r in range(reps):
        label = np.r_[np.ones(40, bool), np.zeros(40, bool)]
        score = rng.normal(size=80) + shift * label
        ci = roc(score, label, direction="<").auc_ci("bootstrap", n_boot=300, seed=r, level=0.9)
        hits += ci.lower <= true_auc <= ci.upper
    assert 0.75 <= hits / reps <= 1.0


def test_panel_nan_and_empty_marker() -> None:
    score = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 1.0], [4.0, 2.0]])
    res = roc(score, [0, 0, 1, 1])
    assert res.auc[0] == 1.0
    assert np.isnan(res.auc[1])  # no control left for marker 2


# --- properties -----------------------------------------------------------------------------

_scores = st.lists(st.integers(-5, 5), min_size=6, max_size=30)


@settings(max_examples=60, deadline=None)
@given(_scores, st.randoms())
def test_properties(values: list[int], rnd: Any) -> None:
    x = np.array(values, dtype=float)
    label = np.array([i % 2 for i in range(x.size)])
    lt = roc(x, label, direction="<")
    gt = roc(x, label, direction=">")
    assert lt.auc == pytest.approx(1.0 - gt.auc, abs=1e-12)
    # strictly increasing transform changes nothing
    tr = roc(np.exp(x / 3.0) * 7.0 + 1.0, label, direction="<")
    assert tr.auc == pytest.approx(lt.auc, abs=1e-12)
    assert tr.se == pytest.approx(lt.se, abs=1e-12, nan_ok=True)
    # permuting patients changes nothing
    perm = np.array(rnd.sample(range(x.size), x.size))
    pr = roc(x[perm], label[perm])
    auto = roc(x, label)
    assert pr.auc == pytest.approx(auto.auc, abs=1e-12) and pr.direction == auto.direction
    assert pr.youden().threshold == auto.youden().threshold
    # the vectorised panel path equals the single-marker path
    panel = roc(np.column_stack([x, -x, x * 2]), label)
    assert panel.auc[0] == pytest.approx(auto.auc, abs=1e-15)
    assert panel.youden().threshold[0] == auto.youden().threshold


def test_delong_identical_markers() -> None:
    """Equal curves: difference and SE are both 0, so Z = 0 and p = 1 (pROC's convention)."""
    score = np.array([0.2, 1.4, 0.3, 2.2, 1.9, 0.8, 1.1, 0.1])
    label = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    res = delong_test(score, score * 3.0 + 1.0, label)
    assert res.statistic == 0.0 and res.p_value == 1.0
    stat, p = res
    assert (stat, p) == (0.0, 1.0)


def test_panel_operating_points_match_single_markers() -> None:
    rng = np.random.default_rng(8)
    label = rng.random(50) < 0.5
    score = np.round(rng.normal(size=(50, 4)) + label[:, None] * [1.0, -1.0, 0.3, 0.0], 1)
    panel = roc(score, label)
    cut = panel.youden().threshold
    op = panel.at(cut)
    for j in range(4):
        one = panel.marker(j).at(cut[j])
        assert (op.tp[j], op.fp[j], op.tn[j], op.fn[j]) == (one.tp, one.fp, one.tn, one.fn)
        assert op.sensitivity_ci[0][j] == one.sensitivity_ci[0]
        # at its own Youden cut-off the operating point reproduces the Youden numbers
        assert op.sensitivity[j] == pytest.approx(panel.youden().sensitivity[j], rel=1e-15)


def test_panel_peak_memory_stays_near_input_size() -> None:
    import tracemalloc

    rng = np.random.default_rng(9)
    score = rng.normal(size=(400, 600))
    label = rng.random(400) < 0.4
    tracemalloc.start()
    try:
        roc(score, label).youden()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.0 * score.nbytes
