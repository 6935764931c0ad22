"""Exact p of Fisher's test for r x c tables by a network algorithm (Mehta and Patel 1983).

The tables with the observed margins are the paths through a network: stage j fills column j,
a node is the multiset of row totals still to be filled (the completions of a node depend on
the multiset only, so rows are kept sorted and equal nodes merge). Along a path, the table's
probability is

    P(T) = [prod r_i! prod c_j! / N!] * prod_ij 1 / x_ij!

so a node carries its *past* paths as a list of log values v = -sum log x_ij! (paths with the
same value, to 1e-12, are merged and their weights added, as FEXACT merges equal "past
probabilities"). At every node two bounds on the value of the rest of the path decide:

* if v + (largest completion value) <= the observed table's, every completion counts: the
  whole subtree adds weight * exp(v) * sum over completions of exp(completion value), which is
  N_rest! / (prod R_i! prod C_k!) in closed form;
* if v + (smallest completion value) > the observed table's, no completion counts: dropped;
* otherwise the paths go on to the next stage.

The bounds relax the coupling between the remaining columns: each column is filled on its own
within the remaining row totals, as evenly as possible for the largest value (water filling)
and as unevenly as possible for the smallest, and the column bounds add up; the same with the
roles of rows and columns exchanged gives a second pair, and the tighter bound of each side
is used. All are valid bounds, so the p-value is exact; they only decide how much of the
network is walked.

As R (``fisher.test``, FEXACT) a table counts when P(T) <= P(observed) (1 + 1e-7). The table is
transposed so that the shorter side holds the node state.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import special

_REL_ERR = 1.0 + 1e-7
_MERGE = 1e-12  # past-path values closer than this (log scale) are one value


@lru_cache(maxsize=None)
def _lgam(k: int) -> float:
    return float(special.gammaln(k + 1.0))


@lru_cache(maxsize=65536)
def _compositions(total: int, caps: tuple[int, ...]) -> NDArray[np.int64]:
    """Every way to split ``total`` over rows with capacities ``caps`` (K x r)."""
    r = len(caps)
    parts = np.zeros((1, 0), dtype=np.int64)
    left = np.array([total], dtype=np.int64)
    rest_cap = np.cumsum(np.array(caps[::-1], dtype=np.int64))[::-1]  # capacity of rows i..r-1
    for i in range(r):
        if i == r - 1:
            ok = left <= caps[i]
            parts = np.column_stack([parts[ok], left[ok]])
            break
        after = int(rest_cap[i + 1])
        lo = np.maximum(0, left - after)
        hi = np.minimum(caps[i], left)
        count = np.maximum(hi - lo + 1, 0)
        idx = np.repeat(np.arange(parts.shape[0]), count)
        start = np.repeat(lo, count)
        offs = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        v = start + offs
        parts = np.column_stack([parts[idx], v])
        left = left[idx] - v
    return parts


@lru_cache(maxsize=65536)
def _column_bounds(total: int, caps: tuple[int, ...]) -> tuple[float, float]:
    """(largest, smallest) of -sum log x_i! over splits of ``total`` within ``caps``."""
    caps_arr = np.array(caps, dtype=np.int64)
    # largest: as even as possible (water filling under the caps)
    x = np.zeros(len(caps), dtype=np.int64)
    left = total
    order = np.argsort(caps_arr, kind="stable")
    for pos, i in enumerate(order):
        share = left // (len(caps) - pos)
        x[i] = min(caps_arr[i], share)
        left -= x[i]
    # distribute what is left one by one to rows with room, smallest first
    while left > 0:
        room = np.flatnonzero(x < caps_arr)
        j = room[np.argmin(x[room])]
        x[j] += 1
        left -= 1
    largest = -sum(_lgam(int(v)) for v in x)
    # smallest: fill the largest capacities first
    y = np.zeros(len(caps), dtype=np.int64)
    left = total
    for i in np.argsort(-caps_arr, kind="stable"):
        y[i] = min(caps_arr[i], left)
        left -= y[i]
    smallest = -sum(_lgam(int(v)) for v in y)
    return largest, smallest


def _subtree_log_sum(rows: tuple[int, ...], cols: tuple[int, ...]) -> float:
    """log of sum over completions of prod 1/x! = log N! - sum log R! - sum log C!."""
    n = sum(rows)
    return _lgam(n) - sum(_lgam(r) for r in rows) - sum(_lgam(c) for c in cols)


def fisher_rxc_network(table: NDArray[np.float64], max_paths: int = 2_000_000) -> float:
    """Two-sided exact p of an r x c table (no empty row or column), as R ``fisher.test``.

    ``max_paths`` bounds the work as R's ``workspace`` does: more open paths than that at one
    stage raises ``ValueError``.
    """
    t = np.asarray(table, dtype=np.int64)
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows = t.sum(axis=1)
    cols = np.sort(t.sum(axis=0))[::-1]  # large columns first: fewer, wider early stages
    total = int(rows.sum())
    const = sum(_lgam(int(r)) for r in rows) + sum(_lgam(int(c)) for c in cols) - _lgam(total)
    obs = -sum(_lgam(int(v)) for v in t.ravel())
    threshold = obs + np.log(_REL_ERR)  # compare values v (log P(T) = const + v)
    n_cols = cols.shape[0]
    col_t = tuple(int(c) for c in cols)
    # bounds of the completion value from stage j on, for a node's remaining rows
    bound_cache: dict[tuple[int, tuple[int, ...]], tuple[float, float]] = {}

    def bounds(j: int, rem: tuple[int, ...]) -> tuple[float, float]:
        key = (j, rem)
        got = bound_cache.get(key)
        if got is None:
            # relax the columns (each filled alone within the row totals), then the rows
            # (each spread alone within the column totals): both bound the completions, so
            # the tighter of the two is taken on each side
            hi = lo = 0.0
            for c in col_t[j:]:
                a, b = _column_bounds(c, rem)
                hi += a
                lo += b
            hi_r = lo_r = 0.0
            rest = tuple(sorted(col_t[j:]))
            for r_tot in rem:
                a, b = _column_bounds(r_tot, rest)
                hi_r += a
                lo_r += b
            got = (min(hi, hi_r), max(lo, lo_r))
            bound_cache[key] = got
        return got

    p_terms: list[NDArray[np.float64]] = []
    # a node: remaining rows (sorted) -> (values, log weights)
    nodes: dict[tuple[int, ...], tuple[NDArray[np.float64], NDArray[np.float64]]] = {
        tuple(sorted(int(r) for r in rows)): (np.zeros(1), np.zeros(1))
    }
    radix = total + 1
    r = rows.shape[0]
    weights = radix ** np.arange(r - 1, -1, -1, dtype=np.int64)  # node key: sorted rows in base N+1
    for j in range(n_cols):
        keys: list[NDArray[np.int64]] = []
        values: list[NDArray[np.float64]] = []
        logws: list[NDArray[np.float64]] = []
        for rem, (vals, logw) in nodes.items():
            hi, lo = bounds(j, rem)
            everything = vals + hi <= threshold
            if everything.any():
                s = _subtree_log_sum(rem, col_t[j:])
                p_terms.append(const + vals[everything] + logw[everything] + s)
            live = ~everything & (vals + lo <= threshold)
            if not live.any():
                continue
            vals, logw = vals[live], logw[live]
            if j == n_cols - 1:  # forced completion: exact value
                v = vals - sum(_lgam(x) for x in rem)
                keep = v <= threshold
                p_terms.append(const + v[keep] + logw[keep])
                continue
            comps = _compositions(col_t[j], rem)
            lg = -special.gammaln(comps + 1.0).sum(axis=1)
            child = np.sort(np.array(rem, dtype=np.int64)[None, :] - comps, axis=1) @ weights
            keys.append(np.repeat(child, vals.size))
            values.append((lg[:, None] + vals[None, :]).ravel())
            logws.append(np.tile(logw, comps.shape[0]))
        nodes = {}
        if not keys:
            break
        key = np.concatenate(keys)
        val = np.concatenate(values)
        lw = np.concatenate(logws)
        order = np.lexsort((val, key))
        key, val, lw = key[order], val[order], lw[order]
        new = np.ones(key.size, dtype=bool)
        new[1:] = (key[1:] != key[:-1]) | (np.diff(val) > _MERGE)
        starts = np.flatnonzero(new)
        group = np.cumsum(new) - 1
        rep = val[starts]
        wsum = np.log(np.add.reduceat(np.exp(lw + val - rep[group]), starts))
        if rep.size > max_paths:
            raise ValueError(
                f"table too large for the exact test (more than {max_paths} open paths with these "
                "margins); use chi_square() or raise max_tables"
            )
        gkey = key[starts]
        cut = np.flatnonzero(np.concatenate([[True], gkey[1:] != gkey[:-1], [True]]))
        for lo_i, hi_i in zip(cut[:-1], cut[1:]):
            k = int(gkey[lo_i])
            rem_t = tuple(int((k // int(w)) % radix) for w in weights)
            nodes[rem_t] = (rep[lo_i:hi_i], wsum[lo_i:hi_i])
    if not p_terms:
        return 0.0
    allp = np.concatenate(p_terms)
    return float(min(1.0, np.exp(allp).sum()))
