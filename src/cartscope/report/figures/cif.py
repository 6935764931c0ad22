"""Cumulative incidence figure: one step curve per cause and group (e.g. relapse and
non-relapse mortality, or NR + relapse by disease), with Gray's test p per cause.

Drawn from a :class:`~cartscope.stats.competing.CumulativeIncidence` (Aalen-Johansen, as
``cmprsk::cuminc``) and optional :class:`~cartscope.stats.competing.GrayTest` results;
nothing is estimated here. Groups take colours, causes take line styles.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cartscope.report.figures._time import TimeUnit, axis_label, check_unit, nice_ticks, per_day
from cartscope.report.figures.style import (
    SINGLE_COLUMN,
    colors_for,
    figure_style,
    freeze_layout,
    format_p,
    new_figure,
)
from cartscope.stats.competing import CIFCurve, CumulativeIncidence

_LINESTYLES = ("solid", (0, (4, 2)), (0, (1, 1.5)), (0, (4, 1.5, 1, 1.5)))


def cif_steps(curve: CIFCurve) -> tuple[np.ndarray, np.ndarray]:
    """(time, incidence) of the step curve from (0, 0) to the group's last follow-up (days, 0-1)."""
    t = np.concatenate([[0.0], curve.time, [curve.max_time]])
    last = curve.estimate[-1] if curve.estimate.size else 0.0
    y = np.concatenate([[0.0], curve.estimate, [last]])
    return t, y


def cif_figure(
    cif: CumulativeIncidence,
    *,
    causes: Sequence[Hashable] | None = None,
    cause_labels: Mapping[Hashable, str] | None = None,
    groups: Sequence[Hashable] | None = None,
    gray: Mapping[Hashable, Any] | Any | None = None,
    p_texts: Mapping[Hashable, str] | None = None,
    unit: TimeUnit = "months",
    ci: bool = False,
    ticks: Any | None = None,
    ylabel: str = "Cumulative incidence (%)",
    xlabel: str | None = None,
    ymax: float | None = None,
    title: str | None = None,
    colors: Mapping[Hashable, str] | None = None,
    legend_loc: str = "auto",
    width: float = SINGLE_COLUMN * 1.25,
    height: float = 2.6,
) -> Figure:
    """Cumulative incidence curves per cause (line style) and group (colour).

    Parameters
    ----------
    cif : the cumulative incidence result (times in days).
    causes : causes to draw, in this order (default: all of ``cif.causes``).
    cause_labels : display names, e.g. ``{1: "Relapse", 2: "Non-relapse mortality"}``.
    groups : groups to draw (default: all).
    gray : Gray's test per cause (``{cause: GrayTest}``), or one GrayTest (its ``cause``
        says which); each p is printed as "Gray's test (<cause>) p = ...".
    ci : draw the pointwise log-log confidence band of each curve.
    p_texts : the printed p per cause ("p = 0.023"), e.g. from the report's number format
        (default: two significant digits).
    legend_loc : matplotlib legend location; "auto" puts the legend above the plot, outside
        the data area, so it covers no curve.
    ymax : top of the y axis in percent (default: the highest curve rounded up to 10, at
        least 20, at most 100).

    Returns
    -------
    Figure with one axes labelled "cif".
    """
    if not isinstance(cif, CumulativeIncidence):
        raise TypeError(f"expected a CumulativeIncidence result, got {type(cif).__name__}")
    unit = check_unit(unit)
    f = per_day(unit)
    causes = list(cif.causes if causes is None else causes)
    groups = list(cif.groups if groups is None else groups)
    names = {c: str(c) for c in causes}
    names.update({c: str(v) for c, v in (cause_labels or {}).items()})
    ungrouped = groups == [None]
    palette = colors_for(causes if ungrouped else groups, colors)
    if gray is not None and not isinstance(gray, Mapping):
        gray = {gray.cause: gray}

    curves = [(g, c, cif.curve(c, g)) for g in groups for c in causes]
    last = max(cv.max_time for _, _, cv in curves) * f
    tick_pos = np.asarray(ticks, dtype=float) if ticks is not None else nice_ticks(last, unit)
    top = max((float(np.nanmax(cv.estimate)) for _, _, cv in curves if cv.estimate.size), default=0.0)
    if ymax is None:
        ymax = float(min(100.0, max(20.0, np.ceil(top * 100 / 10 + 1e-9) * 10)))

    with figure_style():
        fig = new_figure(width, height)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("cif")
        for g, c, cv in curves:
            ls = _LINESTYLES[causes.index(c) % len(_LINESTYLES)] if not ungrouped else "solid"
            color = palette[c] if ungrouped else palette[g]
            label = names[c] if ungrouped else (f"{g}, {names[c]}" if len(causes) > 1 else str(g))
            x, y = cif_steps(cv)
            if ci and cv.time.size:
                lo = np.concatenate([[0.0], np.nan_to_num(cv.lower, nan=0.0), [cv.lower[-1]]])
                hi = np.concatenate([[0.0], np.nan_to_num(cv.upper, nan=0.0), [cv.upper[-1]]])
                ax.fill_between(x * f, lo * 100, hi * 100, step="post", color=color, alpha=0.15,
                                linewidth=0)
            ax.plot(x * f, y * 100, drawstyle="steps-post", color=color, linestyle=ls,
                    label=label, clip_on=False, zorder=3)
        ax.set_xlim(0, max(last, float(tick_pos[-1])))
        ax.set_xticks(tick_pos)
        ax.set_ylim(0, ymax)
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel if xlabel is not None else axis_label(unit))
        if title:
            ax.set_title(title, loc="left")
        handles, labels = ax.get_legend_handles_labels()
        for c in causes:
            if gray is not None and c in gray:
                handles.append(Line2D([], [], linestyle="none"))
                what = f"Gray's test ({names[c]}) p" if len(causes) > 1 else "Gray's test p"
                given = (p_texts or {}).get(c)
                labels.append(f"{what[:-2]} {given}" if given else format_p(gray[c].p_value, prefix=what))
        if legend_loc == "auto":
            fig.set_size_inches(width, height + len(handles) * 0.15 + 0.1)
            ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.02), borderaxespad=0,
                      ncols=1)
        else:
            ax.legend(handles, labels, loc=legend_loc, borderaxespad=0.3)
        freeze_layout(fig)
    return fig
