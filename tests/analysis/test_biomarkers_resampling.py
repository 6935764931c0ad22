"""Vectorised resampling (cartscope.analysis.biomarkers.resampling, optimism) against plain loops.

The resamples are numpy's, not R's, so no R run can reproduce them draw for draw: each pass is
checked against a loop over the same resamples through the R-tested one-marker functions
(``stats.roc``, ``stats.ranktests.mann_whitney``), and for invariance to the chunking.
"""

from __future__ import annotations

import numpy as np
import pytest

from cartscope.analysis.biomarkers import optimism_corrected_auc
from cartscope.analysis.biomarkers import resampling as rs
from cartscope.stats.ranktests import mann_whitney
from cartscope.stats.roc import roc


def _panel(seed: int = 4, n: int = 45, m: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.45).astype(float)
    x = np.round(rng.lognormal(size=(n, m)), 1)
    x[:, 0] *= np.where(y == 1, 2.5, 1.0)
    x[:, 2] /= np.where(y == 1, 1.8, 1.0)
    return x, y


def test_optimism_equals_the_loop_over_the_same_resamples() -> None:
    x, y = _panel()
    pos = y == 1
    res = optimism_corrected_auc(x, y, n_boot=40, seed=11)
    idx = np.concatenate([rs.uniform_indices(pos, 11, r) for r in rs._chunks(40)])
    opt = []
    for b in range(40):
        xb, pb = x[idx[b]], pos[idx[b]]
        p = np.asarray(mann_whitney(xb[pb], xb[~pb]).p_value)
        rb = roc(xb, pb)
        auc = np.asarray(rb.auc)
        j = int(np.lexsort((np.arange(p.size), -auc, p))[0])
        orig = roc(x[:, j], pos, direction=str(np.asarray(rb.direction)[j])).auc
        opt.append(auc[j] - orig)
    np.testing.assert_allclose(res.replicate_optimism, opt, rtol=1e-12)
    assert res.corrected_auc == pytest.approx(res.apparent_auc - np.mean(opt), rel=1e-12)


def test_youden_bootstrap_equals_roc_on_each_stratified_resample() -> None:
    x, y = _panel(m=3)
    pos = y == 1
    res = rs.youden_bootstrap(x, y, n_boot=30, seed=5)
    xo = np.concatenate([x[pos], x[~pos]])
    n1 = int(pos.sum())
    lab = np.arange(xo.shape[0]) < n1
    rng = rs.chunk_rng(5, range(0, 30))
    idx = np.empty((30, xo.shape[0]), dtype=np.intp)
    idx[:, :n1] = rng.integers(0, n1, size=(30, n1))
    idx[:, n1:] = n1 + rng.integers(0, xo.shape[0] - n1, size=(30, xo.shape[0] - n1))
    for j in range(3):
        d = res.table["direction"].iloc[j]
        thr = [roc(xo[idx[b], j], lab, direction=d).youden().threshold for b in range(30)]
        sens = [roc(xo[idx[b], j], lab, direction=d).youden().sensitivity for b in range(30)]
        np.testing.assert_allclose(res.replicates["threshold"][:, j], thr, rtol=1e-12)
        np.testing.assert_allclose(res.replicates["sensitivity"][:, j], sens, rtol=1e-12)
        lo, hi = np.quantile(thr, [0.025, 0.975])
        assert res.table["threshold_lower"].iloc[j] == pytest.approx(lo, rel=1e-12)
        assert res.table["threshold_upper"].iloc[j] == pytest.approx(hi, rel=1e-12)
        assert res.table["threshold"].iloc[j] == pytest.approx(roc(x[:, j], pos, direction=d).youden().threshold)


def test_permutation_p_counts_the_permuted_mann_whitney_statistics() -> None:
    x, y = _panel()
    pos = y == 1
    res = rs.permutation_test(x, y, n_perm=60, seed=3)
    lab = rs.chunk_rng(3, range(0, 60)).permuted(np.tile(pos.astype(float), (60, 1)), axis=1) == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    obs = np.abs(np.asarray(mann_whitney(x[pos], x[~pos]).statistic) - n1 * n0 / 2)
    perm = np.array([np.abs(np.asarray(mann_whitney(x[lb], x[~lb]).statistic) - n1 * n0 / 2) for lb in lab])
    np.testing.assert_allclose(res.table["p_perm"], (1 + (perm >= obs - 1e-9).sum(0)) / 61, rtol=1e-12)
    np.testing.assert_allclose(res.table["p_maxt"], (1 + (perm.max(1)[:, None] >= obs - 1e-9).sum(0)) / 61,
                               rtol=1e-12)
    assert (res.table["p_maxt"] >= res.table["p_perm"]).all()
    assert res.table["p_perm"].iloc[0] < 0.05


def test_results_do_not_depend_on_the_chunk_layout_of_the_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _panel()
    a = rs.permutation_test(x, y, n_perm=300, seed=8).table
    b = optimism_corrected_auc(x, y, n_boot=300, seed=8)
    from cartscope.analysis import distributed

    calls: list[int] = []

    def one_by_one(fn, shared, tasks):  # type: ignore[no-untyped-def]
        calls.append(len(tasks))
        return [fn(shared, t) for t in reversed(tasks)][::-1]

    monkeypatch.setattr(distributed, "map_tasks", one_by_one)
    a2 = rs.permutation_test(x, y, n_perm=300, seed=8).table
    b2 = optimism_corrected_auc(x, y, n_boot=300, seed=8)
    assert calls and calls[0] == 2
    assert a.equals(a2)
    assert np.array_equal(b.replicate_optimism, b2.replicate_optimism)


def test_seed_is_required_and_bad_input_named() -> None:
    x, y = _panel()
    with pytest.raises(ValueError, match="seed"):
        rs.permutation_test(x, y, n_perm=10, seed=None)  # type: ignore[arg-type]
    x2 = x.copy()
    x2[0, 1] = np.nan
    with pytest.raises(ValueError, match="complete markers"):
        rs.youden_bootstrap(x2, y, n_boot=10, seed=1)
