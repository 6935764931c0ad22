"""One chunk of the biomarker screen: every per-marker statistic of a block of columns.

:func:`screen_chunk` is a pure function of the plan (what is shared by all markers: who is
known, the outcome classes, the time order, the subgroups) and one block of columns, so the
screen is a map over blocks followed by a concatenation, in process or on a Dask cluster
(:func:`cartscope.analysis.distributed.map_chunks`), with the same numbers either way: no
statistic of a marker depends on the other markers of its block.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cartscope.stats._cox_univariable import TimeOrder, fit_chunk, marker_steps, time_order
from cartscope.stats._timefix import merge_near_ties
from cartscope.stats.cutoff_logrank import LogrankTimes, logrank_block, logrank_times
from cartscope.stats.ranktests import _wilcox_p

FloatArray = NDArray[np.float64]

#: Rank-pass sub-block: about this many (markers x patients) elements (its sorted copy by
#: class holds 8 bytes each: 1 MiB, within the cache for the sort and the scan that follows).
_RANK_ELEMENTS = 1 << 17
#: Cox sub-block: about this many elements, copied once into the time order (0.5 MiB: the
#: copy stays in the cache while the kernel reads it).
_COX_ELEMENTS = 1 << 16
#: Most threads the screen uses by default (beyond this, blocks are too few and memory
#: bandwidth, not cores, limits the passes).
MAX_THREADS = 8


def subgroup_levels(labels: NDArray[Any] | None) -> tuple[tuple[str, ...], NDArray[Any] | None]:
    """Sorted subgroup names and the per-patient label as strings (None = missing)."""
    if labels is None:
        return (), None
    lab = np.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in labels],
                   dtype=object)
    return tuple(sorted({v for v in lab if v is not None})), lab


@dataclass(frozen=True, eq=False)
class ScreenPlan:
    """What every chunk of one screen shares (small: indices and per-patient vectors)."""

    known: NDArray[np.intp]  # rows with a known outcome
    positive: NDArray[np.bool_]  # failure class, over ``known``
    direction: str
    level: float
    cox_per: str
    reference: FloatArray | None
    survival_rows: NDArray[np.intp] | None  # rows with known time and event
    time: FloatArray | None  # over survival_rows
    event: FloatArray | None
    cox_rows: NDArray[np.intp] | None  # survival_rows in the Cox time order
    cox_order: TimeOrder | None
    logrank: LogrankTimes | None  # over survival_rows: the log-rank test's time order
    levels: tuple[str, ...]
    level_rows: tuple[NDArray[np.intp], ...]  # per subgroup: positions within ``known``

    @classmethod
    def make(cls, *, known: NDArray[np.bool_], positive: NDArray[np.bool_],
             survival: tuple[FloatArray, FloatArray] | None, subgroups: NDArray[Any] | None,
             direction: str, cox_per: str, level: float, reference: FloatArray | None) -> ScreenPlan:
        rows = t = e = cox_rows = tord = lr = None
        if survival is not None:
            ts, es = survival
            rows = np.flatnonzero(~(np.isnan(ts) | np.isnan(es)))
            t, e = ts[rows], es[rows]
            lr = logrank_times(merge_near_ties(t), e)
            if cox_per != "none":
                tord = time_order(t, e > 0)
                cox_rows = rows[tord.order]
        levels, lab = subgroup_levels(subgroups)
        level_rows = tuple(np.flatnonzero(lab == lv) for lv in levels) if lab is not None else ()
        return cls(
            known=np.flatnonzero(known), positive=positive, direction=direction, level=level,
            cox_per=cox_per, reference=reference, survival_rows=rows, time=t, event=e,
            cox_rows=cox_rows, cox_order=tord, logrank=lr, levels=levels, level_rows=level_rows,
        )


def chunk_slices(n_patients: int, n_markers: int, threads: int = 1) -> list[slice]:
    """Blocks of markers: wide enough (at least 32 markers) that each block's per-call costs
    are spread over many markers, small enough (a tenth of the panel, at most 512 markers) that
    a block's working memory stays a fraction of the input matrix; with ``threads`` blocks in flight at once, each ``1/threads``
    as wide, so that their copies together stay that fraction."""
    del n_patients
    step = max(1, min(n_markers, max(32, min(512, n_markers // 10))) // max(1, threads))
    return [slice(s, min(n_markers, s + step)) for s in range(0, n_markers, step)]


def _rank_stats(x: FloatArray, rows: NDArray[np.intp], positive: NDArray[np.bool_],
                direction: str | None, share: int = 1) -> dict[str, Any]:
    """Mann-Whitney, class medians (and, with a direction, the ROC with its Youden optimum) of
    every column of the block ``x`` over the patients ``rows`` (``positive``: one flag per
    entry of ``rows``), in sub-blocks of about ``_RANK_ELEMENTS // share`` values, each
    split by class, sorted and scanned by the compiled kernel
    (:func:`cartscope.stats._rank_kernel.class_ranks`)."""
    from cartscope.stats._rank_kernel import class_ranks

    c = x.shape[1]
    step = max(1, min(c, _RANK_ELEMENTS // share // max(1, rows.size)))
    parts = [class_ranks(x, rows, positive, direction, lo, min(c, lo + step)) for lo in range(0, max(c, 1), step)]
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def screen_chunk(plan: ScreenPlan, x: FloatArray, share: int = 1) -> dict[str, Any]:
    """Every per-marker column of the screen for the block ``x`` (all patients x its markers).

    ``share``: how many blocks run side by side in this process; the rank pass (its sorted
    copy of the values by class) then works in sub-blocks ``1/share`` as wide, so that all of
    them together hold about what one does (no statistic of a marker depends on the width
    of its sub-block). The log-rank scan reads the block in place. The Cox pass's sub-blocks
    (one copy in the time order, 8 bytes per value) keep their width."""
    if plan.reference is not None:
        raise ValueError("pass the block already divided by its reference (see run_chunks)")
    c = x.shape[1]
    x = np.ascontiguousarray(x, dtype=np.float64)
    rk = _rank_stats(x, plan.known, plan.positive, plan.direction, share)
    p, method = _wilcox_p(rk["w"], rk["ties"], rk["n1"], rk["n0"], "two-sided", "auto", True)
    out: dict[str, Any] = {
        "n_positive": rk["n1"].astype(np.int64),
        "n_negative": rk["n0"].astype(np.int64),
        "median_positive": rk["med1"],
        "median_negative": rk["med0"],
        "mw_statistic": rk["w"],
        "mw_method": np.asarray(method),
        "p_value": p,
        "lt": rk["lt"],
        "auc": rk["auc"],
        "auc_var": rk["var"],
        "youden_cutoff": rk["threshold"],
        "youden_j": rk["sensitivity"] + rk["specificity"] - 1.0,
        "tp": rk["tp"],
        "tn": rk["tn"],
    }
    for i, rows in enumerate(plan.level_rows):
        ps = plan.positive[rows]
        sg = _rank_stats(x, plan.known[rows], ps, None, share)
        if ps.any() and not ps.all():
            sp, _ = _wilcox_p(sg["w"], sg["ties"], sg["n1"], sg["n0"], "two-sided", "auto", True)
            sw = sg["w"]
        else:
            sp = np.full(c, np.nan)
            sw = np.full(c, np.nan)
        out[f"sub{i}_p"] = sp
        out[f"sub{i}_w"] = sw
        out[f"sub{i}_n1"] = np.full(c, int(ps.sum())) if not (ps.any() and not ps.all()) else sg["n1"].astype(np.int64)
        out[f"sub{i}_n0"] = np.full(c, int((~ps).sum())) if not (ps.any() and not ps.all()) else sg["n0"].astype(np.int64)
        out[f"sub{i}_med1"] = sg["med1"]
        out[f"sub{i}_med0"] = sg["med0"]
    if plan.survival_rows is not None:
        usable = np.isfinite(rk["auc"])
        cut = np.where(usable, rk["threshold"], np.inf)
        out.update(_logrank(plan, x, cut))
        if plan.cox_per != "none":
            out.update(_cox(plan, x))
    return out


def _logrank(plan: ScreenPlan, x: FloatArray, cut: FloatArray) -> dict[str, Any]:
    """Log-rank test of high (> cut) vs low per marker of the block (R ``survdiff``), in the
    plan's shared time order: one compiled scan per marker, reading the block in place."""
    lr = plan.logrank
    rows = plan.survival_rows[lr.order]  # type: ignore[index, union-attr]
    res = logrank_block(lr, x, rows, cut, expected_low=False)  # type: ignore[arg-type]
    return {"n_high": res["n_high"], "n_low": res["n_low"],
            "logrank_statistic": res["statistic"], "logrank_p": res["p_value"]}


def _cox(plan: ScreenPlan, x: FloatArray) -> dict[str, FloatArray]:
    """Univariable Cox per marker of the block: per unit, or per doubling (log2 of the value;
    a marker with a value <= 0 gets NaN, the log being undefined). Fitted in sub-blocks of
    about ``_COX_ELEMENTS`` values, each copied once into the time order (markers x patients)."""
    parts = []
    bads = []
    for cols in marker_steps(x.shape[0], x.shape[1], _COX_ELEMENTS):
        xt = np.take(x[:, cols].T, plan.cox_rows, axis=1)
        bad = np.zeros(xt.shape[0], dtype=bool)
        if plan.cox_per == "log2":
            with np.errstate(invalid="ignore"):
                bad = np.any(xt <= 0, axis=1)
            xt[bad] = 1.0
            with np.errstate(divide="ignore", invalid="ignore"):
                np.log2(xt, out=xt)
        parts.append(fit_chunk(xt, plan.cox_order))  # type: ignore[arg-type]
        bads.append(bad)
        del xt
    fit = {k: np.concatenate([f[k] for f in parts]) for k in ("coef", "var", "n")}
    bad = np.concatenate(bads)
    coef = fit["coef"]
    se = np.sqrt(fit["var"])
    q = _z(plan.level)
    with np.errstate(invalid="ignore", over="ignore"):
        z = coef / se
    from scipy import special

    return {
        "cox_hr": np.where(bad, np.nan, np.exp(coef)),
        "cox_lower": np.where(bad, np.nan, np.exp(coef - q * se)),
        "cox_upper": np.where(bad, np.nan, np.exp(coef + q * se)),
        "cox_p": np.where(bad, np.nan, 2.0 * special.ndtr(-np.abs(z))),
        "cox_n": np.where(bad, np.nan, fit["n"]),
    }


def _z(level: float) -> float:
    from scipy import special

    return float(special.ndtri((1.0 + level) / 2.0))


def block(plan: ScreenPlan, xb: FloatArray, cols: slice) -> FloatArray:
    """A copy of the block's columns ``xb`` (columns ``cols`` of the panel), divided by their
    reference when there is one (``cols`` picks the reference of these columns)."""
    xb = np.array(xb, dtype=np.float64, copy=True)
    if plan.reference is not None:
        xb /= plan.reference[cols][None, :]
    return xb


def _unreferenced(plan: ScreenPlan) -> ScreenPlan:
    return ScreenPlan(**{**plan.__dict__, "reference": None})


def run_block(plan: ScreenPlan, xb: FloatArray, cols: slice, share: int = 1) -> dict[str, Any]:
    """:func:`screen_chunk` of the block ``xb``, the columns ``cols`` of the panel, one of
    ``share`` blocks in flight at once."""
    return screen_chunk(_unreferenced(plan), block(plan, xb, cols), share)


class Parts:
    """Per-marker columns concatenated over the blocks, in marker order."""

    def __init__(self, parts: Sequence[dict[str, Any]]) -> None:
        self._parts = list(parts)

    def __getitem__(self, key: str) -> Any:
        return np.concatenate([p[key] for p in self._parts])


def default_threads() -> int:
    """The usable cores of this process (``os.sched_getaffinity``; ``os.cpu_count`` where that
    does not exist), at most :data:`MAX_THREADS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        cores = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cores))


def resolve_threads(threads: int | None) -> int:
    """``threads`` checked (an integer >= 1), or :func:`default_threads` for None."""
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be an integer of at least 1 (or None: the usable cores); got {threads!r}")
    return int(threads)


def run_chunks(plan: ScreenPlan, x: FloatArray, slices: Sequence[slice], threads: int = 1) -> Parts:
    """Every block of the screen: on the active Dask cluster when there is one, else here, on
    ``threads`` threads (1 = one after the other in this thread).

    The blocks' work is sorts and compiled per-marker scans that release the GIL, so threads
    run blocks side by side. No block reads another's output and the parts are put together in
    block order, so the result is byte-identical whatever the number of threads. The blocks are
    ``1/threads`` as wide as with one thread (:func:`chunk_slices`) and so are their rank-pass
    sub-blocks (``share``), so the blocks in flight together hold about what one does on one
    thread: the peak memory (tracemalloc) of the 2,000 x 1,000 bench screen with its defaults is
    0.21x its input on one thread, 0.28x on two, 0.29x on three. The block path makes no BLAS
    calls, so threads cannot multiply with BLAS threads.
    """
    from cartscope.analysis.distributed import active_client, map_blocks

    if active_client() is not None and len(slices) > 1:
        return Parts(map_blocks(run_block, plan, x, slices))
    workers = min(int(threads), len(slices))
    if workers <= 1:
        return Parts([run_block(plan, x[:, cols], cols) for cols in slices])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cartscope-screen") as pool:
        return Parts(list(pool.map(lambda cols: run_block(plan, x[:, cols], cols, workers), slices)))
