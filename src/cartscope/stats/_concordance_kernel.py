"""Compiled pair counts of :mod:`cartscope.stats._cox_concordance` (Harrell's C, R's tie rules).

Why by hand, and why compiled. The jackknife SE needs, for every observation, how many of its
comparable pairs are concordant, discordant and tied on the predictor: a 2-D dominance count
(time order x predictor rank) per observation, within strata. numpy can express that only as
many whole-array passes over the data (a wavelet matrix: two cumulative sums, a partition and
a gather per bit of the ranks and per role, plus binary searches for the ties). Compiled, it
is a walk in time order with a Fenwick (binary indexed) tree over the predictor ranks, at most
one update and one prefix query per observation and role, O(n log n); the tree is int32 and
the per-observation counts are written in time order, so the walk stays in cache as far as
it can. No library offers these per-observation counts with R survival's rules.

Two walks, one per role, group by group (a group: one stratum and one time):

* the observation with the event, walking from the latest time: its comparators are everyone
  later in the stratum and the censored at its own time (tied event times are not comparable),
  so a group's censored enter the tree before its deaths are asked, and its deaths after;
* the observation at risk, walking from the earliest time: its comparators are the deaths
  before it, and for a censored one also the deaths at its own time, so a group's deaths are
  asked before they enter the tree and its censored after;

each asks for the members of the tree with a lower rank (prefix sum) and with its own rank (a
plain count per rank, so ties on the predictor are counted apart); the rest rank higher. The
tree is emptied between strata by taking out what went in.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def dense_ranks(x: NDArray[np.float64], x_order: NDArray[np.intp]) -> tuple[IntArray, int]:
    """Rank of each value among the distinct values (0-based; equal values share one rank,
    every NaN the last one, as ``numpy.unique`` counts them) and the number of ranks.

    ``x_order`` sorts ``x`` ascending with NaN last (``numpy.argsort``).
    """
    n = x.shape[0]
    rank = np.empty(n, dtype=np.int64)
    m = 0
    prev = 0.0
    for k in range(n):
        i = x_order[k]
        v = x[i]
        if k > 0 and v != prev and not (v != v and prev != prev):
            m += 1
        rank[i] = m
        prev = v
    return rank, m + 1 if n > 0 else 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _add(tree: IntArray, r: int, delta: int) -> None:
    """Add ``delta`` at rank ``r`` (0-based) of a Fenwick tree (1-based nodes)."""
    i = r + 1
    size = tree.shape[0]
    while i < size:
        tree[i] += delta
        i += i & -i


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _below(tree: IntArray, r: int) -> int:
    """How many members of a Fenwick tree have a rank below ``r``."""
    s = 0
    i = r
    while i > 0:
        s += tree[i]
        i &= i - 1
    return s


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _insert(tree: IntArray, same: IntArray, r: int, ties: bool) -> None:
    """Put a member of rank ``r`` into the tree (and the count of its rank, with ties)."""
    _add(tree, r, 1)
    if ties:
        same[r] += 1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _lower_equal(tree: IntArray, same: IntArray, r: int, ties: bool) -> tuple[int, int]:
    """How many members of the tree rank below ``r``, and how many at ``r``."""
    return _below(tree, r), (same[r] if ties else 0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _as_event(ts: NDArray[np.float64], ss: NDArray[np.intp], rs: IntArray, dead: NDArray[np.bool_],
              n_ranks: int, conc: IntArray, disc: IntArray, tied: IntArray) -> IntArray:
    """Pairs of each observation with the event and its comparators (everyone later in its
    stratum, and the censored at its own time), added to ``conc, disc, tied``; the totals."""
    n = ts.shape[0]
    totals = np.zeros(3, dtype=np.int64)
    # int32 halves the trees' footprint (counts stay below n); ties on the predictor are only
    # counted when there are any
    tree = np.zeros(n_ranks + 1, dtype=np.int32)
    same = np.zeros(n_ranks, dtype=np.int32)
    ties = n_ranks < n
    s_end = n
    while s_end > 0:
        s_start = s_end - 1
        while s_start > 0 and ss[s_start - 1] == ss[s_end - 1]:
            s_start -= 1
        inside = 0
        b = s_end
        while b > s_start:  # the groups of one time, latest first
            a = b - 1
            while a > s_start and ts[a - 1] == ts[b - 1]:
                a -= 1
            for k in range(a, b):
                if not dead[k]:
                    _insert(tree, same, rs[k], ties)
                    inside += 1
            for k in range(a, b):
                if dead[k]:
                    lower, equal = _lower_equal(tree, same, rs[k], ties)
                    higher = inside - lower - equal
                    conc[k] += lower
                    disc[k] += higher
                    tied[k] += equal
                    totals[0] += lower
                    totals[1] += higher
                    totals[2] += equal
            for k in range(a, b):
                if dead[k]:
                    _insert(tree, same, rs[k], ties)
                    inside += 1
            b = a
        if s_start > 0:  # empty the tree for the next stratum
            for k in range(s_start, s_end):
                _add(tree, rs[k], -1)
                same[rs[k]] = 0
        s_end = s_start
    return totals


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _at_risk(ts: NDArray[np.float64], ss: NDArray[np.intp], rs: IntArray, dead: NDArray[np.bool_],
             n_ranks: int, conc: IntArray, disc: IntArray, tied: IntArray) -> None:
    """Pairs of each observation with the deaths it was at risk for (the deaths before its
    time, and at its time when it is censored), added to ``conc, disc, tied``."""
    n = ts.shape[0]
    tree = np.zeros(n_ranks + 1, dtype=np.int32)
    same = np.zeros(n_ranks, dtype=np.int32)
    ties = n_ranks < n
    s_start = 0
    while s_start < n:
        s_end = s_start + 1
        while s_end < n and ss[s_end] == ss[s_start]:
            s_end += 1
        deaths = 0
        a = s_start
        while a < s_end:  # the groups of one time, earliest first
            b = a + 1
            while b < s_end and ts[b] == ts[a]:
                b += 1
            for k in range(a, b):
                if dead[k]:
                    lower, equal = _lower_equal(tree, same, rs[k], ties)
                    conc[k] += deaths - lower - equal
                    disc[k] += lower
                    tied[k] += equal
            for k in range(a, b):
                if dead[k]:
                    _insert(tree, same, rs[k], ties)
                    deaths += 1
            for k in range(a, b):
                if not dead[k]:
                    lower, equal = _lower_equal(tree, same, rs[k], ties)
                    conc[k] += deaths - lower - equal
                    disc[k] += lower
                    tied[k] += equal
            a = b
        if s_end < n:  # empty the tree for the next stratum
            for k in range(s_start, s_end):
                if dead[k]:
                    _add(tree, rs[k], -1)
                    same[rs[k]] = 0
        s_start = s_end


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pair_counts(
    time: NDArray[np.float64], event: NDArray[np.float64], strata: NDArray[np.intp],
    rank: IntArray, n_ranks: int, order: NDArray[np.intp],
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Comparable pairs per observation and in total, by R survival's rules.

    ``order`` sorts the observations by stratum, then time (any order inside a tied time);
    ``rank`` is the predictor's dense rank, ``n_ranks`` the number of ranks; an observation
    has the event when ``event > 0``. Returns, in that time order (position k is observation
    ``order[k]``, so the writes stay sequential), the pairs each one is in that are
    concordant, discordant and tied on the predictor, and the totals ``[concordant,
    discordant, tied]`` (each pair counted once).
    """
    n = time.shape[0]
    ts = np.empty(n, dtype=np.float64)
    ss = np.empty(n, dtype=np.intp)
    rs = np.empty(n, dtype=np.int64)
    dead = np.empty(n, dtype=np.bool_)
    for k in range(n):
        i = order[k]
        ts[k] = time[i]
        ss[k] = strata[i]
        rs[k] = rank[i]
        dead[k] = event[i] > 0
    conc = np.zeros(n, dtype=np.int64)
    disc = np.zeros(n, dtype=np.int64)
    tied = np.zeros(n, dtype=np.int64)
    totals = _as_event(ts, ss, rs, dead, n_ranks, conc, disc, tied)
    _at_risk(ts, ss, rs, dead, n_ranks, conc, disc, tied)
    return conc, disc, tied, totals
