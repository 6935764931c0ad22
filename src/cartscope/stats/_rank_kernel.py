"""Compiled per-marker scan of the two-sample rank statistics of the biomarker screen.

What it computes, per marker, from the sorted values of its cases and of its controls: the
class sizes and R medians, Mann-Whitney W of the cases and the tie term sum(t^3 - t), and, for
the ROC, the AUC, the DeLong variance, the Youden optimum with pROC's threshold and tie rules
(as :mod:`cartscope.stats._roc_kernel`, whose docstrings give the formulas) with its counts,
and the direction. The numbers are the same, bit for bit, as :func:`cartscope.stats._ranks.rank_pass`
followed by :func:`cartscope.stats._roc_kernel.kernel_pass`: every count is an exact integer and
every floating-point expression is evaluated in the same order.

Why by hand, and why compiled. Everything the rank statistics need is a walk over the tie
blocks of the pooled sorted values: at each distinct value, its members among the cases and
the controls and the running counts below it. numpy can only express that walk for many markers
at once as some thirty whole-array passes (an argsort, a gather, running counts, per-block
products, cumulative sums, binary searches, reductions), each reading and writing memory.
Here each class is sorted on its own (numpy's sort of values, several times faster than an
argsort), and one merge of the two sorted runs per marker, in registers, gives every statistic.
The kernels release the GIL, so the screen's threads run blocks side by side. No statistics
library offers Mann-Whitney, DeLong and pROC's Youden rules in one pass per marker.

Why the numpy version stays. The public single-call functions (:func:`cartscope.stats.roc.roc`,
:func:`cartscope.stats.ranktests.mann_whitney`, the resampling of
:mod:`cartscope.analysis.biomarkers.resampling`) keep the numpy pass: on them the compiled
scan is 2-15x faster once warm, but the first call in a process would pay numba's import and
cache load (about 0.6-0.8 s of CPU), a cost a protocol without a panel screen would otherwise
never pay, for calls that take milliseconds. The screen, where the scan pays for itself, uses
this module; ``tests/stats/test_screen_kernels.py`` holds the two equal bit for bit.

Missing values (NaN) sort last and belong to no block and no class; each marker is computed
alone, so its numbers never depend on the other markers of its block.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

#: Rows of the float output of :func:`rank_scan`.
N1, N0, MED1, MED0, W, TIES, AUC, VAR, THRESHOLD, SENS, SPEC, TP, TN = range(13)
N_FLOAT = 13
#: Rows of the int64 output: the sums of the DeLong variance (for :data:`WIDE` markers, whose
#: centred squares would overflow int64 and are finished with Python integers), the number of
#: Youden optima, and the flag.
U2, Q_CASE, V2, Q_CTRL, N_OPTIMAL, WIDE = range(6)
N_INT = 6
#: ``mode`` of :func:`rank_scan`: the ROC with direction "auto" (pROC's median rule), "<", ">",
#: or the Mann-Whitney sums and medians only.
AUTO, LESS, GREATER, RANKS_ONLY = 0, 1, 2, 3
#: Markers per tile when splitting a block by class (the writes go to this many rows at once).
_TILE = 32


@numba.njit(cache=True, nogil=True, error_model="numpy")
def split_by_class(x: NDArray[np.float64], rows: NDArray[np.intp], positive: NDArray[np.bool_],
                   lo: int, hi: int, cases: NDArray[np.float64], controls: NDArray[np.float64]) -> None:
    """Columns ``lo:hi`` of ``x`` (patients x markers) at the patients ``rows``, transposed
    into ``cases`` and ``controls`` (markers x patients of each class, in ``rows`` order)."""
    n = rows.size
    for j0 in range(lo, hi, _TILE):
        j1 = min(hi, j0 + _TILE)
        ia = 0
        ib = 0
        for p in range(n):
            src = x[rows[p]]
            if positive[p]:
                for j in range(j0, j1):
                    cases[j - lo, ia] = src[j]
                ia += 1
            else:
                for j in range(j0, j1):
                    controls[j - lo, ib] = src[j]
                ib += 1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _known(v: NDArray[np.float64]) -> int:
    """Non-missing values of a sorted row (NaN sorts last)."""
    k = v.size
    while k > 0 and math.isnan(v[k - 1]):
        k -= 1
    return k


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _median(v: NDArray[np.float64], k: int) -> float:
    """R's median of the first ``k`` values of a sorted row (NaN for none)."""
    if k < 1:
        return np.nan
    lo = (k + 1) // 2
    hi = (k + 2) // 2
    if lo == hi:
        return v[lo - 1]
    return (v[lo - 1] + v[hi - 1]) / 2.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _midpoint(a: float, b: float, lt: bool) -> float:
    """pROC's threshold between adjacent distinct values a < b (b may be +Inf)."""
    t1 = (a + b) / 2.0
    t2 = a / 2.0 + b / 2.0
    t = t2 if abs(t1) > 1e100 else t1
    if lt and t == a:
        t = b
    if (not lt) and t == b and math.isfinite(b):
        t = a
    return t


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _centred(n: int, sum_sq: int, total: int) -> tuple[float, bool]:
    """n * sum_sq - total^2 exactly, when int64 holds it (else the flag is set)."""
    if float(n) * float(sum_sq) + float(total) ** 2 < 2.0**62:
        return float(n * sum_sq - total * total), False
    return np.nan, True


@numba.njit(cache=True, nogil=True, error_model="numpy")
def rank_scan(cases: NDArray[np.float64], controls: NDArray[np.float64],
              mode: int) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """Per row of ``cases`` and ``controls`` (markers x patients, each row sorted, NaN last):
    the float statistics (rows :data:`N1` ... :data:`TN`), the direction ("<" = True) and the
    int64 sums (rows :data:`U2` ... :data:`WIDE`). In :data:`RANKS_ONLY` mode only the class
    sizes, medians, W and the tie term are filled (the rest is NaN)."""
    c = cases.shape[0]
    out = np.full((N_FLOAT, c), np.nan)
    lt_out = np.zeros(c, dtype=np.bool_)
    sums = np.zeros((N_INT, c), dtype=np.int64)
    width = cases.shape[1] + controls.shape[1]
    block_value = np.empty(width)
    block_a = np.empty(width, dtype=np.int64)
    block_b = np.empty(width, dtype=np.int64)
    roc = mode != RANKS_ONLY
    for j in range(c):
        a = cases[j]
        b = controls[j]
        na = _known(a)
        nb = _known(b)
        n1 = float(na)
        n0 = float(nb)
        med1 = _median(a, na)
        med0 = _median(b, nb)
        if mode == AUTO:
            lt = med0 <= med1
        else:
            lt = mode == LESS
        # the merge: tie blocks of the pooled sorted values, lowest first
        i = 0
        k = 0
        a_before = 0
        b_before = 0
        u2 = 0
        q_case = 0
        v2 = 0
        q_ctrl = 0
        ties = 0
        best = -np.inf
        first = -1
        last = -1
        n_best = 0
        blocks = 0
        while i < na or k < nb:
            if i < na and (k >= nb or a[i] <= b[k]):
                v = a[i]
            else:
                v = b[k]
            i0 = i
            while i < na and a[i] == v:
                i += 1
            k0 = k
            while k < nb and b[k] == v:
                k += 1
            ca = i - i0
            cb = k - k0
            a_through = a_before + ca
            b_through = b_before + cb
            place_a = b_before + b_through  # doubled placement of the block's cases
            place_b = a_before + a_through  # ... and of its controls
            u2 += ca * place_a
            q_case += ca * place_a * place_a
            v2 += cb * place_b
            q_ctrl += cb * place_b * place_b
            t = ca + cb
            ties += t * t * t - t
            if roc:
                # Youden at a threshold just above the block: se + sp = tp / n1 + tn / n0
                if lt:
                    tp = n1 - float(a_through)
                    tn = float(b_through)
                else:
                    tp = float(a_through)
                    tn = n0 - float(b_through)
                crit = tp / n1 + tn / n0
                if crit > best:
                    best = crit
                    first = blocks
                    last = blocks
                    n_best = 1
                elif crit == best:
                    last = blocks
                    n_best += 1
                block_value[blocks] = v
                block_a[blocks] = a_through
                block_b[blocks] = b_through
            blocks += 1
            a_before = a_through
            b_before = b_through
        out[N1, j] = n1
        out[N0, j] = n0
        out[MED1, j] = med1
        out[MED0, j] = med0
        out[W, j] = 0.5 * float(u2)
        out[TIES, j] = float(ties)
        lt_out[j] = lt
        sums[U2, j] = u2
        sums[Q_CASE, j] = q_case
        sums[V2, j] = v2
        sums[Q_CTRL, j] = q_ctrl
        if not roc or na < 1 or nb < 1:
            continue
        auc_lt = (0.5 * float(u2)) / (n1 * n0)
        out[AUC, j] = auc_lt if lt else 1.0 - auc_lt
        if na >= 2 and nb >= 2:
            c10, wide10 = _centred(na, q_case, u2)
            c01, wide01 = _centred(nb, q_ctrl, v2)
            s10 = c10 / (4.0 * n0 * n0 * n1 * (n1 - 1.0))
            s01 = c01 / (4.0 * n1 * n1 * n0 * (n0 - 1.0))
            out[VAR, j] = s10 / n1 + s01 / n0
            sums[WIDE, j] = 1 if (wide10 or wide01) else 0
        # pROC keeps the first optimum in its curve order (decreasing sensitivity): for "<"
        # the smallest threshold (-Inf, se + sp = 1, when that is optimal), for ">" the largest
        # (-Inf only when no block is optimal)
        if best > 1.0:
            n_optimal = n_best
            chosen = first if lt else last
        elif best == 1.0:
            n_optimal = n_best + 1
            chosen = -1 if lt else last
        else:
            n_optimal = 1
            chosen = -1
        sums[N_OPTIMAL, j] = n_optimal
        if chosen < 0:
            out[THRESHOLD, j] = -np.inf
            out[TP, j] = n1 if lt else 0.0
            out[TN, j] = 0.0 if lt else n0
            out[SENS, j] = 1.0 if lt else 0.0
            out[SPEC, j] = 0.0 if lt else 1.0
        else:
            nxt = block_value[chosen + 1] if chosen + 1 < blocks else np.inf
            out[THRESHOLD, j] = _midpoint(block_value[chosen], nxt, lt)
            if lt:
                tp_best = n1 - float(block_a[chosen])
                tn_best = float(block_b[chosen])
            else:
                tp_best = float(block_a[chosen])
                tn_best = n0 - float(block_b[chosen])
            out[TP, j] = tp_best
            out[TN, j] = tn_best
            out[SENS, j] = tp_best / n1
            out[SPEC, j] = tn_best / n0
    return out, lt_out, sums


_MODES = {"auto": AUTO, "<": LESS, ">": GREATER}


def class_ranks(x: NDArray[np.float64], rows: NDArray[np.intp], positive: NDArray[np.bool_],
                direction: str | None, lo: int = 0, hi: int | None = None) -> dict[str, NDArray]:
    """Rank statistics of the columns ``lo:hi`` of ``x`` (patients x markers) over the
    patients ``rows``, split by ``positive`` (one flag per entry of ``rows``; True = case).

    Keys: ``n1``, ``n0`` (non-missing cases and controls), ``med1``, ``med0`` (their R
    medians), ``w`` (Mann-Whitney W of the cases), ``ties`` (sum(t^3 - t)); with a
    ``direction`` ("auto", "<" or ">") also those of
    :func:`cartscope.stats._roc_kernel.kernel_pass`: ``lt``, ``auc``, ``var`` (DeLong),
    ``threshold``, ``sensitivity``, ``specificity``, ``tp``, ``tn``, ``n_optimal``.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    hi = x.shape[1] if hi is None else hi
    rows = np.ascontiguousarray(rows, dtype=np.intp)
    positive = np.ascontiguousarray(positive, dtype=np.bool_)
    n_case = int(np.count_nonzero(positive))
    cases = np.empty((hi - lo, n_case))
    controls = np.empty((hi - lo, rows.size - n_case))
    split_by_class(x, rows, positive, lo, hi, cases, controls)
    cases.sort(axis=1)  # NaN last
    controls.sort(axis=1)
    mode = RANKS_ONLY if direction is None else _MODES[direction]
    out, lt, sums = rank_scan(cases, controls, mode)
    del cases, controls
    res: dict[str, NDArray] = {"n1": out[N1], "n0": out[N0], "med1": out[MED1], "med0": out[MED0],
                               "w": out[W], "ties": out[TIES]}
    if direction is None:
        return res
    wide = np.flatnonzero(sums[WIDE])
    if wide.size:
        out[VAR, wide] = _wide_variance(out, sums, wide)
    res.update({"lt": lt, "auc": out[AUC], "var": out[VAR], "threshold": out[THRESHOLD],
                "sensitivity": out[SENS], "specificity": out[SPEC], "tp": out[TP], "tn": out[TN],
                "n_optimal": sums[N_OPTIMAL]})
    return res


def _wide_variance(out: NDArray[np.float64], sums: NDArray[np.int64], idx: NDArray[np.intp]) -> NDArray[np.float64]:
    """The DeLong variance of markers whose centred squares leave int64, with Python integers
    (same expression as the kernel)."""
    var = np.empty(idx.size)
    for k, j in enumerate(idx):
        n1, n0 = out[N1, j], out[N0, j]
        c10 = float(int(n1) * int(sums[Q_CASE, j]) - int(sums[U2, j]) ** 2)
        c01 = float(int(n0) * int(sums[Q_CTRL, j]) - int(sums[V2, j]) ** 2)
        s10 = c10 / (4.0 * n0 * n0 * n1 * (n1 - 1.0))
        s01 = c01 / (4.0 * n1 * n1 * n0 * (n0 - 1.0))
        var[k] = s10 / n1 + s01 / n0
    return var
