"""Relapse timing: number of relapses in 6-month bins after the index infusion, by disease
group (jin2023: 67.5 % of relapses within the first 6 months).

The bins are the ``relapse_bin`` labels that
:func:`cartscope.clinical.endpoints.derive_endpoints` assigns under the protocol's rules
(months of 30.4375 days, intervals (lower, upper], the first including day 0), so the figure
and the tables count the same relapses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cartscope.report.figures.style import (
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    freeze_layout,
    new_figure,
)

DEFAULT_BINS: tuple[str, ...] = ("0-6", "6-12", "12-18", "18-24", ">24")


def relapse_counts(endpoints: pd.DataFrame, group: str | None = "disease_group",
                   bins: Sequence[str] | None = None) -> pd.DataFrame:
    """Relapses per bin (rows, in bin order) and group (columns)."""
    if "relapse_bin" not in endpoints:
        raise ValueError("the endpoints frame lacks 'relapse_bin'; pass derive_endpoints() output")
    ep = endpoints[endpoints["relapse_bin"].notna()]
    labels = list(bins) if bins is not None else _bin_order(endpoints["relapse_bin"])
    g = ep[group].astype(object).fillna("unknown") if group else pd.Series("All", index=ep.index)
    tab = pd.crosstab(pd.Categorical(ep["relapse_bin"], categories=labels), g.to_numpy(), dropna=False)
    tab.index = labels
    tab.columns = [str(c) for c in tab.columns]
    return tab


def _bin_order(labels: pd.Series) -> list[str]:
    present = set(labels.dropna().astype(str))
    if present <= set(DEFAULT_BINS):
        return list(DEFAULT_BINS)

    def key(s: str) -> float:
        return float("inf") if s.startswith(">") else float(s.split("-")[0])

    return sorted(present, key=key)


def relapse_timing_figure(
    endpoints: pd.DataFrame,
    *,
    group: str | None = "disease_group",
    group_order: Sequence[Any] | None = None,
    bins: Sequence[str] | None = None,
    percent: bool = False,
    colors: Mapping[Any, str] | None = None,
    title: str | None = None,
    width: float = SINGLE_COLUMN,
    height: float = 2.3,
) -> Figure:
    """Grouped bars of relapses per 6-month bin, one colour per group, counts on the bars.

    Parameters
    ----------
    endpoints : ``derive_endpoints`` output (uses ``relapse_bin`` and ``group``).
    bins : bin labels in order (default the endpoint rules' 0-6, 6-12, 12-18, 18-24, >24).
    percent : bar height as percent of that group's relapses instead of counts (the count is
        still printed on the bar).

    Returns
    -------
    Figure with one axes labelled "relapse timing"; ``fig.cartscope_counts`` is the table drawn.
    """
    tab = relapse_counts(endpoints, group, bins)
    cols = [str(c) for c in (group_order or tab.columns) if str(c) in tab.columns]
    tab = tab[cols]
    palette = colors_for(cols, {str(k): v for k, v in (colors or {}).items()})
    k = len(cols)
    x = np.arange(len(tab))
    w = 0.8 / max(k, 1)
    with figure_style():
        fig = new_figure(width, height)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("relapse timing")
        for j, c in enumerate(cols):
            counts = tab[c].to_numpy(dtype=float)
            total = counts.sum()
            h = counts / total * 100 if percent and total > 0 else counts
            pos = x - 0.4 + w * (j + 0.5)
            ax.bar(pos, h, width=w * 0.92, color=palette[c], label=f"{c} (n = {int(total)})")
            for px, hx, cx in zip(pos, h, counts):
                ax.text(px, hx, f"{int(cx)}", ha="center", va="bottom", fontsize=SMALL_FONT_SIZE - 0.5)
        ax.set_xticks(x)
        ax.set_xticklabels(list(tab.index))
        ax.set_xlabel("Months from infusion to relapse")
        ax.set_ylabel("Relapses (% of group)" if percent else "Relapses (n)")
        top = float(ax.get_ylim()[1])
        ax.set_ylim(0, top * 1.15)  # room for the count over the tallest bar
        if not percent:
            from matplotlib.ticker import MaxNLocator

            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="upper right", borderaxespad=0.3)
        freeze_layout(fig)
    fig.cartscope_counts = tab
    return fig
