"""Pure numerics over numpy arrays: proportions, survival, competing risks, ROC, tests.

Knows nothing of CAR-T, files or databases. Every estimator returns a frozen result object
with named fields and a ``to_frame()``. R is the reference for every number (see the R
scripts beside ``tests/stats``).

The names are bound eagerly: several functions share their module's name (``roc``, ``cox``),
and a lazily resolved name would be shadowed by the submodule once it is imported.
"""

from __future__ import annotations

from cartscope.stats.competing import cumulative_incidence, fine_gray, gray_test
from cartscope.stats.cox import CoxModelError, cox, cox_zph
from cartscope.stats._cox_univariable import UnivariableCox, cox_univariable
from cartscope.stats.cox_counting import cox_counting
from cartscope.stats.cox_predict import adjusted_survival, predict_survival
from cartscope.stats.cutoff_logrank import logrank_at_cutoffs
from cartscope.stats.km import kaplan_meier, median_followup
from cartscope.stats.km_counting import kaplan_meier_counting, simon_makuch
from cartscope.stats.firth_cox import cox_or_firth, firth_cox
from cartscope.stats.logistic import LogisticModelError, logistic
from cartscope.stats.maxstat import maxstat_test, maxstat_test_binary
from cartscope.stats.paired import friedman, mcnemar, paired_t, wilcoxon_signed_rank
from cartscope.stats.proportions import proportion_ci
from cartscope.stats.rmst import rmst, rmst_compare
from cartscope.stats.roc import delong_test, roc
from cartscope.stats.survival import logrank, logrank_trend
from cartscope.stats.td_roc import td_auc
from cartscope.stats.tests import (
    adjust_pvalues,
    chi_square,
    correlation,
    fisher_exact,
    kruskal_wallis,
    mann_whitney,
)

__all__ = [
    "CoxModelError", "UnivariableCox", "adjust_pvalues", "chi_square", "correlation", "cox", "cox_univariable", "cox_zph",
    "cumulative_incidence", "delong_test", "fine_gray", "fisher_exact", "gray_test",
    "kaplan_meier", "kruskal_wallis", "logrank", "logrank_at_cutoffs", "logrank_trend",
    "mann_whitney", "maxstat_test", "maxstat_test_binary", "median_followup", "proportion_ci", "roc",
    "friedman", "mcnemar", "paired_t", "wilcoxon_signed_rank", "LogisticModelError", "logistic",
    "firth_cox", "cox_or_firth", "cox_counting", "predict_survival", "adjusted_survival", "kaplan_meier_counting",
    "simon_makuch", "rmst", "rmst_compare", "td_auc",
]

from cartscope.stats._repr import install_package as _install_reprs  # noqa: E402

_install_reprs()  # short R-like repr and _repr_html_ for every result class (stats/_repr.py)
