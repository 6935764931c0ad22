"""The shared rank pass (stats._ranks) behind mann_whitney and roc, against pairwise counting.

The R comparisons live in test_tests.py and test_roc.py; here every panel quantity is checked
against a brute-force count over all (case, control) pairs, on data with heavy ties and
missing values, with enough markers that the panel is split into many chunks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats._ranks import marker_chunks, rank_pass
from cartscope.stats.cutoff_logrank import logrank_at_cutoffs
from cartscope.stats.ranktests import mann_whitney
from cartscope.stats.roc import roc


def _pairwise(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """W, tie term and DeLong variance of x (cases) against y (controls) by pair counting."""
    x = x[~np.isnan(x)]
    y = y[~np.isnan(y)]
    gt = (x[:, None] > y[None, :]).astype(float)
    eq = (x[:, None] == y[None, :]).astype(float)
    pair = gt + 0.5 * eq
    w = pair.sum()
    _, counts = np.unique(np.concatenate([x, y]), return_counts=True)
    ties = float(np.sum(counts.astype(float) ** 3 - counts))
    n1, n0 = x.size, y.size
    if n1 < 1 or n0 < 1:
        return {"w": w, "ties": ties, "auc": np.nan, "var": np.nan, "n1": n1, "n0": n0}
    v10 = pair.mean(axis=1)
    v01 = pair.mean(axis=0)
    var = np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n0 if n1 > 1 and n0 > 1 else np.nan
    return {"w": w, "ties": ties, "auc": w / (n1 * n0), "var": var, "n1": n1, "n0": n0}


def _youden(x: np.ndarray, y: np.ndarray, lt: bool) -> tuple[float, int]:
    """pROC's Youden threshold (first optimum in curve order) and the number of optima."""
    x = x[~np.isnan(x)]
    y = y[~np.isnan(y)]
    u = np.unique(np.concatenate([x, y]))
    thr = np.concatenate([[-np.inf], (u[:-1] + u[1:]) / 2.0, [np.inf]])
    n1, n0 = float(x.size), float(y.size)
    if lt:
        tp = (x[None, :] >= thr[:, None]).sum(axis=1)
        tn = (y[None, :] < thr[:, None]).sum(axis=1)
    else:
        tp = (x[None, :] <= thr[:, None]).sum(axis=1)
        tn = (y[None, :] > thr[:, None]).sum(axis=1)
    crit = tp / n1 + tn / n0
    best = np.flatnonzero(crit == crit.max())
    # curve order is decreasing sensitivity: ascending thresholds for "<", descending for ">"
    chosen = thr[best[0]] if lt else thr[best[-1]]
    return float(chosen), int(best.size)


def _panel(n: int, m: int, seed: int, nan_share: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = rng.random(n) < 0.4
    x = np.round(rng.normal(size=(n, m)) + 0.5 * label[:, None], 0)  # a handful of values: ties
    x[rng.random((n, m)) < nan_share] = np.nan
    x[:, 0] = np.nan  # a marker with nothing left
    x[:, 1] = 3.0  # a constant marker: one tie block
    return x, label


def test_chunks_cover_every_marker_once() -> None:
    for n, m in ((10, 1), (30, 60), (1000, 2000), (5, 7)):
        cols = [j for s in marker_chunks(n, m) for j in range(m)[s]]
        assert cols == list(range(m))
    assert len(list(marker_chunks(30, 60))) > 1


def test_rank_pass_counts_match_pairwise() -> None:
    x, label = _panel(40, 9, 1)
    r = rank_pass(x.T.copy(), label)
    for j in range(x.shape[1]):
        ref = _pairwise(x[label, j], x[~label, j])
        assert r.n_a[j] == ref["n1"] and r.n_b[j] == ref["n0"]
        assert r.u2[j] == 2.0 * ref["w"]
        assert r.ties[j] == ref["ties"]


def test_mann_whitney_panel_matches_pairwise_and_single_marker() -> None:
    x, label = _panel(45, 60, 2)
    mw = mann_whitney(x[label], x[~label])
    for j in range(x.shape[1]):
        ref = _pairwise(x[label, j], x[~label, j])
        if ref["n1"] == 0 or ref["n0"] == 0:
            assert mw.method[j] == "none"
            continue
        assert mw.statistic[j] == ref["w"]
        one = mann_whitney(x[label, j], x[~label, j])
        assert one.statistic == mw.statistic[j]
        np.testing.assert_equal(one.p_value, mw.p_value[j])  # same kernel alone or in a chunk


def test_roc_panel_matches_pairwise_and_single_marker() -> None:
    x, label = _panel(50, 60, 3)
    res = roc(x, label)
    yd = res.youden()
    for j in range(2, x.shape[1]):
        cases, controls = x[label, j], x[~label, j]
        ref = _pairwise(cases, controls)
        lt = res.direction[j] == "<"
        auc = ref["auc"] if lt else 1.0 - ref["auc"]
        np.testing.assert_allclose(res.auc[j], auc, rtol=1e-14)
        np.testing.assert_allclose(res.se[j] ** 2, ref["var"], rtol=1e-12)
        thr, n_opt = _youden(cases, controls, lt)
        assert yd.threshold[j] == thr
        assert yd.n_optimal[j] == n_opt
        one = roc(x[:, j], label)
        assert one.direction == res.direction[j]
        np.testing.assert_allclose(one.auc, res.auc[j], rtol=1e-12)
        np.testing.assert_allclose(one.se, res.se[j], rtol=1e-12)
        assert one.youden().threshold == yd.threshold[j]
    assert np.isnan(res.auc[0])  # nothing left
    assert res.auc[1] == 0.5 and yd.threshold[1] == -np.inf  # constant: only the -Inf cut


def test_roc_forced_direction_mirrors() -> None:
    x, label = _panel(40, 12, 4, nan_share=0.0)
    lt = roc(x, label, direction="<")
    gt = roc(x, label, direction=">")
    np.testing.assert_allclose(lt.auc[2:], 1.0 - gt.auc[2:], atol=1e-15)
    np.testing.assert_allclose(lt.se[2:], gt.se[2:], rtol=1e-13)


def test_delong_variance_is_exact_when_placements_are_constant() -> None:
    """Perfect separation: every placement equals the AUC, so the variance is exactly 0."""
    score = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0])
    label = np.array([0, 0, 0, 1, 1, 1, 1])
    res = roc(score, label)
    assert res.auc == 1.0 and res.se == 0.0


def test_logrank_panel_with_and_without_missing_equals_single_marker() -> None:
    rng = np.random.default_rng(5)
    n, m = 80, 50
    time = np.round(rng.exponential(100.0, n))
    event = rng.random(n) < 0.7
    x = np.round(rng.normal(size=(n, m)), 1)
    x[:, : m // 2][rng.random((n, m // 2)) < 0.1] = np.nan  # missing values in half the markers
    cuts = np.nanmedian(x, axis=0)
    res = logrank_at_cutoffs(time, event, x, cuts)
    for j in range(m):
        one = logrank_at_cutoffs(time, event, x[:, j], cuts[j])
        for name in ("statistic", "expected_high", "expected_low", "variance", "observed_high"):
            assert getattr(res, name)[j] == getattr(one, name)[0], (name, j)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.one_of(st.integers(-3, 3), st.just(None)), min_size=4, max_size=25),
    st.randoms(),
)
def test_properties_against_pairwise(values: list[Any], rnd: Any) -> None:
    x = np.array([np.nan if v is None else float(v) for v in values])
    label = np.array([rnd.random() < 0.5 for _ in values])
    cases, controls = x[label], x[~label]
    ref = _pairwise(cases, controls)
    if ref["n1"] < 1 or ref["n0"] < 1:
        return
    mw = mann_whitney(cases, controls)
    assert mw.statistic == ref["w"]
    res = roc(x, label, direction="<")
    assert res.auc == pytest.approx(ref["auc"], abs=1e-15)
    if ref["n1"] > 1 and ref["n0"] > 1:
        assert res.se**2 == pytest.approx(ref["var"], rel=1e-12, abs=1e-17)
    thr, n_opt = _youden(cases, controls, True)
    yd = res.youden()
    assert yd.threshold == thr and yd.n_optimal == n_opt
