"""Predicted and adjusted survival curves from a Cox model: one step curve per covariate
profile (or exposure level), with the pointwise band of each predicted curve.

Drawn from :class:`~cartscope.stats.cox_predict.PredictedSurvival` or
:class:`~cartscope.stats.cox_predict.AdjustedSurvival`; nothing is estimated here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cartscope.report.figures._time import TimeUnit, axis_label, check_unit, nice_ticks, per_day
from cartscope.report.figures.style import SINGLE_COLUMN, colors_for, figure_style, freeze_layout, new_figure
from cartscope.stats.cox_predict import AdjustedSurvival, PredictedSurvival


def _steps(time: np.ndarray, surv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(surv)
    return np.concatenate([[0.0], time[keep]]), np.concatenate([[1.0], surv[keep]])


def predicted_figure(
    curves: PredictedSurvival | AdjustedSurvival,
    *,
    stratum: Any = None,
    ci: bool = True,
    unit: TimeUnit = "months",
    ylabel: str = "Survival (%)",
    title: str | None = None,
    width: float = SINGLE_COLUMN * 1.25,
    height: float = 2.6,
) -> Figure:
    """Step curves per profile (PredictedSurvival, with its band when ``ci``) or per level
    (AdjustedSurvival); ``stratum`` picks one stratum of a stratified model (default: the first)."""
    unit = check_unit(unit)
    f = per_day(unit)
    if isinstance(curves, PredictedSurvival):
        strata = list(dict.fromkeys(curves.stratum))
        pick = strata[0] if stratum is None else stratum
        if pick not in strata:
            raise ValueError(f"stratum {pick!r} is not one of {strata}")
        rows = np.asarray([s == pick for s in curves.stratum])
        time = curves.time[rows]
        labels = list(curves.profiles)
        surv = curves.survival[rows]
        lower, upper = curves.lower[rows], curves.upper[rows]
    else:
        time = curves.time
        labels = [f"{curves.exposure} = {lev}" for lev in curves.levels]
        surv = curves.survival
        lower = upper = None
        ci = False
    palette = colors_for(labels)
    with figure_style():
        fig = new_figure(width, height)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("predicted")
        for j, label in enumerate(labels):
            x, y = _steps(time, surv[:, j])
            if ci and lower is not None and upper is not None:
                xl, lo = _steps(time, np.nan_to_num(lower[:, j], nan=0.0))
                _, hi = _steps(time, np.nan_to_num(upper[:, j], nan=1.0))
                ax.fill_between(xl * f, lo * 100, hi * 100, step="post", color=palette[label],
                                alpha=0.15, linewidth=0)
            ax.plot(x * f, y * 100, drawstyle="steps-post", color=palette[label], label=label)
        right = float(time.max() * f) if time.size else 1.0
        ticks = nice_ticks(right, unit)
        ax.set_xlim(0, max(right, float(ticks[-1])))
        ax.set_xticks(ticks)
        ax.set_ylim(0, 102)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_ylabel(ylabel)
        ax.set_xlabel(axis_label(unit))
        ax.legend(loc="lower left", frameon=False)
        if title:
            ax.set_title(title, loc="left", fontweight="bold")
        freeze_layout(fig)
    return fig
