"""Kaplan-Meier figure: step curves per group with censor marks, optional confidence bands,
the log-rank p-value and a number-at-risk table aligned to the time ticks.

Drawn from :class:`~cartscope.stats.km.KaplanMeier` results (one per group) and an optional
:class:`~cartscope.stats.survival.LogRank`; nothing is estimated here. The number at risk at
each tick is ``KaplanMeier.risk_table(tick)``, i.e. patients with time >= tick (R
``summary(survfit, times=)``; the survminer risk table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import textwrap
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from cartscope.report.figures._time import TimeFrame, TimeUnit, axis_label, check_unit, nice_ticks, per_day
from cartscope.report.figures.style import (
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    format_p,
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


def _check_curves(curves: Mapping[Any, KaplanMeier], label: str = "All patients") -> dict[Any, KaplanMeier]:
    if isinstance(curves, KaplanMeier):
        curves = {label: curves}
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty mapping of group label -> KaplanMeier")
    for k, v in curves.items():
        if not isinstance(v, KaplanMeier):
            raise TypeError(f"curve {k!r} is a {type(v).__name__}, not a KaplanMeier result")
    return dict(curves)


RISK_ROWS = ("at risk", "censored", "events")
"""What the table under a Kaplan-Meier plot can show at each time tick (cumulative for
censored and events, as survminer's ``risk.table`` / ``cumcensor`` / ``cumevents``)."""


def km_figure(
    curves: Mapping[Any, KaplanMeier] | KaplanMeier,
    *,
    logrank: Any | None = None,
    unit: TimeUnit = "months",
    ci: bool = False,
    risk_table: bool = True,
    risk_rows: tuple[str, ...] = ("at risk", "censored"),
    median_lines: bool = False,
    ticks: Any | None = None,
    xmax: float | None = None,
    ylabel: str = "Survival (%)",
    xlabel: str | None = None,
    title: str | None = None,
    colors: Mapping[Any, str] | None = None,
    show_n: bool = True,
    p_label: str = "Log-rank",
    p_text: str | None = None,
    hr_text: str | Sequence[str] | None = None,
    legend_loc: str = "above",
    label: str = "All patients",
    width: float = SINGLE_COLUMN * 1.25,
    height: float = 2.3,
) -> Figure:
    """Kaplan-Meier curves with censor marks (+), the log-rank p and the numbers under the plot.

    Parameters
    ----------
    curves : group label -> KaplanMeier (times in days), or one KaplanMeier for the whole cohort
        (named ``label``: "All patients", or the population's name).
    logrank : optional LogRank (anything with ``p_value``) whose p is printed in the legend,
        "Log-rank p = ..." (``p_text`` gives the printed p instead, e.g. from the report's
        number format).
    hr_text : hazard-ratio line(s) for the legend ("HR 2.1 (95% CI 1.2-3.6), B vs A"), printed
        when given, under the p; the legend sits above the plot, so they cover no curve.
    unit : "months" (30.4375 days) or "days" for the time axis.
    ci : draw the pointwise confidence band of each curve (as step bands, the curve's
        ``conf_type`` and ``level``).
    risk_table : the table under the axis, per group the rows of ``risk_rows`` ("at risk":
        patients with time >= tick; "censored", "events": cumulative up to the tick), one
        column per x tick.
    median_lines : dashed lines from the y axis at 50 % to each reached median and down to the
        time axis.
    ticks : x tick positions in ``unit`` (default: customary steps up to the last time).
    xmax : right end of the time axis in ``unit`` (default: the last observed time).
    show_n : append "(n = N)" to each legend label.
    legend_loc : "above" (default): the legend sits in its own band above the plot, where it
        can cover no curve; any matplotlib location puts it inside the axes.
    width, height : size in inches of the plot part; the legend band and the table add
        their own height (fixed per line), so the plot never collapses.

    Returns
    -------
    Figure with axes labelled "km" and, with ``risk_table``, "risk table".
    """
    fits = _check_curves(curves, label)
    unit = check_unit(unit)
    unknown = [r for r in risk_rows if r not in RISK_ROWS]
    if unknown:
        raise ValueError(f"risk_rows may hold {RISK_ROWS}; got {unknown}")
    f = per_day(unit)
    last = max((float(km.time[-1]) if km.time.size else 0.0) for km in fits.values()) * f
    right = float(xmax) if xmax is not None else max(last, 1e-9)
    tick_pos = np.asarray(ticks, dtype=float) if ticks is not None else nice_ticks(right, unit)
    tick_pos = tick_pos[tick_pos <= max(right, tick_pos[-1] if ticks is None else right) + 1e-9]
    x_right = max(right, float(tick_pos[-1]))
    palette = colors_for(list(fits), colors)
    n_groups = len(fits)

    wrap_chars = max(20, int((width - 0.8) / (SMALL_FONT_SIZE * 0.6 / 72.0)))
    names = ["\n".join(textwrap.wrap(f"{label} (n = {km.n})" if show_n else str(label), wrap_chars))
             for label, km in fits.items()]
    extra = []
    if logrank is not None or p_text is not None:
        extra.append(p_text if p_text is not None else format_p(logrank.p_value, prefix=f"{p_label} p"))
        if p_text is not None and logrank is not None and not p_text.lower().startswith(p_label.lower()):
            extra[-1] = f"{p_label} {p_text}"
    if hr_text:
        for line in ([hr_text] if isinstance(hr_text, str) else list(hr_text)):
            extra.append("\n".join(textwrap.wrap(str(line), wrap_chars)))
    line_in = SMALL_FONT_SIZE * 1.45 / 72.0
    above = legend_loc == "above"
    n_legend = sum(nm.count("\n") + 1 for nm in names + extra) if (len(names) > 1 or show_n or extra) else 0
    legend_h = (n_legend * line_in + 0.06) if above and n_legend else 0.0
    top_h = 0.08 + legend_h + (0.22 if title else 0.0)
    xlabel_h = 0.36
    rows = [r for r in risk_rows] if risk_table else []
    table_names = {label: textwrap.wrap(str(label), wrap_chars) or [""] for label in fits}
    table_lines = (1 + sum(len(table_names[lab]) + len(rows) for lab in fits)) if rows else 0
    table_h = table_lines * line_in + (0.08 if rows else 0.0)
    left_in = 0.75 if rows else 0.5

    with figure_style():
        frame = TimeFrame.make(width, top=top_h, plot=height, xlabel=xlabel_h, table=table_h, left=left_in,
                               right=0.22, label="km")
        fig, ax, fx, fy, plot_w = frame.fig, frame.ax, frame.x, frame.y, frame.plot_width

        for (label, km), name in zip(fits.items(), names):
            color = palette[label]
            x, y = km_steps(km)
            if ci:
                tb, lo, hi = _band(km)
                ax.fill_between(tb * f, lo * 100, hi * 100, step="post", color=color, alpha=0.15,
                                linewidth=0)
            ax.plot(x * f, y * 100, drawstyle="steps-post", color=color, label=name,
                    solid_joinstyle="miter", clip_on=True, zorder=3)
            cens = km.n_censor > 0
            ax.plot(km.time[cens] * f, km.survival[cens] * 100, linestyle="none", marker="+",
                    markersize=5, markeredgewidth=0.9, color=color, clip_on=True, zorder=4)
            if median_lines:
                med = float(km.median)
                if np.isfinite(med):
                    ax.plot([0, med * f, med * f], [50, 50, 0], color=color, linestyle=(0, (3, 2)),
                            linewidth=0.7, zorder=2)

        ax.set_xlim(0, x_right)
        ax.set_ylim(0, 102)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_xticks(tick_pos)
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel if xlabel is not None else axis_label(unit))
        handles, labels = ax.get_legend_handles_labels()
        for text in extra:
            handles.append(Line2D([], [], linestyle="none"))
            labels.append(text)
        if n_legend:
            if above:
                fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(fx(left_in), 1 - fy(0.04 + (0.22 if title else 0))),
                           borderaxespad=0, borderpad=0, handlelength=1.6, labelspacing=0.3)
            else:
                ax.legend(handles, labels, loc=legend_loc, borderaxespad=0.3)
        if title:
            fig.text(fx(0.05), 1 - fy(0.05), title, ha="left", va="top", fontweight="bold")

        if rows:
            ax_risk = frame.risk_axes(table_lines)
            head = "Number " + ", ".join(rows) if rows != ["at risk"] else "Number at risk"
            ax_risk.text(0, 0, head.replace("Number at risk, censored", "Number at risk and censored"),
                         transform=ax_risk.get_yaxis_transform(), ha="left", va="center",
                         fontsize=SMALL_FONT_SIZE, fontweight="bold")
            line = 1
            for label in fits:
                rt = fits[label].risk_table(tick_pos / f)
                values = {"at risk": rt.n_risk, "censored": rt.cum_censored, "events": rt.cum_events}
                for part in table_names[label]:
                    ax_risk.text(0, line, part, transform=ax_risk.get_yaxis_transform(), ha="left",
                                 va="center", color=palette[label], fontsize=SMALL_FONT_SIZE)
                    line += 1
                for r in rows:
                    ax_risk.text(-fx(0.16) / plot_w, line, r[:1].upper() + r[1:], transform=ax_risk.get_yaxis_transform(),
                                 ha="right", va="center", fontsize=SMALL_FONT_SIZE - 0.5, color="#444444")
                    for t, n in zip(tick_pos, values[r]):
                        ax_risk.text(t, line, str(int(n)), ha="center", va="center",
                                     color=palette[label], fontsize=SMALL_FONT_SIZE)
                    line += 1
    return fig
