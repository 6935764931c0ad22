"""Kaplan-Meier figure: step curves per group with censor marks, optional confidence bands,
the log-rank p-value and a number-at-risk table aligned to the time ticks.

Drawn from :class:`~cartscope.stats.km.KaplanMeier` results (one per group) and an optional
:class:`~cartscope.stats.survival.LogRank`; nothing is estimated here. The number at risk at
each tick is ``KaplanMeier.risk_table(tick)``, i.e. patients with time >= tick (R
``summary(survfit, times=)``; the survminer risk table).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from cartscope.report.figures._time import TimeUnit, axis_label, check_unit, nice_ticks, per_day
from cartscope.report.figures.style import (
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    freeze_layout,
    format_p,
    new_figure,
)
from cartscope.stats.km import KaplanMeier


def km_steps(km: KaplanMeier) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(time, survival) of the right-continuous step curve, starting at (0, 1) (days, 0-1)."""
    return np.concatenate([[0.0], km.time]), np.concatenate([[1.0], km.survival])


def _band(km: KaplanMeier) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Step limits from time 0; where the limits are undefined the curve is 1 (band 1-1) or 0."""
    t = np.concatenate([[0.0], km.time])
    s = np.concatenate([[1.0], km.survival])
    lo = np.concatenate([[1.0], km.lower])
    hi = np.concatenate([[1.0], km.upper])
    for arr in (lo, hi):
        arr[np.isnan(arr) & (s >= 1.0)] = 1.0
        arr[np.isnan(arr) & (s <= 0.0)] = 0.0
    return t, lo, hi


def _check_curves(curves: Mapping[Any, KaplanMeier]) -> dict[Any, KaplanMeier]:
    if isinstance(curves, KaplanMeier):
        curves = {"All patients": curves}
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty mapping of group label -> KaplanMeier")
    for k, v in curves.items():
        if not isinstance(v, KaplanMeier):
            raise TypeError(f"curve {k!r} is a {type(v).__name__}, not a KaplanMeier result")
    return dict(curves)


def km_figure(
    curves: Mapping[Any, KaplanMeier] | KaplanMeier,
    *,
    logrank: Any | None = None,
    unit: TimeUnit = "months",
    ci: bool = False,
    risk_table: bool = True,
    ticks: Any | None = None,
    xmax: float | None = None,
    ylabel: str = "Survival (%)",
    xlabel: str | None = None,
    title: str | None = None,
    colors: Mapping[Any, str] | None = None,
    show_n: bool = True,
    p_label: str = "Log-rank",
    legend_loc: str = "best",
    width: float = SINGLE_COLUMN * 1.25,
    height: float = 2.6,
) -> Figure:
    """Kaplan-Meier curves with censor marks (+), log-rank p and number at risk.

    Parameters
    ----------
    curves : group label -> KaplanMeier (times in days), or one KaplanMeier for the whole cohort.
    logrank : optional LogRank (anything with ``p_value``) whose p is printed as the last line
        of the legend, "Log-rank p = ...".
    unit : "months" (30.4375 days) or "days" for the time axis.
    ci : draw the pointwise confidence band of each curve (as step bands, the curve's
        ``conf_type`` and ``level``).
    risk_table : add the number-at-risk table under the axis, one row per group, one column
        per x tick.
    ticks : x tick positions in ``unit`` (default: customary steps up to the last time).
    xmax : right end of the time axis in ``unit`` (default: the last observed time).
    show_n : append "(n = N)" to each legend label.
    legend_loc : matplotlib legend location; "best" picks the corner that covers least of
        the curves (deterministic).
    width, height : size in inches of the plot part; the risk table adds its own height.

    Returns
    -------
    Figure with axes labelled "km" and, with ``risk_table``, "risk table".
    """
    fits = _check_curves(curves)
    unit = check_unit(unit)
    f = per_day(unit)
    last = max(float(km.time[-1]) for km in fits.values()) * f
    right = float(xmax) if xmax is not None else last
    tick_pos = np.asarray(ticks, dtype=float) if ticks is not None else nice_ticks(right, unit)
    tick_pos = tick_pos[tick_pos <= max(right, tick_pos[-1] if ticks is None else right) + 1e-9]
    x_right = max(right, float(tick_pos[-1]))
    palette = colors_for(list(fits), colors)
    n_groups = len(fits)
    table_h = (0.32 + 0.16 * n_groups) if risk_table else 0.0

    with figure_style():
        fig = new_figure(width, height + table_h)
        fig.set_layout_engine("constrained")
        if risk_table:
            gs = fig.add_gridspec(2, 1, height_ratios=[height, table_h])
            ax = fig.add_subplot(gs[0])
            ax_risk = fig.add_subplot(gs[1], sharex=ax)
        else:
            ax = fig.add_subplot(1, 1, 1)
        ax.set_label("km")

        for label, km in fits.items():
            color = palette[label]
            x, y = km_steps(km)
            if ci:
                tb, lo, hi = _band(km)
                ax.fill_between(tb * f, lo * 100, hi * 100, step="post", color=color, alpha=0.15,
                                linewidth=0)
            name = f"{label} (n = {km.n})" if show_n else str(label)
            ax.plot(x * f, y * 100, drawstyle="steps-post", color=color, label=name,
                    solid_joinstyle="miter", clip_on=False, zorder=3)
            cens = km.n_censor > 0
            ax.plot(km.time[cens] * f, km.survival[cens] * 100, linestyle="none", marker="+",
                    markersize=5, markeredgewidth=0.9, color=color, clip_on=False, zorder=4)

        ax.set_xlim(0, x_right)
        ax.set_ylim(0, 102)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_xticks(tick_pos)
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel if xlabel is not None else axis_label(unit))
        if title:
            ax.set_title(title, loc="left")
        handles, names = ax.get_legend_handles_labels()
        if logrank is not None:
            # the p-value rides in the legend box (blank handle), so both move together to
            # the emptiest corner
            handles.append(Line2D([], [], linestyle="none"))
            names.append(format_p(logrank.p_value, prefix=f"{p_label} p"))
        if len(handles) > 1 or show_n or logrank is not None:
            ax.legend(handles, names, loc=legend_loc, borderaxespad=0.3)

        if risk_table:
            ax_risk.set_label("risk table")
            labels = list(fits)
            for row, label in enumerate(labels):
                rt = fits[label].risk_table(tick_pos / f)
                for t, n in zip(tick_pos, rt.n_risk):
                    ax_risk.text(t, row, str(int(n)), ha="center", va="center",
                                 color=palette[label], fontsize=SMALL_FONT_SIZE)
            ax_risk.set_ylim(n_groups - 0.5, -0.5)
            ax_risk.set_yticks(range(n_groups))
            ax_risk.set_yticklabels([str(lab) for lab in labels])
            for tl, lab in zip(ax_risk.get_yticklabels(), labels):
                tl.set_color(palette[lab])
            ax_risk.tick_params(axis="both", length=0)
            ax_risk.tick_params(axis="y", pad=12)
            ax_risk.tick_params(axis="x", labelbottom=False)
            for side in ("top", "right", "bottom", "left"):
                ax_risk.spines[side].set_visible(False)
            ax_risk.set_title("Number at risk", loc="left", fontsize=SMALL_FONT_SIZE,
                              fontweight="normal")
        freeze_layout(fig)
    return fig
