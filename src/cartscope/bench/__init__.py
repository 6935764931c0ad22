"""``cartscope bench``: cartscope's kernels timed beside R and Python peers in the same run.

Cases (``cases.CASES``): ``screen`` (a biomarker panel: Mann-Whitney, AUC with DeLong CI,
Youden cut-off and log-rank at the cut-off per marker), ``km`` (Kaplan-Meier and a k-group
log-rank on a registry-sized cohort), ``cox`` (Efron Cox model) and ``study`` (the end-to-end
analysis of a preset, once the study runner exists). Each case checks that cartscope's numbers
agree with the peers' and states its performance targets beside the measured ratios.
"""

from __future__ import annotations

from cartscope.bench.cases import CASES, FULL, QUICK, Sizes, study_stages
from cartscope.bench.report import BenchReport
from cartscope.bench.runner import parse_cases, run_bench
from cartscope.bench.timing import time_stages

__all__ = [
    "CASES",
    "FULL",
    "QUICK",
    "BenchReport",
    "Sizes",
    "parse_cases",
    "run_bench",
    "study_stages",
    "time_stages",
]
