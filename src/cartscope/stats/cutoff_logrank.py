"""Two-group log-rank test at one cut-off per marker, all markers at once.

For a (patients x markers) matrix and a cut-off per marker, patients split into "high"
(``value > cutoff``) and "low" (``value <= cutoff``); patients whose value is missing (NaN) are
left out for that marker only. The statistic is R ``survdiff(Surv(time, event) ~ high)``
(rho = 0): at each distinct event time t with n_t at risk, d_t events, n_t^high at risk in the
high group,

    E_high = sum_t n_t^high d_t / n_t,
    V      = sum_t n_t^high n_t^low d_t (n_t - d_t) / (n_t^2 (n_t - 1)),
    X^2    = (O_high - E_high)^2 / V   on 1 df.

The time sort is shared: patients are sorted by time once, and for every marker the group
indicator gives at-risk and event counts per distinct time through int32 cumulative sums on a
(markers x patients) layout (exact counts; each marker's sums over event times are one
contiguous row, so a marker gets the same numbers alone or inside a panel). Markers are
processed in chunks so that extra memory stays a fraction of the input matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._timefix import merge_near_ties
from cartscope.stats._validation import as_time_event
from cartscope.stats._ranks import marker_chunks

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
    parts = [logrank_block(times, x[:, cols][times.order], cuts[cols]) for cols in marker_chunks(x.shape[0], m)]
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
    ``starts``/``stops`` are the first and one-past-last sorted positions of each distinct
    event time; ``at_risk`` and ``deaths`` the pooled counts there."""

    order: NDArray[np.intp]
    is_event: NDArray[np.bool_]
    starts: NDArray[np.intp]
    stops: NDArray[np.intp]
    at_risk: NDArray[np.int32]
    deaths: NDArray[np.int32]


def logrank_times(time: NDArray[np.float64], event: NDArray[np.float64]) -> LogrankTimes:
    """Sort once for :func:`logrank_block` (times already merged by R's ``timefix``)."""
    order = np.argsort(time, kind="stable")
    ts = time[order]
    es = event[order].astype(np.float64)
    first = np.ones(ts.size, dtype=bool)
    first[1:] = ts[1:] != ts[:-1]
    starts = np.flatnonzero(first)
    stops = np.append(starts[1:], ts.size)
    has_event = np.add.reduceat(es, starts) > 0 if ts.size else np.zeros(0, dtype=bool)
    starts, stops = starts[has_event], stops[has_event]
    is_event = es > 0
    return LogrankTimes(
        order=order,
        is_event=is_event,
        starts=starts,
        stops=stops,
        at_risk=(ts.size - starts).astype(np.int32),
        deaths=_events_between(is_event, starts, stops),
    )


_BLOCK_FIELDS = ("o1", "e1", "o0", "e0", "v", "n_high", "n_low", "statistic", "p_value")


def logrank_block(times: LogrankTimes, xs: NDArray[np.float64], cuts: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """O, E, V, group sizes, statistic and p of a block of markers whose rows (patients) are
    already in ``times.order``; the p-values come from one chi-square survival call."""
    o1, e1, o0, e0, v, c1, c0 = _chunk(xs, cuts, times)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = o1 - e1
        chisq = np.where(v > 0, diff * diff / v, np.nan)
    p = special.chdtrc(1.0, chisq)  # NaN where the statistic is NaN
    return {"o1": o1, "e1": e1, "o0": o0, "e0": e0, "v": v, "n_high": c1, "n_low": c0,
            "statistic": chisq, "p_value": p}


def _running(member: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Per row, members among the first k positions for k = 0..n (int32, exact)."""
    c, n = member.shape
    out = np.zeros((c, n + 1), dtype=np.int32)
    np.cumsum(member, axis=1, dtype=np.int32, out=out[:, 1:])
    return out


def _chunk(
    xs: NDArray[np.float64],
    cuts: NDArray[np.float64],
    times: LogrankTimes,
) -> tuple[NDArray[np.float64], ...]:
    """O, E, V for one chunk of markers; rows of ``xs`` (patients x chunk) are in time order.

    The group indicators are transposed to (markers x patients) so that each marker's running
    counts are one contiguous int32 cumulative sum; at-risk and event counts per distinct event
    time are differences of those sums (exact). Without missing values, the pooled at-risk
    and event counts are the same for every marker, so only the high group is counted.
    """
    with np.errstate(invalid="ignore"):
        high = np.ascontiguousarray((xs > cuts[None, :]).T)
    starts, stops = times.starts, times.stops
    missing = np.isnan(xs)
    any_missing = bool(missing.any())
    ev = times.is_event[None, :]
    cum1 = _running(high)
    total1 = cum1[:, -1].astype(np.int64)
    r1 = total1[:, None] - np.take(cum1, starts, axis=1)  # at risk: members from the time's first position on
    del cum1
    cumd1 = _running(high & ev)
    d1 = np.take(cumd1, stops, axis=1) - np.take(cumd1, starts, axis=1)  # events between the first and one-past-last position
    del cumd1, high
    n_total = xs.shape[0]
    if any_missing:
        low = np.ascontiguousarray((~missing).T)
        low &= np.ascontiguousarray((xs <= cuts[None, :]).T)
        cum0 = _running(low)
        total0 = cum0[:, -1].astype(np.int64)
        r0 = total0[:, None] - np.take(cum0, starts, axis=1)
        del cum0
        cumd0 = _running(low & ev)
        d0 = np.take(cumd0, stops, axis=1) - np.take(cumd0, starts, axis=1)
        del cumd0, low
    else:
        total0 = n_total - total1
        r0 = times.at_risk[None, :] - r1
        d0 = times.deaths[None, :] - d1
    del missing
    nt = (r1 + r0).astype(np.float64)
    dt = (d1 + d0).astype(np.float64)
    r1f = r1.astype(np.float64)
    r0f = r0.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = np.where(nt > 0, r1f * dt / nt, 0.0)
        e0 = np.where(nt > 0, r0f * dt / nt, 0.0)
        v = np.where(nt > 1, r1f * r0f * dt * (nt - dt) / (nt * nt * (nt - 1.0)), 0.0)
    # row-major (markers x times) throughout: each marker is summed as one contiguous row
    # (pairwise), so it gets the same bits alone or inside a chunk
    return (
        d1.sum(axis=1, dtype=np.int64).astype(np.float64),
        e1.sum(axis=1),
        d0.sum(axis=1, dtype=np.int64).astype(np.float64),
        e0.sum(axis=1),
        v.sum(axis=1),
        total1,
        total0.astype(np.int64),
    )


def _events_between(is_event: NDArray[np.bool_], starts: NDArray[np.intp], stops: NDArray[np.intp]) -> NDArray[np.int32]:
    """Events among sorted positions [start, stop) of each distinct event time."""
    cum = np.zeros(is_event.size + 1, dtype=np.int32)
    np.cumsum(is_event, dtype=np.int32, out=cum[1:])
    return cum[stops] - cum[starts]
