"""Contingency-table tests: Fisher's exact test and Pearson's chi-square, as R ``stats``.

* :func:`fisher_exact` is ``fisher.test``: for 2 x 2 the conditional maximum-likelihood odds
  ratio and its exact (conditional) confidence interval; for larger tables the exact p-value by
  a network algorithm over the tables with the observed margins, as R's FEXACT
  (:mod:`cartscope.stats._fisher_network`).
* :func:`chi_square` is ``chisq.test`` (Yates' continuity correction for 2 x 2 by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from cartscope.stats._scipy_stats import stats

from cartscope.stats._fisher_network import fisher_rxc_network
from cartscope.stats._validation import check_level

_REL_ERR = 1.0 + 1e-7  # R's tolerance when collecting tables "as or less likely" than observed
_EPS = np.finfo(float).eps


def _as_table(table: ArrayLike) -> NDArray[np.float64]:
    try:
        arr = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("table must be a 2-D array of non-negative counts") from exc
    if arr.ndim != 2:
        raise ValueError(f"table must be 2-D (rows x columns); got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr != np.round(arr)).any():
        raise ValueError("table must hold non-negative whole counts (no NaN)")
    return arr


# --------------------------------------------------------------------------------------------
# Fisher
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test. ``odds_ratio`` and ``ci_*`` are set for 2 x 2 tables only (else NaN)."""

    p_value: float
    odds_ratio: float
    ci_lower: float
    ci_upper: float
    alternative: str
    level: float
    shape: tuple[int, int]

    def __iter__(self) -> Iterator[float]:
        return iter((self.odds_ratio, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])


class _NonCentralHypergeometric:
    """Distribution of the [1, 1] cell of a 2 x 2 table given its margins and odds ratio."""

    def __init__(self, table: NDArray[np.float64]) -> None:
        self.x = int(table[0, 0])
        self.m = int(table[:, 0].sum())  # first column total
        self.n = int(table[:, 1].sum())
        self.k = int(table[0, :].sum())  # first row total
        self.lo = max(0, self.k - self.n)
        self.hi = min(self.k, self.m)
        self.support = np.arange(self.lo, self.hi + 1, dtype=np.float64)
        self.logdc = stats.hypergeom.logpmf(self.support, self.m + self.n, self.m, self.k)

    def density(self, ncp: float) -> NDArray[np.float64]:
        d = self.logdc + np.log(ncp) * self.support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mean(self, ncp: float) -> float:
        if ncp == 0:
            return float(self.lo)
        if ncp == np.inf:
            return float(self.hi)
        return float((self.support * self.density(ncp)).sum())

    def cdf(self, q: int, ncp: float, upper: bool = False) -> float:
        """P[X <= q] (or P[X >= q] when ``upper``) under odds ratio ``ncp``."""
        if ncp == 1:
            if upper:
                return float(stats.hypergeom.sf(q - 1, self.m + self.n, self.m, self.k))
            return float(stats.hypergeom.cdf(q, self.m + self.n, self.m, self.k))
        if ncp == 0:
            return float(q <= self.lo) if upper else float(q >= self.lo)
        if ncp == np.inf:
            return float(q <= self.hi) if upper else float(q >= self.hi)
        d = self.density(ncp)
        mask = self.support >= q if upper else self.support <= q
        return float(d[mask].sum())


def _root(f: Any, lo: float, hi: float) -> float:
    return float(optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * _EPS, maxiter=500))


def _fisher_2x2(table: NDArray[np.float64], alternative: str, level: float, or0: float) -> FisherResult:
    h = _NonCentralHypergeometric(table)
    x, lo, hi = h.x, h.lo, h.hi
    if alternative == "less":
        p = h.cdf(x, or0)
    elif alternative == "greater":
        p = h.cdf(x, or0, upper=True)
    elif or0 == 0:
        p = float(x == lo)
    elif or0 == np.inf:
        p = float(x == hi)
    else:
        d = h.density(or0)
        p = float(d[d <= d[x - lo] * _REL_ERR].sum())
    p = min(1.0, max(0.0, p))

    # conditional MLE: the odds ratio whose conditional mean equals x
    if x == lo:
        est = 0.0
    elif x == hi:
        est = np.inf
    else:
        mu = h.mean(1.0)
        if mu > x:
            est = _root(lambda t: h.mean(t) - x, 0.0 + 1e-300, 1.0)
        elif mu < x:
            est = 1.0 / _root(lambda t: h.mean(1.0 / t) - x, _EPS, 1.0)
        else:
            est = 1.0

    def upper_limit(alpha: float) -> float:
        if x == hi:
            return np.inf
        pp = h.cdf(x, 1.0)
        if pp < alpha:
            return _root(lambda t: h.cdf(x, t) - alpha, 0.0 + 1e-300, 1.0)
        if pp > alpha:
            return 1.0 / _root(lambda t: h.cdf(x, 1.0 / t) - alpha, _EPS, 1.0)
        return 1.0

    def lower_limit(alpha: float) -> float:
        if x == lo:
            return 0.0
        pp = h.cdf(x, 1.0, upper=True)
        if pp > alpha:
            return _root(lambda t: h.cdf(x, t, upper=True) - alpha, 0.0 + 1e-300, 1.0)
        if pp < alpha:
            return 1.0 / _root(lambda t: h.cdf(x, 1.0 / t, upper=True) - alpha, _EPS, 1.0)
        return 1.0

    if alternative == "less":
        ci = (0.0, upper_limit(1.0 - level))
    elif alternative == "greater":
        ci = (lower_limit(1.0 - level), np.inf)
    else:
        alpha = (1.0 - level) / 2.0
        ci = (lower_limit(alpha), upper_limit(alpha))
    return FisherResult(p, float(est), float(ci[0]), float(ci[1]), alternative, level, (2, 2))


def fisher_exact(
    table: ArrayLike,
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    level: float = 0.95,
    odds_ratio: float = 1.0,
    max_tables: int = 2_000_000,
) -> FisherResult:
    """Fisher's exact test of independence in an r x c table, as R ``fisher.test``.

    Notes
    -----
    2 x 2: the [1, 1] cell follows the non-central hypergeometric distribution given the
    margins; the two-sided p sums the probabilities (under ``odds_ratio``) of all values no more
    likely than the observed one, with R's relative tolerance 1e-7. The estimate is the
    conditional MLE (the odds ratio whose conditional mean equals the observed cell), and the
    interval inverts the two one-sided tests (``level`` split in two). R solves both with
    ``uniroot`` at its default tolerance (about 1e-4); cartscope solves to machine precision,
    so estimates and limits agree with R to about 1e-4 relative, and to 1e-8 with R's formula
    run at a tight tolerance (see the R script beside the tests).

    r x c: p = sum of P(T) over tables T with the same margins and
    log P(T) <= log P(observed) + 3.45254e-7 (FEXACT's tolerance, which R's ``fisher.test``
    uses for every table but 2 x 2), by the network algorithm (Mehta and Patel 1983;
    :mod:`cartscope.stats._fisher_network`); more than ``max_tables`` open paths at one stage
    raises ``ValueError`` (the role of R's ``workspace``). The limits are set so that tables
    R refuses at its default ``workspace = 200000`` (FEXACT error 6 or 7, e.g. 4 x 5 tables
    near N = 100) still get their exact p, equal to R's run with a larger ``workspace``.
    ``alternative`` other than two-sided applies to 2 x 2 only.
    """
    t = _as_table(table)
    lvl = check_level(level)
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater'; got {alternative!r}")
    # R drops empty rows and columns before testing
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError("table needs at least 2 non-empty rows and 2 non-empty columns")
    if t.shape == (2, 2):
        if odds_ratio < 0 or not np.isfinite(odds_ratio) and odds_ratio != np.inf:
            raise ValueError("odds_ratio must be a non-negative number")
        return _fisher_2x2(t, alternative, lvl, float(odds_ratio))
    if alternative != "two-sided":
        raise ValueError("one-sided alternatives apply to 2 x 2 tables only")
    p = fisher_rxc_network(t, int(max_tables))
    return FisherResult(p, np.nan, np.nan, np.nan, alternative, lvl, (int(t.shape[0]), int(t.shape[1])))


# --------------------------------------------------------------------------------------------
# chi-square
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChiSquareResult:
    """Pearson chi-square test; ``expected`` and ``residuals`` (Pearson) are cell arrays."""

    statistic: float
    df: int
    p_value: float
    correction: bool
    expected: NDArray[np.float64]
    residuals: NDArray[np.float64]
    warnings: tuple[str, ...]

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"statistic": self.statistic, "df": self.df, "p_value": self.p_value,
              "correction": self.correction}]
        )


def chi_square(table: ArrayLike, correct: bool = True, p: ArrayLike | None = None) -> ChiSquareResult:
    """Pearson's chi-square test, as R ``chisq.test``.

    A 2-D table tests independence: E = row total x column total / N, df = (r-1)(c-1),
    X^2 = sum((|O - E| - Y)^2 / E) with Yates' Y = min(0.5, |O - E|) for a 2 x 2 table when
    ``correct`` (else Y = 0). A 1-D vector tests goodness of fit against probabilities ``p``
    (equal by default), df = k - 1, no correction. p = P[chi^2_df >= X^2].
    """
    arr = np.asarray(table, dtype=np.float64)
    if arr.ndim == 1 or (arr.ndim == 2 and 1 in arr.shape):
        obs = arr.ravel()
        if not np.isfinite(obs).all() or (obs < 0).any():
            raise ValueError("counts must be finite and non-negative")
        probs = np.full(obs.size, 1.0 / obs.size) if p is None else np.asarray(p, dtype=np.float64)
        if probs.shape != obs.shape or (probs < 0).any() or abs(probs.sum() - 1.0) > np.sqrt(_EPS):
            raise ValueError("p must be non-negative probabilities summing to 1, one per cell")
        expected = obs.sum() * probs
        df = obs.size - 1
        yates = 0.0
        corrected = False
    else:
        obs = _as_table(arr)
        n = obs.sum()
        if n == 0:
            raise ValueError("table is all zero")
        expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / n
        df = (obs.shape[0] - 1) * (obs.shape[1] - 1)
        corrected = bool(correct and obs.shape == (2, 2))
        yates = float(min(0.5, np.abs(obs - expected).min())) if corrected else 0.0
        corrected = corrected and yates > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.sum((np.abs(obs - expected) - yates) ** 2 / expected))
        resid = (obs - expected) / np.sqrt(expected)
    warn: tuple[str, ...] = ()
    if (expected < 5).any():
        warn = ("Chi-squared approximation may be incorrect (an expected count is below 5)",)
    pval = float(stats.chi2.sf(stat, df)) if np.isfinite(stat) else np.nan
    return ChiSquareResult(stat, int(df), pval, corrected, expected, resid, warn)
