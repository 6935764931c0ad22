"""Biomarker discovery and validation: panel screen, frozen cut-off validation, optimism-corrected
AUC and maximally selected cut-points. Every test statistic comes from :mod:`cartscope.stats`;
the two numerical procedures the core lacks (maxstat p-values, bootstrap optimism) live in
their own modules here.
"""

from __future__ import annotations

from cartscope.analysis.biomarkers.maxstat import MaxstatResult, maxstat_test, maxstat_test_binary
from cartscope.analysis.biomarkers.screen import ScreenResult, screen

__all__ = [
    "MaxstatResult",
    "ScreenResult",
    "maxstat_test",
    "maxstat_test_binary",
    "screen",
]
