"""The Dask path: a real distributed.LocalCluster on loopback gives byte-identical results.

The screen's blocks of markers and the resampling chunks run as tasks on the cluster's
workers (threads of one process here, to keep the test fast; the scheduler, the workers and
the client talk over tcp on 127.0.0.1 as on a real cluster).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed")

from cartscope.analysis import distributed as dist  # noqa: E402
from cartscope.analysis.biomarkers import optimism_corrected_auc, screen  # noqa: E402
from cartscope.analysis.biomarkers import resampling as rs  # noqa: E402


def _data(n: int = 60, m: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    y = (rng.random(n) < 0.4).astype(float)
    x = np.round(rng.lognormal(size=(n, m)), 2)
    x[:, ::7] *= np.where(y == 1, 2.0, 1.0)[:, None]
    x[rng.random((n, m)) < 0.03] = np.nan
    t = np.ceil(rng.exponential(300, n))
    e = (rng.random(n) < 0.7).astype(float)
    return x, y, t, e


def test_local_cluster_gives_the_in_process_results_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y, t, e = _data()
    xc = x[:, :8].copy()
    xc[np.isnan(xc)] = 1.0
    here = screen(x, y, time=t, event=e)
    perm = rs.permutation_test(xc, y, n_perm=600, seed=4).table
    opt = optimism_corrected_auc(xc, y, n_boot=600, seed=4)
    sent: list[int] = []
    real_map = dist.map_blocks

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(len(args[3]))
        return real_map(*args, **kwargs)

    monkeypatch.setattr(dist, "map_blocks", counting)
    with dist.cluster(workers=2, processes=False) as client:
        assert client is not None and dist.active_client() is client
        assert len(client.scheduler_info()["workers"]) == 2
        there = screen(x, y, time=t, event=e)
        perm2 = rs.permutation_test(xc, y, n_perm=600, seed=4).table
        opt2 = optimism_corrected_auc(xc, y, n_boot=600, seed=4)
    assert dist.active_client() is None
    assert sent and sent[0] > 1  # the screen went out in several blocks
    assert here.table.equals(there.table) and here.subgroups.equals(there.subgroups)
    assert perm.equals(perm2)
    assert np.array_equal(opt.replicate_optimism, opt2.replicate_optimism)
    assert opt.corrected_auc == opt2.corrected_auc


def test_no_cluster_means_in_process_and_a_bad_address_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dist.ENV_SCHEDULER, raising=False)
    with dist.cluster() as client:
        assert client is None and dist.active_client() is None
    monkeypatch.setenv(dist.ENV_SCHEDULER, "tcp://127.0.0.1:9")
    with pytest.raises(dist.ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with dist.cluster(timeout=1.0):
            pass
