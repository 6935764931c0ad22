"""Dot-and-box plot of one marker by outcome class (e.g. NR/ER vs durable remission) with the
Mann-Whitney p-value given by the caller.

The box shows the median and quartiles with whiskers to the most extreme value within
1.5 IQR (Tukey); every patient is a point, jittered sideways with an explicit seed so that
the figure is the same on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cartscope.report.figures.style import (
    OUTCOME_COLORS,
    SINGLE_COLUMN,
    colors_for,
    figure_style,
    freeze_layout,
    format_p,
    readable_log_ticks,
    new_figure,
    plain_log_axis,
)


def marker_by_class_figure(
    frame: pd.DataFrame,
    *,
    value: str,
    group: str = "outcome_class",
    order: Sequence[Any] | None = None,
    p_value: float | None = None,
    p_text: str | None = None,
    test_label: str = "Mann-Whitney",
    log_scale: bool = False,
    ylabel: str | None = None,
    title: str | None = None,
    reference: float | None = None,
    colors: Mapping[Any, str] | None = None,
    seed: int = 0,
    jitter: float = 0.12,
    width: float = SINGLE_COLUMN * 0.75,
    height: float = 2.6,
) -> Figure:
    """Box plot with all points of ``frame[value]`` per ``frame[group]`` class.

    Parameters
    ----------
    frame : one row per patient (or sample); rows with a missing value or class are left out.
    value, group : column names of the marker and of the class.
    order : classes to show, left to right (default: NR/ER, durable when present, else sorted).
    p_value : p of the comparison, computed elsewhere (e.g. ``cartscope.stats.mann_whitney``),
        printed over a bracket joining the first two classes as "Mann-Whitney p = ...".
    log_scale : log10 y axis; the values must then be positive.
    reference : optional horizontal line (e.g. a Youden cutoff or fold change 1).
    seed : seed of the sideways jitter (positions only; values are never moved).

    Returns
    -------
    Figure with one axes labelled "markers"; the x tick labels read "class\\n(n = k)".
    """
    for col in (value, group):
        if col not in frame:
            raise ValueError(f"column {col!r} not in the frame (columns: {list(frame.columns)})")
    vals = pd.to_numeric(frame[value], errors="coerce")
    keep = vals.notna() & frame[group].notna()
    data = pd.DataFrame({"v": vals[keep].to_numpy(dtype=float), "g": frame.loc[keep, group].to_numpy()})
    if order is None:
        present = list(pd.unique(data["g"]))
        default = [c for c in ("NR/ER", "durable") if c in present]
        order = default if len(default) == 2 else sorted(present, key=str)
    order = list(order)
    groups = [data.loc[data["g"] == c, "v"].to_numpy() for c in order]
    if not any(len(g) for g in groups):
        raise ValueError(f"no values of {value!r} in the classes {order}")
    if log_scale and (data["v"] <= 0).any():
        raise ValueError(f"log_scale needs positive values; {value!r} has values <= 0")
    palette = colors_for(order, {**OUTCOME_COLORS, **(colors or {})})
    rng = np.random.default_rng(seed)

    with figure_style():
        fig = new_figure(width, height)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("markers")
        pos = np.arange(len(order))
        ax.boxplot([g if len(g) else [np.nan] for g in groups], positions=pos, widths=0.55,
                   showfliers=False, patch_artist=True, whis=1.5,
                   medianprops={"color": "black", "linewidth": 1.2},
                   boxprops={"facecolor": "none", "edgecolor": "black", "linewidth": 0.8},
                   whiskerprops={"linewidth": 0.8}, capprops={"linewidth": 0.8})
        for x, c, g in zip(pos, order, groups):
            dx = rng.uniform(-jitter, jitter, size=len(g))
            ax.plot(x + dx, g, linestyle="none", marker="o", markersize=3.5, alpha=0.8,
                    color=palette[c], markeredgewidth=0, zorder=3)
        if log_scale:
            ax.set_yscale("log")
            plain_log_axis(ax.yaxis)
        if reference is not None:
            ax.axhline(reference, color="#8C8C8C", linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        ax.set_xticks(pos)
        ax.set_xticklabels([f"{c}\n(n = {len(g)})" for c, g in zip(order, groups)])
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.set_ylabel(ylabel if ylabel is not None else value)
        if title:
            ax.set_title(title, loc="left")
        if p_value is not None and len(order) >= 2:
            top = float(np.nanmax(data["v"]))
            bottom = float(np.nanmin(data["v"]))
            if log_scale:
                span = np.log10(top) - np.log10(bottom) if top > bottom else 1.0
                y0 = 10 ** (np.log10(top) + 0.06 * span)
                y1 = 10 ** (np.log10(top) + 0.10 * span)
                ax.set_ylim(top=10 ** (np.log10(top) + 0.22 * span))
            else:
                span = top - bottom if top > bottom else 1.0
                y0, y1 = top + 0.06 * span, top + 0.10 * span
                ax.set_ylim(top=top + 0.22 * span)
            ax.plot([0, 0, 1, 1], [y0, y1, y1, y0], color="black", linewidth=0.8)
            label = f"{test_label} {p_text}" if p_text else format_p(p_value, prefix=f"{test_label} p")
            ax.text(0.5, y1, label, ha="center", va="bottom")
        if log_scale:
            readable_log_ticks(ax, "y")
        freeze_layout(fig)
    return fig
