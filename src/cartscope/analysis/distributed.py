"""Running the heavy, chunked work on a Dask cluster: the panel screen and the resampling.

In process by default. With a cluster -- a scheduler address (``cartscope analyze
--scheduler tcp://host:8786`` or ``CARTSCOPE_DASK_SCHEDULER``) or a local cluster of N worker
processes (``--workers N``) -- the blocks of markers of :func:`cartscope.biomarkers.screen` and
the chunks of bootstrap / permutation replicates of :mod:`cartscope.analysis.biomarkers.resampling`
are sent to the workers as independent tasks, and the results are put back in block order.

Identical results whatever the number of workers: every task is a pure function of its
inputs, and every random chunk draws from its own generator, seeded from the user's seed and
the chunk's index (``numpy.random.SeedSequence(seed).spawn``), never from a stream shared
across chunks. So a run on 1, 2 or 4 workers, or in process, gives byte-identical results.

Dask is an optional dependency (``pip install 'cartscope[distributed]'``); it is imported
only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

ENV_SCHEDULER = "CARTSCOPE_DASK_SCHEDULER"
#: The Dask setting that makes the nannies export MALLOC_TRIM_THRESHOLD_ to their workers.
TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"

_ACTIVE: list[Any] = []


class ClusterError(RuntimeError):
    """No Dask installation, or the scheduler cannot be reached (the message says which)."""


def active_client() -> Any | None:
    """The Dask client work is sent to, or None (run in process)."""
    return _ACTIVE[-1] if _ACTIVE else None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ClusterError(
            "a Dask cluster was asked for but dask.distributed is not installed; "
            "install it with: pip install 'cartscope[distributed]'"
        ) from exc
    return distributed


@contextlib.contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None, *,
            processes: bool = True, threads_per_worker: int = 1, timeout: float = 10.0) -> Iterator[Any | None]:
    """Send the chunked work inside the ``with`` block to a Dask cluster.

    ``scheduler``: address of a running scheduler (``tcp://host:8786``); None reads
    ``CARTSCOPE_DASK_SCHEDULER``. Without an address, ``workers=N`` starts a local cluster of
    N workers on loopback (processes, one thread each, unless ``processes=False``) for the
    duration of the block. ``timeout``: seconds to wait for a scheduler. With neither, nothing changes: the work runs in process and the
    context yields None.
    """
    address = scheduler or os.environ.get(ENV_SCHEDULER) or None
    if address is None and not workers:
        yield None
        return
    distributed = _import_distributed()
    local = None
    try:
        if address is None:
            if int(workers) < 1:  # type: ignore[arg-type]
                raise ClusterError(f"workers must be at least 1; got {workers}")
            import dask

            # Dask's nannies start every worker with MALLOC_TRIM_THRESHOLD_=65536; setting it
            # turns off glibc's dynamic mmap threshold, so each large temporary array is mapped
            # and zero-filled afresh: the resampling passes cost 2.4x the CPU in such a worker.
            # Unset here (a remote cluster's workers: see docs/scale.md).
            with dask.config.set({TRIM_KEY: None}):
                local = distributed.LocalCluster(
                    n_workers=int(workers),  # type: ignore[arg-type]
                    threads_per_worker=threads_per_worker,
                    processes=processes,
                    protocol="tcp://",  # loopback tcp, as a real cluster talks (not in-process comms)
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            client = distributed.Client(local)
        else:
            try:
                client = distributed.Client(address, timeout=f"{timeout}s")
            except OSError as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    except Exception:
        if local is not None:
            local.close()
        raise
    _ACTIVE.append(client)
    try:
        yield client
    finally:
        _ACTIVE.pop()
        client.close()
        if local is not None:
            local.close()


@contextlib.contextmanager
def sending_to(client: Any | None) -> Iterator[Any | None]:
    """Send the chunked work inside the ``with`` block to ``client`` (a client of a cluster
    opened by :func:`cluster`), or run it in process with None; for comparing settings."""
    _ACTIVE.append(client)
    try:
        yield client
    finally:
        _ACTIVE.pop()


def map_blocks(fn: Callable[..., Any], plan: Any, x: Any, slices: Sequence[slice]) -> list[Any]:
    """``[fn(plan, x[:, cols], cols) for cols in slices]``, on the active cluster when there is one.

    ``fn`` receives the block's columns and the block's place in the panel (``cols``, for
    per-marker parts of the plan such as the reference of a fold change). Only each block's
    columns travel to its worker (the panel itself need not fit on any one machine's worker);
    the shared plan is scattered once.
    """
    client = active_client()
    if client is None:
        return [fn(plan, x[:, cols], cols) for cols in slices]
    shared = client.scatter(plan, broadcast=True)
    futures = [client.submit(fn, shared, x[:, cols].copy(), cols, pure=False) for cols in slices]
    return client.gather(futures)


def map_tasks(fn: Callable[..., Any], shared: Any, tasks: Sequence[Any]) -> list[Any]:
    """``[fn(shared, task) for task in tasks]``, on the active cluster when there is one."""
    client = active_client()
    if client is None or len(tasks) < 2:
        return [fn(shared, task) for task in tasks]
    scattered = client.scatter(shared, broadcast=True)
    futures = [client.submit(fn, scattered, task, pure=False) for task in tasks]
    return client.gather(futures)
