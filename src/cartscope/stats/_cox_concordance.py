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

The counts ``c_i, d_i, t_i`` are 2-D dominance counts (time order x predictor rank), one set
per observation, which numpy can only give as many whole-array passes over the data; a
hand-written compiled kernel counts them instead (:mod:`cartscope.stats._concordance_kernel`:
a Fenwick tree over the predictor ranks walked in time order once per role, O(n log n)), in
exact integers. The dfbeta terms are summed in that time order. The kernel, and numba with
it, is loaded on the first call, so importing the Cox code does not load the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


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
    from cartscope.stats._concordance_kernel import dense_ranks, pair_counts

    # one dtype per argument, so the kernel is compiled (and cached) once
    time = np.ascontiguousarray(time, dtype=np.float64)
    event = np.ascontiguousarray(event, dtype=np.float64)
    predictor = np.ascontiguousarray(predictor, dtype=np.float64)
    strata = np.ascontiguousarray(strata, dtype=np.intp)
    n = time.shape[0]
    # time order within stratum; the kernel takes a tied time as one group, in any order
    one_stratum = n == 0 or bool(np.all(strata == strata[0]))
    order = np.argsort(time) if one_stratum else np.lexsort((time, strata))
    rank, n_ranks = dense_ranks(predictor, np.argsort(predictor))
    conc_i, disc_i, tied_i, totals = pair_counts(time, event, strata, rank, n_ranks, order)

    concordant, discordant, tied_x = (float(v) for v in totals)
    npair = concordant + discordant + tied_x
    if npair == 0:
        return ConcordanceCounts(concordant, discordant, tied_x, float("nan"), float("nan"))
    somers = (concordant - discordant) / npair
    c = conc_i.astype(np.float64)
    d = disc_i.astype(np.float64)
    dfbeta = ((c - d) - somers * (c + d + tied_i.astype(np.float64))) / npair
    return ConcordanceCounts(
        concordant=concordant,
        discordant=discordant,
        tied_x=tied_x,
        concordance=(somers + 1.0) / 2.0,
        std_err=float(np.sqrt(np.sum(dfbeta**2) / 4.0)),
    )
