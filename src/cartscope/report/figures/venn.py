"""Venn diagram of marker sets (e.g. markers significant in B-ALL, B-NHL and all patients)
for two or three subgroups, drawn with plain circles: region sizes are counts, not areas."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Circle

from cartscope.report.figures.style import (
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    new_figure,
)

# circle centres (radius 1) and label positions, for 2 and 3 sets
_CENTRES = {
    2: [(-0.55, 0.0), (0.55, 0.0)],
    3: [(-0.55, 0.32), (0.55, 0.32), (0.0, -0.6)],
}
_NAME_POS = {
    2: [(-0.75, 1.12, "center"), (0.75, 1.12, "center")],
    3: [(-1.05, 1.42, "center"), (1.05, 1.42, "center"), (0.0, -1.75, "center")],
}
_REGION_POS = {
    2: {(0,): (-0.98, 0.0), (1,): (0.98, 0.0), (0, 1): (0.0, 0.0)},
    3: {
        (0,): (-1.0, 0.55), (1,): (1.0, 0.55), (2,): (0.0, -1.1),
        (0, 1): (0.0, 0.8), (0, 2): (-0.64, -0.26), (1, 2): (0.64, -0.26),
        (0, 1, 2): (0.0, 0.02),
    },
}


def venn_regions(sets: Mapping[Any, Iterable[Any]]) -> dict[tuple[int, ...], list[Any]]:
    """Members of each region: key = indices of the sets an item is in, exactly (sorted)."""
    named = [set(v) for v in sets.values()]
    k = len(named)
    out: dict[tuple[int, ...], list[Any]] = {}
    for size in range(1, k + 1):
        for combo in combinations(range(k), size):
            inside = set.intersection(*(named[i] for i in combo))
            outside = set().union(*(named[i] for i in range(k) if i not in combo))
            out[combo] = sorted(inside - outside, key=str)
    return out


def venn_figure(
    sets: Mapping[Any, Iterable[Any]],
    *,
    show_members: int = 4,
    title: str | None = None,
    colors: Mapping[Any, str] | None = None,
    size: float = SINGLE_COLUMN,
) -> Figure:
    """Venn diagram of two or three named sets with the count of every region.

    Parameters
    ----------
    sets : subgroup label -> its items (e.g. significant marker names); 2 or 3 sets.
    show_members : list the items of a region under its count when it has at most this many
        (0 to show counts only).

    Returns
    -------
    Figure with one axes labelled "venn"; the count texts carry the region counts and each
    set label reads "name (n = k)".
    """
    if not isinstance(sets, Mapping) or len(sets) not in (2, 3):
        got = len(sets) if isinstance(sets, Mapping) else repr(sets)
        raise ValueError(f"a Venn diagram needs 2 or 3 named sets, got {got}")
    labels = list(sets)
    k = len(labels)
    members = {lab: set(sets[lab]) for lab in labels}
    regions = venn_regions(members)
    palette = colors_for(labels, colors)

    with figure_style():
        fig = new_figure(size, size * (1.0 if k == 2 else 1.15))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_label("venn")
        for (cx, cy), lab in zip(_CENTRES[k], labels):
            ax.add_patch(Circle((cx, cy), 1.0, facecolor=palette[lab], alpha=0.18, edgecolor="none"))
            ax.add_patch(Circle((cx, cy), 1.0, facecolor="none", edgecolor=palette[lab], linewidth=1.2))
        for (x, y, ha), lab in zip(_NAME_POS[k], labels):
            ax.text(x, y, f"{lab}\n(n = {len(members[lab])})", ha=ha, va="center",
                    color=palette[lab], fontweight="bold")
        for key, (x, y) in _REGION_POS[k].items():
            items = regions[key]
            ax.text(x, y, str(len(items)), ha="center", va="center", fontsize=10, gid=None)
            if 0 < len(items) <= show_members:
                ax.text(x, y - 0.14, "\n".join(map(str, items)), ha="center", va="top",
                        fontsize=SMALL_FONT_SIZE - 1, color="#404040", linespacing=1.1)
        pad = 0.1
        if k == 2:
            ax.set_xlim(-1.55 - pad, 1.55 + pad)
            ax.set_ylim(-1.1 - pad, 1.45 + pad)
        else:
            ax.set_xlim(-1.65 - pad, 1.65 + pad)
            ax.set_ylim(-2.0 - pad, 1.7 + pad)
        ax.set_aspect("equal")
        ax.axis("off")
        if title:
            ax.set_title(title, loc="left")
    return fig
