"""Paired and repeated-measures tests, as R's ``stats`` package computes them.

* :func:`wilcoxon_signed_rank` - ``wilcox.test(x, y, paired = TRUE)`` (or one-sample ``wilcox.test(x)``)
* :func:`paired_t` - ``t.test(x, y, paired = TRUE)``
* :func:`friedman` - ``friedman.test(matrix)``
* :func:`mcnemar` - ``mcnemar.test(table)``

Used for within-patient comparisons (a marker before and after infusion, the CAR-T peak of a
first and a repeat infusion, paired response readings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._scipy_stats import stats as sps
from cartscope.stats._validation import check_level

Alternative = Literal["two-sided", "less", "greater"]
_ALTERNATIVES = ("two-sided", "less", "greater")


def _check_alternative(alternative: str) -> str:
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}; got {alternative!r}")
    return alternative


def _numeric_1d(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _differences(x: ArrayLike, y: ArrayLike | None) -> NDArray[np.float64]:
    """x - y over complete pairs (R: ``complete.cases(x, y)`` then ``x - y``, then NA dropped)."""
    xa = _numeric_1d(x, "x")
    if y is None:
        d = xa
    else:
        ya = _numeric_1d(y, "y")
        if xa.shape[0] != ya.shape[0]:
            raise ValueError(f"'x' and 'y' must have the same length, got {xa.shape[0]} and {ya.shape[0]}")
        ok = ~(np.isnan(xa) | np.isnan(ya))
        with np.errstate(invalid="ignore"):
            d = xa[ok] - ya[ok]
    return d[~np.isnan(d)]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _fmt_p(p: float) -> str:
    if np.isnan(p):
        return "NA"
    return "< 2.2e-16" if p < 2.2e-16 else f"{p:.4g}"


# --------------------------------------------------------------------------------------------
# Wilcoxon signed-rank
# --------------------------------------------------------------------------------------------


def signrank_distribution(n: int) -> NDArray[np.float64]:
    """P[V = v] for v = 0..n(n+1)/2 under the null (R's ``dsignrank``), no ties.

    V is the sum of the ranks 1..n carrying a positive sign, each sign +/- with probability 1/2:
    adding rank k either leaves V unchanged or adds k. The probabilities are halved at each
    step, so large n does not overflow (R counts arrangements and divides by 2^n).
    """
    size = n * (n + 1) // 2 + 1
    prob = np.zeros(size)
    prob[0] = 1.0
    top = 0
    for k in range(1, n + 1):
        top += k
        shifted = prob[: top - k + 1].copy()
        prob[: top + 1] *= 0.5
        prob[k : top + 1] += 0.5 * shifted
    return prob


@dataclass(frozen=True)
class WilcoxonSignedRankResult:
    """Wilcoxon signed-rank test (R ``wilcox.test(..., paired = TRUE)``).

    ``statistic`` is R's V: the sum of the ranks of |d| over the positive differences
    d = x - y - mu, after dropping zero differences. ``n`` counts the non-zero differences,
    ``n_zeros`` the dropped zeros; ``method`` is "exact" or "normal".
    """

    statistic: float
    p_value: float
    method: str
    n: int
    n_zeros: int
    ties: bool
    alternative: str
    correct: bool
    mu: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "statistic": [self.statistic], "p_value": [self.p_value], "method": [self.method],
                "n": [self.n], "n_zeros": [self.n_zeros], "ties": [self.ties],
                "alternative": [self.alternative], "correct": [self.correct], "mu": [self.mu],
            }
        )

    def __repr__(self) -> str:
        title = "Wilcoxon signed rank exact test" if self.method == "exact" else (
            "Wilcoxon signed rank test" + (" with continuity correction" if self.correct else "")
        )
        return (
            f"{title}\nV = {_fmt(self.statistic)}, p-value = {_fmt_p(self.p_value)}"
            f" (n = {self.n}, zeros dropped = {self.n_zeros}, alternative = {self.alternative})"
        )


def wilcoxon_signed_rank(
    x: ArrayLike,
    y: ArrayLike | None = None,
    exact: bool | None = None,
    correct: bool = True,
    alternative: Alternative = "two-sided",
    mu: float = 0.0,
) -> WilcoxonSignedRankResult:
    """Wilcoxon signed-rank test of paired samples, as R ``wilcox.test(x, y, paired = TRUE)``.

    With ``y = None`` it is the one-sample test of ``x`` (R ``wilcox.test(x, mu = mu)``).

    Notes
    -----
    Pairs with a missing value are dropped (``complete.cases``). d = x - y - mu; zero
    differences are dropped (R's ``ZEROES``) and n is the number left. V = sum of the mid-ranks
    of |d| over d > 0. ``exact = None`` is R's auto rule: exact when n < 50 (n after dropping
    zeros). The exact null distribution is used only when there are no tied |d| and no zeros;
    otherwise (as R, which warns) the normal approximation
    z = (V - n(n+1)/4 - CORRECTION) / sigma,
    sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48 over tie blocks t of |d|,
    CORRECTION = sign(V - n(n+1)/4)/2 (two-sided), 1/2 (greater), -1/2 (less) when ``correct``.
    Two-sided exact p = min(1, 2 P[V >= v]) if v > n(n+1)/4 else min(1, 2 P[V <= v]).
    When every difference is zero R's p-value is NaN (0/0), and so is this one.
    """
    _check_alternative(alternative)
    try:
        mu_f = float(mu)
    except (TypeError, ValueError):
        raise ValueError(f"mu must be a single finite number, got {mu!r}") from None
    if not np.isfinite(mu_f):
        raise ValueError(f"mu must be a single finite number, got {mu!r}")
    d = _differences(x, y)
    if d.size < 1:
        raise ValueError("not enough (non-missing) 'x' observations")
    d = d - mu_f
    zeros = d == 0
    n_zeros = int(zeros.sum())
    d = d[~zeros]
    n = int(d.size)
    use_exact = (n < 50) if exact is None else bool(exact)
    ranks = sps.rankdata(np.abs(d), method="average")
    v = float(ranks[d > 0].sum())
    _, counts = np.unique(ranks, return_counts=True)
    ties = bool((counts > 1).any())
    if use_exact and not ties and n_zeros == 0:
        prob = signrank_distribution(n)
        lower = np.cumsum(prob)  # P[V <= q]
        upper = np.cumsum(prob[::-1])[::-1]  # P[V >= q]
        q = int(round(v))
        if alternative == "two-sided":
            p = upper[q] if v > n * (n + 1) / 4.0 else lower[q]
            p_value = float(min(2.0 * p, 1.0))
        elif alternative == "greater":
            p_value = float(min(upper[q], 1.0))
        else:
            p_value = float(min(lower[q], 1.0))
        method = "exact"
    else:
        cf = counts.astype(np.float64)
        z = v - n * (n + 1) / 4.0
        sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24.0 - float(np.sum(cf**3 - cf)) / 48.0)
        corr = 0.0
        if correct:
            corr = {"two-sided": float(np.sign(z)) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        with np.errstate(divide="ignore", invalid="ignore"):
            zz = (z - corr) / sigma
        if alternative == "less":
            p_value = float(special.ndtr(zz))
        elif alternative == "greater":
            p_value = float(special.ndtr(-zz))
        else:
            p_value = float(2.0 * min(special.ndtr(zz), special.ndtr(-zz)))
            if np.isnan(zz):
                p_value = float("nan")
        method = "normal"
    return WilcoxonSignedRankResult(v, p_value, method, n, n_zeros, ties, alternative, bool(correct), mu_f)


# --------------------------------------------------------------------------------------------
# paired t
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedTResult:
    """Paired t-test (R ``t.test(x, y, paired = TRUE)``): mean difference x - y with CI."""

    statistic: float
    df: float
    p_value: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    level: float
    n: int
    alternative: str
    mu: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "estimate": [self.estimate], "se": [self.se], "ci_lower": [self.ci_lower],
                "ci_upper": [self.ci_upper], "statistic": [self.statistic], "df": [self.df],
                "p_value": [self.p_value], "n": [self.n], "level": [self.level],
                "alternative": [self.alternative], "mu": [self.mu],
            }
        )

    def __repr__(self) -> str:
        return (
            f"Paired t-test\nt = {_fmt(self.statistic)}, df = {_fmt(self.df)}, p-value = {_fmt_p(self.p_value)}\n"
            f"mean difference {_fmt(self.estimate)}, {self.level:.0%} CI {_fmt(self.ci_lower)} to {_fmt(self.ci_upper)}"
            f" (n = {self.n} pairs)"
        )


def paired_t(
    x: ArrayLike,
    y: ArrayLike,
    *,
    mu: float = 0.0,
    alternative: Alternative = "two-sided",
    level: float = 0.95,
) -> PairedTResult:
    """Paired t-test of x - y, as R ``t.test(x, y, paired = TRUE, mu, alternative, conf.level)``.

    Notes
    -----
    d = x - y over complete pairs, n >= 2; se = sd(d)/sqrt(n); t = (mean(d) - mu)/se with
    n - 1 df. Two-sided CI mean(d) +/- t_{1-alpha/2, n-1} se; one-sided intervals are
    (-Inf, mean + t_{level} se) for "less" and (mean - t_{level} se, Inf) for "greater".
    Constant differences (se below 10 machine epsilons of |mean|) are an error, as in R.
    """
    _check_alternative(alternative)
    lvl = check_level(level)
    mu_f = float(mu)
    d = _differences(x, y)
    n = int(d.size)
    if n < 2:
        raise ValueError("not enough 'x' observations (need at least 2 complete pairs)")
    mean = float(np.mean(d))
    sd = float(np.std(d, ddof=1))
    se = sd / np.sqrt(n)
    if se < 10 * np.finfo(float).eps * abs(mean) or se == 0:
        raise ValueError("data are essentially constant: the paired differences do not vary")
    df = float(n - 1)
    t = (mean - mu_f) / se
    if alternative == "less":
        p = float(sps.t.cdf(t, df))
        lo, hi = -np.inf, t + float(sps.t.ppf(lvl, df))
    elif alternative == "greater":
        p = float(sps.t.sf(t, df))
        lo, hi = t - float(sps.t.ppf(lvl, df)), np.inf
    else:
        p = float(2.0 * sps.t.cdf(-abs(t), df))
        q = float(sps.t.ppf(1.0 - (1.0 - lvl) / 2.0, df))
        lo, hi = t - q, t + q
    return PairedTResult(
        float(t), df, p, mean, float(se), float(mu_f + lo * se), float(mu_f + hi * se), lvl, n,
        alternative, mu_f,
    )


# --------------------------------------------------------------------------------------------
# Friedman
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman rank-sum test (R ``friedman.test``): chi-squared statistic, df = k - 1, p."""

    statistic: float
    df: int
    p_value: float
    n_blocks: int
    n_groups: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "statistic": [self.statistic], "df": [self.df], "p_value": [self.p_value],
                "n_blocks": [self.n_blocks], "n_groups": [self.n_groups],
            }
        )

    def __repr__(self) -> str:
        return (
            f"Friedman rank sum test\nFriedman chi-squared = {_fmt(self.statistic)}, df = {self.df},"
            f" p-value = {_fmt_p(self.p_value)} ({self.n_blocks} blocks x {self.n_groups} groups)"
        )


def friedman(matrix: ArrayLike) -> FriedmanResult:
    """Friedman test of a blocks x groups matrix (rows = patients, columns = time points).

    As R ``friedman.test(matrix)``: rows with a missing value are dropped (complete blocks),
    values are mid-ranked within each row, and with R_j the column rank sums over n blocks and
    k groups

    X^2 = 12 sum_j (R_j - n(k+1)/2)^2 / (n k (k+1) - sum(t^3 - t)/(k - 1)),

    the sum over tie blocks t within rows; p = P[chi^2_{k-1} >= X^2].
    """
    try:
        y = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("matrix must be numeric") from exc
    if y.ndim != 2:
        raise ValueError(f"matrix must be 2-D (blocks x groups), got shape {y.shape}")
    k = y.shape[1]
    if k < 2:
        raise ValueError("need at least 2 groups (columns)")
    y = y[~np.isnan(y).any(axis=1)]
    n = y.shape[0]
    if n < 1:
        raise ValueError("not enough complete blocks (rows without missing values)")
    r = sps.rankdata(y, method="average", axis=1)
    tie_sum = 0.0
    for row in y:
        _, c = np.unique(row, return_counts=True)
        cf = c.astype(np.float64)
        tie_sum += float(np.sum(cf**3 - cf))
    col = r.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = 12.0 * float(np.sum((col - n * (k + 1) / 2.0) ** 2)) / (
            n * k * (k + 1) - tie_sum / (k - 1)
        )
    p = float(sps.chi2.sf(stat, k - 1))
    return FriedmanResult(float(stat), k - 1, p, n, k)


# --------------------------------------------------------------------------------------------
# McNemar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's chi-squared test of a square table of paired classifications (R ``mcnemar.test``)."""

    statistic: float
    df: int
    p_value: float
    correct: bool

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"statistic": [self.statistic], "df": [self.df], "p_value": [self.p_value],
             "correct": [self.correct]}
        )

    def __repr__(self) -> str:
        title = "McNemar's Chi-squared test" + (" with continuity correction" if self.correct else "")
        return (
            f"{title}\nMcNemar's chi-squared = {_fmt(self.statistic)}, df = {self.df},"
            f" p-value = {_fmt_p(self.p_value)}"
        )


def mcnemar(table: ArrayLike, correct: bool = True) -> McNemarResult:
    """McNemar's test of symmetry of an r x r table (rows: first reading, columns: second).

    As R ``mcnemar.test(table, correct)``: X^2 = sum_{i<j} (n_ij - n_ji)^2 / (n_ij + n_ji) with
    df = r(r-1)/2; for a 2 x 2 table with ``correct`` (and some discordance) the numerator is
    (|n_12 - n_21| - 1)^2. A pair of empty discordant cells gives 0/0 = NaN, as in R.
    ``correct`` in the result says whether the correction was applied.
    """
    try:
        x = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("table must be numeric") from exc
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[0] != x.shape[1]:
        raise ValueError(f"table must be square with at least two rows and columns, got shape {x.shape}")
    if not np.isfinite(x).all() or (x < 0).any():
        raise ValueError("all entries of the table must be nonnegative and finite")
    r = x.shape[0]
    diff = x - x.T
    applied = bool(correct and r == 2 and (diff != 0).any())
    num = np.abs(diff) - 1.0 if applied else diff
    tot = x + x.T
    iu = np.triu_indices(r, k=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.sum(num[iu] ** 2 / tot[iu]))
    df = r * (r - 1) // 2
    return McNemarResult(stat, df, float(sps.chi2.sf(stat, df)), applied)
