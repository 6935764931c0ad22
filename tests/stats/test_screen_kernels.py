"""The compiled per-marker scans of the biomarker screen (stats._rank_kernel, stats._logrank_kernel).

The rank scan must give, bit for bit, what the numpy rank pass and ROC kernel give (those are
checked against R in test_tests.py / test_roc.py and against pair counting in
test_rank_pass.py); the log-rank scan must give R survdiff's numbers (test_cutoff_logrank.py
runs R live) and here agrees with a plain per-marker count of survdiff's formulas, with each
marker's numbers independent of the other columns of its block.
"""

from __future__ import annotations

import numpy as np
import pytest

from cartscope.stats._logrank_kernel import sum_like_numpy
from cartscope.stats._rank_kernel import class_ranks
from cartscope.stats._ranks import rank_pass
from cartscope.stats._roc_kernel import _median, kernel_pass
from cartscope.stats.cutoff_logrank import logrank_block, logrank_times

_ROC_KEYS = ("lt", "auc", "var", "threshold", "sensitivity", "specificity", "tp", "tn", "n_optimal")


def _panel(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Markers with heavy ties, missing values, a constant one, one without cases, one with a
    single non-missing value, values large enough that a midpoint and a median overflow."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.lognormal(0.0, 1.0, (n, m)), rng.integers(0, 3))
    x[:, ::4] = np.round(x[:, ::4])
    x[rng.random((n, m)) < 0.15] = np.nan
    pos = rng.random(n) < 0.4
    pos[:2] = [True, False]
    x[:, 1] = 3.0
    x[pos, 2] = np.nan
    x[1:, 3] = np.nan
    x[:, 4] = np.where(rng.random(n) < 0.5, 1.7e308, -1.6e308)
    x[:, 5] = rng.normal(size=n) * 1e300
    return x, pos


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same numbers, bit for bit (counts compared as floats)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.astype(np.float64).tobytes() == b.astype(np.float64).tobytes()


@pytest.mark.parametrize("direction", ["auto", "<", ">"])
@pytest.mark.parametrize(("n", "seed"), [(3, 0), (12, 1), (57, 2), (400, 3)])
def test_rank_scan_is_the_numpy_rank_pass_bit_for_bit(direction: str, n: int, seed: int) -> None:
    x, pos = _panel(n, 40, seed)
    rows = np.arange(n)
    got = class_ranks(x, rows, pos, direction)
    r = rank_pass(x.T.copy(), pos)
    with np.errstate(over="ignore"):  # the overflowing median of marker 4
        ref = kernel_pass(r, n, direction)
    assert _same(got["n1"], r.n_a) and _same(got["n0"], r.n_b)
    assert _same(got["w"], 0.5 * r.u2.astype(np.float64))
    assert _same(got["ties"], r.ties)
    assert _same(got["med1"], ref["median_cases"]) and _same(got["med0"], ref["median_controls"])
    for key in _ROC_KEYS:
        assert _same(got[key], ref[key]), key
    assert np.isnan(got["auc"][2]) and got["n1"][2] == 0  # no cases: no ROC
    assert np.isfinite(got["auc"][[0, 1, 4, 5]]).all()


def test_rank_scan_of_a_subset_of_patients_and_columns() -> None:
    """Patients picked by ``rows`` (any order) and a column range give the statistics of that
    sub-panel; the medians-only mode gives the same W, ties and medians."""
    x, pos = _panel(90, 30, 7)
    rows = np.random.default_rng(0).permutation(90)[:61]
    got = class_ranks(x, rows, pos[rows], "auto", 5, 23)
    only = class_ranks(x, rows, pos[rows], None, 5, 23)
    sub = x[rows][:, 5:23]
    r = rank_pass(sub.T.copy(), pos[rows])
    with np.errstate(over="ignore"):
        ref = kernel_pass(r, 61, "auto")
        med1 = _median(r, r.a_through, r.n_a.astype(np.float64), 61)
    for key in _ROC_KEYS:
        assert _same(got[key], ref[key]), key
    for key in ("w", "ties", "med1", "med0", "n1", "n0"):
        assert _same(only[key], got[key]), key
    assert _same(only["med1"], med1)
    assert set(only) == {"w", "ties", "med1", "med0", "n1", "n0"}


def test_the_delong_sums_past_int64_are_finished_exactly() -> None:
    """With 120,000 patients n * sum(P^2) leaves int64: the variance is finished with Python
    integers, as the numpy kernel does."""
    rng = np.random.default_rng(3)
    n = 120_000
    x = np.round(rng.normal(size=(n, 1)), 2)
    pos = rng.random(n) < 0.5
    got = class_ranks(x, np.arange(n), pos, "<")
    ref = kernel_pass(rank_pass(x.T.copy(), pos), n, "<")
    assert _same(got["var"], ref["var"])
    assert 0.0 < got["var"][0] < 1e-5


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 1031, 8192, 8200, 40_001])
def test_sum_like_numpy_is_numpy_sum_bit_for_bit(size: int) -> None:
    a = np.random.default_rng(size).lognormal(0.0, 3.0, size)
    assert sum_like_numpy(a) == np.sum(a)
    assert sum_like_numpy(a[::3]) == np.sum(np.ascontiguousarray(a[::3]))


def _survdiff(t: np.ndarray, e: np.ndarray, high: np.ndarray) -> tuple[float, float, float, float]:
    """O and E of the high group, E of the low group and V, straight from survdiff's formulas."""
    o1 = e1 = e0 = v = 0.0
    for u in np.unique(t[e > 0]):
        at = t >= u
        d = (t == u) & (e > 0)
        n, n1 = at.sum(), (at & high).sum()
        dt, d1 = d.sum(), (d & high).sum()
        o1 += d1
        e1 += n1 * dt / n
        e0 += (n - n1) * dt / n
        v += n1 * (n - n1) * dt * (n - dt) / (n * n * (n - 1.0)) if n > 1 else 0.0
    return o1, e1, e0, v


def test_logrank_scan_against_survdiff_formulas_marker_by_marker() -> None:
    rng = np.random.default_rng(5)
    n, m = 150, 70  # more markers than one tile of the scan
    t = np.ceil(rng.exponential(200.0, n) / 10.0) * 10.0  # tied times
    e = (rng.random(n) < 0.6).astype(float)
    x = np.round(rng.lognormal(size=(n, m)), 1)
    x[rng.random((n, m)) < 0.1] = np.nan
    cuts = np.nanmedian(x, axis=0)
    cuts[3], cuts[4] = np.inf, -np.inf  # everyone low / everyone known high
    times = logrank_times(t, e)
    got = logrank_block(times, x, times.order, cuts)
    for j in range(m):
        ok = ~np.isnan(x[:, j])
        o1, e1, e0, v = _survdiff(t[ok], e[ok], x[ok, j] > cuts[j])
        assert got["o1"][j] == o1
        np.testing.assert_allclose([got["e1"][j], got["e0"][j], got["v"][j]], [e1, e0, v], rtol=1e-12, atol=1e-300)
        assert got["n_high"][j] == np.sum(x[ok, j] > cuts[j]) and got["n_low"][j] == np.sum(x[ok, j] <= cuts[j])
    assert np.isnan(got["statistic"][3]) and np.isnan(got["p_value"][3])
    # one marker alone, or the low group's expectations skipped: the same bytes
    alone = logrank_block(times, x[:, 41:42], times.order, cuts[41:42])
    lean = logrank_block(times, x, times.order, cuts, expected_low=False)
    for key in ("e1", "v", "statistic", "p_value"):
        assert alone[key].tobytes() == got[key][41:42].tobytes(), key
        assert lean[key].tobytes() == got[key].tobytes(), key
    assert np.isnan(lean["e0"]).all()
