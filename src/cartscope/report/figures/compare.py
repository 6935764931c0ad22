"""Figures of a ``compare`` analysis: each patient's value by group (dots over a box of the
quartiles), and the two readings of each patient joined by a line (paired comparisons).

Drawn from the analysis' ``comparison_values`` table (patient_id, group, reading, value); the
boxes are the quartiles of the drawn values (numpy linear interpolation, R's type 7, as the
analysis' table reports them), whiskers to the most extreme value within 1.5 IQR. The dots are
spread sideways by a fixed pattern (no random jitter), so the same data give the same figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from cartscope.report.figures.style import PALETTE, colors_for, figure_style, freeze_layout, new_figure



def _value_axis(ax: Any, values: np.ndarray, log: bool, ylabel: str) -> None:
    """The value axis of a comparison: log scale with plain tick numbers when asked, limits
    padded around the data (x 1.6 on a log axis, 8 % of the range otherwise), its label."""
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        if log:
            ax.set_ylim(lo / 1.6, hi * 1.6)
        else:
            pad = (hi - lo) * 0.08 or max(abs(hi), 1.0) * 0.1
            ax.set_ylim(lo - pad, hi + pad)
    ax.set_ylabel(ylabel)

def _spread(n: int, width: float = 0.28) -> np.ndarray:
    """Sideways offsets of ``n`` dots: a fixed low-discrepancy pattern within +-width."""
    if n <= 1:
        return np.zeros(n)
    golden = (math.sqrt(5) - 1) / 2
    return ((np.arange(n) * golden) % 1.0 - 0.5) * 2 * width


def _log_wanted(values: np.ndarray) -> bool:
    """A log axis for positive values spanning more than two decades (cytokines, CAR copies)."""
    v = values[np.isfinite(values)]
    return bool(v.size and (v > 0).all() and v.max() / v.min() > 100)


def _tick(x: float, _pos: Any = None) -> str:
    return "" if x <= 0 else f"{x:g}" if 1e-3 <= x < 1e6 else f"$10^{{{math.floor(math.log10(x))}}}$"


def group_values_figure(
    values: pd.DataFrame,
    *,
    groups: Sequence[str],
    group_labels: Mapping[str, str] | None = None,
    ylabel: str = "",
    xlabel: str = "",
    p_text: str | None = None,
    log: bool | None = None,
    height: float = 2.4,
) -> Figure:
    """Each patient's value by group: dots over a box of the quartiles, n under each group.

    ``values``: rows of one variable and one ``by`` (columns group, value); ``groups`` in
    order; ``p_text`` (e.g. "Mann-Whitney p = 0.63") is written above the plot; ``log`` None
    chooses a log axis for positive values spanning more than two decades."""
    names = [(group_labels or {}).get(g, str(g)) for g in groups]
    data = [pd.to_numeric(values.loc[values["group"].astype(str) == g, "value"], errors="coerce").dropna()
            .to_numpy(dtype=float) for g in groups]
    every = np.concatenate(data) if data else np.array([])
    log = _log_wanted(every) if log is None else log
    palette = colors_for(names)
    width = max(1.6, 0.75 * len(groups) + 0.9, 0.06 * len(p_text or "") + 0.6,
                0.055 * max((len(n) for n in names), default=0) * len(groups) + 0.9)
    with figure_style():
        fig = new_figure(width, height)
        fig.set_layout_engine("constrained", w_pad=0.07, h_pad=0.05)
        ax = fig.add_subplot(1, 1, 1)
        for i, (name, v) in enumerate(zip(names, data)):
            if v.size == 0:
                continue
            if v.size >= 3:
                ax.boxplot([v], positions=[i], widths=0.5, showfliers=False, patch_artist=True,
                           medianprops={"color": "0.1", "linewidth": 1.4},
                           boxprops={"facecolor": "none", "edgecolor": "0.35", "linewidth": 0.8},
                           whiskerprops={"color": "0.35", "linewidth": 0.8}, capprops={"color": "0.35", "linewidth": 0.8})
            else:
                ax.plot([i - 0.25, i + 0.25], [np.median(v)] * 2, color="0.1", linewidth=1.4)
            ax.scatter(i + _spread(v.size), np.sort(v), s=9, color=palette[name], alpha=0.85, linewidths=0, zorder=3)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([f"{n}\n(n = {v.size})" for n, v in zip(names, data)])
        ax.set_xlim(-0.6, len(groups) - 0.4)
        _value_axis(ax, every, log, ylabel)
        if xlabel:
            ax.set_xlabel(xlabel)
        if p_text:  # above the data, where it covers no dot
            ax.set_title(p_text, fontsize=7, loc="center")
        freeze_layout(fig)
    return fig


def paired_values_figure(
    values: pd.DataFrame,
    *,
    readings: Sequence[str],
    reading_labels: Mapping[str, str] | None = None,
    ylabel: str = "",
    p_text: str | None = None,
    log: bool | None = None,
    height: float = 2.4,
) -> Figure:
    """The two readings of each patient joined by a line, with the median of each reading.

    ``values``: rows of the pairs (columns patient_id, reading, value); ``readings`` the two
    readings in order (left, right)."""
    wide = values.pivot_table(index="patient_id", columns="reading", values="value", aggfunc="first")
    wide = wide.reindex(columns=list(readings)).dropna()
    x = wide.to_numpy(dtype=float)
    log = _log_wanted(x.ravel()) if log is None else log
    names = [(reading_labels or {}).get(r, str(r)) for r in readings]
    with figure_style():
        fig = new_figure(max(1.9, 0.11 * max(len(n) for n in names) + 1.4, 0.06 * len(p_text or "") + 0.6), height)
        fig.set_layout_engine("constrained", w_pad=0.07, h_pad=0.05)
        ax = fig.add_subplot(1, 1, 1)
        for row in x:
            color = PALETTE[1] if row[1] > row[0] else PALETTE[0] if row[1] < row[0] else "0.55"
            ax.plot([0, 1], row, color=color, linewidth=0.7, alpha=0.7, marker="o", markersize=2.5, zorder=2)
        if len(x):
            med = np.median(x, axis=0)
            ax.plot([0, 1], med, color="0.1", linewidth=2.0, marker="D", markersize=4, zorder=3, label="median")
        ax.set_xticks([0, 1])
        ax.set_xticklabels(names)
        ax.set_xlim(-0.35, 1.35)
        _value_axis(ax, np.asarray(x, dtype=float).ravel(), log, ylabel)
        ax.set_xlabel(f"n = {len(x)} patients with both readings")
        if p_text:  # above the data, where it covers no dot
            ax.set_title(p_text, fontsize=7, loc="center")
        freeze_layout(fig)
    return fig


__all__ = ["group_values_figure", "paired_values_figure"]
