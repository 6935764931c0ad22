"""Public entry point for biomarker analysis: ``cartscope.biomarkers.screen(...)`` and friends.

A thin re-export of :mod:`cartscope.analysis.biomarkers`, where the code lives.
"""

from __future__ import annotations

from cartscope.analysis.biomarkers import *  # noqa: F403
from cartscope.analysis.biomarkers import __all__  # noqa: F401
