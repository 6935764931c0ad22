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
indicator gives at-risk and event counts per distinct time through cumulative sums. Markers are
processed in chunks so that extra memory stays near twice the input matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from cartscope.stats._validation import as_time_event
from cartscope.stats.ranktests import column_chunks

# temporaries per chunk: the time-sorted values, 2 indicators, 2 cumulative sums and a few
# (times x chunk) arrays; chunking with twice that keeps them near one copy of the input
_ARRAYS = 16


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
    used for all). Same numbers as ``survdiff`` on each marker separately.
    """
    t, e = as_time_event(time, event)
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

    order = np.argsort(t, kind="stable")
    ts = t[order]
    es = e[order].astype(np.float64)
    # distinct event times: first sorted position of each time, and one past its last
    first = np.ones(ts.size, dtype=bool)
    first[1:] = ts[1:] != ts[:-1]
    starts = np.flatnonzero(first)
    stops = np.append(starts[1:], ts.size)
    has_event = np.add.reduceat(es, starts) > 0
    starts, stops = starts[has_event], stops[has_event]

    out = {k: np.full(m, np.nan) for k in ("o1", "e1", "o0", "e0", "v")}
    n_hi = np.zeros(m, dtype=np.int64)
    n_lo = np.zeros(m, dtype=np.int64)
    for cols in column_chunks(x.shape[0], m, _ARRAYS):
        o1, e1, o0, e0, v, c1, c0 = _chunk(x[:, cols][order], cuts[cols], es, starts, stops)
        out["o1"][cols], out["e1"][cols], out["o0"][cols], out["e0"][cols], out["v"][cols] = o1, e1, o0, e0, v
        n_hi[cols], n_lo[cols] = c1, c0
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = out["o1"] - out["e1"]
        chisq = np.where(out["v"] > 0, diff * diff / out["v"], np.nan)
    p = np.where(np.isnan(chisq), np.nan, stats.chi2.sf(np.nan_to_num(chisq), 1))
    return CutoffLogrankResult(
        cutoff=cuts,
        statistic=chisq,
        p_value=p,
        observed_high=out["o1"],
        expected_high=out["e1"],
        observed_low=out["o0"],
        expected_low=out["e0"],
        variance=out["v"],
        n_high=n_hi,
        n_low=n_lo,
    )


def _chunk(
    xs: NDArray[np.float64],
    cuts: NDArray[np.float64],
    es: NDArray[np.float64],
    starts: NDArray[np.intp],
    stops: NDArray[np.intp],
) -> tuple[NDArray[np.float64], ...]:
    """O, E, V for one chunk of markers; rows of ``xs`` are already in time order."""
    valid = ~np.isnan(xs)
    with np.errstate(invalid="ignore"):
        high = xs > cuts[None, :]
    g1 = high.astype(np.float64)
    g0 = (valid & ~high).astype(np.float64)
    del high, valid
    n, c = g1.shape
    # at risk at a time = members from its first sorted position on
    cum1 = np.zeros((n + 1, c))
    np.cumsum(g1, axis=0, out=cum1[1:])
    cum0 = np.zeros((n + 1, c))
    np.cumsum(g0, axis=0, out=cum0[1:])
    r1 = cum1[-1][None, :] - cum1[starts]
    r0 = cum0[-1][None, :] - cum0[starts]
    total1 = cum1[-1].copy()
    total0 = cum0[-1].copy()
    # events at a time = event members between its first and one-past-last position
    g1 *= es[:, None]
    g0 *= es[:, None]
    np.cumsum(g1, axis=0, out=cum1[1:])
    np.cumsum(g0, axis=0, out=cum0[1:])
    d1 = cum1[stops] - cum1[starts]
    d0 = cum0[stops] - cum0[starts]
    del g1, g0, cum1, cum0
    nt = r1 + r0
    dt = d1 + d0
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = np.where(nt > 0, r1 * dt / nt, 0.0)
        e0 = np.where(nt > 0, r0 * dt / nt, 0.0)
        v = np.where(nt > 1, r1 * r0 * dt * (nt - dt) / (nt * nt * (nt - 1.0)), 0.0)
    return (
        _column_sums(d1),
        _column_sums(e1),
        _column_sums(d0),
        _column_sums(e0),
        _column_sums(v),
        total1.astype(np.int64),
        total0.astype(np.int64),
    )


def _column_sums(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-column sums that do not depend on how many columns are summed together.

    Each column is summed as one contiguous row (numpy's pairwise summation), so a marker gets
    bit-identical O, E and V whether it is tested alone or inside a chunk of markers.
    """
    return np.ascontiguousarray(a.T).sum(axis=1)
