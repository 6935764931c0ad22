"""Rank tests: Wilcoxon-Mann-Whitney (vectorised over markers) and Kruskal-Wallis.

Both match R's ``stats`` package: :func:`mann_whitney` is ``wilcox.test(x, y)`` (two independent
samples) and :func:`kruskal_wallis` is ``kruskal.test``. The rank pass (one sort per marker on a
markers x patients layout, then int32 running counts; :mod:`cartscope.stats._ranks`) is shared
with :mod:`cartscope.stats.roc`, whose AUC is the Mann-Whitney U divided by
``n_cases * n_controls``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._scipy_stats import stats

from cartscope.stats._ranks import RankPass, marker_chunks, rank_pass

Alternative = Literal["two-sided", "less", "greater"]
_ALTERNATIVES = ("two-sided", "less", "greater")

# --------------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------------


def _as_float_matrix(values: ArrayLike, name: str) -> tuple[NDArray[np.float64], bool]:
    """Return ``values`` as a (patients x markers) float array and whether it was 1-D."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (got values that cannot become floats)") from exc
    if arr.ndim == 0:
        return arr.reshape(1, 1), True
    if arr.ndim == 1:
        return arr[:, None], True
    if arr.ndim == 2:
        return arr, False
    raise ValueError(f"{name} must be 1-D (patients) or 2-D (patients x markers); got {arr.ndim}-D")


def _check_alternative(alternative: str) -> str:
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}; got {alternative!r}")
    return alternative


# --------------------------------------------------------------------------------------------
# rank statistics from the shared rank pass (cartscope.stats._ranks)
# --------------------------------------------------------------------------------------------


def u_statistic(ranked: RankPass) -> NDArray[np.float64]:
    """Mann-Whitney U of group A per row: pairs (a, b) with a > b, ties counted half (exact)."""
    return 0.5 * ranked.u2.astype(np.float64)


def tie_term(ranked: RankPass) -> NDArray[np.float64]:
    """sum(t^3 - t) over tie blocks of the pooled sample (R's NTIES correction)."""
    return ranked.ties


# --------------------------------------------------------------------------------------------
# exact null distribution of U (R's pwilcox)
# --------------------------------------------------------------------------------------------


def wilcox_counts(m: int, n: int) -> NDArray[np.float64]:
    """Number of arrangements giving U = 0..m*n for sample sizes m and n (no ties).

    Recurrence on the largest pooled observation: it comes from the first sample (U gains n,
    leaving sizes m-1, n) or from the second (U unchanged, leaving m, n-1).
    """
    prev: list[NDArray[np.float64]] = [np.ones(1) for _ in range(n + 1)]
    for i in range(1, m + 1):
        cur: list[NDArray[np.float64]] = [np.ones(1)]
        for j in range(1, n + 1):
            arr = np.zeros(i * j + 1)
            shifted = prev[j]
            arr[j : j + shifted.size] += shifted
            arr[: cur[j - 1].size] += cur[j - 1]
            cur.append(arr)
        prev = cur
    return prev[n]


def _exact_p(u: float, m: int, n: int, alternative: str, cache: dict[tuple[int, int], Any]) -> float:
    key = (m, n)
    if key not in cache:
        counts = wilcox_counts(m, n)
        total = counts.sum()
        lower = np.cumsum(counts) / total  # P[U <= q]
        upper = np.cumsum(counts[::-1])[::-1] / total  # P[U >= q]
        cache[key] = (lower, upper)
    lower, upper = cache[key]
    q = int(round(u))
    if alternative == "less":
        return float(lower[q])
    if alternative == "greater":
        return float(upper[q])
    p = upper[q] if u > m * n / 2 else lower[q]
    return float(min(2.0 * p, 1.0))


# --------------------------------------------------------------------------------------------
# Mann-Whitney
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MannWhitneyResult:
    """Wilcoxon rank-sum / Mann-Whitney test, one entry per marker.

    ``statistic`` is R's W: the rank sum of ``x`` minus n_x(n_x+1)/2 (the number of pairs with
    x > y, ties counted half). ``method`` per marker is "exact" or "normal" (the normal
    approximation with tie correction, and continuity correction when ``correct``). For 1-D
    input the fields are scalars, for 2-D input arrays over markers.
    """

    statistic: Any
    p_value: Any
    method: Any
    n_x: Any
    n_y: Any
    alternative: str
    correct: bool

    def __iter__(self) -> Iterator[Any]:
        return iter((self.statistic, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "statistic": np.atleast_1d(self.statistic),
                "p_value": np.atleast_1d(self.p_value),
                "method": np.atleast_1d(self.method),
                "n_x": np.atleast_1d(self.n_x),
                "n_y": np.atleast_1d(self.n_y),
                "alternative": self.alternative,
            }
        )


def mann_whitney(
    x: ArrayLike,
    y: ArrayLike,
    alternative: Alternative = "two-sided",
    method: Literal["auto", "exact", "asymptotic"] = "auto",
    correct: bool = True,
) -> MannWhitneyResult:
    """Two-sample Wilcoxon rank-sum test, as R ``wilcox.test(x, y, alternative, exact, correct)``.

    ``x`` and ``y`` are 1-D (patients) or 2-D (patients x markers, same number of markers);
    missing values (NaN) are dropped per marker, as R drops NA.

    Notes
    -----
    W = sum(rank(x)) - n_x(n_x+1)/2 over the pooled sample with mid-ranks for ties.
    ``method="auto"`` is R's ``exact = NULL``: the exact null distribution when both samples
    have fewer than 50 values and there are no ties, else the normal approximation
    z = (W - n_x n_y / 2 - CORRECTION) / sigma with
    sigma^2 = n_x n_y / 12 * (n_x + n_y + 1 - sum(t^3 - t) / ((n_x + n_y)(n_x + n_y - 1))),
    CORRECTION = sign(z) / 2 (two-sided), 1/2 ("greater"), -1/2 ("less") when ``correct``.
    ``method="exact"`` with ties falls back to the normal approximation, as R does (with a
    warning there; here the per-marker ``method`` field says "normal").
    Two-sided exact p = min(1, 2 * P[U >= W]) if W > n_x n_y / 2 else min(1, 2 * P[U <= W]).
    One sort per marker: markers are processed in chunks so extra memory stays a fraction of
    the input.
    """
    _check_alternative(alternative)
    if method not in ("auto", "exact", "asymptotic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'asymptotic'; got {method!r}")
    xm, x1d = _as_float_matrix(x, "x")
    ym, y1d = _as_float_matrix(y, "y")
    if x1d != y1d:
        raise ValueError("x and y must both be 1-D or both be 2-D (patients x markers)")
    if xm.shape[1] != ym.shape[1]:
        raise ValueError(f"x has {xm.shape[1]} markers but y has {ym.shape[1]}")
    n_rows = xm.shape[0] + ym.shape[0]
    group_a = np.zeros(n_rows, dtype=bool)
    group_a[: xm.shape[0]] = True
    n_markers = xm.shape[1]
    w = np.empty(n_markers)
    ties = np.empty(n_markers)
    nx = np.empty(n_markers)
    ny = np.empty(n_markers)
    for cols in marker_chunks(n_rows, n_markers):
        rows = np.concatenate([xm[:, cols].T, ym[:, cols].T], axis=1)
        ranked = rank_pass(rows, group_a)
        del rows
        w[cols] = u_statistic(ranked)
        ties[cols] = tie_term(ranked)
        nx[cols] = ranked.n_a
        ny[cols] = ranked.n_b
    if x1d:
        if nx[0] < 1:
            raise ValueError("not enough (non-missing) 'x' observations")
        if ny[0] < 1:
            raise ValueError("not enough (non-missing) 'y' observations")
    p, used = _wilcox_p(w, ties, nx, ny, alternative, method, correct)
    if x1d:
        return MannWhitneyResult(
            float(w[0]), float(p[0]), str(used[0]), int(nx[0]), int(ny[0]), alternative, correct
        )
    return MannWhitneyResult(
        w, p, used, nx.astype(np.int64), ny.astype(np.int64), alternative, correct
    )


def _wilcox_p(
    w: NDArray[np.float64],
    ties: NDArray[np.float64],
    nx: NDArray[np.float64],
    ny: NDArray[np.float64],
    alternative: str,
    method: str,
    correct: bool,
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """P-values per marker: exact where chosen and possible, else normal approximation."""
    empty = (nx < 1) | (ny < 1)
    if method == "asymptotic":
        want_exact = np.zeros(w.shape, dtype=bool)
    elif method == "exact":
        want_exact = np.ones(w.shape, dtype=bool)
    else:
        want_exact = (nx < 50) & (ny < 50)
    exact = want_exact & (ties == 0) & ~empty
    p = np.full(w.shape, np.nan)
    used = np.where(exact, "exact", "normal").astype(object)
    used[empty] = "none"
    cache: dict[tuple[int, int], Any] = {}
    idx = np.flatnonzero(exact)
    if idx.size:
        # one null distribution per pair of sample sizes, looked up for all its markers
        sizes = nx[idx].astype(np.int64) * (int(np.max(ny[idx])) + 1) + ny[idx].astype(np.int64)
        for key in np.unique(sizes):
            sel = idx[sizes == key]
            mm, nn = int(nx[sel[0]]), int(ny[sel[0]])
            _exact_p(0.0, mm, nn, alternative, cache)
            lower, upper = cache[(mm, nn)]
            q = np.rint(w[sel]).astype(np.int64)
            if alternative == "less":
                p[sel] = lower[q]
            elif alternative == "greater":
                p[sel] = upper[q]
            else:
                p[sel] = np.minimum(2.0 * np.where(w[sel] > mm * nn / 2, upper[q], lower[q]), 1.0)
    normal = ~exact & ~empty
    if normal.any():
        n = nx + ny
        with np.errstate(divide="ignore", invalid="ignore"):
            z = w - nx * ny / 2.0
            sigma = np.sqrt((nx * ny / 12.0) * ((n + 1.0) - ties / (n * (n - 1.0))))
            if correct:
                if alternative == "two-sided":
                    corr = np.sign(z) * 0.5
                elif alternative == "greater":
                    corr = np.full(z.shape, 0.5)
                else:
                    corr = np.full(z.shape, -0.5)
            else:
                corr = np.zeros(z.shape)
            z = (z - corr) / sigma
        if alternative == "less":
            pn = special.ndtr(z)
        elif alternative == "greater":
            pn = special.ndtr(-z)
        else:
            pn = 2.0 * np.minimum(special.ndtr(z), special.ndtr(-z))
        p[normal] = pn[normal]
    return p, used.astype(str)


# --------------------------------------------------------------------------------------------
# Kruskal-Wallis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KruskalWallisResult:
    """Kruskal-Wallis rank-sum test (R ``kruskal.test``): H statistic, df = k - 1, p."""

    statistic: float
    df: int
    p_value: float
    n: tuple[int, ...]

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.p_value))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"statistic": [self.statistic], "df": [self.df], "p_value": [self.p_value]}
        )


def kruskal_wallis(*groups: ArrayLike) -> KruskalWallisResult:
    """Kruskal-Wallis test over two or more groups, as R ``kruskal.test(list(...))``.

    Notes
    -----
    H = (12 / (N(N+1)) * sum_i R_i^2 / n_i - 3(N+1)) / (1 - sum(t^3 - t) / (N^3 - N)), with R_i
    the mid-rank sum of group i over the pooled sample; p = P[chi^2_{k-1} >= H]. Missing values
    (NaN) are dropped; empty groups are dropped as R drops empty factor levels.
    """
    if len(groups) == 1 and isinstance(groups[0], (list, tuple)):
        groups = tuple(groups[0])
    cleaned: list[NDArray[np.float64]] = []
    for i, g in enumerate(groups):
        arr = np.asarray(g, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(f"group {i} must be 1-D; got shape {arr.shape}")
        arr = arr[~np.isnan(arr)]
        if arr.size:
            cleaned.append(arr)
    k = len(cleaned)
    if k < 2:
        raise ValueError("all observations are in the same group (need at least 2 non-empty groups)")
    pooled = np.concatenate(cleaned)
    n_total = pooled.size
    ranks = stats.rankdata(pooled, method="average")
    _, counts = np.unique(pooled, return_counts=True)
    ties = float(np.sum(counts.astype(np.float64) ** 3 - counts))
    bounds = np.cumsum([0] + [g.size for g in cleaned])
    s = sum(ranks[bounds[i] : bounds[i + 1]].sum() ** 2 / cleaned[i].size for i in range(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (12.0 * s / (n_total * (n_total + 1.0)) - 3.0 * (n_total + 1.0)) / (
            1.0 - ties / (n_total**3 - n_total)
        )
    p = float(stats.chi2.sf(h, k - 1))
    return KruskalWallisResult(float(h), k - 1, p, tuple(int(g.size) for g in cleaned))
