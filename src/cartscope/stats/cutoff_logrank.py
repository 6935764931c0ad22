"""Two-group log-rank test at one cut-off per marker, all markers at once.

For a (patients x markers) matrix and a cut-off per marker, patients split into "high"
(``value > cutoff``) and "low" (``value <= cutoff``); patients whose value is missing (NaN) are
left out for that marker only. The statistic is R ``survdiff(Surv(time, event) ~ high)``
(rho = 0): at each distinct event time t with n_t at risk, d_t events, n_t^high at risk in the
high group,

    E_high = sum_t n_t^high d_t / n_t,
    V      = sum_t n_t^high n_t^low d_t (n_t - d_t) / (n_t^2 (n_t - 1)),
    X^2    = (O_high - E_high)^2 / V   on 1 df.

The time sort is shared: patients are sorted by time once, and every marker is one compiled
scan over them in that order (:mod:`cartscope.stats._logrank_kernel`): exact at-risk and event
counts per group, the per-time terms added in time order as ``numpy.sum`` adds a row, so a
marker gets the same numbers alone or inside a panel. Markers are processed in chunks (each
copied once) so that extra memory stays a fraction of the input matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._ranks import marker_chunks
from cartscope.stats._timefix import merge_near_ties
from cartscope.stats._validation import as_time_event


@dataclass(frozen=True, eq=False)
class CutoffLogrankResult:
    """Per-marker two-group log-rank at a cut-off (high = value > cutoff).

    ``statistic`` and ``p_value`` are NaN for a marker whose patients all fall in one group or
    which has no event among its non-missing patients (R ``survdiff`` stops with an error there).
    """

    cutoff: NDArray[np.float64]
    statistic: NDArray[np.float64]
    p_value: NDArray[np.float64]
    observed_high: NDArray[np.float64]
    expected_high: NDArray[np.float64]
    observed_low: NDArray[np.float64]
    expected_low: NDArray[np.float64]
    variance: NDArray[np.float64]
    n_high: NDArray[np.int64]
    n_low: NDArray[np.int64]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})


def logrank_at_cutoffs(
    time: ArrayLike,
    event: ArrayLike,
    values: ArrayLike,
    cutoffs: ArrayLike,
) -> CutoffLogrankResult:
    """Log-rank test of high (``value > cutoff``) vs low (``value <= cutoff``), per marker.

    ``time`` and ``event`` (1 = event, 0 = censored) are per patient; ``values`` is 1-D
    (one marker) or (patients x markers); ``cutoffs`` has one entry per marker (a scalar is
    used for all). Same numbers as ``survdiff`` on each marker separately (times equal up to
    rounding are one time, as survdiff's ``timefix`` makes them).
    """
    t, e = as_time_event(time, event)
    t = merge_near_ties(t)
    try:
        x = np.asarray(values, dtype=np.float64)
        cuts = np.asarray(cutoffs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("values and cutoffs must be numeric") from exc
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"values must be 1-D or 2-D (patients x markers); got {x.ndim}-D")
    if x.shape[0] != t.size:
        raise ValueError(f"values has {x.shape[0]} rows but there are {t.size} patients")
    m = x.shape[1]
    if cuts.ndim == 0:
        cuts = np.full(m, float(cuts))
    if cuts.shape != (m,):
        raise ValueError(f"cutoffs must have one entry per marker ({m}); got shape {cuts.shape}")
    if np.isnan(cuts).any():
        raise ValueError("cutoffs must not be missing (NaN)")

    times = logrank_times(t, e)
    parts = [logrank_block(times, x[:, cols], times.order, cuts[cols]) for cols in marker_chunks(x.shape[0], m)]
    out = {k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in _BLOCK_FIELDS}
    chisq, p = out["statistic"], out["p_value"]
    return CutoffLogrankResult(
        cutoff=cuts,
        statistic=chisq,
        p_value=p,
        observed_high=out["o1"],
        expected_high=out["e1"],
        observed_low=out["o0"],
        expected_low=out["e0"],
        variance=out["v"],
        n_high=out["n_high"].astype(np.int64),
        n_low=out["n_low"].astype(np.int64),
    )


@dataclass(frozen=True, eq=False)
class LogrankTimes:
    """The time order shared by every marker: ``order`` sorts the patients by time (stable);
    ``is_event`` is the event flag in that order and ``starts`` the first sorted position of
    each distinct event time (increasing)."""

    order: NDArray[np.intp]
    is_event: NDArray[np.bool_]
    starts: NDArray[np.intp]


def logrank_times(time: NDArray[np.float64], event: NDArray[np.float64]) -> LogrankTimes:
    """Sort once for :func:`logrank_block` (times already merged by R's ``timefix``)."""
    order = np.argsort(time, kind="stable").astype(np.intp)
    ts = time[order]
    es = event[order].astype(np.float64)
    first = np.ones(ts.size, dtype=bool)
    first[1:] = ts[1:] != ts[:-1]
    starts = np.flatnonzero(first)
    has_event = np.add.reduceat(es, starts) > 0 if ts.size else np.zeros(0, dtype=bool)
    return LogrankTimes(order=order, is_event=es > 0, starts=starts[has_event].astype(np.intp))


_BLOCK_FIELDS = ("o1", "e1", "o0", "e0", "v", "n_high", "n_low", "statistic", "p_value")


def logrank_block(times: LogrankTimes, x: NDArray[np.float64], rows: NDArray[np.intp],
                  cuts: NDArray[np.float64], expected_low: bool = True) -> dict[str, NDArray[np.float64]]:
    """O, E, V, group sizes, statistic and p of every column of ``x`` (patients x markers),
    whose rows ``rows`` are the patients of ``times`` in ``times.order`` (``x[rows[k]]`` is
    the k-th patient in time order).

    One compiled scan per marker (:func:`cartscope.stats._logrank_kernel.logrank_scan`): the
    running at-risk counts of each group, latest patient first, and the per-time terms added
    in time order as ``numpy.sum`` adds them. Each marker's numbers depend on its column only.
    The p-values come from one chi-square survival call. ``expected_low=False`` leaves the low
    group's expected events out (``e0`` is NaN; the statistic does not need them).
    """
    from cartscope.stats import _logrank_kernel as k

    x = np.ascontiguousarray(x, dtype=np.float64)
    out = k.logrank_scan(x, np.ascontiguousarray(rows, dtype=np.intp), times.is_event, times.starts,
                         np.ascontiguousarray(cuts, dtype=np.float64), expected_low)
    o1, e1, v = out[k.O1], out[k.E1], out[k.V]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = o1 - e1
        chisq = np.where(v > 0, diff * diff / v, np.nan)
    p = special.chdtrc(1.0, chisq)  # NaN where the statistic is NaN
    return {"o1": o1, "e1": e1, "o0": out[k.O0], "e0": out[k.E0], "v": v,
            "n_high": out[k.N_HIGH].astype(np.int64), "n_low": out[k.N_LOW].astype(np.int64),
            "statistic": chisq, "p_value": p}
