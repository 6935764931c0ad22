"""Result objects of a benchmark run: measurements, targets, agreement checks, cases.

Every time is a median of wall-clock runs, in seconds, for the full size of the case. A peer
timed on a subset of the work (``units_timed < units_total``, e.g. 100 of 2,000 markers) is
extrapolated linearly, and says so. ``ratio`` is always "this tool's seconds / cartscope's
seconds", so a peer ratio of 250 means cartscope is 250 times faster and a floor ratio of 0.04
means cartscope takes 25 times the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cartscope.bench.timing import StageTiming

Role = Literal["cartscope", "peer", "floor"]


@dataclass(frozen=True)
class Measurement:
    """One tool's median time on a case (scaled to the full case when timed on a subset)."""

    tool: str
    role: Role
    seconds: float | None
    runs: tuple[float, ...]
    units_timed: int
    units_total: int
    note: str = ""

    @property
    def extrapolated(self) -> bool:
        return self.units_timed < self.units_total


@dataclass(frozen=True)
class Target:
    """A performance goal: ``value`` compared with ``bound`` (``at_least`` or at most)."""

    key: str
    text: str
    value: float | None
    bound: float
    at_least: bool
    explanation: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None or not math.isfinite(self.value):
            return None
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    @property
    def status(self) -> str:
        met = self.met
        return "n/a" if met is None else ("met" if met else "MISSED")


@dataclass(frozen=True)
class Agreement:
    """Largest difference between cartscope and a peer over the values both computed."""

    quantity: str
    peer: str
    n: int
    max_diff: float
    kind: Literal["relative", "absolute"]
    tolerance: float

    @property
    def ok(self) -> bool:
        return bool(self.n > 0 and self.max_diff <= self.tolerance)


def max_difference(
    ours: ArrayLike, theirs: ArrayLike, kind: Literal["relative", "absolute"]
) -> tuple[float, int]:
    """Largest |ours - theirs| (relative to |theirs| when ``kind="relative"``) over the pairs
    where both are finite, and how many pairs that was (against a zero the difference is
    absolute)."""
    a = np.asarray(ours, dtype=np.float64).ravel()
    b = np.asarray(theirs, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"cannot compare {a.size} values with {b.size}")
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any():
        return float("nan"), 0
    diff = np.abs(a[both] - b[both])
    if kind == "relative":
        scale = np.abs(b[both])
        diff = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
    return float(diff.max()), int(both.sum())


@dataclass(frozen=True)
class CaseResult:
    """Everything measured on one case; ``available`` is False when the case was skipped."""

    name: str
    title: str
    available: bool
    sizes: tuple[tuple[str, int], ...] = ()
    measurements: tuple[Measurement, ...] = ()
    targets: tuple[Target, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    breakdown: tuple[StageTiming, ...] = ()
    detail: tuple[StageTiming, ...] = ()  # finer steps inside one stage (shares of the total)
    peak_bytes: int | None = None
    input_bytes: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def cartscope(self) -> Measurement | None:
        return next((m for m in self.measurements if m.role == "cartscope"), None)

    def ratio(self, measurement: Measurement) -> float | None:
        """``measurement.seconds / cartscope seconds`` (None when either is missing)."""
        ours = self.cartscope
        if ours is None or ours.seconds is None or measurement.seconds is None or ours.seconds <= 0:
            return None
        return measurement.seconds / ours.seconds

    @property
    def memory_ratio(self) -> float | None:
        if self.peak_bytes is None or not self.input_bytes:
            return None
        return self.peak_bytes / self.input_bytes

    def to_frame(self) -> pd.DataFrame:
        """One row per tool: seconds, ratio to cartscope, subset timed, note."""
        return pd.DataFrame(
            {
                "case": self.name,
                "tool": [m.tool for m in self.measurements],
                "role": [m.role for m in self.measurements],
                "seconds": [m.seconds for m in self.measurements],
                "ratio_to_cartscope": [self.ratio(m) for m in self.measurements],
                "units_timed": [m.units_timed for m in self.measurements],
                "units_total": [m.units_total for m in self.measurements],
                "extrapolated": [m.extrapolated for m in self.measurements],
                "note": [m.note for m in self.measurements],
            }
        )
