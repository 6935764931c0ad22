"""Scaling of the Dask path on 1, 2 and 4 local workers (the table of docs/scale.md).

``python -m cartscope.bench.scaling`` times, in process and then on a ``LocalCluster`` of N
worker processes (one thread each, loopback tcp), the public calls that send work to the
cluster: the panel screen and the permutation p-values of a panel; it checks that every run
gives the in-process result byte for byte and prints a Markdown table.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _workloads(seed: int, n: int, m: int, n_perm: int) -> dict[str, Callable[[], Any]]:
    from cartscope.analysis.biomarkers import screen
    from cartscope.analysis.biomarkers.resampling import permutation_test
    from cartscope.bench.data import screen_data

    d = screen_data(n, m, seed)
    panel = d.x[:, : min(m, 200)]
    return {
        f"screen() defaults, {m:,} markers x {n:,} patients": lambda: screen(d.x, d.label, time=d.time, event=d.event).table,
        f"permutation_test, {n_perm:,} permutations x {panel.shape[1]} markers": (
            lambda: permutation_test(panel, d.label, n_perm=n_perm, seed=seed).table
        ),
    }


def measure(workers: Sequence[int] = (1, 2, 4), seed: int = 2024, n: int = 1_000, m: int = 2_000,
            n_perm: int = 20_000, repeats: int = 3) -> list[tuple[str, str, float, bool]]:
    """(workload, setting, median seconds, identical to in process) for each run."""
    from cartscope.analysis.distributed import cluster

    loads = _workloads(seed, n, m, n_perm)
    rows: list[tuple[str, str, float, bool]] = []
    reference: dict[str, Any] = {}

    def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
        secs, out = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            out = fn()
            secs.append(time.perf_counter() - start)
        return float(np.median(secs)), out

    for name, fn in loads.items():
        secs, reference[name] = timed(fn)
        rows.append((name, "in process", secs, True))
    for w in workers:
        with cluster(workers=w):
            for name, fn in loads.items():
                fn()  # warm the workers (imports, scattered data)
                secs, out = timed(fn)
                rows.append((name, f"LocalCluster, {w} worker{'s' if w > 1 else ''}", secs, bool(out.equals(reference[name]))))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in args
    rows = measure(n=200, m=100, n_perm=1_000, repeats=1) if quick else measure()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores: {os.cpu_count()}, load average (1 min) at the end: {load:.2f}")
    print()
    print("| workload | where | median seconds | identical to in process |")
    print("|---|---|---|---|")
    for name, where, secs, same in rows:
        print(f"| {name} | {where} | {secs:.3f} | {'yes' if same else 'NO'} |")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
