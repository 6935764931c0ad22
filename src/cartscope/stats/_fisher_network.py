"""Exact p of Fisher's test for r x c tables by a network algorithm (Mehta and Patel 1983).

The tables with the observed margins are the paths through a network. The shorter side of
the table holds the node state: stage j fills column j (columns in ascending order of their
totals, as FEXACT does), and a node is the multiset of row totals still to be filled (the
completions of a node depend on the multiset only, so rows are kept sorted and equal nodes
merge). Along a path the table's probability is

    P(T) = [prod r_i! prod c_j! / N!] * prod_ij 1 / x_ij!

so a path carries its *value* v = -sum log x_ij! over the columns filled so far; paths that
reach the same node with the same value (to 1e-9 on the log scale, i.e. the same value up to
rounding) merge and their multiplicities add, as FEXACT merges equal "past path lengths".

The whole stage is handled at once with numpy (no Python loop over nodes or paths):

1. **The node graph.** From the root, every node's splits of the next column total within
   its row totals (vectorised over all nodes of the stage) give the arcs, their values
   -sum log x! (from one table of log factorials) and the sorted child nodes, down to the
   stage with two columns left (whose arcs are not made).
2. **Exact longest and shortest paths.** With two columns left they are in closed form: the
   value of a split x of the first is sum_i g_i(x_i), g_i(x) = -log x! - log (R_i - x)!,
   concave, so the longest takes the largest increments greedily and the shortest sits at a
   vertex (every row but one at 0 or R_i). Earlier stages take maxima and minima over their
   arcs, backwards (``maximum.reduceat``). Both exact, where FEXACT bounds the shortest path.
3. **Forward with pruning.** A path whose v + LP is within the threshold counts with its
   whole subtree, in closed form (sum over completions of prod 1/x! =
   n! / (prod R_i! prod C_k!)); one whose v + SP is beyond it is dropped; only the others go
   on to the next stage.
4. **The last two columns exactly.** Once two columns are left, the completion is the split
   of the first of them (the second is forced): only the nodes that open paths reach are
   split, each node's completion values are sorted with their running sums of
   probabilities, and every open path takes the sum of those within the threshold by two
   ``searchsorted`` (no further paths are made). Where the stage before would hold more than
   100,000 paths (8 x 2, 4 x 5 tables near N = 100), its paths are not made either: every
   (path, arc) pair is pruned by the child's bounds or queries the child's tail directly, in
   chunks of two million.

Ties. As R (``fisher.test`` calls FEXACT), a table counts when
log P(T) <= log P(observed) + 3.45254e-7: FEXACT's tolerance ``tol``, added to the observed
path length, so tables more probable than the observed one by a factor below
exp(3.45254e-7) (about 1 + 3.45e-7) still count. (R's 2 x 2 code uses 1 + 1e-7 instead;
:mod:`cartscope.stats.contingency` follows it there.) FEXACT also merges past paths whose
lengths differ by less than that tolerance, keeping the first one's length; cartscope merges
only values equal up to rounding, so where FEXACT has merged two nearly equal but different
values cartscope's p is the exact one and R's differs from it: by at most 2e-12 relative on the
Table 1 shapes, 1e-10 on a 4 x 5 table with N = 106 (checked by a second route, every path
made and merged at 1e-12, which agrees with cartscope to 1e-14).

Limits. ``max_paths`` (``fisher_exact(max_tables=)``) caps the open paths at a stage, as R's
``workspace`` caps FEXACT's hash tables; R's default workspace refuses some 4 x 5 tables with
N between 70 and 110 (FEXACT error 6 or 7) that cartscope computes (seconds at N = 77, tens
of seconds at N = 100).

Everything is plain numpy: a compiled kernel is not needed at Table 1 sizes (the cost is a
few dozen array operations per stage) and would add a dependency to every install.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

#: FEXACT's ``tol`` (the square root of the smallest relative spacing): a table counts when its
#: log probability is at most the observed one's plus this.
FEXACT_TOL = 3.45254e-7
_MERGE = 1e-9  # past-path values closer than this (log scale) are one value (rounding only)
_MAX_ARCS = 5_000_000  # arcs (splits) made beyond which the table is refused (memory)
_MAX_GRID = 20_000_000  # cells of the running-sum grid of a tail beyond which it is refused
_DIRECT = 100_000  # paths to make at the last-but-one stage beyond which arcs query the tail
_MAX_QUERIES = 400_000_000  # (path, arc) queries beyond which the table is refused (time)
_CHUNK = 2_000_000  # queries per chunk
_MAX_EXPAND = 10_000_000  # paths made (before merging) at one stage beyond which it is refused

IntArr = NDArray[np.int64]
FloatArr = NDArray[np.float64]


@dataclass(frozen=True)
class _Stage:
    """One stage of the node graph: its nodes and their arcs to the next stage's nodes."""

    nodes: IntArr  # (M, k) sorted remaining row totals
    start: IntArr  # (M,) first arc of each node (arcs are grouped by parent)
    count: IntArr  # (M,) number of arcs of each node
    child: IntArr  # (E,) child node (index into the next stage) of each arc
    value: FloatArr  # (E,) -sum log x! of each arc


def _too_large(what: str) -> ValueError:
    return ValueError(f"table too large for the exact test ({what} with these margins); use chi_square()")


def _split_count(caps: IntArr, total: int) -> float:
    """How many splits of ``total`` within the caps of every node there are, summed over nodes.

    Inclusion-exclusion over the rows that exceed their cap: sum over subsets S of
    (-1)^|S| C(total - sum_S (cap_i + 1) + k - 1, k - 1). Used to refuse a stage before it is
    made, so the memory it needs is bounded.
    """
    m, k = caps.shape
    masks = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(np.int64)
    over = total - (caps + 1) @ masks.T  # (m, 2^k)
    sign = np.where(masks.sum(axis=1) % 2 == 0, 1.0, -1.0)
    ways = special.comb(np.maximum(over, 0) + k - 1, k - 1) * (over >= 0)
    return float(np.maximum((ways * sign).sum(axis=1), 0.0).sum())


def _splits(caps: IntArr, total: int) -> tuple[IntArr, IntArr]:
    """Every split of ``total`` over the rows of each node within its row totals ``caps``.

    Returns (parent node of each split, the split (E x k)); the splits of a node are
    contiguous and in node order.
    """
    m, k = caps.shape
    suffix = np.zeros((m, k + 1), dtype=np.int64)
    suffix[:, :k] = np.cumsum(caps[:, ::-1], axis=1)[:, ::-1]
    parent = np.arange(m, dtype=np.int64)
    left = np.full(m, total, dtype=np.int64)
    parts: list[IntArr] = []
    for i in range(k - 1):
        lo = np.maximum(0, left - suffix[parent, i + 1])
        hi = np.minimum(caps[parent, i], left)
        cnt = np.maximum(hi - lo + 1, 0)
        idx = np.repeat(np.arange(parent.size), cnt)
        offs = np.arange(idx.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        x = lo[idx] + offs
        parts = [p[idx] for p in parts]
        parts.append(x)
        parent = parent[idx]
        left = left[idx] - x
    ok = left <= caps[parent, k - 1]  # only fails for a node whose caps cannot hold total
    parts = [p[ok] for p in parts]
    parts.append(left[ok])
    return parent[ok], np.column_stack(parts)


def _unique_rows(rows: IntArr, base: int) -> tuple[IntArr, IntArr]:
    """(unique sorted rows, index of each input row's unique row)."""
    k = rows.shape[1]
    if float(base) ** k < 2.0**62:
        weights = base ** np.arange(k - 1, -1, -1, dtype=np.int64)
        keys = rows @ weights
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return rows[first], inverse.ravel()
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    return uniq, inverse.ravel()


def _graph(rows: IntArr, cols: IntArr, lf: FloatArr, base: int) -> tuple[list[_Stage], IntArr]:
    """The node graph of stages 0 .. c-3 and the nodes of stage c-2 (two columns left).

    The arcs of stage c-2 are not made: their bounds are in closed form
    (:func:`_two_column_bounds`) and only the nodes that open paths reach are split
    (:func:`_tail_of`).
    """
    nodes = np.sort(rows)[None, :]
    stages: list[_Stage] = []
    arcs = 0
    for j in range(cols.size - 2):
        arcs += int(_split_count(nodes, int(cols[j])))
        if arcs > _MAX_ARCS:
            raise _too_large(f"more than {_MAX_ARCS:,} arcs in its network")
        parent, x = _splits(nodes, int(cols[j]))
        child_rows = np.sort(nodes[parent] - x, axis=1)
        nxt, child = _unique_rows(child_rows, base)
        count = np.bincount(parent, minlength=nodes.shape[0]).astype(np.int64)
        start = np.cumsum(count) - count
        stages.append(_Stage(nodes, start, count, child.astype(np.int64), -lf[x].sum(axis=1)))
        nodes = nxt
    return stages, nodes


def _merge(node: IntArr, v: FloatArr, w: FloatArr) -> tuple[IntArr, FloatArr, FloatArr]:
    """Merge paths at the same node with the same value (multiplicities add)."""
    order = np.lexsort((v, node))
    node, v, w = node[order], v[order], w[order]
    new = np.ones(node.size, dtype=bool)
    new[1:] = (node[1:] != node[:-1]) | (np.diff(v) > _MERGE)
    starts = np.flatnonzero(new)
    return node[starts], v[starts], np.add.reduceat(w, starts)


def _segments(start: IntArr, count: IntArr) -> tuple[IntArr, IntArr]:
    """(segment of each element, element index) for the segments [start, start + count)."""
    seg = np.repeat(np.arange(count.size), count)
    idx = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(seg.size)
    return seg, idx


class _Completions:
    """The completion values of a set of nodes, ready for "sum of those within a bound" queries.

    The completions of node i are the entries of segment i of ``f`` (segments contiguous,
    ``seg_count`` entries each, every segment non-empty).
    """

    def __init__(self, seg_count: IntArr, f: FloatArr) -> None:
        n_seg = seg_count.size
        seg = np.repeat(np.arange(n_seg), seg_count)
        self.seg_start = np.cumsum(seg_count) - seg_count
        by_value = np.argsort(f, kind="stable")
        self.f_sorted = f[by_value]
        rank = np.empty(f.size, dtype=np.int64)
        rank[by_value] = np.arange(f.size)
        self.size = f.size
        key = seg * f.size + rank  # integer: segment by segment, by value within each
        order = np.argsort(key)
        self.key, f, seg = key[order], f[order], seg[order]
        self.fmax = np.maximum.reduceat(f, self.seg_start)
        # running sums within each segment on a (segments x widest) grid: no cancellation
        # between segments (a path's sum may be tiny beside the others')
        width = int(seg_count.max())
        if n_seg * (width + 1) > _MAX_GRID:
            raise _too_large(f"more than {_MAX_GRID:,} running sums over its last two columns")
        pad = np.zeros((n_seg, width + 1))
        pad[seg, np.arange(f.size) - self.seg_start[seg] + 1] = np.exp(f - self.fmax[seg])
        self.cum = np.cumsum(pad, axis=1)

    def total(self, node: IntArr, v: FloatArr, w: FloatArr, threshold: float, const: float) -> float:
        """Sum over paths (node, v, w) of w exp(const + v + f) over completions v + f <= threshold."""
        # completions of the node with f <= threshold - v: those whose rank among all values
        # is below the number of values <= threshold - v
        below = np.searchsorted(self.f_sorted, threshold - v, side="right")
        inside = np.searchsorted(self.key, node * self.size + below, side="left") - self.seg_start[node]
        partial = self.cum[node, inside]
        keep = partial > 0
        return float(np.sum(w[keep] * np.exp(const + v[keep] + self.fmax[node[keep]]) * partial[keep]))


def _two_column_bounds(nodes: IntArr, a: int, lf: FloatArr) -> tuple[FloatArr, FloatArr]:
    """:func:`_two_column_bound_chunk` over chunks of nodes (bounded memory)."""
    step = max(1, 4_000_000 // (nodes.shape[1] * (int(nodes.max()) + 1) + 2**nodes.shape[1]))
    parts = [_two_column_bound_chunk(nodes[i : i + step], a, lf) for i in range(0, nodes.shape[0], step)]
    return np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts])


def _two_column_bound_chunk(nodes: IntArr, a: int, lf: FloatArr) -> tuple[FloatArr, FloatArr]:
    """Exact longest and shortest completion of nodes with two columns (a, n - a) left.

    A completion splits a over the rows, x_i in [0, R_i]; its value is sum_i g_i(x_i) with
    g_i(x) = -log x! - log (R_i - x)!, concave in x (increments log((R_i - x + 1) / x) fall).
    Longest: the a largest increments over all rows (greedy is exact for a separable concave
    sum). Shortest: a concave function is smallest at a vertex of {sum x = a, 0 <= x <= R},
    where every row but at most one sits at a bound, and g_i(0) = g_i(R_i) = -log R_i!.
    """
    m, k = nodes.shape
    base = -lf[nodes].sum(axis=1)
    top = int(nodes.max()) if nodes.size else 0
    t = np.arange(1, top + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.log((nodes[:, :, None] - t + 1).astype(np.float64)) - np.log(t)
    inc = np.where(t <= nodes[:, :, None], inc, -np.inf).reshape(m, -1)
    inc = -np.sort(-inc, axis=1)[:, :a]
    longest = base + inc.sum(axis=1)
    masks = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(np.int64)  # rows at R_i
    at_top = nodes @ masks.T  # (m, 2^k)
    best = np.zeros(m)
    for i in range(k):
        y = a - at_top  # the free row i takes what is left
        ok = (masks[:, i] == 0)[None, :] & (y >= 0) & (y <= nodes[:, i : i + 1])
        yc = np.clip(y, 0, nodes[:, i : i + 1])
        cand = np.where(ok, lf[nodes[:, i : i + 1]] - lf[yc] - lf[nodes[:, i : i + 1] - yc], np.inf)
        best = np.minimum(best, cand.min(axis=1))
    return longest, base + best


def _tail_of(nodes: IntArr, a: int, lf: FloatArr) -> _Completions:
    """Completions over the last two columns (a, then the rest) of the nodes (rows)."""
    if _split_count(nodes, a) > _MAX_ARCS:
        raise _too_large(f"more than {_MAX_ARCS:,} splits of its last-but-one column")
    parent, x = _splits(nodes, a)
    f = -lf[x].sum(axis=1) - lf[nodes[parent] - x].sum(axis=1)
    return _Completions(np.bincount(parent, minlength=nodes.shape[0]).astype(np.int64), f)


def _tail(nodes: IntArr, a: int, lf: FloatArr, node: IntArr, v: FloatArr, w: FloatArr,
          threshold: float, const: float) -> float:
    """Exact sum over the last two columns of the open paths (node, v, w)."""
    live, local = np.unique(node, return_inverse=True)
    return _tail_of(nodes[live], a, lf).total(local.ravel(), v, w, threshold, const)


def _tail_after_one(stage: _Stage, pen: IntArr, a: int, lf: FloatArr, bounds: tuple[FloatArr, ...],
                    node: IntArr, v: FloatArr, w: FloatArr, threshold: float, const: float) -> float:
    """Exact sum over the last three columns: every arc of every open path queries the tail.

    Used instead of making (and merging) the paths of the last-but-one stage when they would
    be many: one step per (path, arc), in chunks to bound memory. ``bounds`` holds the longest
    and shortest completion and the log sum over all completions of each node of ``nxt``: a
    step whose whole subtree counts is summed in closed form, one whose best completion does
    not count is dropped, and only the others query the tail (``pen``: the nodes of the next
    stage, two columns (a, then the rest) left).
    """
    longest, shortest, subtree = bounds
    live = np.unique(node)
    _, arcs = _segments(stage.start[live], stage.count[live])
    children = np.unique(stage.child[arcs])
    tail = _tail_of(pen[children], a, lf)
    local_child = np.searchsorted(children, stage.child)  # valid on the arcs used below
    p = 0.0
    cnt = stage.count[node]
    ends = np.cumsum(cnt)
    lo = 0
    while lo < node.size:
        hi = int(np.searchsorted(ends, ends[lo] - cnt[lo] + _CHUNK, side="right"))
        hi = max(hi, lo + 1)
        idx, arc = _segments(stage.start[node[lo:hi]], cnt[lo:hi])
        idx += lo
        vv = v[idx] + stage.value[arc]
        ch = stage.child[arc]
        every = vv + longest[ch] <= threshold
        p += float(np.sum(w[idx[every]] * np.exp(const + vv[every] + subtree[ch[every]])))
        mid = ~every & (vv + shortest[ch] <= threshold)
        p += tail.total(local_child[arc[mid]], vv[mid], w[idx[mid]], threshold, const)
        lo = hi
    return p


def fisher_rxc_network(table: NDArray[np.float64], max_paths: int = 2_000_000) -> float:
    """Two-sided exact p of an r x c table (no empty row or column), as R ``fisher.test``.

    ``max_paths`` bounds the work as R's ``workspace`` does: more open paths than that at one
    stage raises ``ValueError``.
    """
    t = np.asarray(table, dtype=np.int64)
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows = t.sum(axis=1)
    cols = np.sort(t.sum(axis=0))  # ascending, as FEXACT
    total = int(rows.sum())
    lf = special.gammaln(np.arange(total + 1, dtype=np.float64) + 1.0)
    const = float(lf[rows].sum() + lf[cols].sum() - lf[total])
    threshold = float(-lf[t].sum()) + FEXACT_TOL
    too_large = ValueError(
        f"table too large for the exact test (more than {max_paths} open paths with these "
        "margins); use chi_square() or raise max_tables"
    )
    stages, pen = _graph(rows, cols, lf, total + 1)
    a = int(cols[-2])  # the last-but-one column; the last is forced
    col_rest = np.cumsum(lf[cols][::-1])[::-1]  # sum log C_k! over the columns k >= j
    n_rest = np.cumsum(cols[::-1])[::-1]
    # exact longest / shortest completion of every node: closed form with two columns left,
    # then backwards over the arcs
    lp, sp = _two_column_bounds(pen, a, lf)
    longest: list[FloatArr] = [lp]
    shortest: list[FloatArr] = [sp]
    for st in reversed(stages):
        lp = np.maximum.reduceat(st.value + lp[st.child], st.start)
        sp = np.minimum.reduceat(st.value + sp[st.child], st.start)
        longest.append(lp)
        shortest.append(sp)
    longest.reverse()
    shortest.reverse()
    node_rows = [st.nodes for st in stages] + [pen]

    def subtree(j: int, nd: IntArr) -> FloatArr:
        """log sum over all completions of prod 1/x! for nodes nd of stage j."""
        return lf[n_rest[j]] - lf[node_rows[j][nd]].sum(axis=1) - col_rest[j]

    p = 0.0
    node = np.zeros(1, dtype=np.int64)
    v = np.zeros(1)
    w = np.ones(1)
    for j in range(len(node_rows)):
        every = v + longest[j][node] <= threshold
        if every.any():
            p += float(np.sum(w[every] * np.exp(const + v[every] + subtree(j, node[every]))))
        live = ~every & (v + shortest[j][node] <= threshold)
        node, v, w = node[live], v[live], w[live]
        if node.size == 0:
            break
        if j == len(stages):  # two columns left
            p += _tail(pen, a, lf, node, v, w, threshold, const)
            break
        st = stages[j]
        work = int(st.count[node].sum())
        if j == len(stages) - 1 and work > _DIRECT:
            if work > _MAX_QUERIES:
                raise _too_large(f"more than {_MAX_QUERIES:,} steps over its last three columns")
            bounds = (longest[j + 1], shortest[j + 1], subtree(j + 1, np.arange(pen.shape[0])))
            p += _tail_after_one(st, pen, a, lf, bounds, node, v, w, threshold, const)
            break
        if work > _MAX_EXPAND:
            raise _too_large(f"more than {_MAX_EXPAND:,} steps from one stage")
        idx, arc = _segments(st.start[node], st.count[node])
        node, v, w = _merge(st.child[arc], v[idx] + st.value[arc], w[idx])
        if node.size > max_paths:
            raise too_large
    return float(min(1.0, p))
