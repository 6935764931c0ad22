"""Swimmer plot: one horizontal bar per patient (follow-up from the index infusion) with
markers for infusions, first response, relapse (filled: antigen-positive, open:
antigen-negative escape), HSCT, death and loss to follow-up, and an arrow where the patient is alive and still
followed. Bars are sorted by follow-up, longest on top.

Input is the per-patient frame of :func:`cartscope.clinical.endpoints.derive_endpoints`
(columns ``ENDPOINT_COLUMNS``: ``last_contact_day``, ``death_day``, ``lost_day``,
``response_day``, ``relapse_day``, ``progression_day``, ``relapse_cd19``, ``hsct_day``,
``index_day``, ``disease_group``), and optionally the cohort's infusions table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from cartscope.report.figures.swimmer_pages import PER_PAGE, ROW_HEIGHT, _num, swimmer_order, swimmer_pages
from cartscope.report.figures._time import TimeUnit, axis_label, check_unit, nice_ticks, per_day
from cartscope.report.figures.style import (
    OKABE_ITO,
    SINGLE_COLUMN,
    SMALL_FONT_SIZE,
    colors_for,
    figure_style,
    freeze_layout,
    new_figure,
)

#: Bar colours per group: light colours that the event markers stand out on.
BAR_COLORS: tuple[str, ...] = ("#A6CEE3", "#F3EA8A", "#E5C3DA", "#CCCCCC")

MARKERS: dict[str, dict[str, Any]] = {
    "infusion": {"marker": "v", "color": "black", "markersize": 3.5, "label": "CAR-T infusion"},
    "response": {"marker": "o", "color": OKABE_ITO["bluish_green"], "markersize": 4.0,
                 "label": "Response"},
    "relapse_pos": {"marker": "D", "color": OKABE_ITO["vermillion"], "markersize": 3.8,
                    "label": "Relapse, {antigen}+"},
    "relapse_neg": {"marker": "D", "color": OKABE_ITO["vermillion"], "markersize": 3.8,
                    "markerfacecolor": "white", "label": "Relapse, {antigen}\u2212"},
    "relapse_unknown": {"marker": "D", "color": "#7F7F7F", "markersize": 3.8,
                        "label": "Relapse/progression, {antigen} unknown"},
    "hsct": {"marker": "s", "color": OKABE_ITO["blue"], "markersize": 3.8, "label": "HSCT"},
    "death": {"marker": "X", "color": "black", "markersize": 4.5, "label": "Death"},
    "lost": {"marker": "|", "color": "#7F7F7F", "markersize": 6, "markeredgewidth": 1.4,
             "label": "Lost to follow-up"},
    "ongoing": {"marker": r"$\rightarrow$", "color": "black", "markersize": 7,
                "label": "Alive, in follow-up"},
}


def swimmer_figure(
    endpoints: pd.DataFrame,
    *,
    infusions: pd.DataFrame | None = None,
    unit: TimeUnit = "months",
    group: str | None = "disease_group",
    antigen: str = "CD19",
    colors: Mapping[Any, str] | None = None,
    title: str | None = None,
    show_ids: bool | None = None,
    xmax: float | None = None,
    row_height: float = ROW_HEIGHT,
    width: float = SINGLE_COLUMN * 1.4,
) -> Figure:
    """Swimmer plot of every patient with a follow-up time.

    Parameters
    ----------
    endpoints : ``derive_endpoints`` output (one row per patient; times in days from the index
        infusion).
    infusions : the cohort's infusions table (patient_id, day on the loaded axis); re-based to
        the index infusion with the endpoints' ``index_day``. Without it only day 0 is marked.
    group : column colouring the bars (None: one colour).
    antigen : which relapse antigen status to show ("CD19" reads ``relapse_cd19``, "CD22"
        ``relapse_cd22``): positive filled, negative open, unknown grey.
    show_ids : label each bar with its patient id (default: always; the height grows with the
        number of patients, ``row_height`` inches each, so ids stay at the small font).
    xmax : right end of the time axis in days (to give every page of a long cohort the same
        axis, see :func:`swimmer_pages`).

    Every marker is clipped to the axes, whose range covers every marker (an infusion before
    the index infusion widens it to the left).

    Returns
    -------
    Figure with one axes labelled "swimmer"; bars top to bottom in :func:`swimmer_order`.
    """
    unit = check_unit(unit)
    f = per_day(unit)
    ep = swimmer_order(endpoints)
    if ep.empty:
        raise ValueError("no patient has a follow-up time to draw")
    n = len(ep)
    ids = ep["patient_id"].tolist()
    ypos = {pid: i for i, pid in enumerate(ids)}
    show = True if show_ids is None else show_ids
    groups = None
    if group and group in ep:
        groups = ep[group].astype(object).where(ep[group].notna(), "unknown").tolist()
    levels = list(dict.fromkeys(groups)) if groups else []
    bar_col = colors_for(levels, {**dict(zip(levels, BAR_COLORS)), **(colors or {})}) if groups else {}
    ag = antigen.lower()

    with figure_style():
        fig = new_figure(width, 1.1 + row_height * n)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("swimmer")
        end = ep["followup_end"].to_numpy(dtype=float) * f
        y = np.arange(n)
        cols = [bar_col[g] for g in groups] if groups else [BAR_COLORS[-1]] * n
        ax.barh(y, end, height=0.62, color=cols, edgecolor="none", zorder=1)

        def mark(kind: str, xs: np.ndarray, ys: np.ndarray) -> None:
            ok = np.isfinite(xs)
            if not ok.any():
                return
            style = {k: v for k, v in MARKERS[kind].items() if k != "label"}
            ax.plot(xs[ok], ys[ok], linestyle="none", zorder=3, clip_on=True, gid=kind, **style)
            lows.append(float(np.min(xs[ok])))

        lows: list[float] = [0.0]

        if infusions is not None and {"patient_id", "day"} <= set(infusions.columns):
            inf = infusions[["patient_id", "day"]].copy()
            inf["patient_id"] = inf["patient_id"].astype(str)
            inf = inf[inf["patient_id"].isin(ypos)]
            idx = ep.set_index("patient_id")["index_day"] if "index_day" in ep else pd.Series(0.0, index=ids)
            rel = pd.to_numeric(inf["day"], errors="coerce") - inf["patient_id"].map(idx).astype(float)
            mark("infusion", rel.to_numpy(dtype=float) * f, inf["patient_id"].map(ypos).to_numpy(dtype=float))
        else:
            mark("infusion", np.zeros(n), y.astype(float))
        mark("response", _num(ep, "response_day") * f, y)
        rel_day = _num(ep, "relapse_day")
        rel_day = np.where(np.isfinite(rel_day), rel_day, _num(ep, "progression_day"))
        status = ep[f"relapse_{ag}"].astype(object).to_numpy() if f"relapse_{ag}" in ep else np.full(n, None)
        status = np.array([s if s in ("positive", "negative") else "unknown" for s in status])
        for s in ("positive", "negative", "unknown"):
            key = {"positive": "relapse_pos", "negative": "relapse_neg", "unknown": "relapse_unknown"}[s]
            mark(key, np.where(status == s, rel_day, np.nan) * f, y)
        mark("hsct", _num(ep, "hsct_day") * f, y)
        mark("death", _num(ep, "death_day") * f, y)
        lost = _num(ep, "lost_day")
        mark("lost", np.where(np.isnan(_num(ep, "death_day")), lost, np.nan) * f, y)
        right = float(np.nanmax(end)) if xmax is None else float(xmax) * f
        ticks = nice_ticks(right, unit)
        going = ep["ongoing"].to_numpy(dtype=bool)
        mark("ongoing", np.where(going, end + 0.018 * ticks[-1], np.nan), y)

        left = min(lows)
        span = max(ticks[-1], right * 1.05)
        ax.set_xlim(left - 0.02 * span if left < 0 else 0, span)
        ax.set_xticks(ticks)
        ax.set_ylim(n - 0.5, -0.5)
        if show:
            ax.set_yticks(y)
            ax.set_yticklabels(ids, fontsize=SMALL_FONT_SIZE - 1)
        else:
            ax.set_yticks([])
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(axis_label(unit))
        ax.set_ylabel("Patients" if not show else "")
        if title:
            ax.set_title(title, loc="left")

        handles: list[Any] = [Patch(color=bar_col[g], label=str(g)) for g in levels]
        used = {a.get_gid() for a in ax.lines}
        for kind, style in MARKERS.items():
            if kind in used:
                st = {k: v for k, v in style.items() if k != "label"}
                label = style["label"].format(antigen=antigen)
                handles.append(Line2D([], [], linestyle="none", label=label, **st))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
                  fontsize=SMALL_FONT_SIZE)
        freeze_layout(fig)
    return fig
