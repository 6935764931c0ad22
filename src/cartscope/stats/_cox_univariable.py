"""Univariable Cox models for every column of a (patients x markers) matrix, in one pass.

Each marker j gets R's ``coxph(Surv(time, event) ~ x_j)`` on the patients where x_j is known:
coefficient, standard error, hazard ratio with Wald limits, Wald z and p, and the
likelihood-ratio and score tests on 1 df (``summary(coxph(...))``), with Efron (R's default)
or Breslow ties.

How it is one pass. All markers share one time order: the patients are sorted by time once,
*descending*, so that the risk set of a distinct time t (everyone with time >= t) is a prefix
of the sorted rows and every risk-set sum

    S0 = sum r_i,   S1 = sum r_i x_i,   S2 = sum r_i x_i^2,   r_i = exp(beta x_i)

is one cumulative sum down the rows, read at the last row of each death time -- for all the
markers of a chunk at once (a (3, patients, markers) array). The tied deaths' own sums D0, D1,
D2 are sums over the death rows of each time. Efron's approximation (1977) with d tied deaths
has the terms k = 0..d-1 with denominator S0 - (k/d) D0 and means (S1 - (k/d) D1) / den; the
log partial likelihood, the score and the information (a scalar per marker) add up over the
terms, so a Newton step is score / information for every marker at once.

The Newton iterations are R survival's ``coxfit6`` (the same as :func:`cartscope.stats.cox`):
start at beta = 0, step halving when the log likelihood falls or is not finite, stop when
``|1 - loglik_best / loglik_new| <= tol`` (``coxph.control(eps = 1e-9)``), so each marker stops
at the same point as its own ``coxph`` fit; Newton's method is affine invariant, so centring
(R centres too) changes nothing but rounding. Markers that have converged drop out of the
next iterations.

Missing values. A marker's missing entries get weight 0: they leave every sum, the death
counts of the tied times (Efron's d is per marker) and the score, exactly as R drops the NA
rows of that marker's fit.

Where the result is NaN (with the reason in ``status``): fewer than two patients or no event
("too few"), a constant marker ("constant", R reports NA), no convergence ("not converged")
and a coefficient running to infinity ("infinite": monotone likelihood, where R warns
"Loglik converged before variable 1" and reports a meaningless large coefficient) -- the rule
of :func:`cartscope.stats.cox`.

Concordance (Harrell's C of ``coef * x`` with its infinitesimal-jackknife SE, as
``coxph``'s) on request: it is a pair count per marker, the one part that is not shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

from cartscope.stats._validation import check_level

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: (patients x markers) elements per chunk: the pass holds some 6 arrays of this size, and
#: rows of a few hundred markers keep the per-row adds of the cumulative sums efficient.
_CHUNK_ELEMENTS = 1 << 17


@dataclass(frozen=True)
class TimeOrder:
    """The shared time order of the patients and its death times.

    ``order`` sorts the patients by time, latest first, and inside a tied time the censored
    before the deaths. So the risk set of a death time is the prefix of rows 0..``last_row``
    and its deaths are the ``deaths`` rows just before ``last_row + 1``: their sums are the
    difference of two entries of the cumulative sums (no second pass over the death rows).
    """

    order: IntArray
    event: NDArray[np.bool_]
    last_row: IntArray
    before_deaths: IntArray
    deaths: FloatArray

    @property
    def n(self) -> int:
        return int(self.order.shape[0])


def merge_near_ties(time: FloatArray, tolerance: float = float(np.sqrt(np.finfo(float).eps))) -> FloatArray:
    """Times that differ by rounding error only become one time, as R's ``aeqSurv``
    (``coxph.control(timefix = TRUE)``), the rule :func:`cartscope.stats.cox` applies."""
    unique_t = np.unique(time)
    if unique_t.shape[0] < 2:
        return time
    gaps = np.diff(unique_t)
    tied = (gaps <= tolerance) | (gaps / np.mean(np.abs(unique_t)) <= tolerance)
    if not tied.any():
        return time
    cuts = unique_t[np.concatenate([[True], ~tied])]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


def time_order(time: FloatArray, event: NDArray[np.bool_]) -> TimeOrder:
    """Sort once (latest time first, deaths last within a time) for :func:`fit_chunk`."""
    t = merge_near_ties(np.asarray(time, dtype=np.float64))
    ev = np.asarray(event, dtype=bool)
    order = np.lexsort((ev, -t))
    ts = t[order]
    es = ev[order]
    n = ts.shape[0]
    last = np.ones(n, dtype=bool)
    if n > 1:
        last[:-1] = ts[:-1] != ts[1:]
    last_rows = np.flatnonzero(last)
    starts = np.concatenate([[0], last_rows[:-1] + 1]) if n else np.zeros(0, np.intp)
    deaths = np.add.reduceat(es.astype(np.float64), starts) if n else np.zeros(0)
    has = deaths > 0
    return TimeOrder(
        order=order,
        event=es,
        last_row=last_rows[has],
        before_deaths=(last_rows[has] - deaths[has]).astype(np.intp),
        deaths=deaths[has],
    )


@dataclass(frozen=True)
class _Sums:
    loglik: FloatArray
    score: FloatArray
    info: FloatArray


def block_layout(n: int) -> tuple[int, int, IntArray]:
    """The row layout of :func:`running_sum`: ``(size, count, position)``.

    The sorted rows are cut into ``count`` blocks of ``size`` (about sqrt(n)) rows; row
    ``k * size + i`` (block k, place i) is stored at ``i * count + k``, so that the i-th rows
    of all the blocks are one contiguous slab. The last block is padded to ``size`` rows;
    pads come after every real row, so they never enter a real row's sum.
    """
    size = max(1, int(np.sqrt(n)))
    count = max(1, -(-n // size))
    rows = np.arange(n)
    return size, count, (rows % size) * count + rows // size


def running_sum(buf: FloatArray, size: int, count: int) -> FloatArray | None:
    """Cumulative sums down the sorted rows of ``buf`` (planes x rows x columns, the rows
    stored as :func:`block_layout`), in two parts.

    In place, the running sums inside every block at once (``size - 1`` adds of contiguous
    slabs, one row of every block each); returned, the total of the blocks before each block
    (planes x blocks x columns; None for a single block). The cumulative sum at stored row p
    is ``buf[:, p] + before[:, p % count]``, added only at the rows that are read. That is
    about sqrt(n) vector adds instead of one per row (numpy's ``cumsum`` down a non-contiguous
    axis runs element by element, several times slower), and the order of the additions
    depends on the number of rows only, never on the other columns, so a marker gets the
    same bits whatever its neighbours.
    """
    planes, _, width = buf.shape
    v = buf.reshape(planes, size, count, width)
    for i in range(1, size):
        v[:, i] += v[:, i - 1]
    if count == 1:
        return None
    before = np.empty((planes, count, width))
    before[:, 0] = 0.0
    last = v[:, size - 1]
    for k in range(1, count):
        np.add(before[:, k - 1], last[:, k - 1], out=before[:, k])
    return before


def _read(buf: FloatArray, before: FloatArray | None, pos: IntArray, block: IntArray) -> FloatArray:
    """The cumulative sums at stored rows ``pos`` (in blocks ``block``) of :func:`running_sum`."""
    out = np.take(buf, pos, axis=1)
    if before is not None:
        out += np.take(before, block, axis=1)
    return out


class _Chunk:
    """One chunk of markers in the shared time order: centred values, weights, death sums.

    The values are stored in the row layout of :func:`block_layout` (``xc``, ``w``); the risk
    sets are read at ``grid_pos`` (the last row of each death time) and the tied deaths' own
    sums at ``below_pos`` (the row before them); every Efron term k >= 1 of every time with
    ties is one row of ``term_time`` / ``term_k``, so the terms are computed in one pass.
    """

    def __init__(self, xs: FloatArray, tord: TimeOrder, ties: str) -> None:
        # xs is the caller's private copy: centred in place (one block-sized array less)
        n, c = xs.shape
        self.missing = bool(np.isnan(xs).any())
        w: FloatArray | None = None
        if self.missing:
            known = ~np.isnan(xs)
            n_known = known.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.nansum(xs, axis=0) / n_known
            xs -= mean[None, :]
            xs[~known] = 0.0
            w = known.astype(np.float64)
            del known
        else:
            n_known = np.full(c, n)
            xs -= xs.mean(axis=0)[None, :]
        self.tord = tord
        self.ties = ties
        dr = np.flatnonzero(tord.event)
        if w is not None:
            wd = w[tord.event]
            cw = np.cumsum(wd, axis=0)
            first = np.searchsorted(dr, tord.before_deaths + 1)
            lastd = np.searchsorted(dr, tord.last_row + 1)
            at = np.vstack([np.zeros((1, c)), cw])
            self.d = at[lastd] - at[first] if dr.size else np.zeros((0, c))
            self.xd = (xs[dr] * wd).sum(axis=0)
        else:
            self.d = tord.deaths[:, None] * np.ones((1, c))
            self.xd = xs[dr].sum(axis=0)
        self.n = n_known.astype(np.float64)
        self.n_events = self.d.sum(axis=0) if dr.size else np.zeros(c)
        self.size, self.count, pos = block_layout(n)
        rows = self.size * self.count
        self.xc = np.zeros((rows, c))
        self.xc[pos] = xs
        self.w: FloatArray | None = None
        if w is not None:
            self.w = np.zeros((rows, c))
            self.w[pos] = w
        del xs, w
        self._store = np.empty(rows * 3 * c)
        # rows read from the running sums: the risk set of every death time, then (Efron)
        # one row per term k = 1..d-1 of every time with d > 1 tied deaths
        grid_pos = pos[tord.last_row]
        dmax = self.d.max(axis=1).astype(np.intp) if dr.size else np.zeros(0, np.intp)
        tied = np.flatnonzero(dmax > 1) if ties == "efron" else np.zeros(0, np.intp)
        extra = dmax[tied] - 1
        term_time = np.repeat(tied, extra)
        starts = np.repeat(np.cumsum(extra) - extra, extra)
        self.term_k = (np.arange(term_time.shape[0]) - starts + 1).astype(np.float64)
        self.read_pos = np.concatenate([grid_pos, grid_pos[term_time]])
        before = tord.before_deaths[term_time]
        self.below_pos = pos[np.maximum(before, 0)] if n else np.zeros(0, np.intp)
        self.below_none = before < 0
        self.read_block = self.read_pos % self.count
        self.below_block = self.below_pos % self.count
        dt = self.d[term_time]
        self.d_term = dt if self.missing else dt[:, :1]
        # (missing values) which rows are terms of the marker: its own deaths at that time > k
        self.active = (np.concatenate([self.d > 0, dt > self.term_k[:, None]], axis=0)
                       if self.missing else None)

    def sums(self, beta: FloatArray, cols: IntArray | None) -> _Sums:
        """Log partial likelihood, score and information at ``beta`` for columns ``cols``.

        A single column is evaluated twice side by side: numpy sums a lone column pairwise
        but the columns of a wider array row by row, and a marker must get the same bits
        whatever the other markers of its block (and whether they have converged).
        """
        with np.errstate(all="ignore"):
            width = self.xc.shape[1] if cols is None else cols.shape[0]
            if width == 1:
                one = np.zeros(1, dtype=np.intp) if cols is None else cols
                res = self._sums(np.repeat(beta, 2), np.repeat(one, 2))
                return _Sums(res.loglik[:1], res.score[:1], res.info[:1])
            return self._sums(beta, cols)

    def _sums(self, beta: FloatArray, cols: IntArray | None) -> _Sums:
        xc = self.xc if cols is None else self.xc[:, cols]
        w = None if self.w is None else (self.w if cols is None else self.w[:, cols])
        d = self.d if cols is None else self.d[:, cols]
        xd = self.xd if cols is None else self.xd[cols]
        rows, a = xc.shape
        at_zero = not beta.any()
        # (3, rows, markers): the planes r, r x, r x^2, each one contiguous array, so that
        # every product is one flat loop and the running sums are adds of whole slabs (see
        # running_sum); the buffer is reused from one Newton step to the next
        buf = self._store[: rows * 3 * a].reshape(3, rows, a)
        r = buf[0]
        if at_zero:  # exp(0) = 1: the start of every fit costs no exponential
            if w is None:
                r[...] = 1.0
                buf[1] = xc
            else:
                r[...] = w
                np.multiply(xc, r, out=buf[1])
        else:
            np.multiply(xc, beta[None, :], out=r)
            np.exp(r, out=r)
            if w is not None:
                r *= w
            np.multiply(r, xc, out=buf[1])
        np.multiply(buf[1], xc, out=buf[2])
        before = running_sum(buf, self.size, self.count)
        # (3, rows read, markers): S0, S1, S2 at each
        grid = _read(buf, before, self.read_pos, self.read_block)
        n_death_times = self.d.shape[0]
        if self.term_k.size:  # Efron's terms: risk set minus k/d of the tied deaths' own sums
            dk = self.d_term if cols is None or not self.missing else self.d_term[:, cols]
            f = self.term_k[:, None] / np.where(dk > 0, dk, 1.0)
            dead = _read(buf, before, self.below_pos, self.below_block)
            dead[:, self.below_none] = 0.0
            terms = grid[:, n_death_times:]
            np.subtract(terms, dead, out=dead)  # the tied deaths' own sums D0, D1, D2
            dead *= f[None]
            terms -= dead
            del dead
        loglik = beta * xd
        score = xd.copy()
        if self.ties == "breslow":
            s0, s1, s2 = grid[0], grid[1], grid[2]
            m1 = s1 / s0
            bterms = (d * m1, d * (s2 / s0 - m1 * m1))
            if self.missing:  # a time whose deaths are all missing has no term (0 * log 0)
                bterms = (np.where(d > 0, bterms[0], 0.0), np.where(d > 0, bterms[1], 0.0))
                logs = _sum_log(np.where(d > 0, s0, 1.0), d)
            else:
                logs = _sum_log(s0, d)
            loglik -= logs
            score -= bterms[0].sum(axis=0)
            return _Sums(loglik, score, bterms[1].sum(axis=0))
        # Efron: every death contributes one term, a mean and a variance of x over the term's
        # weighted set (the whole risk set for k = 0)
        den = grid[0]
        m1 = grid[1] / den
        v1 = grid[2] / den
        v1 -= m1 * m1
        if self.active is not None:
            act = self.active if cols is None else self.active[:, cols]
            den = np.where(act, den, 1.0)
            m1 = np.where(act, m1, 0.0)
            v1 = np.where(act, v1, 0.0)
        score -= m1.sum(axis=0)
        loglik -= _sum_log(den, None)
        return _Sums(loglik, score, v1.sum(axis=0))


#: Rows multiplied together before one logarithm in :func:`_sum_log`.
_LOG_BLOCK = 8


def _sum_log(values: FloatArray, weight: FloatArray | None) -> FloatArray:
    """Per column, sum of ``weight * log(values)`` (weight 1 when None).

    The logarithm costs as much as the exponential (there is no SIMD version of either for
    float64 here), so unweighted terms are multiplied in blocks of eight rows and the log is
    taken of the products; a column where a product leaves the safe range (over- or underflow
    is possible for extreme risk scores) is summed term by term instead. The result differs
    from the term-by-term sum by rounding only.
    """
    if weight is not None:
        return (weight * np.log(values)).sum(axis=0)
    rows, a = values.shape
    if rows < 2 * _LOG_BLOCK:
        return np.log(values).sum(axis=0)
    full = rows - rows % _LOG_BLOCK
    prod = values[:full].reshape(full // _LOG_BLOCK, _LOG_BLOCK, a).prod(axis=1)
    out = np.log(prod).sum(axis=0)
    if full < rows:
        out += np.log(values[full:]).sum(axis=0)
    bad = ~(np.all((prod > 1e-280) & (prod < 1e280), axis=0))
    if bad.any():
        out[bad] = np.log(values[:, bad]).sum(axis=0)
    return out


def _solve(score: FloatArray, info: FloatArray) -> FloatArray:
    """score / info, 0 where the information is not a usable pivot (R's ``cholesky2``)."""
    ok = np.isfinite(info) & (info > 0)
    with np.errstate(all="ignore"):
        return np.where(ok, score / np.where(ok, info, 1.0), 0.0)


def fit_chunk(xs: FloatArray, tord: TimeOrder, ties: str = "efron", max_iter: int = 30,
              tol: float = 1e-9) -> dict[str, FloatArray]:
    """Newton-Raphson for every column of ``xs`` (rows in ``tord`` order) at once.

    ``xs`` is overwritten (centred in place): pass a copy.

    Returns per marker: n, n_events, coef, var, loglik_null, loglik, score_test, iterations
    and a status code (0 ok, 1 too few, 2 constant, 3 not converged, 4 infinite).
    """
    if xs.shape[1] == 1:  # see _Chunk.sums: a lone column is summed in another order
        out = fit_chunk(np.repeat(xs, 2, axis=1), tord, ties, max_iter, tol)
        return {k: v[:1] for k, v in out.items()}
    c = xs.shape[1]
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(xs, axis=0) - np.nanmin(xs, axis=0) if xs.shape[0] else np.zeros(c)
    ch = _Chunk(xs, tord, ties)
    status = np.zeros(c, dtype=np.int64)
    status[(ch.n < 2) | (ch.n_events < 1)] = 1
    status[(status == 0) & ~(spread > 0)] = 2
    beta = np.zeros(c)
    first = ch.sums(beta, None)
    ll0 = first.loglik
    step = _solve(first.score, first.info)
    score_test = first.score * step
    usable = np.isfinite(first.info) & (first.info > 0)
    status[(status == 0) & ~usable] = 2
    best = ll0.copy()
    new_beta = beta + step
    halving = np.zeros(c)
    out_beta = np.full(c, np.nan)
    out_var = np.full(c, np.nan)
    out_score = np.full(c, np.nan)
    out_ll = np.full(c, np.nan)
    iters = np.zeros(c, dtype=np.int64)
    active = np.flatnonzero(status == 0)
    for iteration in range(1, max_iter + 1):
        if active.size == 0:
            break
        cols = None if active.size == c else active
        cur = ch.sums(new_beta[active], cols)
        with np.errstate(all="ignore"):
            finite = np.isfinite(cur.loglik) & np.isfinite(cur.score) & np.isfinite(cur.info)
            done = finite & (np.abs(1.0 - best[active] / cur.loglik) <= tol)
        if done.any():
            j = active[done]
            out_beta[j] = new_beta[j]
            info = cur.info[done]
            out_var[j] = np.where(info > 0, 1.0 / np.where(info > 0, info, 1.0), 0.0)
            out_score[j] = cur.score[done]
            out_ll[j] = cur.loglik[done]
            iters[j] = iteration
        worse = ~done & (~finite | (cur.loglik < best[active]))
        better = ~done & ~worse
        j = active[worse]
        halving[j] += 1.0
        new_beta[j] = (new_beta[j] + halving[j] * beta[j]) / (halving[j] + 1.0)
        j = active[better]
        halving[j] = 0.0
        best[j] = cur.loglik[better]
        beta[j] = new_beta[j]
        new_beta[j] = new_beta[j] + _solve(cur.score[better], cur.info[better])
        active = active[~done]
    status[active] = 3
    iters[active] = max_iter
    ok = status == 0
    with np.errstate(all="ignore"):
        infs = np.abs(out_score * out_var)
        diverging = ok & (~np.isfinite(out_score) | ((infs > tol) & (infs > np.sqrt(tol) * np.abs(out_beta))))
    status[diverging] = 4
    bad = status != 0
    for arr in (out_beta, out_var, out_ll):
        arr[bad] = np.nan
    return {
        "n": ch.n,
        "n_events": ch.n_events,
        "coef": out_beta,
        "var": out_var,
        "loglik_null": np.where(status == 1, np.nan, ll0),
        "loglik": out_ll,
        "score_test": np.where(status <= 1, np.where(status == 1, np.nan, score_test), score_test),
        "iterations": iters,
        "status": status,
    }


STATUS = ("ok", "too few", "constant", "not converged", "infinite")


@dataclass(frozen=True, eq=False)
class UnivariableCox:
    """One univariable Cox model per marker (arrays over ``markers``).

    ``p_value`` is the Wald p (``summary(coxph)``'s ``Pr(>|z|)``), ``lr_p`` and ``score_p``
    those of the likelihood-ratio and score tests; ``status`` says why a marker is NaN.
    ``concordance`` / ``concordance_se`` are NaN unless requested.
    """

    markers: tuple[str, ...]
    n: NDArray[np.int64]
    n_events: NDArray[np.int64]
    coef: FloatArray
    se: FloatArray
    hazard_ratio: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    z: FloatArray
    p_value: FloatArray
    loglik_null: FloatArray
    loglik: FloatArray
    lr_statistic: FloatArray
    lr_p: FloatArray
    score_statistic: FloatArray
    score_p: FloatArray
    concordance: FloatArray
    concordance_se: FloatArray
    iterations: NDArray[np.int64]
    status: NDArray[np.str_]
    ties: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One row per marker."""
        names = ("n", "n_events", "coef", "se", "hazard_ratio", "ci_lower", "ci_upper", "z", "p_value",
                 "loglik_null", "loglik", "lr_statistic", "lr_p", "score_statistic", "score_p",
                 "concordance", "concordance_se", "iterations", "status")
        frame = pd.DataFrame({k: getattr(self, k) for k in names})
        frame.insert(0, "marker", list(self.markers))
        return frame

    def __repr__(self) -> str:
        ok = int(np.sum(self.status == "ok"))
        head = f"Univariable Cox ({self.ties} ties): {len(self.markers)} markers, {ok} fitted\n"
        frame = self.to_frame()[["marker", "n", "n_events", "coef", "se", "hazard_ratio", "p_value"]]
        return head + frame.head(10).to_string(index=False)


def _chi1_sf(x: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(x), np.nan, special.chdtrc(1.0, np.where(np.isnan(x), 0.0, np.maximum(x, 0.0))))


def assemble(fit: dict[str, FloatArray], markers: tuple[str, ...], ties: str, level: float,
             concordance: tuple[FloatArray, FloatArray] | None = None) -> UnivariableCox:
    """The result object from the per-marker arrays of :func:`fit_chunk` (concatenated)."""
    coef = fit["coef"]
    se = np.sqrt(fit["var"])
    q = float(special.ndtri((1.0 + level) / 2.0))
    with np.errstate(all="ignore"):
        z = coef / se
        lr = 2.0 * (fit["loglik"] - fit["loglik_null"])
    m = coef.shape[0]
    conc = concordance if concordance is not None else (np.full(m, np.nan), np.full(m, np.nan))
    return UnivariableCox(
        markers=markers,
        n=fit["n"].astype(np.int64),
        n_events=fit["n_events"].astype(np.int64),
        coef=coef,
        se=se,
        hazard_ratio=np.exp(coef),
        ci_lower=np.exp(coef - q * se),
        ci_upper=np.exp(coef + q * se),
        z=z,
        p_value=2.0 * special.ndtr(-np.abs(z)),
        loglik_null=fit["loglik_null"],
        loglik=fit["loglik"],
        lr_statistic=lr,
        lr_p=_chi1_sf(lr),
        score_statistic=fit["score_test"],
        score_p=_chi1_sf(fit["score_test"]),
        concordance=conc[0],
        concordance_se=conc[1],
        iterations=fit["iterations"].astype(np.int64),
        status=np.asarray([STATUS[s] for s in fit["status"]], dtype=str),
        ties=ties,
        level=level,
    )


def concordances(time: FloatArray, event: FloatArray, x: FloatArray, coef: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Harrell's C of ``coef_j * x_j`` per marker (coxph's), on each marker's known rows."""
    from cartscope.stats._cox_concordance import concordance

    m = x.shape[1]
    c = np.full(m, np.nan)
    se = np.full(m, np.nan)
    t = merge_near_ties(time)
    for j in np.flatnonzero(np.isfinite(coef)):
        col = x[:, j]
        ok = ~np.isnan(col)
        res = concordance(t[ok], event[ok].astype(np.float64), coef[j] * (col[ok] - np.mean(col[ok])),
                          np.zeros(int(ok.sum()), dtype=np.intp))
        c[j], se[j] = res.concordance, res.std_err
    return c, se


def marker_steps(n_patients: int, n_markers: int, elements: int = _CHUNK_ELEMENTS) -> list[slice]:
    """Column slices of about ``elements`` (patients x markers) entries each."""
    step = max(1, min(n_markers, elements // max(1, n_patients)))
    return [slice(s, min(n_markers, s + step)) for s in range(0, n_markers, step)]


def cox_univariable(
    time: ArrayLike,
    event: ArrayLike,
    values: ArrayLike,
    *,
    markers: Any = None,
    ties: str = "efron",
    level: float = 0.95,
    concordance: bool = False,
    max_iter: int = 30,
    tol: float = 1e-9,
) -> UnivariableCox:
    """R's ``coxph(Surv(time, event) ~ x_j)`` for every column j of ``values``, in one pass.

    Args:
        time, event: per patient (event 1/True = event); no missing values (drop such patients
            first: they belong to no marker's fit).
        values: patients x markers; NaN = missing (that marker's fit leaves the patient out).
        markers: marker names (default marker1..); a DataFrame's columns name them.
        ties: "efron" (R's default) or "breslow".
        level: confidence level of the hazard-ratio limits.
        concordance: also Harrell's C with its SE per marker (a pair count per marker).
        max_iter, tol: Newton-Raphson limits (as :func:`cartscope.stats.cox`).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow'; got {ties!r}")
    lvl = check_level(level)
    if isinstance(values, pd.DataFrame):
        names = tuple(str(c) for c in values.columns)
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        x = np.asarray(values, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        names = tuple(f"marker{j + 1}" for j in range(x.shape[1])) if x.ndim == 2 else ()
    if x.ndim != 2:
        raise ValueError(f"values must be 2-D (patients x markers); got {x.ndim}-D")
    if markers is not None:
        names = tuple(str(m) for m in markers)
        if len(names) != x.shape[1]:
            raise ValueError(f"markers has {len(names)} names but values has {x.shape[1]} columns")
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=np.float64)
    n = x.shape[0]
    if t.shape != (n,) or e.shape != (n,):
        raise ValueError(f"time and event need one value per patient ({n})")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e))):
        raise ValueError("time and event must not be missing (leave such patients out)")
    if np.any((e != 0) & (e != 1)):
        raise ValueError("event must be 0/1 (or boolean)")
    if np.isinf(x).any():
        raise ValueError("values contain infinite numbers; use NaN for a missing value")
    tord = time_order(t, e > 0)
    parts = [fit_chunk(x[tord.order, cols], tord, ties, max_iter, tol) for cols in marker_steps(n, x.shape[1])]
    fit = {k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in
           ("n", "n_events", "coef", "var", "loglik_null", "loglik", "score_test", "iterations", "status")}
    fit["status"] = fit["status"].astype(np.int64)
    conc = concordances(t, e, x, fit["coef"]) if concordance else None
    return assemble(fit, names, ties, lvl, conc)
