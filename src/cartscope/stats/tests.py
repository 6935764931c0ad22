"""Hypothesis tests, one import point: rank tests, contingency tables, correlation and
multiple-testing adjustment. Each lives in its own module; this one re-exports the public names.
"""

from __future__ import annotations

from cartscope.stats.contingency import ChiSquareResult, FisherResult, chi_square, fisher_exact
from cartscope.stats.correlation import CorrelationResult, correlation
from cartscope.stats.multiplicity import adjust_pvalues
from cartscope.stats.ranktests import (
    KruskalWallisResult,
    MannWhitneyResult,
    kruskal_wallis,
    mann_whitney,
)

__all__ = [
    "ChiSquareResult",
    "CorrelationResult",
    "FisherResult",
    "KruskalWallisResult",
    "MannWhitneyResult",
    "adjust_pvalues",
    "chi_square",
    "correlation",
    "fisher_exact",
    "kruskal_wallis",
    "mann_whitney",
]
