"""The Dask path: a real distributed.LocalCluster on loopback gives byte-identical results.

The screen's blocks of markers and the resampling chunks run as tasks on the cluster's
workers; the scheduler, the workers and the client talk over tcp on 127.0.0.1 as on a real
cluster. The fast test runs 1 and 4 workers as threads of one process; the slow one spawns
two worker processes, so every task and result is pickled across processes.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
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


def _runs(x: np.ndarray, y: np.ndarray, t: np.ndarray, e: np.ndarray) -> dict[str, object]:
    """Every call that sends work to a cluster, as the bytes of its results."""
    names = [f"m{i}" for i in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=names)
    # a fold change: per-marker reference values that the blocks after the first must get right
    reference = pd.Series(np.linspace(0.5, 2.0, x.shape[1]), index=names)
    xc = x[:, :8].copy()
    xc[np.isnan(xc)] = 1.0
    raw = screen(x, y, time=t, event=e)
    fold = screen(frame, y, reference=reference)
    opt = optimism_corrected_auc(xc, y, n_boot=600, seed=4)
    youden = rs.youden_bootstrap(xc[:, :3], y, n_boot=600, seed=4)
    return {
        "screen": pickle.dumps((raw.table, raw.subgroups)),
        "screen, fold change": pickle.dumps(fold.table),
        "permutations": pickle.dumps(rs.permutation_test(xc, y, n_perm=600, seed=4).table),
        "optimism": pickle.dumps((opt.replicate_optimism, opt.corrected_auc)),
        "youden bootstrap": pickle.dumps((youden.table, youden.replicates)),
    }


def test_local_cluster_gives_the_in_process_results_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """1 and 4 workers (threads, tcp on loopback) give the in-process bytes of every call."""
    x, y, t, e = _data()
    here = _runs(x, y, t, e)
    sent: list[int] = []
    real_map = dist.map_blocks

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(len(args[3]))
        return real_map(*args, **kwargs)

    monkeypatch.setattr(dist, "map_blocks", counting)
    for workers in (1, 4):
        with dist.cluster(workers=workers, processes=False) as client:
            assert client is not None and dist.active_client() is client
            assert len(client.scheduler_info()["workers"]) == workers
            assert client.scheduler.address.startswith("tcp://127.0.0.1:")
            there = _runs(x, y, t, e)
        assert dist.active_client() is None
        assert [k for k in here if here[k] != there[k]] == [], f"{workers} workers"
    assert sent and min(sent) > 1  # the screens went out in several blocks


@pytest.mark.slow
def test_worker_processes_give_the_in_process_results_byte_for_byte() -> None:
    """Two spawned worker processes (data pickled across processes, as on a remote cluster)."""
    x, y, t, e = _data()
    here = _runs(x, y, t, e)
    with dist.cluster(workers=2) as client:
        pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in pids.values()
        # glibc's dynamic mmap threshold is left on in the workers (see dist.TRIM_KEY)
        trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert list(trim.values()) == [os.environ.get("MALLOC_TRIM_THRESHOLD_")] * 2
        there = _runs(x, y, t, e)
    assert [k for k in here if here[k] != there[k]] == []


def test_chunks_are_seeded_by_their_index_only() -> None:
    """Chunk k's generator is SeedSequence(seed, spawn_key=(k,)) whatever ran before it, and
    the chunks depend on the number of replicates only."""
    assert [(c.start, c.stop) for c in rs._chunks(600)] == [(0, 256), (256, 512), (512, 600)]
    third = rs.chunk_rng(4, range(512, 600)).random(3)
    spawned = np.random.default_rng(np.random.SeedSequence(4).spawn(3)[2]).random(3)
    assert np.array_equal(third, spawned)
    assert not np.array_equal(third, rs.chunk_rng(4, range(256, 512)).random(3))


def test_no_cluster_means_in_process_and_a_bad_address_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dist.ENV_SCHEDULER, raising=False)
    with dist.cluster() as client:
        assert client is None and dist.active_client() is None
    monkeypatch.setenv(dist.ENV_SCHEDULER, "tcp://127.0.0.1:9")
    with pytest.raises(dist.ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with dist.cluster(timeout=1.0):
            pass
