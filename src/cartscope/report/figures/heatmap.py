"""Clustered heatmap of log2 fold changes of a panel (e.g. cytokines at the IL-6 peak vs
healthy donors), analytes as rows and patients as columns, with an outcome-class colour bar.

Ordering is agglomerative hierarchical clustering (:func:`scipy.cluster.hierarchy.linkage`,
average linkage on Euclidean distances of the log2 values by default; deterministic, no random
start). Missing values count as log2 FC = 0 (no change) in the distances only and are drawn
grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy.cluster import hierarchy

from cartscope.report.figures.style import (
    LIGHT_GREY,
    OUTCOME_COLORS,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    new_figure,
)

CMAP = "RdBu_r"


def _order(x: np.ndarray, method: str, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Leaf order and linkage of the rows of ``x`` (identity for fewer than 3 rows)."""
    if x.shape[0] < 3:
        return np.arange(x.shape[0]), None
    z = hierarchy.linkage(np.nan_to_num(x, nan=0.0), method=method, metric=metric)
    return hierarchy.leaves_list(z), z


def _dendrogram(ax: Any, z: np.ndarray, orientation: str) -> None:
    d = hierarchy.dendrogram(z, no_plot=True)
    segs = []
    for ic, dc in zip(d["icoord"], d["dcoord"]):
        pos = (np.asarray(ic) - 5.0) / 10.0
        h = np.asarray(dc)
        segs.append(np.column_stack([pos, h] if orientation == "top" else [h, pos]))
    ax.add_collection(LineCollection(segs, colors="#404040", linewidths=0.5))
    top = float(np.max(z[:, 2])) if z.size else 1.0
    if orientation == "top":
        ax.set_ylim(0, top * 1.05)
    else:
        ax.set_xlim(top * 1.05, 0)
    ax.axis("off")


MAX_WIDTH = 7.1
"""Inches: the widest heatmap (the report prints figures up to 182 mm wide unscaled)."""


def fold_change_heatmap(
    values: pd.DataFrame,
    outcome: pd.Series | Mapping[Any, Any] | None = None,
    *,
    scale: str = "fold_change",
    cluster_analytes: bool = True,
    cluster_patients: bool = True,
    group_by_class: bool = False,
    class_order: Sequence[Any] | None = None,
    method: str = "average",
    metric: str = "euclidean",
    vmax: float | None = None,
    class_colors: Mapping[Any, str] | None = None,
    title: str | None = None,
    show_patient_ids: bool | None = None,
) -> Figure:
    """Heatmap of a patients x analytes panel.

    Parameters
    ----------
    values : patients (index) x analytes (columns); fold changes (``scale="fold_change"``,
        positive, drawn as log2) or already log2 (``scale="log2"``).
    outcome : class per patient (Series indexed like ``values`` or a mapping), drawn as a
        colour bar over the columns; patients without a class get "not evaluable" grey.
    cluster_analytes, cluster_patients : order rows / columns by hierarchical clustering and
        draw the dendrogram.
    group_by_class : order patients by class (``class_order``) first and cluster within each
        class (no patient dendrogram).
    vmax : colour limit in log2 units, symmetric around 0 (default: the largest absolute
        value, at least 1).

    Returns
    -------
    Figure with axes "heatmap", and "classes", "analyte dendrogram", "patient dendrogram" when
    drawn. ``fig.cartscope_order`` holds the (analytes, patients) order shown.
    """
    if not isinstance(values, pd.DataFrame) or values.empty:
        raise ValueError("values must be a non-empty patients x analytes DataFrame")
    if scale not in ("fold_change", "log2"):
        raise ValueError(f"scale must be 'fold_change' or 'log2', got {scale!r}")
    raw = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if scale == "fold_change":
        if (raw[np.isfinite(raw)] <= 0).any():
            raise ValueError("fold changes must be positive to take log2; pass scale='log2' for log values")
        lg = np.log2(raw)
    else:
        lg = raw
    patients = [str(p) for p in values.index]
    analytes = [str(a) for a in values.columns]

    classes: list[Any] | None = None
    if outcome is not None:
        out = pd.Series(outcome)
        out.index = out.index.astype(str)
        classes = [out.get(p, None) for p in patients]
        classes = ["not evaluable" if (c is None or (isinstance(c, float) and np.isnan(c))) else c
                   for c in classes]
    a_order, a_link = _order(lg.T, method, metric) if cluster_analytes else (np.arange(len(analytes)), None)
    p_link = None
    if group_by_class and classes is not None:
        present = list(dict.fromkeys(classes))
        order_cls = [c for c in (class_order or ("NR/ER", "durable", "not evaluable")) if c in present]
        order_cls += [c for c in present if c not in order_cls]
        p_order_l: list[int] = []
        for c in order_cls:
            idx = np.array([i for i, k in enumerate(classes) if k == c])
            sub = _order(lg[idx], method, metric)[0] if cluster_patients else np.arange(idx.size)
            p_order_l.extend(idx[sub].tolist())
        p_order = np.asarray(p_order_l)
    elif cluster_patients:
        p_order, p_link = _order(lg, method, metric)
    else:
        p_order = np.arange(len(patients))
    mat = lg[np.ix_(p_order, a_order)].T  # analytes x patients
    finite = np.abs(mat[np.isfinite(mat)])
    if vmax is not None:
        lim = float(vmax)
    else:
        lim = max(1.0, float(np.ceil(finite.max() * 2) / 2)) if finite.size else 1.0
    n_a, n_p = mat.shape
    den_w = 0.5 if a_link is not None else 0.0
    label_w = 0.9
    # at most the printed text width (182 mm = 7.17 in), so nothing is scaled below 6 pt
    cell_w, cell_h = min(0.13, max(0.02, (MAX_WIDTH - den_w - label_w - 0.95) / max(n_p, 1))), 0.13
    show_ids = (cell_w >= 0.09) if show_patient_ids is None else show_patient_ids
    heat_w, heat_h = max(1.5, n_p * cell_w), max(1.0, n_a * cell_h)
    den_h = 0.45 if p_link is not None else 0.0
    bar_h = 0.14 if classes is not None else 0.0
    bottom_h = 0.7 if show_ids else 0.25
    width = den_w + heat_w + label_w + 0.95
    height = den_h + bar_h + heat_h + bottom_h + 0.1 + (0.3 if title else 0.0)

    with figure_style():
        fig = new_figure(width, height)
        W, H = width, height

        def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
            return (x / W, y / H, w / W, h / H)

        x0 = den_w + 0.05
        y0 = bottom_h
        ax = fig.add_axes(box(x0, y0, heat_w, heat_h))
        ax.set_label("heatmap")
        cmap = colormaps[CMAP].with_extremes(bad=LIGHT_GREY)
        im = ax.imshow(np.ma.masked_invalid(mat), aspect="auto", cmap=cmap,
                       norm=TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim), interpolation="nearest")
        ax.set_yticks(range(n_a))
        ax.set_yticklabels([analytes[i] for i in a_order], fontsize=SMALL_FONT_SIZE - 1)
        ax.yaxis.tick_right()
        if show_ids:
            ax.set_xticks(range(n_p))
            ax.set_xticklabels([patients[i] for i in p_order], rotation=90, fontsize=SMALL_FONT_SIZE - 1)
        else:
            ax.set_xticks([])
            ax.set_xlabel(f"{n_p} patients")
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        top = y0 + heat_h
        if classes is not None:
            ax_c = fig.add_axes(box(x0, top + 0.03, heat_w, bar_h), sharex=ax)
            ax_c.set_label("classes")
            seen = list(dict.fromkeys(classes))
            preferred = list(class_order or ("NR/ER", "durable", "not evaluable"))
            levels = [c for c in preferred if c in seen] + [c for c in seen if c not in preferred]
            palette = colors_for(levels, {**OUTCOME_COLORS, **(class_colors or {})})
            codes = np.array([[levels.index(classes[i]) for i in p_order]])
            ax_c.imshow(codes, aspect="auto", cmap=ListedColormap([palette[c] for c in levels]),
                        vmin=-0.5, vmax=len(levels) - 0.5, interpolation="nearest")
            ax_c.set_yticks([0])
            ax_c.set_yticklabels(["Outcome"], fontsize=SMALL_FONT_SIZE - 1)
            ax_c.yaxis.tick_right()
            ax_c.tick_params(length=0, labelbottom=False)
            for s in ax_c.spines.values():
                s.set_visible(False)
            fig.legend(handles=[Patch(color=palette[c], label=str(c)) for c in levels],
                       loc="upper left", bbox_to_anchor=((x0 + heat_w + label_w) / W, (top + bar_h) / H),
                       title="Outcome", borderaxespad=0)
            top += bar_h + 0.03
        if p_link is not None:
            ax_dp = fig.add_axes(box(x0, top + 0.02, heat_w, den_h))
            ax_dp.set_label("patient dendrogram")
            _dendrogram(ax_dp, p_link, "top")
            ax_dp.set_xlim(-0.5, n_p - 0.5)
        if a_link is not None:
            ax_da = fig.add_axes(box(0.02, y0, den_w, heat_h))
            ax_da.set_label("analyte dendrogram")
            _dendrogram(ax_da, a_link, "left")
            ax_da.set_ylim(n_a - 0.5, -0.5)
        cb_h = min(1.2, max(0.5, 0.6 * heat_h))
        cax = fig.add_axes(box(x0 + heat_w + label_w, y0 + heat_h - 0.6 - cb_h, 0.12, cb_h))
        cax.set_label("colorbar")
        cb = fig.colorbar(im, cax=cax)
        cb.set_label("log2 fold change", fontsize=SMALL_FONT_SIZE)
        cb.ax.tick_params(labelsize=SMALL_FONT_SIZE - 1)
        cb.outline.set_linewidth(0.5)
        if title:
            fig.text(x0 / W, (top + den_h + 0.1) / H, title, ha="left", va="bottom", fontweight="bold")
    fig.cartscope_order = ([analytes[i] for i in a_order], [patients[i] for i in p_order])
    return fig
