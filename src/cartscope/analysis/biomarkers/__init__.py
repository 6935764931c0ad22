"""Biomarker discovery and validation: panel screen, frozen cut-off validation, correlation and
multivariable follow-up of the top markers, optimism-corrected AUC and maximally selected
cut-points.

Every test statistic, AUC and interval comes from :mod:`cartscope.stats`. The two numerical
procedures the core lacks, the maxstat p-values (:mod:`.maxstat`) and the bootstrap optimism
correction (:mod:`.optimism`), are pure numpy modules here until they move to ``stats``.
"""

from __future__ import annotations

from cartscope.stats.maxstat import MaxstatResult, maxstat_test, maxstat_test_binary
from cartscope.analysis.biomarkers.optimism import OptimismResult, optimism_corrected_auc
from cartscope.analysis.biomarkers.panel import (
    CorrelationMatrix,
    MultivariableResult,
    correlation_matrix,
    multivariable,
)
from cartscope.analysis.biomarkers.screen import ScreenResult, screen
from cartscope.analysis.biomarkers.validation import CutoffValidation, validate_cutoff

__all__ = [
    "CorrelationMatrix",
    "CutoffValidation",
    "MaxstatResult",
    "MultivariableResult",
    "OptimismResult",
    "ScreenResult",
    "correlation_matrix",
    "maxstat_test",
    "maxstat_test_binary",
    "multivariable",
    "optimism_corrected_auc",
    "screen",
    "validate_cutoff",
]
