"""CONSORT-style flow diagram of the patients left out of each analysis.

The cohort's box at the top; under it, one row per analysis: on the left the patients
analysed, on the right the patients left out with each reason and its count (CONSORT 2010
flow diagram, Schulz et al., BMJ 2010;340:c332, adapted to one cohort and several
analyses). Drawn from the exclusion counts only; the figure height grows with the number of
lines, so text never shrinks below the report's small font.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from cartscope.report.figures.style import DOUBLE_COLUMN, GREY, SMALL_FONT_SIZE, figure_style, new_figure

LINE_IN = SMALL_FONT_SIZE * 1.5 / 72.0
WRAP = 58


def _box(fig: Figure, x: float, y_top: float, w: float, lines: list[str], height_in: float,
         total_h: float, bold_first: bool = False) -> float:
    """Draw a box of ``lines`` with its top at ``y_top`` (figure fraction); returns its height
    as a figure fraction."""
    h = (len(lines) * LINE_IN + 0.12) / total_h
    fig.patches.append(FancyBboxPatch((x, y_top - h), w, h, boxstyle="round,pad=0,rounding_size=0.006",
                                      transform=fig.transFigure, facecolor="white", edgecolor="#333333",
                                      linewidth=0.8))
    for k, line in enumerate(lines):
        fig.text(x + 0.012, y_top - (0.06 + (k + 0.5) * LINE_IN) / total_h, line, ha="left", va="center",
                 fontsize=SMALL_FONT_SIZE, fontweight="bold" if bold_first and k == 0 else "normal")
    return h


def consort_figure(total: int, analyses: Sequence[tuple[str, int, Sequence[tuple[str, int]]]], *,
                   width: float = DOUBLE_COLUMN) -> Figure:
    """The flow diagram: ``total`` patients, then per analysis (name, patients left out,
    ((reason, patients), ...))."""
    blocks = []
    for name, n_out, reasons in analyses:
        right = [f"Left out: {n_out} patient{'s' if n_out != 1 else ''}"]
        for reason, k in reasons:
            wrapped = textwrap.wrap(f"{reason} (n = {k})", WRAP) or [""]
            right += ["\u2022 " + wrapped[0]] + ["   " + w for w in wrapped[1:]]
        left = textwrap.wrap(name, 34) + [f"Analysed: {total - n_out}"]
        blocks.append((left, right))
    gap = 0.22
    heights = [max(len(a), len(b)) * LINE_IN + 0.12 for a, b in blocks]
    top_box = LINE_IN + 0.12
    total_h = 0.1 + top_box + sum(h + gap for h in heights) + 0.05
    with figure_style():
        fig = new_figure(width, total_h)
        fig.set_layout_engine("none")
        lx, lw = 0.02, 0.36
        rx, rw = 0.46, 0.52
        y = 1 - 0.1 / total_h
        h = _box(fig, lx, y, lw, [f"Cohort: {total} patients"], top_box, total_h, bold_first=True)
        prev_bottom = y - h
        y -= h + gap / total_h
        for (left, right), bh in zip(blocks, heights):
            fig.patches.append(FancyArrowPatch((lx + lw / 2, prev_bottom), (lx + lw / 2, y), transform=fig.transFigure,
                                               arrowstyle="-|>", mutation_scale=7, color=GREY, linewidth=0.8))
            hl = _box(fig, lx, y, lw, left, bh, total_h, bold_first=True)
            hr = _box(fig, rx, y, rw, right, bh, total_h)
            mid = y - min(hl, hr) / 2
            fig.patches.append(FancyArrowPatch((lx + lw, mid), (rx, mid), transform=fig.transFigure,
                                               arrowstyle="-|>", mutation_scale=7, color=GREY, linewidth=0.8))
            prev_bottom = y - hl
            y -= max(hl, hr) + gap / total_h
    return fig


__all__ = ["consort_figure"]
