"""Pure numerics over numpy arrays: proportions, survival, competing risks, ROC, tests.

Knows nothing of CAR-T, files or databases. Every estimator returns a frozen result object
with named fields and a ``to_frame()``. R is the reference for every number (see the R
scripts beside ``tests/stats``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "proportion_ci": "proportions",
    "kaplan_meier": "survival",
    "logrank": "survival",
    "logrank_trend": "survival",
    "median_followup": "survival",
    "cox": "cox",
    "cox_zph": "cox",
    "CoxModelError": "cox",
    "cumulative_incidence": "competing",
    "gray_test": "competing",
    "fine_gray": "competing",
    "roc": "roc",
    "delong_test": "roc",
    "logrank_at_cutoffs": "cutoff_logrank",
    "mann_whitney": "tests",
    "kruskal_wallis": "tests",
    "fisher_exact": "tests",
    "chi_square": "tests",
    "correlation": "tests",
    "adjust_pvalues": "tests",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"cartscope.stats.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cartscope.stats' has no attribute {name!r}")
