"""Bootstrap optimism correction of a screened marker's AUC (Harrell, Lee & Mark 1996).

General numerics the ``stats`` core does not have yet (it would sit beside ``roc``); kept here
until it moves. The apparent AUC of a marker chosen from a panel, with a direction chosen on the
same data, is biased upwards. Harrell's bootstrap estimates that bias by repeating the *whole
selection procedure* on resamples:

Procedure P(data):
  1. panel (several markers): the Mann-Whitney p of every marker (R ``wilcox.test``); keep the
     marker with the smallest p (ties: the larger AUC, then the first column);
  2. direction of that marker: pROC's "auto" rule on the same data (or the fixed ``direction``);
  3. AUC of that marker in that direction on the same data.

Apparent AUC A = P(original data). For replicate b = 1..B, draw n patients with replacement
(uniform bootstrap over patients with a known outcome; a resample without both classes is
drawn again), run P on it to get marker j_b, direction d_b and AUC_boot,b; evaluate the same
(j_b, d_b) on the original data: AUC_orig,b. Optimism O = mean_b (AUC_boot,b - AUC_orig,b);
corrected AUC = A - O. For a single marker only step 2 is re-run, so the correction measures
the optimism of choosing the direction; with a strong marker and large n it is close to 0.

All B replicates of all markers are one vectorised pass
(:func:`cartscope.analysis.biomarkers.resampling.bootstrap_selection`): every resample of every
marker is a row of one rank pass with its own labels. Reproducible whatever the chunking or the
number of Dask workers: replicate b draws from its own generator, seeded from ``seed`` and b.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cartscope.analysis.biomarkers._inputs import as_marker_matrix, as_outcome
from cartscope.analysis.biomarkers.resampling import (
    _passes,
    as_seed,
    bootstrap_selection,
    original_aucs,
    select,
)
from cartscope.stats.ranktests import _wilcox_p


@dataclass(frozen=True, eq=False)
class OptimismResult:
    """Apparent, optimism and corrected AUC of the selected marker, with the replicates."""

    apparent_auc: float
    optimism: float
    corrected_auc: float
    selected_marker: str
    direction: str
    n_boot: int
    n: int
    n_markers: int
    seed: int | None
    replicate_optimism: NDArray[np.float64] = field(repr=False)
    replicate_marker: tuple[str, ...] = field(repr=False)

    def selection_frequency(self) -> pd.Series:
        """How often each marker was selected over the bootstrap replicates (share)."""
        s = pd.Series(self.replicate_marker).value_counts(normalize=True)
        s.index.name = "marker"
        return s.rename("share")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{
                "selected_marker": self.selected_marker,
                "direction": self.direction,
                "apparent_auc": self.apparent_auc,
                "optimism": self.optimism,
                "corrected_auc": self.corrected_auc,
                "n_boot": self.n_boot,
                "n": self.n,
                "n_markers": self.n_markers,
                "seed": self.seed,
            }]
        )


def _select(x: NDArray[np.float64], pos: NDArray[np.bool_], direction: str) -> tuple[int, str, float]:
    """Run the selection procedure P: (marker index, direction, AUC) on these data."""
    k = _passes(np.ascontiguousarray(x.T), pos, direction)
    if x.shape[1] == 1:
        j = 0
    else:
        p, _ = _wilcox_p(k["w"], k["ties"], k["n_cases"], k["n_controls"], "two-sided", "auto", True)
        j = int(select(p[None, :], k["auc"][None, :])[0])
    return j, "<" if k["lt"][j] else ">", float(k["auc"][j])


def optimism_corrected_auc(
    values: pd.DataFrame | ArrayLike,
    outcome: ArrayLike,
    *,
    n_boot: int = 200,
    seed: int | np.random.Generator,
    direction: Literal["auto", "<", ">"] = "auto",
    markers: Sequence[str] | None = None,
) -> OptimismResult:
    """Harrell's bootstrap optimism-corrected AUC of the marker a screen would select.

    ``values`` is one marker (1-D) or a panel (patients x markers); ``outcome`` 1 = failure,
    0 = non-failure, NaN = not evaluable (dropped). See the module docstring for exactly what is
    re-run in each replicate. ``seed`` is required (an int or a numpy Generator).
    """
    if seed is None:
        raise ValueError("seed is required (an int or numpy Generator) so the result is reproducible")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be at least 1; got {n_boot}")
    if direction not in ("auto", "<", ">"):
        raise ValueError(f"direction must be 'auto', '<' or '>'; got {direction!r}")
    x, names, _ = as_marker_matrix(values, markers)
    y = as_outcome(outcome, x.shape[0])
    known = ~np.isnan(y)
    x, pos = x[known], y[known] == 1
    n = x.shape[0]
    if pos.sum() < 2 or (~pos).sum() < 2:
        raise ValueError("need at least 2 patients in each outcome class")
    base = as_seed(seed)

    j0, d0, apparent = _select(x, pos, direction)
    boot = bootstrap_selection(x, pos, direction, int(n_boot), base)
    auc_lt, auc_gt = original_aucs(x, pos)
    jb = boot["marker"]
    auc_orig = np.where(boot["lt"], auc_lt[jb], auc_gt[jb])
    opt = boot["auc_boot"] - auc_orig
    chosen = [names[j] for j in jb]
    mean_opt = float(opt.mean())
    return OptimismResult(
        apparent_auc=apparent,
        optimism=mean_opt,
        corrected_auc=apparent - mean_opt,
        selected_marker=names[j0],
        direction=d0,
        n_boot=int(n_boot),
        n=n,
        n_markers=x.shape[1],
        seed=base,
        replicate_optimism=opt,
        replicate_marker=tuple(chosen),
    )
