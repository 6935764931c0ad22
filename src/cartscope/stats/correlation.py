"""Correlation tests as R ``cor.test``: Pearson (t test, Fisher-z CI), Spearman and Kendall.

Spearman's p follows R exactly: without ties (R's default ``exact = TRUE`` for n <= 1290) the
null distribution of S = sum(d^2) is AS 89 (Best & Roberts, Appl. Statist. 1975;24:377):
complete enumeration of the n! permutations for n <= 9 and the Edgeworth series beyond; with
ties (or n > 1290) the t approximation with n - 2 df on rho. Kendall's p is exact (the
permutation distribution of the number of concordant pairs) for n < 50 without ties, otherwise
the normal approximation with R's tie-corrected variance. Only Pearson has a confidence
interval in ``cor.test``; for the rank methods the interval fields are NaN.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._scipy_stats import stats

from cartscope.stats._validation import check_level

# AS 89 Edgeworth coefficients
_C = (0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4)


@dataclass(frozen=True)
class CorrelationResult:
    """Correlation estimate with its test; ``statistic`` is t (Pearson), S (Spearman), T or z
    (Kendall, exact or normal) as R reports it."""

    estimate: float
    statistic: float
    p_value: float
    ci_lower: float
    ci_upper: float
    method: str
    exact: bool
    n: int
    alternative: str
    level: float

    def __iter__(self) -> Iterator[float]:
        return iter((self.estimate, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])


def _as89_edgeworth(s: float, n: int) -> tuple[float, float]:
    """AS 89 for n > 9: the standardised statistic x and the Edgeworth correction term.

    The upper tail is ``ndtr(-x) + u`` and the lower tail ``ndtr(x) - u`` (Best & Roberts 1975).
    """
    y = float(n)
    b = 1.0 / y
    x = (6.0 * (s - 1.0) * b / (y * y - 1.0) - 1.0) * np.sqrt(y - 1.0)
    y = x * x
    c = _C
    u = x * b * (c[0] + b * (c[1] + c[2] * b)
                 + y * (-c[3] + b * (c[4] + c[5] * b)
                        - y * b * (c[6] + c[7] * b - y * (c[8] - c[9] * b + y * b * (c[10] - c[11] * y)))))
    return x, u / np.exp(y / 2.0)


def _prho_upper(s: float, n: int) -> float:
    """AS 89: P[S >= s] for Spearman's S = sum of squared rank differences, no ties."""
    n3 = n * (n * n - 1.0) / 3.0  # largest possible S
    if s <= 0:
        return 1.0
    if s > n3:
        return 0.0
    if n <= 9:
        ranks = np.arange(1, n + 1)
        perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.int64)
        sums = ((perms - ranks) ** 2).sum(axis=1)
        return float((sums >= s).sum()) / perms.shape[0]
    x, u = _as89_edgeworth(s, n)
    return float(min(1.0, max(0.0, u + special.ndtr(-x))))


def _prho_lower(s: float, n: int) -> float:
    """AS 89 lower tail P[S < s]."""
    n3 = n * (n * n - 1.0) / 3.0
    if s <= 0:
        return 0.0
    if s > n3:
        return 1.0
    if n <= 9:
        return 1.0 - _prho_upper(s, n)
    x, u = _as89_edgeworth(s, n)
    return float(min(1.0, max(0.0, -u + special.ndtr(x))))


def _kendall_counts(n: int) -> NDArray[np.float64]:
    """Number of permutations of n with k inversions, k = 0..n(n-1)/2 (Mahonian numbers)."""
    counts = np.ones(1)
    for i in range(2, n + 1):
        new = np.zeros(counts.size + i - 1)
        for shift in range(i):
            new[shift : shift + counts.size] += counts
        counts = new
    return counts


def _kendall_tau_b(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Kendall's tau-b (R ``cor(method="kendall")``), O(n log n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.kendalltau(x, y, variant="b").statistic)


def _tail_p(p_lower: float, p_upper: float, alternative: str) -> float:
    if alternative == "less":
        return p_lower
    if alternative == "greater":
        return p_upper
    return min(1.0, 2.0 * min(p_lower, p_upper))


def correlation(
    x: ArrayLike,
    y: ArrayLike,
    method: Literal["pearson", "spearman", "kendall"] = "pearson",
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    level: float = 0.95,
    exact: bool | None = None,
) -> CorrelationResult:
    """Test for association between paired samples, as R ``cor.test(x, y, method=...)``.

    Pairs with a missing value (NaN) in either vector are dropped. Notes per method:

    * pearson: r; t = sqrt(n-2) r / sqrt(1-r^2) on n-2 df; CI tanh(atanh(r) -/+ z / sqrt(n-3))
      (n > 3).
    * spearman: rho = Pearson r of the mid-ranks; S = (n^3-n)(1-rho)/6; p from AS 89 as R
      (``exact=None`` means exact when there are no ties), else the t approximation.
    * kendall: tau-b; exact (T = number of concordant pairs) when n < 50 and no ties, else
      z = S / sqrt(var_S) with R's tie-corrected var_S.
    """
    lvl = check_level(level)
    if method not in ("pearson", "spearman", "kendall"):
        raise ValueError(f"method must be 'pearson', 'spearman' or 'kendall'; got {method!r}")
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater'; got {alternative!r}")
    try:
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("x and y must be numeric") from exc
    if xa.ndim != 1 or ya.ndim != 1 or xa.shape != ya.shape:
        raise ValueError("x and y must be 1-D of the same length")
    ok = ~(np.isnan(xa) | np.isnan(ya))
    xa, ya = xa[ok], ya[ok]
    if np.isinf(xa).any() or np.isinf(ya).any():
        raise ValueError("x and y must be finite (infinite values found)")
    n = xa.size
    if method == "pearson":
        return _pearson(xa, ya, alternative, lvl)
    if n < 2:
        raise ValueError("not enough finite observations (need at least 2)")
    ties = min(np.unique(xa).size, np.unique(ya).size) < n
    if method == "spearman":
        return _spearman(xa, ya, alternative, lvl, exact, ties)
    return _kendall(xa, ya, alternative, lvl, exact, ties)


def _pearson(x: NDArray[np.float64], y: NDArray[np.float64], alternative: str, level: float) -> CorrelationResult:
    n = x.size
    if n < 3:
        raise ValueError("not enough finite observations (Pearson needs at least 3)")
    xc = x - x.mean()
    yc = y - y.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        r = float((xc @ yc) / np.sqrt((xc @ xc) * (yc @ yc)))
        r = max(-1.0, min(1.0, r))
        df = n - 2
        t = float(np.sqrt(df) * r / np.sqrt(1.0 - r * r))
    p = _tail_p(float(stats.t.cdf(t, df)), float(stats.t.sf(t, df)), alternative)
    lo = hi = np.nan
    if n > 3:
        z = np.arctanh(r) if abs(r) < 1 else np.sign(r) * np.inf
        sigma = 1.0 / np.sqrt(n - 3.0)
        if alternative == "less":
            lo, hi = -np.inf, z + sigma * special.ndtri(level)
        elif alternative == "greater":
            lo, hi = z - sigma * special.ndtri(level), np.inf
        else:
            q = special.ndtri((1.0 + level) / 2.0)
            lo, hi = z - sigma * q, z + sigma * q
        lo, hi = float(np.tanh(lo)), float(np.tanh(hi))
    return CorrelationResult(r, t, p, lo, hi, "pearson", False, n, alternative, level)


def _spearman(
    x: NDArray[np.float64], y: NDArray[np.float64], alternative: str, level: float,
    exact: bool | None, ties: bool,
) -> CorrelationResult:
    n = x.size
    rx = stats.rankdata(x)
    ry = stats.rankdata(y)
    rxc = rx - rx.mean()
    ryc = ry - ry.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = float((rxc @ ryc) / np.sqrt((rxc @ rxc) * (ryc @ ryc)))
    q = (n**3 - n) * (1.0 - rho) / 6.0
    use_exact = (True if exact is None else bool(exact)) and not ties and n <= 1290

    def p_lower(qq: float) -> float:  # P[S <= qq]
        if use_exact:
            return _prho_lower(float(np.round(qq)) + 2.0, n)
        return _t_approx(qq, n, lower=True)

    def p_upper(qq: float) -> float:  # P[S >= qq]
        if use_exact:
            return _prho_upper(float(np.round(qq)), n)
        return _t_approx(qq, n, lower=False)

    if alternative == "two-sided":
        p = p_upper(q) if q > (n**3 - n) / 6.0 else p_lower(q)
        p = min(2.0 * p, 1.0)
    elif alternative == "greater":
        p = p_lower(q)
    else:
        p = p_upper(q)
    return CorrelationResult(rho, q, p, np.nan, np.nan, "spearman", use_exact, n, alternative, level)


def _t_approx(q: float, n: int, lower: bool) -> float:
    den = n * (n * n - 1.0) / 6.0
    r = 1.0 - q / den
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r / np.sqrt((1.0 - r * r) / (n - 2.0))
    # lower tail of S is the upper tail of rho
    return float(stats.t.sf(t, n - 2) if lower else stats.t.cdf(t, n - 2))


def _kendall(
    x: NDArray[np.float64], y: NDArray[np.float64], alternative: str, level: float,
    exact: bool | None, ties: bool,
) -> CorrelationResult:
    n = x.size
    tau = _kendall_tau_b(x, y)
    if not np.isfinite(tau):
        return CorrelationResult(np.nan, np.nan, np.nan, np.nan, np.nan, "kendall", False, n, alternative, level)
    use_exact = (n < 50 if exact is None else bool(exact)) and not ties
    if use_exact:
        t_stat = float(np.round((tau + 1.0) * n * (n - 1) / 4.0))
        counts = _kendall_counts(n)
        cdf = np.cumsum(counts) / counts.sum()

        def pk(q: float) -> float:  # P[T <= q]
            qi = int(q)
            return 0.0 if qi < 0 else float(cdf[min(qi, cdf.size - 1)])

        if alternative == "two-sided":
            p = 1.0 - pk(t_stat - 1) if t_stat > n * (n - 1) / 4.0 else pk(t_stat)
            p = min(2.0 * p, 1.0)
        elif alternative == "greater":
            p = 1.0 - pk(t_stat - 1)
        else:
            p = pk(t_stat)
        return CorrelationResult(tau, t_stat, p, np.nan, np.nan, "kendall", True, n, alternative, level)
    _, cx = np.unique(x, return_counts=True)
    _, cy = np.unique(y, return_counts=True)
    cx = cx[cx > 1].astype(np.float64)
    cy = cy[cy > 1].astype(np.float64)
    t0 = n * (n - 1) / 2.0
    t1 = float((cx * (cx - 1)).sum()) / 2.0
    t2 = float((cy * (cy - 1)).sum()) / 2.0
    s = tau * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1.0) * (2.0 * n + 5.0)
    vt = float((cx * (cx - 1) * (2 * cx + 5)).sum())
    vu = float((cy * (cy - 1) * (2 * cy + 5)).sum())
    v1 = float((cx * (cx - 1)).sum()) * float((cy * (cy - 1)).sum())
    v2 = float((cx * (cx - 1) * (cx - 2)).sum()) * float((cy * (cy - 1) * (cy - 2)).sum())
    var_s = (v0 - vt - vu) / 18.0 + v1 / (2.0 * n * (n - 1.0)) + v2 / (9.0 * n * (n - 1.0) * (n - 2.0))
    z = float(s / np.sqrt(var_s))
    p = _tail_p(float(special.ndtr(z)), float(special.ndtr(-z)), alternative)
    return CorrelationResult(tau, z, p, np.nan, np.nan, "kendall", False, n, alternative, level)
