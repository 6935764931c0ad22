"""Resampling of a biomarker panel as vectorised passes: bootstrap and permutation replicates.

Every replicate of every marker is one row of one rank pass (:mod:`cartscope.stats._ranks`,
with a label vector per row for resampled or permuted outcomes), so B replicates of m markers
cost one sort of B x m rows instead of B x m calls of ``roc()``.

* :func:`youden_bootstrap`: percentile intervals of the Youden cut-off and of sensitivity and
  specificity at it, over stratified bootstrap resamples (cases and controls resampled
  separately, as pROC ``ci.coords(roc, "best", boot.stratified = TRUE)``; numpy's generator is
  not R's, so the draws -- and the intervals -- are not pROC's draw for draw).
* :func:`permutation_test`: per-marker permutation p-values of the AUC (equivalently of the
  Mann-Whitney W) against the outcome labels, and Westfall-Young max-T adjusted p-values over
  the panel; W of a permutation is the rank sum of its cases, so all permutations of all
  markers are one matrix product of the mid-ranks with the permuted label matrix.
* :func:`cartscope.analysis.biomarkers.optimism.optimism_corrected_auc` uses
  :func:`bootstrap_selection` from here.

Seeding per chunk. The replicates are cut into chunks of :data:`CHUNK` (fixed: it depends on
nothing but the number of replicates) and chunk k draws from its own generator,
``numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=(k,)))``, so the result
depends on the seed only: not on where or in which order the chunks run, nor on how many Dask
workers share them (:mod:`cartscope.analysis.distributed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats as sps

from cartscope.analysis.biomarkers._inputs import as_marker_matrix, as_outcome
from cartscope.stats._ranks import rank_pass
from cartscope.stats._roc_kernel import kernel_pass
from cartscope.stats.ranktests import _wilcox_p, tie_term, u_statistic

FloatArray = NDArray[np.float64]

#: Replicates per task: what one worker (or one in-process step) handles at a time.
CHUNK = 256
#: Rows x patients per rank pass inside a task.
_PASS_ELEMENTS = 1 << 17
_MAX_REDRAWS = 1000


def chunk_rng(seed: int, reps: range) -> np.random.Generator:
    """The generator of the chunk of replicates ``reps`` (chunk index = first // CHUNK)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(reps.start // CHUNK,)))


def as_seed(seed: int | np.random.Generator | None) -> int:
    """An int seed: given, or drawn once from a Generator; None is an error."""
    if seed is None:
        raise ValueError("seed is required (an int or numpy Generator) so the result is reproducible")
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    return int(seed)


def _chunks(n_rep: int) -> list[range]:
    return [range(lo, min(n_rep, lo + CHUNK)) for lo in range(0, n_rep, CHUNK)]


def _map(fn: Any, shared: Any, n_rep: int) -> list[Any]:
    from cartscope.analysis.distributed import map_tasks

    return map_tasks(fn, shared, _chunks(n_rep))


def _passes(rows: FloatArray, labels: NDArray[np.bool_], direction: str) -> dict[str, FloatArray]:
    """Kernel and Mann-Whitney fields of every row (rows x patients, labels per row or shared)."""
    n = rows.shape[1]
    step = max(1, _PASS_ELEMENTS // max(1, n))
    out: dict[str, list[FloatArray]] = {}
    for lo in range(0, rows.shape[0], step):
        lab = labels[lo : lo + step] if labels.ndim == 2 else labels
        r = rank_pass(rows[lo : lo + step], lab)
        part = kernel_pass(r, n, direction)
        part["w"] = u_statistic(r)
        part["ties"] = tie_term(r)
        for k, v in part.items():
            out.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v) for k, v in out.items()}


# --------------------------------------------------------------------------------------------
# bootstrap of a selection procedure (optimism)
# --------------------------------------------------------------------------------------------


def uniform_indices(pos: NDArray[np.bool_], seed: int, reps: range) -> NDArray[np.intp]:
    """Uniform bootstrap resamples over patients (one row per replicate of the chunk); a
    resample without both outcome classes is drawn again, from the chunk's generator."""
    n = pos.shape[0]
    rng = chunk_rng(seed, reps)
    out = rng.integers(0, n, size=(len(reps), n))
    for i in range(out.shape[0]):
        for _ in range(_MAX_REDRAWS):
            pb = pos[out[i]]
            if pb.any() and not pb.all():
                break
            out[i] = rng.integers(0, n, size=n)
        else:
            raise ValueError("could not draw a resample with both outcome classes")
    return out


def select(p: FloatArray, auc: FloatArray) -> NDArray[np.intp]:
    """Per row of (replicates x markers): the smallest p, ties the larger AUC, then the first."""
    p = np.where(np.isnan(p), np.inf, p)
    a = np.where(np.isnan(auc), -np.inf, auc)
    r, m = p.shape
    if m == 1:
        return np.zeros(r, dtype=np.intp)
    best_p = p.min(axis=1, keepdims=True)
    cand = p == best_p
    a_c = np.where(cand, a, -np.inf)
    best_a = a_c.max(axis=1, keepdims=True)
    return np.argmax(cand & (a_c == best_a), axis=1).astype(np.intp)


@dataclass(frozen=True, eq=False)
class _SelectionTask:
    x: FloatArray
    pos: NDArray[np.bool_]
    direction: str
    seed: int


def _selection_chunk(task: _SelectionTask, reps: range) -> dict[str, Any]:
    x, pos = task.x, task.pos
    n, m = x.shape
    idx = uniform_indices(pos, task.seed, reps)
    b = idx.shape[0]
    # rows: replicate-major, marker-minor; labels per row
    rows = x[idx].transpose(0, 2, 1).reshape(b * m, n)
    labels = np.repeat(pos[idx], m, axis=0)
    k = _passes(rows, labels, task.direction)
    auc = k["auc"].reshape(b, m)
    if m > 1:
        p, _ = _wilcox_p(k["w"], k["ties"], k["n_cases"], k["n_controls"], "two-sided", "auto", True)
        j = select(p.reshape(b, m), auc)
    else:
        j = np.zeros(b, dtype=np.intp)
    lt = k["lt"].reshape(b, m)[np.arange(b), j]
    return {"marker": j, "lt": lt, "auc_boot": auc[np.arange(b), j]}


def bootstrap_selection(x: FloatArray, pos: NDArray[np.bool_], direction: str, n_boot: int,
                        seed: int) -> dict[str, NDArray[Any]]:
    """Per replicate: the marker P selects on the resample, its direction and resample AUC."""
    task = _SelectionTask(np.ascontiguousarray(x), pos, direction, seed)
    parts = _map(_selection_chunk, task, n_boot)
    return {k: np.concatenate([p[k] for p in parts]) for k in ("marker", "lt", "auc_boot")}


def original_aucs(x: FloatArray, pos: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """AUC of every marker on the original data for direction "<" and for ">"."""
    k = _passes(np.ascontiguousarray(x.T), pos, "<")
    return k["auc"], 1.0 - k["auc"]


# --------------------------------------------------------------------------------------------
# Youden cut-off bootstrap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class YoudenBootstrap:
    """Per marker: the Youden cut-off and sensitivity / specificity at it, with percentile
    intervals over ``n_boot`` stratified resamples (``replicates`` has every draw)."""

    table: pd.DataFrame
    n_boot: int
    level: float
    seed: int
    replicates: dict[str, FloatArray]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        return (f"Youden cut-off bootstrap ({self.n_boot} stratified resamples, level {self.level})\n"
                + self.table.head(10).to_string(index=False))


@dataclass(frozen=True, eq=False)
class _StratTask:
    x: FloatArray  # patients x markers, cases first
    n1: int
    lt: NDArray[np.bool_]
    seed: int


def _strat_chunk(task: _StratTask, reps: range) -> dict[str, FloatArray]:
    x = task.x
    n, m = x.shape
    n1, n0 = task.n1, n - task.n1
    b = len(reps)
    rng = chunk_rng(task.seed, reps)
    idx = np.empty((b, n), dtype=np.intp)
    idx[:, :n1] = rng.integers(0, n1, size=(b, n1))
    idx[:, n1:] = n1 + rng.integers(0, n0, size=(b, n0))
    labels = np.zeros(n, dtype=bool)
    labels[:n1] = True
    out = {key: np.full((b, m), np.nan) for key in ("threshold", "sensitivity", "specificity")}
    for d, sel in (("<", np.flatnonzero(task.lt)), (">", np.flatnonzero(~task.lt))):
        if sel.size == 0:
            continue
        rows = x[:, sel][idx].transpose(0, 2, 1).reshape(b * sel.size, n)
        k = _passes(rows, labels, d)
        for key in out:
            out[key][:, sel] = k[key].reshape(b, sel.size)
    return out


def youden_bootstrap(
    values: Any,
    outcome: Any,
    *,
    n_boot: int = 2000,
    seed: int | np.random.Generator,
    direction: str = "auto",
    level: float = 0.95,
    markers: Sequence[str] | None = None,
) -> YoudenBootstrap:
    """Bootstrap percentile intervals of each marker's Youden cut-off and of sensitivity and
    specificity at it (R quantile type 7), as pROC ``ci.coords(roc, x = "best",
    input = "threshold", ret = c("threshold", "sensitivity", "specificity"))``.

    The direction of each marker is fixed from the original data (pROC keeps the curve's
    direction in its bootstrap); ``outcome`` 1 = failure (case), NaN = not evaluable.
    """
    s = as_seed(seed)
    if int(n_boot) < 2:
        raise ValueError(f"n_boot must be at least 2; got {n_boot}")
    if direction not in ("auto", "<", ">"):
        raise ValueError(f"direction must be 'auto', '<' or '>'; got {direction!r}")
    x, names, _ = as_marker_matrix(values, markers)
    y = as_outcome(outcome, x.shape[0])
    known = ~np.isnan(y)
    if np.isnan(x[known]).any():
        raise ValueError("values have missing entries among patients with a known outcome; "
                         "the bootstrap needs complete markers (drop or impute them first)")
    pos = y[known] == 1
    if pos.sum() < 1 or (~pos).sum() < 1:
        raise ValueError("need cases and controls")
    xk = x[known]
    xo = np.concatenate([xk[pos], xk[~pos]])
    n1 = int(pos.sum())
    labels = np.zeros(xo.shape[0], dtype=bool)
    labels[:n1] = True
    apparent = _passes(np.ascontiguousarray(xo.T), labels, direction)
    lt = apparent["lt"].astype(bool)
    task = _StratTask(xo, n1, lt, s)
    parts = _map(_strat_chunk, task, int(n_boot))
    reps = {k: np.concatenate([p[k] for p in parts]) for k in ("threshold", "sensitivity", "specificity")}
    probs = [(1.0 - level) / 2.0, 1.0 - (1.0 - level) / 2.0]
    cols: dict[str, Any] = {"marker": list(names), "direction": np.where(lt, "<", ">")}
    for key in ("threshold", "sensitivity", "specificity"):
        r = reps[key]
        finite = np.where(np.isfinite(r), r, np.nan)
        with np.errstate(invalid="ignore"):
            q = np.nanquantile(finite, probs, axis=0) if np.isfinite(finite).any() else np.full((2, len(names)), np.nan)
        cols[key] = apparent[key]
        cols[f"{key}_lower"] = q[0]
        cols[f"{key}_upper"] = q[1]
    return YoudenBootstrap(pd.DataFrame(cols), int(n_boot), float(level), s, reps)


# --------------------------------------------------------------------------------------------
# permutation p-values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PermutationTest:
    """Per marker: AUC, permutation p of |W - n1 n0 / 2| and the max-T adjusted p."""

    table: pd.DataFrame
    n_perm: int
    seed: int

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        return f"Permutation test ({self.n_perm} permutations)\n" + self.table.head(10).to_string(index=False)


@dataclass(frozen=True, eq=False)
class _PermTask:
    ranks: FloatArray  # patients x markers, mid-ranks
    pos: NDArray[np.bool_]
    centre: float
    observed: FloatArray  # |W_obs - centre|
    seed: int


def _perm_chunk(task: _PermTask, reps: range) -> dict[str, FloatArray]:
    n = task.pos.shape[0]
    rng = chunk_rng(task.seed, reps)
    lab = rng.permuted(np.tile(task.pos.astype(np.float64), (len(reps), 1)), axis=1)
    dev = np.abs(lab @ task.ranks - task.centre)  # (perms x markers): rank sums of the cases
    tol = 1e-7 * np.maximum(1.0, task.observed)
    hits = (dev >= task.observed[None, :] - tol).sum(axis=0).astype(np.float64)
    maxhits = (dev.max(axis=1)[:, None] >= task.observed[None, :] - tol).sum(axis=0).astype(np.float64)
    return {"hits": hits, "maxhits": maxhits}


def permutation_test(
    values: Any,
    outcome: Any,
    *,
    n_perm: int = 10_000,
    seed: int | np.random.Generator,
    markers: Sequence[str] | None = None,
) -> PermutationTest:
    """Permutation p-values of every marker of a panel against the outcome labels.

    The statistic is |W - n1 n0 / 2| (two-sided; W the Mann-Whitney rank-sum statistic of the
    cases, i.e. |AUC - 1/2| n1 n0), with mid-ranks for ties; p = (1 + #{perm >= obs}) /
    (1 + n_perm) (Phipson and Smyth 2010), and the Westfall-Young single-step max-T adjusted
    p = (1 + #{max over the panel of perm >= obs}) / (1 + n_perm), which controls the
    family-wise error over the panel. Markers must be complete among the patients with a
    known outcome (permutations exchange whole patients).
    """
    s = as_seed(seed)
    if int(n_perm) < 1:
        raise ValueError(f"n_perm must be at least 1; got {n_perm}")
    x, names, _ = as_marker_matrix(values, markers)
    y = as_outcome(outcome, x.shape[0])
    known = ~np.isnan(y)
    xk = x[known]
    if np.isnan(xk).any():
        raise ValueError("values have missing entries among patients with a known outcome; "
                         "permutations need complete markers (drop or impute them first)")
    pos = y[known] == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 < 1 or n0 < 1:
        raise ValueError("need cases and controls")
    ranks = sps.rankdata(xk, axis=0)
    centre = n1 * (n1 + n0 + 1) / 2.0  # mean rank sum of the cases
    observed = np.abs(pos.astype(np.float64) @ ranks - centre)
    task = _PermTask(np.ascontiguousarray(ranks), pos, centre, observed, s)
    parts = _map(_perm_chunk, task, int(n_perm))
    hits = np.sum([p["hits"] for p in parts], axis=0)
    maxhits = np.sum([p["maxhits"] for p in parts], axis=0)
    w = pos.astype(np.float64) @ ranks - n1 * (n1 + 1) / 2.0
    table = pd.DataFrame({
        "marker": list(names),
        "mw_statistic": w,
        "auc": w / (n1 * n0),
        "p_perm": (1.0 + hits) / (1.0 + n_perm),
        "p_maxt": (1.0 + maxhits) / (1.0 + n_perm),
    })
    return PermutationTest(table, int(n_perm), s)
