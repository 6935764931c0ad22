"""Harrell's concordance of a Cox linear predictor with its infinitesimal-jackknife SE.

Definitions follow R survival >= 3 (``concordancefit`` as called by ``coxph``, Therneau and
Watson 2017, "The concordance statistic and the Cox model"):

* a pair is comparable when one member ``i`` has an event at ``t_i`` and the other was still
  at risk: ``t_j > t_i``, or ``t_j == t_i`` and ``j`` censored (tied event times are not
  comparable); pairs are counted within strata only;
* concordant when the member with the event has the larger predictor, discordant when the
  smaller, tied on x when equal; ``C = (concordant + tied_x / 2) / (conc + disc + tied_x)``;
* the variance is ``sum_i dfbeta_i^2 / 4`` with
  ``dfbeta_i = ((c_i - d_i) - somers_d (c_i + d_i + t_i)) / npair``, where ``c_i, d_i, t_i``
  count the comparable pairs that contain observation ``i``.

Pair counts are 2-D dominance counts (time order x predictor rank); the "lower" counts are
answered for all observations at once with a wavelet matrix over the predictor ranks,
O(n log n) with every step vectorised; ties on the predictor are counted apart by binary
search over (rank, position) keys, and skipped when every predictor value is distinct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class _WaveletMatrix:
    """Counts of values below a bound inside position ranges, answered for many ranges at once.

    One level per bit of the values, most significant first: each level keeps, for every
    prefix of its (stably bit-partitioned) sequence, how many values have a 0 bit there, and
    how many of those are *marked* (here: deaths), so one structure answers both "all values"
    and "marked values" counts. int32 throughout (n < 2^31).
    """

    def __init__(self, values: NDArray[np.int32], marked: NDArray[np.bool_], n_bits: int) -> None:
        self.n_bits = n_bits
        self.zero_prefix: list[NDArray[np.int32]] = []
        self.marked_prefix: list[NDArray[np.int32]] = []
        self.zeros: list[int] = []
        n = values.shape[0]
        cur = values.astype(np.int32)
        mark = marked.astype(bool)
        for b in range(n_bits - 1, -1, -1):
            is_zero = ((cur >> b) & 1) == 0
            prefix = np.zeros(n + 1, dtype=np.int32)
            np.cumsum(is_zero, dtype=np.int32, out=prefix[1:])
            marked_zero = np.zeros(n + 1, dtype=np.int32)
            np.cumsum(is_zero & mark, dtype=np.int32, out=marked_zero[1:])
            self.zero_prefix.append(prefix)
            self.marked_prefix.append(marked_zero)
            self.zeros.append(int(prefix[-1]))
            move = np.concatenate((np.flatnonzero(is_zero), np.flatnonzero(~is_zero)))
            cur = np.take(cur, move)  # zeros first, order kept
            mark = np.take(mark, move)

    def count_less(
        self, lo: NDArray[np.int32], hi: NDArray[np.int32], bound: NDArray[np.int32], marked: bool
    ) -> NDArray[np.int64]:
        """For each query, the number of (marked) values < ``bound`` among positions [lo, hi)."""
        lo = lo.astype(np.int32)
        hi = hi.astype(np.int32)
        bound = bound.astype(np.int32)
        result = np.zeros(lo.shape[0], dtype=np.int32)
        for level, b in enumerate(range(self.n_bits - 1, -1, -1)):
            prefix = self.zero_prefix[level]
            lo0 = np.take(prefix, lo)
            hi0 = np.take(prefix, hi)
            one = (bound >> b) & 1  # 0/1: arithmetic selection is several times np.where's speed
            # a 1-bit bound counts the range's zeros and follows its ones, else its zeros
            if marked:
                counted = self.marked_prefix[level]
                result += one * (np.take(counted, hi) - np.take(counted, lo))
            else:
                result += one * (hi0 - lo0)
            z = np.int32(self.zeros[level])
            # ones side: z + (ones before the bound) = z + lo - lo0; zeros side: lo0
            lo = lo0 + one * (z + lo - lo0 - lo0)
            hi = hi0 + one * (z + hi - hi0 - hi0)
        return result.astype(np.int64)


def _count_equal(
    rank: IntArray, lo: IntArray, hi: IntArray, bound: IntArray
) -> IntArray:
    """For each query, the number of positions in ``[lo, hi)`` whose rank equals ``bound``.

    Positions sorted by (rank, position) give one key per position; each query is two binary
    searches in those keys.
    """
    n = rank.shape[0]
    key = np.sort(rank * (n + 1) + np.arange(n, dtype=np.int64))
    base = bound * (n + 1)
    return np.searchsorted(key, base + hi, side="left") - np.searchsorted(key, base + lo, side="left")


@dataclass(frozen=True)
class ConcordanceCounts:
    """Pair counts and the concordance with its standard error."""

    concordant: float
    discordant: float
    tied_x: float
    concordance: float
    std_err: float


def concordance(
    time: FloatArray, event: FloatArray, predictor: FloatArray, strata: NDArray[np.intp]
) -> ConcordanceCounts:
    """Concordance of ``predictor`` (higher = earlier event) with the survival outcome."""
    n = time.shape[0]
    # time order within stratum, deaths before censorings at a tied time
    one_stratum = n == 0 or bool(np.all(strata == strata[0]))
    order = np.lexsort((-event, time)) if one_stratum else np.lexsort((-event, time, strata))
    t = time[order]
    ev = event[order] > 0
    st = strata[order]
    _, rank = np.unique(predictor, return_inverse=True)
    rank = rank.reshape(-1).astype(np.int64)[order]
    n_bits = max(1, int(np.ceil(np.log2(int(rank.max()) + 2))))

    pos = np.arange(n, dtype=np.int64)
    new_stratum = np.ones(n, dtype=bool)
    new_stratum[1:] = st[1:] != st[:-1]
    stratum_id = np.cumsum(new_stratum) - 1
    stratum_start = np.flatnonzero(new_stratum)
    stratum_end = np.append(stratum_start[1:], n)

    # blocks of tied deaths (same stratum, time, event)
    new_block = np.ones(n, dtype=bool)
    new_block[1:] = (t[1:] != t[:-1]) | (st[1:] != st[:-1]) | (ev[1:] != ev[:-1])
    block_id = np.cumsum(new_block) - 1
    block_start = np.flatnonzero(new_block)
    block_end = np.append(block_start[1:], n)

    # ties on the predictor are counted apart (none when every predictor value is distinct),
    # so each role needs a single "less than" count per query
    distinct = int(rank.max()) + 1 == n if n else True

    # one wavelet matrix over the predictor ranks in time order, deaths marked
    waves = _WaveletMatrix(rank.astype(np.int32), ev, n_bits)

    # role 1: observation i has the event; its comparators follow its tie block
    dead = np.flatnonzero(ev)
    lo = block_end[block_id[dead]]
    hi = stratum_end[stratum_id[dead]]
    r = rank[dead]
    less = waves.count_less(lo, hi, r, marked=False)
    tied = np.zeros_like(less) if distinct else _count_equal(rank, lo, hi, r)
    tied_own = tied.astype(float)
    lower_own = less.astype(float)
    higher_own = (hi - lo - less - tied).astype(float)

    # role 2: observation j is at risk when others have their event: the deaths before its
    # tie block (a death) or before it (censored: deaths at its own time come first)
    lo2 = stratum_start[stratum_id]
    hi2 = np.where(ev, block_start[block_id], pos)
    deaths_before = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(ev, out=deaths_before[1:])
    n_other = deaths_before[hi2] - deaths_before[lo2]
    other_less = waves.count_less(lo2, hi2, rank, marked=True)
    if distinct:
        o_tied = np.zeros_like(other_less)
    else:
        d_lo = deaths_before[lo2]
        d_hi = deaths_before[hi2]
        o_tied = _count_equal(rank[dead], d_lo, d_hi, rank)
    other_tied = o_tied.astype(float)
    other_higher = (n_other - other_less - o_tied).astype(float)
    other_lower = other_less.astype(float)

    conc_i = other_higher.copy()
    disc_i = other_lower.copy()
    tied_i = other_tied.copy()
    conc_i[dead] += lower_own
    disc_i[dead] += higher_own
    tied_i[dead] += tied_own

    concordant = float(lower_own.sum())
    discordant = float(higher_own.sum())
    tied_x = float(tied_own.sum())
    npair = concordant + discordant + tied_x
    if npair == 0:
        return ConcordanceCounts(concordant, discordant, tied_x, float("nan"), float("nan"))
    somers = (concordant - discordant) / npair
    dfbeta = ((conc_i - disc_i) - somers * (conc_i + disc_i + tied_i)) / npair
    return ConcordanceCounts(
        concordant=concordant,
        discordant=discordant,
        tied_x=tied_x,
        concordance=(somers + 1.0) / 2.0,
        std_err=float(np.sqrt(np.sum(dfbeta**2) / 4.0)),
    )
