"""Publication figures (matplotlib, vector output) drawn from cartscope result objects.

Every builder takes results computed elsewhere (``cartscope.stats`` objects, tidy frames
from ``cartscope.clinical``) and returns a :class:`matplotlib.figure.Figure` made without
pyplot, in the shared look of :mod:`.style`. :func:`.export.save_figure` writes SVG, PDF and
300-dpi PNG; :func:`.export.figure_svg` gives inline SVG for the HTML report. The same inputs
give byte-identical files.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "figure_style": "style",
    "format_p": "style",
    "save_figure": "export",
    "figure_svg": "export",
    "km_figure": "km",
    "cif_figure": "cif",
    "roc_figure": "roc",
    "marker_by_class_figure": "markers",
    "fold_change_heatmap": "heatmap",
    "venn_figure": "venn",
    "forest_figure": "forest",
    "swimmer_figure": "swimmer",
    "car_kinetics_figure": "kinetics",
    "cytokine_course_figure": "kinetics",
    "relapse_timing_figure": "relapse",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"cartscope.report.figures.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cartscope.report.figures' has no attribute {name!r}")
