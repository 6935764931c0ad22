"""Compiled per-marker scan of the two-group log-rank test at a cut-off (R ``survdiff``).

For each marker and its cut-off, the patients split into high (value > cut-off), low (the other
non-missing values) and missing; the scan walks the patients in the shared time order, latest
first, keeping each group's at-risk count, and at every distinct event time forms the terms of
:mod:`cartscope.stats.cutoff_logrank` (expected events of each group and the variance). The
terms of a marker are then added in time order with numpy's own pairwise summation, so each
sum is bit for bit what ``numpy.sum`` gives over the marker's row of terms.

Why by hand, and why compiled. numpy can only express the walk for many markers at once as
whole-array passes: a comparison with the cut-off, a transposition, int32 running counts per
group, gathers at the event times and the per-time products, each reading and writing the
whole block from memory. Compiled, one read of each value (row by row, a tile of markers at a
time) and the running counts in cache give every sum, without the GIL, so the screen's
threads run blocks side by side. Each marker is computed alone: its numbers never depend on
the other markers of its block.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

#: Rows of the float output of :func:`logrank_scan`.
O1, E1, O0, E0, V, N_HIGH, N_LOW = range(7)
#: Markers per tile (the running counts and the terms of a tile stay in cache).
_TILE = 32
#: numpy's pairwise summation: blocks of at most this many terms are added by 8 accumulators.
_PW_BLOCK = 128


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _pairwise_leaf(a: NDArray[np.float64], lo: int, n: int) -> float:
    """numpy's sum of at most :data:`_PW_BLOCK` terms: 8 accumulators, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sum_like_numpy(a: NDArray[np.float64]) -> float:
    """``numpy.sum`` of a 1-D array (as numpy adds a contiguous row), bit for bit: 0 + numpy's pairwise sum, which
    splits a run of more than :data:`_PW_BLOCK` terms at half its length (rounded down to a
    multiple of 8) and adds the two halves' sums. Written with an explicit stack (a cached
    numba function must not call itself)."""
    n = a.size
    if n <= _PW_BLOCK:
        return 0.0 + _pairwise_leaf(a, 0, n)
    seg_lo = np.empty(64, dtype=np.intp)  # the split halves the run: depth < 64
    seg_n = np.empty(64, dtype=np.intp)
    stage = np.empty(64, dtype=np.intp)
    sums = np.empty(64)
    top = 0
    seg_lo[0], seg_n[0], stage[0] = 0, n, 0
    k = 0  # sums on the value stack
    while top >= 0:
        lo, m = seg_lo[top], seg_n[top]
        if m <= _PW_BLOCK:
            sums[k] = _pairwise_leaf(a, lo, m)
            k += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[top] == 0:  # the left half first
            stage[top] = 1
            top += 1
            seg_lo[top], seg_n[top], stage[top] = lo, half, 0
        elif stage[top] == 1:  # then the right half
            stage[top] = 2
            top += 1
            seg_lo[top], seg_n[top], stage[top] = lo + half, m - half, 0
        else:  # left + right
            sums[k - 2] = sums[k - 2] + sums[k - 1]
            k -= 1
            top -= 1
    return 0.0 + sums[0]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def logrank_scan(x: NDArray[np.float64], rows: NDArray[np.intp], is_event: NDArray[np.bool_],
                 starts: NDArray[np.intp], cuts: NDArray[np.float64], expected_low: bool) -> NDArray[np.float64]:
    """Observed and expected events of each group, the variance and the group sizes (rows
    :data:`O1` ... :data:`N_LOW`) per column of ``x`` (patients x markers).

    ``rows[p]`` is the row of ``x`` of the p-th patient in time order and ``is_event[p]`` its
    event flag; ``starts`` are the first positions of the distinct event times, increasing.
    High is ``x > cut``, low the other non-missing values. Without ``expected_low`` the low
    group's expected events are left out (NaN; the test needs the high group's only).

    The counts are whole numbers held in float64 (exact), so that the per-time loop over a
    tile of markers is plain float arithmetic; where no one (or one patient) is at risk the
    terms' numerators are 0 and a denominator of 1 gives the 0 that R adds there.
    """
    n = rows.size
    c = x.shape[1]
    g_all = starts.size
    out = np.zeros((7, c))
    t_e1 = np.zeros((g_all, _TILE))  # per event time and marker of the tile
    t_e0 = np.zeros((g_all, _TILE))
    t_v = np.zeros((g_all, _TILE))
    high = np.zeros(_TILE)  # at risk: high, and known (high or low)
    known = np.zeros(_TILE)
    high_d = np.zeros(_TILE)  # events at the current time: high, and known
    known_d = np.zeros(_TILE)
    o1 = np.zeros(_TILE)
    o_all = np.zeros(_TILE)
    cut = np.empty(_TILE)
    for j0 in range(0, c, _TILE):
        w = min(_TILE, c - j0)
        for jj in range(w):
            cut[jj] = cuts[j0 + jj]
        high[:] = 0.0
        known[:] = 0.0
        high_d[:] = 0.0
        known_d[:] = 0.0
        o1[:] = 0.0
        o_all[:] = 0.0
        g = g_all - 1
        next_start = starts[g] if g >= 0 else -1
        for p in range(n - 1, -1, -1):
            src = x[rows[p], j0 : j0 + w]
            if is_event[p]:
                for jj in range(w):
                    val = src[jj]
                    h = 1.0 if val > cut[jj] else 0.0
                    k = 1.0 if val == val else 0.0
                    high[jj] += h
                    known[jj] += k
                    high_d[jj] += h
                    known_d[jj] += k
            else:
                for jj in range(w):
                    val = src[jj]
                    high[jj] += 1.0 if val > cut[jj] else 0.0
                    known[jj] += 1.0 if val == val else 0.0
            if p == next_start:
                # an event time: everyone from its first position on is at risk
                e1 = t_e1[g]
                v = t_v[g]
                for jj in range(w):
                    r1 = high[jj]
                    r0 = known[jj] - r1
                    nt = r1 + r0
                    dt = known_d[jj]
                    e1[jj] = r1 * dt / (nt if nt > 0 else 1.0)
                    den = nt * nt * (nt - 1.0)
                    v[jj] = r1 * r0 * dt * (nt - dt) / (den if nt > 1 else 1.0)
                if expected_low:
                    e0 = t_e0[g]
                    for jj in range(w):
                        r1 = high[jj]
                        r0 = known[jj] - r1
                        nt = r1 + r0
                        e0[jj] = r0 * known_d[jj] / (nt if nt > 0 else 1.0)
                for jj in range(w):
                    o1[jj] += high_d[jj]
                    o_all[jj] += known_d[jj]
                    high_d[jj] = 0.0
                    known_d[jj] = 0.0
                g -= 1
                next_start = starts[g] if g >= 0 else -1
        for jj in range(w):
            j = j0 + jj
            out[O1, j] = o1[jj]
            out[E1, j] = sum_like_numpy(t_e1[:, jj])
            out[O0, j] = o_all[jj] - o1[jj]
            out[E0, j] = sum_like_numpy(t_e0[:, jj]) if expected_low else np.nan
            out[V, j] = sum_like_numpy(t_v[:, jj])
            out[N_HIGH, j] = high[jj]
            out[N_LOW, j] = known[jj] - high[jj]
    return out
