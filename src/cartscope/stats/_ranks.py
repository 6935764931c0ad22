"""Shared rank pass of the two-sample rank statistics (Mann-Whitney, ROC/DeLong).

One pass ranks a chunk of markers laid out as (markers x patients), so that each marker is a
contiguous row for the sort and the running counts, and describes every *tie block* (a run
of equal non-missing values in the sorted row; a value without ties is a block of one). For
a block at 0-based sorted positions [s, e] with A_before members of group A below it and
A_through at or below its value, every member of A in it has the *doubled placement*

    P_A = b_below + b_upto = (s - A_before) + (e + 1 - A_through)

(members of B strictly below its value plus those at or below it) and every member of B

    P_B = a_below + a_upto = A_before + A_through.

Everything the rank statistics need is a per-marker sum over blocks:

* Mann-Whitney U of A = sum over blocks of a_k P_A / 2 (pairs a > b, ties 1/2), R's W;
* ROC: AUC = U / (n_a n_b); DeLong's placement values are P_A / (2 n_b) for cases and
  1 - P_B / (2 n_a) for controls, so their variances come from sum a_k P_A^2 and
  sum b_k P_B^2 (a_k, b_k the block's members of A and B);
* the tie term sum(t^3 - t) over blocks of the pooled sample;
* the ROC's candidate thresholds are the block ends, with A_through and
  B_through = e + 1 - A_through at each.

All counts are integers (int32 running counts, int64 sums): exact. Missing values (NaN) sort
last and belong to no block and no group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]

# About this many (markers x patients) elements per chunk: the pass and the ROC kernel hold
# some 150 bytes per element at their peak, so a chunk stays within a few MiB (the L2/L3
# caches' reach) ...
_CHUNK_ELEMENTS = 1 << 16
# ... and never more than this share of the input's markers, so that extra memory stays a
# fraction of the input however small the input is.
_CHUNK_SHARE = 24


def marker_chunks(n_patients: int, n_markers: int) -> Iterator[slice]:
    """Slices over the markers, each small enough for :func:`rank_pass`."""
    by_size = max(1, _CHUNK_ELEMENTS // max(1, n_patients))
    by_share = max(1, n_markers // _CHUNK_SHARE)
    step = max(1, min(n_markers, by_size, by_share))
    for start in range(0, n_markers, step):
        yield slice(start, min(n_markers, start + step))


@dataclass(frozen=True, eq=False)
class RankPass:
    """Tie blocks of the sorted rows of a (markers x patients) chunk.

    Per block, in row-major order: ``row``, first
    and last position ``start``/``end`` (0-based within the row), the value, the members of A
    strictly below (``a_before``) and at or below (``a_through``) its value, its members of
    A and B (``a_count``, ``b_count``) and the doubled placements ``place_a``/``place_b`` of
    its members of A and of B. ``first_block`` has the index of each row's first block plus
    the total (rows without a non-missing value have no block). Per row: ``n_a``, ``n_b``.
    """

    row: IntArray
    start: IntArray
    end: IntArray
    value: NDArray[np.float64]
    a_before: IntArray
    a_through: IntArray
    a_count: IntArray
    b_count: IntArray
    place_a: IntArray
    place_b: IntArray
    first_block: IntArray
    n_a: IntArray
    n_b: IntArray

    def row_sums(self, per_block: IntArray) -> IntArray:
        """Per-row sums of an integer quantity given per block (exact)."""
        total = np.zeros(per_block.size + 1, dtype=np.int64)
        np.cumsum(per_block, out=total[1:])
        return total[self.first_block[1:]] - total[self.first_block[:-1]]

    @property
    def u2(self) -> IntArray:
        """Twice the Mann-Whitney U of A per row: sum over A of the doubled placements."""
        return self.row_sums(self.a_count * self.place_a)

    @property
    def ties(self) -> NDArray[np.float64]:
        """sum(t^3 - t) over the tie blocks of each row (R's NTIES correction)."""
        t = self.a_count + self.b_count
        return self.row_sums(t * t * t - t).astype(np.float64)


def rank_pass(rows: NDArray[np.float64], group_a: NDArray[np.bool_]) -> RankPass:
    """Rank each row of ``rows`` (markers x patients) split by ``group_a``: one split for all
    rows (patients,) or one per row (rows x patients, e.g. resampled or permuted labels).

    Cost: one argsort and one gather per row, one int32 running count, then a few passes over
    the blocks (at most one per non-missing value).
    """
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    c, n = rows.shape
    order = np.argsort(rows, axis=1)  # the order inside a tie block is irrelevant
    # rows[order] as one flat gather (several times cheaper than a second sort or
    # take_along_axis)
    flat = order + (np.arange(c, dtype=order.dtype) * n)[:, None]
    values = rows.ravel()[flat]
    del flat
    in_a = np.take_along_axis(group_a, order, axis=1) if group_a.ndim == 2 else group_a[order]
    del order
    # block ends: the last position of a run of equal values (NaN never equals anything)
    block_end = np.ones((c, n), dtype=bool)
    if n > 1:
        np.not_equal(values[:, 1:], values[:, :-1], out=block_end[:, :-1])
    n_valid = np.full(c, n, dtype=np.int64)
    if n and np.isnan(values[:, -1]).any():
        n_valid -= np.isnan(values).sum(axis=1)
        valid = np.arange(n)[None, :] < n_valid[:, None]
        in_a &= valid
        block_end &= valid
    a_upto = np.cumsum(in_a, axis=1, dtype=np.int32)
    del in_a
    ends = np.flatnonzero(block_end)
    del block_end
    row = ends // n if n else ends
    new_row = np.ones(ends.size, dtype=bool)
    new_row[1:] = row[1:] != row[:-1]
    end = ends - row * n
    start = np.empty_like(end)
    start[0:1] = 0
    start[1:] = end[:-1] + 1
    start[new_row] = 0
    a_through = a_upto.ravel()[ends].astype(np.int64)
    value = values.ravel()[ends]
    del a_upto, values
    a_before = np.empty_like(a_through)
    a_before[0:1] = 0
    a_before[1:] = a_through[:-1]
    a_before[new_row] = 0
    a_count = a_through - a_before
    b_count = (end - start + 1) - a_count
    place_a = (start - a_before) + (end + 1 - a_through)
    place_b = a_before + a_through
    first_block = np.searchsorted(row, np.arange(c + 1))
    last = first_block[1:] - 1
    has = first_block[1:] > first_block[:-1]
    n_a = np.where(has, a_through[np.maximum(last, 0)] if ends.size else 0, 0)
    return RankPass(
        row=row,
        start=start,
        end=end,
        value=value,
        a_before=a_before,
        a_through=a_through,
        a_count=a_count,
        b_count=b_count,
        place_a=place_a,
        place_b=place_b,
        first_block=first_block,
        n_a=n_a.astype(np.int64),
        n_b=n_valid - n_a,
    )
