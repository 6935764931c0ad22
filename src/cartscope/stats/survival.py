"""Survival comparisons: log-rank, Fleming-Harrington and trend tests (R ``survdiff``).

The Kaplan-Meier estimator lives in :mod:`cartscope.stats.km` and is re-exported here, so that
``cartscope.stats`` finds ``kaplan_meier``, ``logrank`` and ``logrank_trend`` in one module.
(The log-rank code sits here rather than in a submodule named ``logrank``: such a submodule,
once imported, would shadow the ``cartscope.stats.logrank`` function.)

At each distinct event time t within a stratum, with n at risk, d events, n_g at risk and d_g
events in group g, and weight w = S(t-)^rho (S = Kaplan-Meier of the pooled stratum, just
before t; rho = 0 is the log-rank test, rho = 1 the Peto-Peto/Prentice-Wilcoxon variant):

    O_g = sum w d_g          E_g = sum w d n_g / n
    V_gh = sum w^2 d (n - d) / (n - 1) * (n_g / n) (delta_gh - n_h / n)     (0 when n = 1)

summed over times and strata. The statistic is (O - E)' V^- (O - E) over the groups with
E_g > 0, dropping the first of them (the sums are linearly dependent); df = that count - 1;
p from the chi-square upper tail (``chi2.sf``, accurate for tiny p).

Trend (ordered groups with scores s): U = sum_g s_g (O_g - E_g), Var(U) = s' V s, statistic
U^2 / Var(U) on 1 df. Adding a constant to all scores changes nothing, because the rows of V
sum to zero.

Ties follow R: events at a time are counted before censorings at that time. Times that differ
by rounding error only (closer than sqrt(machine epsilon), absolutely or relative to the mean
time) are one time, as R's ``timefix`` (``aeqSurv``) makes them (:mod:`cartscope.stats._timefix`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._timefix import merge_near_ties
from cartscope.stats._validation import as_labels, as_time_event
from cartscope.stats.km import (  # noqa: F401  (re-exported)
    CONF_TYPES,
    DEFAULT_LANDMARKS,
    KaplanMeier,
    MedianFollowUp,
    Quantiles,
    RestrictedMean,
    RiskTable,
    SurvivalEstimates,
    kaplan_meier,
    median_followup,
)

__all__ = [
    "CONF_TYPES",
    "DEFAULT_LANDMARKS",
    "KaplanMeier",
    "LogRank",
    "LogRankTrend",
    "MedianFollowUp",
    "Quantiles",
    "RestrictedMean",
    "RiskTable",
    "SurvivalEstimates",
    "kaplan_meier",
    "logrank",
    "logrank_trend",
    "median_followup",
]


@dataclass(frozen=True, eq=False)
class LogRank:
    """Result of a k-group (optionally stratified, optionally weighted) log-rank test.

    ``observed``, ``expected`` are summed over strata (weighted when rho != 0, as R);
    ``variance`` is the k x k matrix V; ``n`` patients per group; groups in sorted order.
    """

    groups: NDArray[Any]
    n: NDArray[np.int64]
    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    variance: NDArray[np.float64]
    statistic: float
    df: int
    p_value: float
    rho: float
    n_strata: int

    def to_frame(self) -> pd.DataFrame:
        """One row per group: n, observed, expected, (O-E)^2/E, (O-E)^2/V (as R prints)."""
        o, e = self.observed, self.expected
        with np.errstate(divide="ignore", invalid="ignore"):
            oe_e = (o - e) ** 2 / e
            oe_v = (o - e) ** 2 / np.diag(self.variance)
        return pd.DataFrame(
            {
                "group": self.groups,
                "n": self.n,
                "observed": o,
                "expected": e,
                "oe2_over_e": oe_e,
                "oe2_over_v": oe_v,
            }
        )


@dataclass(frozen=True, eq=False)
class LogRankTrend:
    """Log-rank test for trend across ordered groups with numeric ``scores``."""

    scores: NDArray[np.float64]
    n: NDArray[np.int64]
    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    u: float
    variance: float
    statistic: float
    df: int
    p_value: float
    n_strata: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"score": self.scores, "n": self.n, "observed": self.observed, "expected": self.expected}
        )


@dataclass(frozen=True)
class _Sums:
    groups: NDArray[Any]
    n: NDArray[np.int64]
    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    variance: NDArray[np.float64]
    n_strata: int


def _sums(
    time: ArrayLike, event: ArrayLike, group: ArrayLike, strata: ArrayLike | None, rho: float
) -> _Sums:
    t, e = as_time_event(time, event)
    t = merge_near_ties(t)
    n_obs = t.shape[0]
    g_raw = as_labels(group, "group", n_obs)
    try:
        groups, g = np.unique(g_raw, return_inverse=True)
    except TypeError:
        raise ValueError("group labels must be all numbers or all strings") from None
    k = groups.shape[0]
    if k < 2:
        raise ValueError("group has only one distinct value: there is nothing to compare")
    if strata is None:
        s = np.zeros(n_obs, dtype=np.int64)
        n_strata = 1
    else:
        s_raw = as_labels(strata, "strata", n_obs)
        try:
            strata_levels, s = np.unique(s_raw, return_inverse=True)
        except TypeError:
            raise ValueError("strata labels must be all numbers or all strings") from None
        n_strata = strata_levels.shape[0]
    if not np.isfinite(rho):
        raise ValueError(f"rho must be a finite number, got {rho!r}")
    if not e.any():
        raise ValueError("there are no events: the log-rank test is undefined")

    # one cell per (stratum, distinct time), ordered by stratum then time
    times, tcode = np.unique(t, return_inverse=True)
    key = s.astype(np.int64) * times.shape[0] + tcode
    cells, cell = np.unique(key, return_inverse=True)
    m = cells.shape[0]
    cell_stratum = cells // times.shape[0]

    total_g = np.bincount(cell * k + g, minlength=m * k).reshape(m, k).astype(np.float64)
    death_g = np.bincount(cell[e] * k + g[e], minlength=m * k).reshape(m, k).astype(np.float64)

    # at risk = patients of the same stratum with time >= t: suffix sums within each stratum
    suffix = np.cumsum(total_g[::-1], axis=0)[::-1]
    last_cell = np.searchsorted(cell_stratum, np.arange(n_strata), side="right")  # one past the end
    after_stratum = np.vstack([suffix, np.zeros((1, k))])[last_cell[cell_stratum]]
    risk_g = suffix - after_stratum

    n_risk = risk_g.sum(axis=1)
    deaths = death_g.sum(axis=1)

    if rho != 0:
        # pooled KM within the stratum, just before each time (left-continuous)
        # log(1 - d/n) is -inf only where everyone at risk has the event, which can only be
        # the last cell of its stratum; that factor never enters a weight, so set it to 0.
        with np.errstate(divide="ignore"):
            log_factor = np.log1p(-deaths / n_risk)
        log_factor[np.isinf(log_factor)] = 0.0
        cum = np.cumsum(log_factor)
        start = np.searchsorted(cell_stratum, np.arange(n_strata), side="left")
        before_stratum = np.concatenate([[0.0], cum])[start[cell_stratum]]
        weight = np.exp(rho * (cum - log_factor - before_stratum))
    else:
        weight = np.ones(m)

    active = deaths > 0
    w = weight[active]
    d = deaths[active]
    nr = n_risk[active]
    rg = risk_g[active]
    frac = rg / nr[:, None]
    observed = (w[:, None] * death_g[active]).sum(axis=0)
    expected = ((w * d)[:, None] * frac).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(nr > 1, w * w * d * (nr - d) / (nr - 1), 0.0)
    variance = np.diag((c[:, None] * frac).sum(axis=0)) - (frac * c[:, None]).T @ frac
    n_per_group = np.bincount(g, minlength=k)
    return _Sums(groups, n_per_group, observed, expected, variance, n_strata)


def logrank(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    strata: ArrayLike | None = None,
    rho: float = 0.0,
) -> LogRank:
    """k-sample log-rank (rho = 0) or Fleming-Harrington G^rho test, optionally stratified.

    Same numbers as R ``survdiff(Surv(time, event) ~ group + strata(strata), rho=rho)``.
    Raises ``ValueError`` when there is a single group, no events, fewer than two groups with
    anyone at risk at an event time, or a singular variance (R stops with an error there too).
    """
    sums = _sums(time, event, group, strata, float(rho))
    usable = np.flatnonzero(sums.expected > 0)
    if usable.shape[0] < 2:
        raise ValueError("fewer than two groups have patients at risk at an event time")
    diff = (sums.observed - sums.expected)[usable[1:]]
    vv = sums.variance[np.ix_(usable[1:], usable[1:])]
    singular = ValueError("the log-rank variance matrix is singular (groups too small to compare)")
    # R's solve() refuses a reciprocal condition number below machine epsilon; so do we.
    if not np.all(np.isfinite(vv)) or np.linalg.cond(vv) * np.finfo(np.float64).eps > 1.0:
        raise singular
    try:
        sol = np.linalg.solve(vv, diff)
    except np.linalg.LinAlgError:
        raise singular from None
    stat = float(diff @ sol)
    df = int(usable.shape[0] - 1)
    return LogRank(
        groups=sums.groups,
        n=sums.n,
        observed=sums.observed,
        expected=sums.expected,
        variance=sums.variance,
        statistic=stat,
        df=df,
        p_value=float(sps.chi2.sf(stat, df)),
        rho=float(rho),
        n_strata=sums.n_strata,
    )


def logrank_trend(
    time: ArrayLike,
    event: ArrayLike,
    group_scores: ArrayLike,
    strata: ArrayLike | None = None,
) -> LogRankTrend:
    """Log-rank test for trend: ``group_scores`` is each patient's numeric group score (e.g. 0,
    1, 2 for ordered categories); each distinct score is a group.

    Statistic (sum_g s_g (O_g - E_g))^2 / (s' V s) on 1 df, with O, E, V of the (stratified)
    log-rank test. Raises ``ValueError`` for non-numeric scores, a single score, no events or
    zero variance.
    """
    scores_raw = np.asarray(group_scores)
    if scores_raw.dtype.kind not in "biuf":
        raise ValueError("group_scores must be numeric (one score per patient)")
    sums = _sums(time, event, scores_raw.astype(np.float64), strata, 0.0)
    scores = sums.groups.astype(np.float64)
    u = float(scores @ (sums.observed - sums.expected))
    var = float(scores @ sums.variance @ scores)
    scale = float(np.sum(np.abs(sums.variance))) * float(np.max(np.abs(scores))) ** 2
    if not var > 1e-12 * scale:
        raise ValueError("the trend statistic has zero variance (groups too small to compare)")
    stat = u * u / var
    return LogRankTrend(
        scores=scores,
        n=sums.n,
        observed=sums.observed,
        expected=sums.expected,
        u=u,
        variance=var,
        statistic=stat,
        df=1,
        p_value=float(sps.chi2.sf(stat, 1)),
        n_strata=sums.n_strata,
    )
