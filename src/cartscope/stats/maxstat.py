"""Maximally selected rank statistics: the best cut-point of a marker and its search-adjusted p.

Written here because no maintained Python library offers maxstat's search-adjusted p-values.
Pure numpy/scipy, arrays in, frozen result out. The reference is R ``maxstat::maxstat.test`` (Hothorn & Lausen 2003):

* ``maxstat_test(values, time, event)`` = ``maxstat.test(Surv(time, event) ~ x,
  smethod = "LogRank", pmethod = ...)``;
* ``maxstat_test_binary(values, outcome)`` = ``maxstat.test(y ~ x, smethod = "Wilcoxon",
  pmethod = ...)`` for a 0/1 outcome.

Statistic. Scores a_i of the response (log-rank scores of exactRankTests::cscores for survival:
a_i = e_i - sum_{j: t_j <= t_i} e_j / (N - R_j + 1), R_j the *maximum* rank of t_j among ties,
as that package computes them; the mid-ranks of the outcome for "Wilcoxon"). Patients are
sorted by the marker; for every distinct marker value that leaves m patients at or below it,
with floor(N minprop) <= m <= floor(N maxprop) and m >= 1, the standardized linear rank
statistic of the "x <= cut" group is

    S_m = sum_{i <= m} a_(i),  E_m = m/N sum a,
    V_m = m (N - m) / (N^2 (N - 1)) (N sum a^2 - (sum a)^2),
    T_m = |S_m - E_m| / sqrt(V_m),

M = max_m T_m, and the estimated cut-point is the marker value at the first maximising m
(patients with value <= cut-point form one group).

P-values adjusted for the search over cut-points:

* ``"Lau94"``: Lausen, Sauerbrei & Schumacher (1994) improved Bonferroni bound
  p = 2 (1 - Phi(M)) + sum_k (1/pi) exp(-M^2/2) (t_k - (M^2/4 - 1) t_k^3 / 6),
  t_k = sqrt(1 - m_k (N - m_{k+1}) / ((N - m_k) m_{k+1})) over adjacent cut-points. It can
  exceed 1 for small M (R prints such values); here it is capped at 1.
* ``"exactGauss"``: P(max_k |Z_k| >= M) for the limiting Gaussian vector of the T_m, whose
  correlation is corr(Z_j, Z_k) = sqrt(m_j (N - m_k) / (m_k (N - m_j))), m_j < m_k (the matrix
  R's ``corrmsrs`` builds, up to the order of the cut-points). That correlation is the one of a
  standardized Brownian bridge, so Z_1, Z_2, ... is a Gaussian Markov chain:
  Z_{k+1} = r_k Z_k + sqrt(1 - r_k^2) eps_k with r_k = corr(Z_k, Z_{k+1}). The probability of
  staying inside [-M, M] is therefore a product of one-dimensional integral operators, computed
  here deterministically by Gauss-Legendre quadrature, summing the probability of leaving
  [-M, M] first at each step (no Monte-Carlo error; the quadrature is
  refined until two resolutions agree to 1e-14 + 1e-9 p). R integrates the same probability with
  mvtnorm's randomized quasi-Monte-Carlo ``pmvnorm`` (GenzBretz, default absolute error 1e-3),
  so R's value carries that Monte-Carlo error and ours does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

PMethod = Literal["Lau94", "exactGauss", "none"]
# exactGauss quadrature: refine until two resolutions agree to ABS + REL * p (or MAX nodes)
_ABS_TOL = 1e-14
_REL_TOL = 1e-9
_MAX_NODES = 4000
_PMETHODS = ("Lau94", "exactGauss", "none")


@dataclass(frozen=True, eq=False)
class MaxstatResult:
    """Maximally selected rank statistic for one marker.

    ``statistic`` is M; ``cutpoint`` the marker value at the maximising split (group 1 is
    ``value <= cutpoint``); ``cuts`` and ``stats`` list every admissible split and its T_m;
    ``m`` the size of the lower group at each split; ``n`` the patients used.
    """

    statistic: float
    cutpoint: float
    p_value: float
    pmethod: str
    smethod: str
    n: int
    minprop: float
    maxprop: float
    cuts: NDArray[np.float64] = field(repr=False)
    stats: NDArray[np.float64] = field(repr=False)
    m: NDArray[np.int64] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per admissible cut-point: cut, lower-group size m, standardized statistic."""
        return pd.DataFrame({"cut": self.cuts, "m": self.m, "statistic": self.stats})


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def _max_rank(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Number of observations <= x_i (the 'maximum' rank of tied values)."""
    s = np.sort(x)
    return np.searchsorted(s, x, side="right").astype(np.float64)


def logrank_scores(time: NDArray[np.float64], event: NDArray[np.float64]) -> NDArray[np.float64]:
    """Log-rank scores as exactRankTests ``cscores(Surv(time, event))`` computes them.

    a_i = e_i - sum_{j: t_j <= t_i} e_j / (N - R_j + 1), R_j the maximum rank of t_j.
    """
    n = time.size
    r = _max_rank(time)
    fact = event / (n - r + 1.0)
    order = np.argsort(time, kind="stable")
    cum = np.cumsum(fact[order])
    return event - cum[r.astype(np.int64) - 1]


def _midranks(y: NDArray[np.float64]) -> NDArray[np.float64]:
    s = np.sort(y)
    return (np.searchsorted(s, y, "left") + np.searchsorted(s, y, "right") + 1.0) / 2.0


# --------------------------------------------------------------------------------------------
# p-values
# --------------------------------------------------------------------------------------------


def p_lausen94(b: float, n: int, m: NDArray[np.int64]) -> float:
    """Lausen-Sauerbrei-Schumacher (1994) approximation to P(M >= b), capped at 1."""
    tail = 2.0 * float(special.ndtr(-b))
    if m.size <= 1:
        return min(1.0, tail)
    m1 = m[:-1].astype(np.float64)
    m2 = m[1:].astype(np.float64)
    t = np.sqrt(1.0 - m1 * (n - m2) / ((n - m1) * m2))
    d = float(np.sum(np.exp(-b * b / 2.0) / np.pi * (t - (b * b / 4.0 - 1.0) * t**3 / 6.0)))
    return min(1.0, tail + d)


def _exit_probability(b: float, rho: NDArray[np.float64], nodes: int) -> float:
    """P(|Z_k| > b for some k) for the Gaussian Markov chain with lag-one correlations rho.

    Summed as P(|Z_1| > b) + sum_k P(inside up to k, |Z_{k+1}| > b): every term is a positive
    integral of the sub-density of staying inside times a normal tail (``ndtr`` of the far side),
    so a tiny p keeps its relative precision (no 1 - P(inside) cancellation).
    """
    u, w = np.polynomial.legendre.leggauss(nodes)
    z = b * u
    w = b * w
    f = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)  # sub-density of Z_1 inside [-b, b]
    p = 2.0 * float(special.ndtr(-b))
    for r in rho:
        s = np.sqrt(max(1.0 - r * r, 0.0))
        wf = w * f
        exit_prob = special.ndtr((-b - r * z) / s) + special.ndtr((-b + r * z) / s)
        p += float(wf @ exit_prob)
        # sub-density of Z_{k+1} inside, at the nodes: sum_i w_i f(z_i) phi((z' - r z_i) / s) / s
        kern = np.exp(-0.5 * ((z[:, None] - r * z[None, :]) / s) ** 2) / (s * np.sqrt(2.0 * np.pi))
        f = kern @ wf
    return p


def p_exact_gauss(b: float, n: int, m: NDArray[np.int64]) -> float:
    """P(max_k |Z_k| >= b) for the limiting Gaussian law of the standardized statistics."""
    if m.size <= 1:
        return 2.0 * float(special.ndtr(-b))
    a = m.astype(np.float64) / (n - m.astype(np.float64))
    rho = np.sqrt(a[:-1] / a[1:])
    s_min = float(np.sqrt(max(1.0 - rho.max() ** 2, 1e-300)))
    nodes = int(np.clip(np.ceil(8.0 * b / s_min), 64, _MAX_NODES))
    prev = _exit_probability(b, rho, nodes)
    while True:
        nodes2 = min(int(nodes * 1.5), _MAX_NODES)
        cur = _exit_probability(b, rho, nodes2)
        if abs(cur - prev) <= _ABS_TOL + _REL_TOL * abs(cur) or nodes2 >= _MAX_NODES:
            return float(min(max(cur, 0.0), 1.0))
        nodes, prev = nodes2, cur


# --------------------------------------------------------------------------------------------
# kernel and public functions
# --------------------------------------------------------------------------------------------


def _maxstat(
    scores: NDArray[np.float64],
    x: NDArray[np.float64],
    minprop: float,
    maxprop: float,
    pmethod: str,
    smethod: str,
) -> MaxstatResult:
    n = x.size
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ys = scores[order]
    first = np.ones(n, dtype=bool)
    first[1:] = xs[1:] != xs[:-1]
    m = np.flatnonzero(first).astype(np.int64)  # patients strictly below each distinct value
    if minprop == 0.0 and maxprop == 1.0:
        # R keeps m[2:(length(m) - 1)]: it drops the empty split below the smallest value and
        # also the cut below the largest value (with two distinct values R's 2:1 runs
        # backwards and its statistic is NaN; here that is the error below)
        m = m[1:-1]
    else:
        lo = np.floor(n * minprop)
        hi = np.floor(n * maxprop)
        if np.all(m < lo):
            raise ValueError("minprop too large: no cut-point leaves that share of patients below it")
        if np.all(m > hi):
            raise ValueError("maxprop too small: no cut-point leaves that share of patients below it")
        m = m[(m >= max(1.0, lo)) & (m <= hi)]
    if m.size < 1:
        raise ValueError("no cut-point between minprop and maxprop (too few distinct values)")
    ss = ys.sum()
    mf = m.astype(np.float64)
    e = mf / n * ss
    v = mf * (n - mf) / (n * n * (n - 1.0)) * (n * np.sum(ys * ys) - ss * ss)
    if not np.all(v > 0):
        raise ValueError("the scores are constant (no events, or one outcome class only)")
    cs = np.cumsum(ys)
    t = np.abs((cs[m - 1] - e) / np.sqrt(v))
    stat = float(t.max())
    best = int(np.flatnonzero(t == stat)[0])
    cuts = xs[m - 1]
    if pmethod == "Lau94":
        p = p_lausen94(stat, n, m)
    elif pmethod == "exactGauss":
        p = p_exact_gauss(stat, n, m)
    else:
        p = float("nan")
    return MaxstatResult(
        statistic=stat,
        cutpoint=float(cuts[best]),
        p_value=p,
        pmethod=pmethod,
        smethod=smethod,
        n=n,
        minprop=minprop,
        maxprop=maxprop,
        cuts=cuts.astype(np.float64),
        stats=t,
        m=m,
    )


def _check_props(minprop: float, maxprop: float, pmethod: str) -> None:
    if pmethod not in _PMETHODS:
        raise ValueError(f"pmethod must be one of {_PMETHODS}; got {pmethod!r}")
    if not (0.0 <= minprop <= maxprop <= 1.0):
        raise ValueError(f"need 0 <= minprop <= maxprop <= 1; got {minprop}, {maxprop}")


def _as_vector(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per patient); got shape {arr.shape}")
    return arr


def maxstat_test(
    values: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    pmethod: PMethod = "Lau94",
) -> MaxstatResult:
    """Best log-rank cut-point of a marker with a p-value adjusted for the search.

    As R ``maxstat.test(Surv(time, event) ~ x, smethod = "LogRank", pmethod, minprop,
    maxprop)`` (see the module docstring for the statistic and both p-value methods).
    Patients with a missing marker, time or event are dropped first (R's ``na.omit``).
    """
    _check_props(minprop, maxprop, pmethod)
    x = _as_vector(values, "values")
    t = _as_vector(time, "time")
    e = _as_vector(event, "event")
    if not (x.size == t.size == e.size):
        raise ValueError(f"values, time and event differ in length: {x.size}, {t.size}, {e.size}")
    keep = ~(np.isnan(x) | np.isnan(t) | np.isnan(e))
    x, t, e = x[keep], t[keep], e[keep]
    if x.size < 2:
        raise ValueError("need at least 2 patients with a marker value, time and event")
    if np.any((e != 0) & (e != 1)):
        raise ValueError("event must be 0/1 (1 = event)")
    if np.any(np.isinf(x)) or np.any(np.isinf(t)):
        raise ValueError("values and time must be finite")
    return _maxstat(logrank_scores(t, e), x, minprop, maxprop, pmethod, "LogRank")


def maxstat_test_binary(
    values: ArrayLike,
    outcome: ArrayLike,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    pmethod: PMethod = "Lau94",
) -> MaxstatResult:
    """Best cut-point of a marker for a binary outcome, adjusted for the search.

    As R ``maxstat.test(y ~ x, smethod = "Wilcoxon", pmethod, minprop, maxprop)`` with y the
    0/1 outcome (scores = mid-ranks of y; the standardized statistic is then the two-sample
    proportion comparison at each split). Missing values are dropped first.
    """
    _check_props(minprop, maxprop, pmethod)
    x = _as_vector(values, "values")
    y = _as_vector(outcome, "outcome")
    if x.size != y.size:
        raise ValueError(f"values and outcome differ in length: {x.size}, {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if np.any((y != 0) & (y != 1)):
        raise ValueError("outcome must be 0/1 (or boolean)")
    if np.any(np.isinf(x)):
        raise ValueError("values must be finite")
    if x.size < 2:
        raise ValueError("need at least 2 patients with a marker value and an outcome")
    return _maxstat(_midranks(y), x, minprop, maxprop, pmethod, "Wilcoxon")
