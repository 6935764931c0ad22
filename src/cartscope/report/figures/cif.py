"""Cumulative incidence figure: one step curve per cause and group (e.g. relapse and
non-relapse mortality, or NR + relapse by disease), with Gray's test p per cause and, under
the plot, the number at risk and the cumulative events of each cause per group at the time
marks (the ``cif_risk_table`` the ``cif`` analysis publishes; laid out as the Kaplan-Meier
figure's table).

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

from cartscope.report.figures._time import TimeFrame, TimeUnit, axis_label, check_unit, nice_ticks, per_day
from cartscope.report.figures.style import (
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    format_p,
)
from cartscope.stats.competing import CIFCurve, CumulativeIncidence

_LINESTYLES = ("solid", (0, (4, 2)), (0, (1, 1.5)), (0, (4, 1.5, 1, 1.5)))


def cif_steps(curve: CIFCurve) -> tuple[np.ndarray, np.ndarray]:
    """(time, incidence) of the step curve from (0, 0) to the group's last follow-up (days, 0-1)."""
    t = np.concatenate([[0.0], curve.time, [curve.max_time]])
    last = curve.estimate[-1] if curve.estimate.size else 0.0
    y = np.concatenate([[0.0], curve.estimate, [last]])
    return t, y


def _risk_values(frame: Any, group: Hashable, ticks: np.ndarray) -> dict[str, list[int]] | None:
    """The counts of ``group`` at ``ticks`` (months) from a ``cif_risk_table`` frame (None: absent)."""
    part = frame[frame["group"].astype(str) == str(group)]
    if part.empty:
        return None
    by_month = {round(float(m), 6): r for m, (_, r) in zip(part["month"], part.iterrows())}
    out: dict[str, list[int]] = {}
    for col in ("n_risk", "events_1", "events_2", "censored"):
        vals = []
        for t in ticks:
            r = by_month.get(round(float(t), 6))
            if r is None:
                raise ValueError(f"the risk table has no row for group {group!r} at month {t:g}")
            vals.append(int(r[col]) if col in r and r[col] == r[col] else 0)
        out[col] = vals
    return out


def cif_figure(
    cif: CumulativeIncidence,
    *,
    causes: Sequence[Hashable] | None = None,
    cause_labels: Mapping[Hashable, str] | None = None,
    cause_short: Mapping[Hashable, str] | None = None,
    groups: Sequence[Hashable] | None = None,
    group_names: Mapping[Hashable, str] | None = None,
    gray: Mapping[Hashable, Any] | Any | None = None,
    p_texts: Mapping[Hashable, str] | None = None,
    risk_table: Any | None = None,
    risk_rows: tuple[str, ...] = ("at risk", "events"),
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
    height: float = 2.3,
) -> Figure:
    """Cumulative incidence curves per cause (line style) and group (colour), with the risk
    table under the plot.

    Parameters
    ----------
    cif : the cumulative incidence result (times in days).
    causes : causes to draw, in this order (default: all of ``cif.causes``).
    cause_labels : display names, e.g. ``{1: "Relapse", 2: "Non-relapse mortality"}``.
    cause_short : short names of causes 1 and 2 for the risk-table rows ("Relapse", "NRM";
        default: ``cause_labels``).
    groups : groups to draw (default: all). With one group the causes take the colours.
    group_names : printed names of groups ({"all": "All patients"}; default: the group itself).
    gray : Gray's test per cause (``{cause: GrayTest}``), or one GrayTest (its ``cause``
        says which); each p is printed as "Gray's test (<cause>) p = ...".
    ci : draw the pointwise log-log confidence band of each curve.
    p_texts : the printed p per cause ("p = 0.023"), e.g. from the report's number format
        (default: two significant digits).
    risk_table : the analysis' counts (the ``cif_risk_table`` rows of this figure: ``group``,
        ``month``, ``n_risk``, ``events_1``, ``events_2``, ``censored``); its months are the
        x ticks and, per group, ``risk_rows`` are printed under the plot: "at risk" (time >=
        t), "events" (one row per cause, cumulative <= t), "censored" (cumulative). Months only.
    legend_loc : "auto" puts the legend in its own band above the plot, where it covers no
        curve; any matplotlib location puts it inside the axes.
    ymax : top of the y axis in percent (default: the highest curve rounded up to 10, at
        least 20, at most 100).
    width, height : inches of the plot part; the legend band and the table add their own
        height (fixed per line), so the plot never collapses.

    Returns
    -------
    Figure with one axes labelled "cif" and, with ``risk_table``, one labelled "risk table".
    """
    import textwrap

    if not isinstance(cif, CumulativeIncidence):
        raise TypeError(f"expected a CumulativeIncidence result, got {type(cif).__name__}")
    unit = check_unit(unit)
    unknown = [r for r in risk_rows if r not in ("at risk", "events", "censored")]
    if unknown:
        raise ValueError(f"risk_rows may hold 'at risk', 'events', 'censored'; got {unknown}")
    if risk_table is not None and unit != "months":
        raise ValueError("a risk table is given in months: draw the figure with unit='months'")
    f = per_day(unit)
    causes = list(cif.causes if causes is None else causes)
    groups = list(cif.groups if groups is None else groups)
    names = {c: str(c) for c in causes}
    names.update({c: str(v) for c, v in (cause_labels or {}).items()})
    short = dict(names)
    short.update({c: str(v) for c, v in (cause_short or {}).items()})
    ungrouped = len(groups) == 1
    gname = {g: ("All patients" if g is None else str(g)) for g in groups}
    gname.update({g: str(v) for g, v in (group_names or {}).items() if g in gname})
    palette = colors_for(causes if ungrouped else groups, colors)
    if gray is not None and not isinstance(gray, Mapping):
        gray = {gray.cause: gray}

    curves = [(g, c, cif.curve(c, g)) for g in groups for c in causes]
    last = max(cv.max_time for _, _, cv in curves) * f
    if risk_table is not None and ticks is None:
        tick_pos = np.unique(np.asarray(risk_table["month"], dtype=float))
    else:
        tick_pos = np.asarray(ticks, dtype=float) if ticks is not None else nice_ticks(last, unit)
    top = max((float(np.nanmax(cv.estimate)) for _, _, cv in curves if cv.estimate.size), default=0.0)
    if ymax is None:
        ymax = float(min(100.0, max(20.0, np.ceil(top * 100 / 10 + 1e-9) * 10)))

    wrap_chars = max(20, int((width - 0.8) / (SMALL_FONT_SIZE * 0.6 / 72.0)))
    entries = []
    for g, c, _ in curves:
        label = names[c] if ungrouped else (f"{gname[g]}, {names[c]}" if len(causes) > 1 else gname[g])
        entries.append("\n".join(textwrap.wrap(label, wrap_chars)) or label)
    extra = []
    for c in causes:
        if gray is not None and c in gray:
            what = f"Gray's test ({names[c]}) p" if len(causes) > 1 else "Gray's test p"
            given = (p_texts or {}).get(c)
            extra.append("\n".join(textwrap.wrap(f"{what[:-2]} {given}" if given
                                                  else format_p(gray[c].p_value, prefix=what), wrap_chars)))
    line_in = SMALL_FONT_SIZE * 1.45 / 72.0
    above = legend_loc == "auto"
    n_legend = sum(e.count("\n") + 1 for e in entries + extra)
    legend_h = (n_legend * line_in + 0.06) if above else 0.0
    top_h = 0.08 + legend_h + (0.22 if title else 0.0)
    xlabel_h = 0.36
    table_groups: list[tuple[Hashable, list[str], dict[str, list[int]]]] = []
    if risk_table is not None:
        for g in groups:
            vals = _risk_values(risk_table, "all" if g is None else g, tick_pos)
            if vals is not None:
                table_groups.append((g, textwrap.wrap(gname[g], wrap_chars) or [""], vals))
    row_keys: list[tuple[str, str]] = []  # (row label, column)
    for r in risk_rows:
        if r == "at risk":
            row_keys.append(("At risk", "n_risk"))
        elif r == "events":
            row_keys += [(short[c], f"events_{c}") for c in causes if c in (1, 2)]
        else:
            row_keys.append(("Censored", "censored"))
    table_lines = (1 + sum(len(nm) + len(row_keys) for _, nm, _ in table_groups)) if table_groups else 0
    table_h = table_lines * line_in + (0.08 if table_groups else 0.0)
    label_w = max((len(k) for k, _ in row_keys), default=0) * (SMALL_FONT_SIZE - 0.5) * 0.55 / 72.0
    left_in = max(0.75, 0.22 + label_w) if table_groups else 0.5

    with figure_style():
        frame = TimeFrame.make(width, top=top_h, plot=height, xlabel=xlabel_h, table=table_h, left=left_in,
                               right=0.22, label="cif")
        fig, ax, fx, fy = frame.fig, frame.ax, frame.x, frame.y
        for (g, c, cv), label in zip(curves, entries):
            ls = _LINESTYLES[causes.index(c) % len(_LINESTYLES)] if not ungrouped else "solid"
            color = palette[c] if ungrouped else palette[g]
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
            fig.text(fx(0.05), 1 - fy(0.05), title, ha="left", va="top", fontweight="bold")
        handles, labels = ax.get_legend_handles_labels()
        for text in extra:
            handles.append(Line2D([], [], linestyle="none"))
            labels.append(text)
        if above:
            fig.legend(handles, labels, loc="upper left",
                       bbox_to_anchor=(fx(left_in), 1 - fy(0.04 + (0.22 if title else 0))),
                       borderaxespad=0, borderpad=0, handlelength=2.2, labelspacing=0.3)
        else:
            ax.legend(handles, labels, loc=legend_loc, borderaxespad=0.3)
        if table_groups:
            _draw_table(frame, table_groups, row_keys, tick_pos, palette, ungrouped, causes, table_lines)
    return fig


def _draw_table(frame: TimeFrame, table_groups: list, row_keys: list[tuple[str, str]], ticks: np.ndarray,
                palette: Mapping[Hashable, str], ungrouped: bool, causes: list, lines: int) -> None:
    """The numbers under the plot, one column per x tick, one block of rows per group."""
    ax_risk = frame.risk_axes(lines)
    gap = frame.x(0.16) / frame.plot_width
    has_events = any(col.startswith("events_") for _, col in row_keys)
    head = "Number at risk" + (" and cumulative events" if has_events else "")
    ax_risk.text(0, 0, head, transform=ax_risk.get_yaxis_transform(), ha="left", va="center",
                 fontsize=SMALL_FONT_SIZE, fontweight="bold")
    ytf = ax_risk.get_yaxis_transform()
    line = 1
    for g, name_lines, vals in table_groups:
        color = "#222222" if ungrouped else palette[g]
        for part in name_lines:
            ax_risk.text(0, line, part, transform=ytf, ha="left", va="center", color=color, fontsize=SMALL_FONT_SIZE)
            line += 1
        for label, col in row_keys:
            ax_risk.text(-gap, line, label, transform=ytf, ha="right", va="center",
                         fontsize=SMALL_FONT_SIZE - 0.5, color="#444444")
            for t, n in zip(ticks, vals[col]):
                ax_risk.text(t, line, str(int(n)), ha="center", va="center", color=color, fontsize=SMALL_FONT_SIZE)
            line += 1
