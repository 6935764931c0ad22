"""Seeded synthetic inputs of the benchmark cases, made in the same run that times them.

The shapes mimic the real workloads: a biomarker panel (log-normal concentrations reported to
two decimals, so values tie a little, a fifth of the markers shifted in cases), progression-free
survival in whole days with censoring, and registry-sized cohorts for Kaplan-Meier, log-rank
and Cox. Every generator takes an explicit seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class ScreenData:
    """``x`` is patients x markers; ``label`` 1 = case (failure); PFS ``time`` (days), ``event``."""

    x: NDArray[np.float64]
    label: NDArray[np.bool_]
    time: NDArray[np.float64]
    event: NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class SurvivalData:
    """One cohort: ``time`` (days), ``event`` 1/0, ``group`` 0..k-1 and covariates ``x``."""

    time: NDArray[np.float64]
    event: NDArray[np.bool_]
    group: NDArray[np.int64]
    x: NDArray[np.float64]


def _check_size(value: int, name: str, minimum: int) -> int:
    if int(value) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def screen_data(n_patients: int, n_markers: int, seed: int) -> ScreenData:
    """A panel of ``n_markers`` markers on ``n_patients`` patients, 40% of them cases.

    Cases have a shorter PFS (hazard ratio about 2); markers 0, 5, 10, ... are shifted up by
    0.4 on the log scale in cases, the rest are noise.
    """
    n = _check_size(n_patients, "n_patients", 20)
    m = _check_size(n_markers, "n_markers", 1)
    rng = np.random.default_rng(seed)
    label = rng.random(n) < 0.4
    shift = np.zeros(m)
    shift[::5] = 0.4
    x = np.round(np.exp(rng.normal(size=(n, m)) + label[:, None] * shift[None, :]), 2)
    hazard = np.where(label, 2.0, 1.0) / 365.0
    pfs = rng.exponential(1.0 / hazard)
    censor = rng.uniform(90.0, 1500.0, size=n)
    time = np.ceil(np.minimum(pfs, censor))
    event = pfs <= censor
    return ScreenData(x=x, label=label, time=time, event=event)


def survival_data(n_patients: int, n_covariates: int, n_groups: int, seed: int) -> SurvivalData:
    """Cohort with exponential event times depending on covariates and group, in whole days.

    Whole days make many tied event times, which is where Efron's method and the tie handling
    of the log-rank test do real work.
    """
    n = _check_size(n_patients, "n_patients", 20)
    p = _check_size(n_covariates, "n_covariates", 0)
    k = _check_size(n_groups, "n_groups", 1)
    rng = np.random.default_rng(seed)
    group = rng.integers(0, k, size=n).astype(np.int64)
    x = rng.normal(size=(n, p))
    beta = np.linspace(-0.3, 0.3, p) if p else np.zeros(0)
    lp = x @ beta + 0.15 * group
    event_time = rng.exponential(500.0, size=n) * np.exp(-lp)
    censor = rng.uniform(30.0, 2000.0, size=n)
    time = np.ceil(np.minimum(event_time, censor))
    event = event_time <= censor
    return SurvivalData(time=time, event=event, group=group, x=x)
