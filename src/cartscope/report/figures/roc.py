"""ROC figure: empirical curve(s) with AUC (95 % CI) in the legend and the Youden-optimal
point marked with its threshold, sensitivity and specificity.

Drawn from :class:`~cartscope.stats.roc.RocResult` objects (pROC semantics): the curve is
``result.curve``, the interval ``result.auc_ci(method)``, the point ``result.youden()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cartscope.report.figures.style import (
    GREY,
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    freeze_layout,
    format_number,
    new_figure,
)
from cartscope.stats.roc import RocResult


def roc_points(result: RocResult) -> tuple[np.ndarray, np.ndarray]:
    """(1 - specificity, sensitivity) of every threshold, ordered along the curve from (0, 0)."""
    c = result.curve
    x = 1.0 - np.asarray(c.specificity, dtype=float)
    y = np.asarray(c.sensitivity, dtype=float)
    order = np.lexsort((y, x))
    return x[order], y[order]


def roc_figure(
    results: Mapping[Any, RocResult] | RocResult,
    *,
    ci_method: str = "delong",
    youden: bool = True,
    title: str | None = None,
    colors: Mapping[Any, str] | None = None,
    auc_digits: int = 2,
    cutoff_texts: Mapping[Any, str] | None = None,
    size: float = SINGLE_COLUMN,
) -> Figure:
    """ROC curves of one or more markers on a square plot with the chance diagonal.

    Parameters
    ----------
    results : marker label -> single-marker RocResult (or one RocResult, labelled "Marker").
    ci_method : interval printed in the legend, ``"delong"`` (default, as pROC ``ci.auc``) or
        ``"hanley-mcneil"``; the legend reads "MIP3a: AUC 0.802 (95% CI 0.666-0.938)".
    youden : mark the Youden-optimal point and label it "Cut-off c / Se x%, Sp y%" (the first
        of tied optima, see :class:`~cartscope.stats.roc.YoudenCutoff`).
    auc_digits : decimals of the AUC and its limits.

    Returns
    -------
    Figure with one axes labelled "roc".
    """
    if isinstance(results, RocResult):
        results = {"Marker": results}
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty mapping of label -> RocResult")
    if ci_method not in ("delong", "hanley-mcneil"):
        raise ValueError(f"ci_method must be 'delong' or 'hanley-mcneil', got {ci_method!r}")
    for k, r in results.items():
        if not isinstance(r, RocResult):
            raise TypeError(f"{k!r} is a {type(r).__name__}, not a RocResult")
        if r.n_markers != 1:
            raise ValueError(f"{k!r} is a panel of {r.n_markers} markers: pass result.marker(j)")
    palette = colors_for(list(results), colors)

    import textwrap

    # legend lines wrapped to the figure's width (a long outcome name in the cut-off words
    # stays inside the figure); the band under the axes grows by one line each
    chars = max(24, int((size - 0.45) / (7.0 * 0.58 / 72.0)))
    texts: dict[Any, str] = {}
    for label, r in results.items():
        ci = r.auc_ci(method=ci_method)
        d = auc_digits
        text = (f"{label}: AUC {float(r.auc):.{d}f} "
                f"({round(100 * ci.level)}% CI {float(ci.lower):.{d}f}\u2013{float(ci.upper):.{d}f})")
        if youden:
            yo = r.youden()
            rule = (cutoff_texts or {}).get(label) or f"cut-off {format_number(float(yo.threshold), 4)}"
            text += (f"\n{rule}: Se {100 * float(yo.sensitivity):.1f}%, "
                     f"Sp {100 * float(yo.specificity):.1f}%")
        texts[label] = "\n".join(w for part in text.split("\n") for w in textwrap.wrap(part, chars))
    n_lines = sum(t.count("\n") + 1 for t in texts.values())
    legend_h = 0.12 + 0.18 * n_lines + 0.05 * max(0, len(results) - 1)
    with figure_style():
        fig = new_figure(size, size + legend_h)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("roc")
        ax.plot([0, 1], [0, 1], color=GREY, linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        n = len(results)
        for i, (label, r) in enumerate(results.items()):
            color = palette[label]
            text = texts[label]
            x, y = roc_points(r)
            if youden:
                yo = r.youden()
            ax.plot(x, y, color=color, label=text, drawstyle="default", zorder=3, clip_on=True)
            if youden:
                # the cut-off is a point on the curve; its words sit in the legend under the
                # axes, so no leader line crosses a curve
                px, py = 1.0 - float(yo.specificity), float(yo.sensitivity)
                ax.plot([px], [py], marker="o", markersize=4.5, color=color,
                        markeredgecolor="white", markeredgewidth=0.6, linestyle="none", zorder=4,
                        clip_on=True)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.set_xlabel("1 \u2212 specificity")
        ax.set_ylabel("Sensitivity")
        if title:
            ax.set_title(title, loc="left")
        fig.get_layout_engine().set(rect=(0, legend_h / (size + legend_h), 1, 1 - legend_h / (size + legend_h)))
        handles, names = ax.get_legend_handles_labels()
        fig.legend(handles, names, loc="lower left", bbox_to_anchor=(0.02, 0.01), borderaxespad=0,
                   handlelength=1.2, labelspacing=0.5)
        freeze_layout(fig)
    return fig
