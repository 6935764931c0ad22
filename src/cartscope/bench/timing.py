"""Wall-clock timing and peak-memory measurement of callables.

Times are ``time.perf_counter`` differences (wall clock); a measurement is the median of
``repeats`` runs, which is robust to the odd slow run caused by the rest of the machine.
Peak memory is the largest amount of memory allocated through Python's allocators while the
call runs, measured with :mod:`tracemalloc` above what was allocated before it started
(numpy reports its array buffers to tracemalloc, so arrays count; memory held by C libraries
that bypass Python's allocators does not).
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each run and their median."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(statistics.median(self.seconds))


@dataclass(frozen=True)
class StageTiming:
    """Median seconds of one stage of a staged run, and its share of the median total."""

    stage: str
    seconds: float
    share: float


@dataclass(frozen=True)
class StagedTiming:
    """A run made of named stages, repeated: per-stage medians and the total per run."""

    stages: tuple[StageTiming, ...]
    total: Timing

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "stage": [s.stage for s in self.stages],
                "seconds": [s.seconds for s in self.stages],
                "share": [s.share for s in self.stages],
            }
        )


def _check_repeats(repeats: int) -> int:
    if int(repeats) < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    return int(repeats)


def time_call(fn: Callable[[], Any], repeats: int) -> tuple[Timing, Any]:
    """Run ``fn`` ``repeats`` times; return the timings and the last result."""
    repeats = _check_repeats(repeats)
    seconds: list[float] = []
    result: Any = None
    for _ in range(repeats):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return Timing(tuple(seconds)), result


def time_stages(stages: Sequence[tuple[str, Callable[[], Any]]], repeats: int) -> StagedTiming:
    """Run the stages in order, ``repeats`` times, timing each stage separately.

    A stage is a zero-argument callable; stages that need an earlier stage's output read it
    from a shared closure (each run recomputes every stage, so nothing is cached across runs).
    The total of a run is the sum of its stage times; ``share`` is a stage's median over the
    median total.
    """
    repeats = _check_repeats(repeats)
    if not stages:
        raise ValueError("time_stages needs at least one stage")
    per_stage: dict[str, list[float]] = {name: [] for name, _ in stages}
    if len(per_stage) != len(stages):
        raise ValueError("stage names must be distinct")
    totals: list[float] = []
    for _ in range(repeats):
        gc.collect()
        total = 0.0
        for name, fn in stages:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            per_stage[name].append(elapsed)
            total += elapsed
        totals.append(total)
    timing = Timing(tuple(totals))
    med_total = timing.median
    out = tuple(
        StageTiming(
            name,
            float(statistics.median(per_stage[name])),
            float(statistics.median(per_stage[name]) / med_total) if med_total > 0 else float("nan"),
        )
        for name, _ in stages
    )
    return StagedTiming(out, timing)


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (tracemalloc) while ``fn`` runs, above the level at its start."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return int(max(peak - base, 0))
