"""Forest plot of hazard ratios (Cox model) with 95 % CI on a log axis and a reference line
at HR = 1, plus a text column "HR (95% CI)" and the p-value.

Input is :meth:`CoxResult.to_frame() <cartscope.stats.cox.CoxResult.to_frame>` (columns
term, hazard_ratio, ci_lower, ci_upper, p_value) or any frame with term, hr, lower, upper, p.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cartscope.report.figures.style import (
    GREY,
    OKABE_ITO,
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    figure_style,
    freeze_layout,
    p_text,
    new_figure,
)

_ALIASES = {
    "hr": ("hazard_ratio", "hr"),
    "lower": ("ci_lower", "lower"),
    "upper": ("ci_upper", "upper"),
    "p": ("p_value", "p"),
}


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        to_frame = getattr(frame, "to_frame", None)
        if to_frame is None:
            raise TypeError("expected a DataFrame or a result with to_frame()")
        frame = to_frame()
    if "term" not in frame:
        raise ValueError("the frame needs a 'term' column")
    out = pd.DataFrame({"term": frame["term"].astype(str).to_numpy()})
    for key, names in _ALIASES.items():
        col = next((n for n in names if n in frame), None)
        if col is None:
            if key == "p":
                out[key] = np.nan
                continue
            raise ValueError(f"the frame needs one of the columns {names}")
        out[key] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    bad = out.loc[~(out["hr"] > 0), "term"].tolist()
    if bad:
        raise ValueError(f"hazard ratios must be positive numbers; not so for {bad}")
    return out


def forest_figure(
    frame: pd.DataFrame | Any,
    *,
    labels: Mapping[str, str] | None = None,
    xlabel: str = "Hazard ratio (95% CI, log scale)",
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
    color: str = OKABE_ITO["blue"],
    p_format: Any = None,
    width: float = SINGLE_COLUMN * 1.6,
) -> Figure:
    """Forest plot, one row per term from top to bottom in the frame's order.

    Parameters
    ----------
    frame : CoxResult, its ``to_frame()``, or a frame with term, hr, lower, upper[, p].
    labels : display names per term (e.g. ``{"ldh_high": "LDH > ULN"}``).
    p_format : prints each p (e.g. the report's number format, so the plot and its table
        agree); default two significant digits.
    xlim : x range (default: the CIs widened to whole powers of 2 around 1). A limit beyond
        the range (or infinite) is drawn as an arrow at the edge.

    Returns
    -------
    Figure with axes "forest" (the plot) and "forest text" (HR and p columns).
    """
    df = _normalise(frame)
    import textwrap

    names = ["\n".join(textwrap.wrap(str((labels or {}).get(t, t)), 28)) or str(t) for t in df["term"]]
    n = len(df)
    lines = max((nm.count("\n") + 1 for nm in names), default=1)
    if n == 0:
        raise ValueError("nothing to plot: the frame has no rows")
    finite = np.concatenate([df["lower"], df["upper"], df["hr"], [1.0]])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if xlim is None:
        lo = 2.0 ** np.floor(np.log2(finite.min()))
        hi = 2.0 ** np.ceil(np.log2(finite.max()))
        lo, hi = min(lo, 0.5), max(hi, 2.0)
    else:
        lo, hi = float(xlim[0]), float(xlim[1])
    ticks = [t for t in (2.0 ** np.arange(-10, 11)) if lo <= t <= hi]
    if len(ticks) > 7:
        ticks = [t for t in (4.0 ** np.arange(-5, 6)) if lo <= t <= hi]

    with figure_style():
        fig = new_figure(width, 0.6 + (0.24 + 0.12 * (lines - 1)) * n)
        fig.set_layout_engine("constrained")
        gs = fig.add_gridspec(1, 2, width_ratios=[1.4, 1.1], wspace=0.02)
        ax = fig.add_subplot(gs[0])
        ax_t = fig.add_subplot(gs[1], sharey=ax)
        ax.set_label("forest")
        ax_t.set_label("forest text")
        y = np.arange(n)
        ax.axvline(1.0, color=GREY, linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        for i, row in df.iterrows():
            left = max(row["lower"], lo) if np.isfinite(row["lower"]) else lo
            right = min(row["upper"], hi) if np.isfinite(row["upper"]) else hi
            ax.plot([left, right], [i, i], color=color, linewidth=1.1, solid_capstyle="butt", zorder=2)
            middle = np.sqrt(left * right)
            for end, beyond in ((left, not row["lower"] > lo), (right, not row["upper"] < hi)):
                if beyond:  # the interval runs off the axis: arrowhead at the edge
                    ax.annotate("", xy=(end, i), xytext=(middle, i),
                                arrowprops={"arrowstyle": "->", "color": color, "linewidth": 1.1})
            if lo <= row["hr"] <= hi:
                ax.plot([row["hr"]], [i], marker="s", markersize=5, color=color, zorder=3,
                        linestyle="none")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_ylim(n - 0.5, -0.9)
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title, loc="left")

        for side in ("top", "right", "bottom", "left"):
            ax_t.spines[side].set_visible(False)
        ax_t.tick_params(left=False, labelleft=False, bottom=False, labelbottom=False)
        ax_t.set_xlim(0, 1)
        ax_t.text(0.02, -0.85, "HR (95% CI)", ha="left", va="center", fontweight="bold",
                  fontsize=SMALL_FONT_SIZE)
        has_p = bool(df["p"].notna().any())
        if has_p:
            ax_t.text(0.98, -0.85, "p", ha="right", va="center", fontweight="bold",
                      fontsize=SMALL_FONT_SIZE)
        for i, row in df.iterrows():
            ax_t.text(0.02, i, f"{row['hr']:.2f} ({row['lower']:.2f}\u2013{row['upper']:.2f})",
                      ha="left", va="center", fontsize=SMALL_FONT_SIZE)
            if has_p and np.isfinite(row["p"]):
                ax_t.text(0.98, i, p_format(row["p"]) if p_format is not None else p_text(row["p"]),
                          ha="right", va="center", fontsize=SMALL_FONT_SIZE)
        freeze_layout(fig)
    return fig
