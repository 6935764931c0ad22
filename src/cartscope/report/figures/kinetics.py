"""Courses over time on a log scale: CAR transgene kinetics (CD19 vs CD22 CAR component) and
cytokine courses (IL-6, ferritin, ...).

Each patient is a thin line; each series (CAR component, or patient group for cytokines) gets
its median and interquartile band over the patients sampled on that day. The daily median and
quartiles are descriptive (pandas quantiles, linear interpolation as R's default type 7) and
are drawn only on days with at least ``min_patients`` patients. Values <= 0 (undetectable)
cannot sit on a log axis: they are left out of the patient lines but counted in the daily
summaries, whose non-positive parts are then not drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from cartscope.cohort.units import analyte_name_key
from cartscope.report.figures._time import nice_ticks
from cartscope.report.figures.style import (
    OKABE_ITO,
    PALETTE,
    SINGLE_COLUMN,
    colors_for,
    figure_style,
    freeze_layout,
    new_figure,
    plain_log_axis,
    readable_log_ticks,
)

#: Display names and colours of the CAR components.
CAR_LABELS: dict[str, str] = {"cd19_car_copies": "CD19 CAR", "cd22_car_copies": "CD22 CAR",
                              "car_copies_per_ug": "CAR (total)"}
CAR_COLORS: dict[str, str] = {"CD19 CAR": OKABE_ITO["blue"], "CD22 CAR": OKABE_ITO["vermillion"],
                              "CAR (total)": OKABE_ITO["black"]}


def daily_summary(data: pd.DataFrame, min_patients: int = 3) -> pd.DataFrame:
    """Median and quartiles of ``value`` per ``series`` and ``day`` (days with at least
    ``min_patients`` patients): columns series, day, n, q1, median, q3."""
    g = data.groupby(["series", "day"], sort=True)["value"]
    out = pd.DataFrame({
        "n": g.size(),
        "q1": g.quantile(0.25),
        "median": g.median(),
        "q3": g.quantile(0.75),
    }).reset_index()
    return out[out["n"] >= min_patients].reset_index(drop=True)


def _course(ax: Any, data: pd.DataFrame, colors: Mapping[Any, str], min_patients: int,
            patient_lines: bool) -> None:
    """Patient lines, then the median line and IQR band per series."""
    for (series, pid), g in data.groupby(["series", "patient_id"], sort=True):
        g = g[g["value"] > 0].sort_values("day", kind="mergesort")
        if patient_lines and len(g):
            ax.plot(g["day"], g["value"], color=colors[series], linewidth=0.5, alpha=0.35,
                    zorder=1)
    summ = daily_summary(data, min_patients)
    for series in colors:
        s = summ[summ["series"] == series]
        if s.empty:
            continue
        q1 = s["q1"].where(s["q1"] > 0)
        q3 = s["q3"].where(s["q3"] > 0)
        med = s["median"].where(s["median"] > 0)
        ax.fill_between(s["day"], q1.fillna(q3), q3, color=colors[series], alpha=0.18, linewidth=0,
                        zorder=2)
        n = data.loc[data["series"] == series, "patient_id"].nunique()
        ax.plot(s["day"], med, color=colors[series], linewidth=1.8, zorder=3,
                label=str(series) if n == 1 else f"{series} (n = {n})")


def _tidy(frame: pd.DataFrame, series: pd.Series, window: tuple[float, float]) -> pd.DataFrame:
    d = pd.DataFrame({
        "patient_id": frame["patient_id"].astype(str).to_numpy(),
        "day": pd.to_numeric(frame["day"], errors="coerce").to_numpy(dtype=float),
        "value": pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float),
        "series": series.to_numpy(),
    })
    d = d[d["day"].notna() & d["value"].notna() & d["series"].notna()]
    return d[(d["day"] >= window[0]) & (d["day"] <= window[1])]


def _day_axis(ax: Any, window: tuple[float, float], data: pd.DataFrame) -> None:
    right = min(window[1], float(data["day"].max())) if len(data) else window[1]
    ticks = nice_ticks(right, "days", max_ticks=8)
    ax.set_xticks(ticks)
    ax.set_xlim(min(window[0], 0.0), max(ticks[-1], right))
    ax.set_xlabel("Days since infusion")
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)


def car_kinetics_figure(
    kinetics: pd.DataFrame,
    *,
    measures: Sequence[str] = ("cd19_car_copies", "cd22_car_copies"),
    infusion_no: int | None = None,
    window: tuple[float, float] = (0.0, 90.0),
    min_patients: int = 3,
    patient_lines: bool = True,
    ylabel: str = "CAR transgene (copies/\u00b5g DNA)",
    title: str | None = None,
    titles: Mapping[str, str] | None = None,
    width: float = SINGLE_COLUMN * 1.1,
    height: float = 2.5,
) -> Figure:
    """CAR transgene levels over days on a log axis, one colour per CAR component.

    Parameters
    ----------
    kinetics : the cohort's kinetics table (patient_id, [infusion_no], day, measure, value);
        days from the infusion.
    measures : kinetics measures to draw (default the CD19 and CD22 CAR components).
    infusion_no : keep the rows of this infusion only (default None: all rows, e.g. the CD19
        and CD22 products of a sequential infusion).
    window : days shown.

    Returns
    -------
    Figure with one axes labelled "kinetics"; legend "CD19 CAR (n = k)" per component.
    """
    need = {"patient_id", "day", "measure", "value"}
    if not need <= set(kinetics.columns):
        raise ValueError(f"the kinetics table lacks {sorted(need - set(kinetics.columns))}")
    k = kinetics[kinetics["measure"].isin(list(measures))]
    if infusion_no is not None and "infusion_no" in k:
        k = k[pd.to_numeric(k["infusion_no"], errors="coerce") == infusion_no]
    if k.empty:
        raise ValueError(f"no kinetics rows for measures {list(measures)}")
    names = {**CAR_LABELS, **(titles or {})}
    labels = k["measure"].map(lambda m: names.get(m, m))
    data = _tidy(k, labels, window)
    present = [names.get(m, m) for m in measures if names.get(m, m) in set(data["series"])]
    colors = colors_for(present, CAR_COLORS)
    with figure_style():
        fig = new_figure(width, height)
        fig.set_layout_engine("constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_label("kinetics")
        _course(ax, data, colors, min_patients, patient_lines)
        _day_axis(ax, window, data)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title, loc="left")
        readable_log_ticks(ax, "y")
        ax.legend(loc="best", borderaxespad=0.3)
        freeze_layout(fig)
    return fig


def cytokine_course_figure(
    labs: pd.DataFrame,
    *,
    analytes: Sequence[str] = ("IL-6",),
    groups: Mapping[Any, Any] | pd.Series | None = None,
    group_order: Sequence[Any] | None = None,
    colors: Mapping[Any, str] | None = None,
    window: tuple[float, float] = (0.0, 30.0),
    min_patients: int = 3,
    patient_lines: bool = True,
    units: Mapping[str, str] | None = None,
    series_label: str = "All patients",
    ncols: int = 2,
    panel_size: tuple[float, float] = (2.4, 2.1),
) -> Figure:
    """Cytokine courses on a log axis, one panel per analyte, one colour per patient group.

    Parameters
    ----------
    labs : the cohort's labs table (patient_id, day, analyte, value[, unit, role]);
        healthy-donor rows (``role == "healthy_donor"``) are left out.
    analytes : panels, in order; matched by canonical analyte name (``"IL-6"`` finds rows
        named ``il6``), the panel titled as given here.
    groups : patient_id -> group (e.g. outcome class or CRS grade); None draws one series.
    units : y-axis unit per analyte (default: the table's ``unit`` column, else none).
    window : days shown (default the first 30 days, where jin2023 and li2023 read the peak).
    series_label : the legend name of the one series drawn without ``groups`` (the patient
        page says "This patient").

    Returns
    -------
    Figure with one axes per analyte, labelled with the analyte name.
    """
    need = {"patient_id", "day", "analyte", "value"}
    if not need <= set(labs.columns):
        raise ValueError(f"the labs table lacks {sorted(need - set(labs.columns))}")
    lab = labs
    if "role" in lab:
        lab = lab[lab["role"].astype(object).fillna("patient") != "healthy_donor"]
    keys = lab["analyte"].map(analyte_name_key)
    missing = [a for a in analytes if analyte_name_key(a) not in set(keys)]
    if missing:
        raise ValueError(f"no rows for analyte(s) {missing} in the labs table")
    if groups is not None:
        gmap = {str(k): v for k, v in pd.Series(groups).items()}
        series = lab["patient_id"].astype(str).map(gmap)
        present = list(dict.fromkeys(series.dropna()))
        order = [g for g in (group_order or sorted(present, key=str)) if g in present]
    else:
        series = pd.Series(series_label, index=lab.index)
        order = [series_label]
    from cartscope.report.figures.style import OUTCOME_COLORS

    palette = colors_for(order, {**OUTCOME_COLORS, **(colors or {})}) if groups is not None else {
        series_label: PALETTE[0]}
    n = len(analytes)
    handles: list[Any] = []
    names: list[str] = []
    nc = min(ncols, n)
    nr = int(np.ceil(n / nc))
    with figure_style():
        fig = new_figure(panel_size[0] * nc, panel_size[1] * nr)
        fig.set_layout_engine("constrained")
        for i, analyte in enumerate(analytes):
            ax = fig.add_subplot(nr, nc, i + 1)
            ax.set_label(analyte)
            rows = keys == analyte_name_key(analyte)
            data = _tidy(lab[rows], series[rows], window)
            _course(ax, data, palette, min_patients, patient_lines)
            _day_axis(ax, window, data)
            unit = (units or {}).get(analyte)
            if unit is None and "unit" in lab:
                u = lab.loc[rows, "unit"].dropna().astype(str).unique()
                unit = u[0] if len(u) == 1 else None
            ax.set_ylabel(f"{analyte} ({unit})" if unit else analyte)
            ax.set_title(analyte, loc="left")
            readable_log_ticks(ax, "y")
            if i == 0:  # the legend sits above the panels, where it covers no course
                handles, names = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, names, loc="outside upper left", ncols=1 if nc == 1 else min(len(names), 3),
                       borderaxespad=0.2)
        freeze_layout(fig)
    return fig


def _log_tick(x: float, _pos: Any = None) -> str:
    """A log-axis tick as written in a clinical figure: 0.5, 20, 1000, 20000 (10^k from 10^6)."""
    if x <= 0:
        return ""
    if 1e-3 <= x < 1e6:
        return f"{x:.4g}" if x < 1 else f"{x:,.0f}".replace(",", "\u2009") if x >= 1e4 else f"{x:g}"
    exp = math.floor(math.log10(x))
    return f"$10^{{{exp}}}$"


def _thin_log_ticks(ax: Any, most: int = 6) -> None:
    """At most ``most`` labelled ticks on a log y axis: 1-2-5 steps, then decades, so the
    labels of a short panel do not run into each other."""
    from matplotlib.ticker import FixedLocator

    lo, hi = sorted(ax.get_ylim())
    ticks = [t for t in ax.get_yticks() if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    for keep in ((1, 2, 5), (1,)):
        if len(ticks) <= most:
            break
        thinned = [t for t in ticks if round(t / 10 ** math.floor(math.log10(t) + 1e-12)) in keep]
        ticks = thinned if len(thinned) >= 2 else ticks
    ax.yaxis.set_major_locator(FixedLocator(ticks))


def cytokine_summary_figure(
    course: pd.DataFrame,
    *,
    analytes: Sequence[str],
    groups: Sequence[str] = ("all",),
    group_labels: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    window: tuple[float, float] = (0.0, 30.0),
    min_patients: int = 3,
    ncols: int = 2,
    panel_size: tuple[float, float] = (2.4, 2.1),
    legend_title: str | None = None,
) -> Figure:
    """The daily median and interquartile band of a ``cytokines`` analysis, one panel per
    analyte, one colour per group, drawn from its ``cytokine_course`` table (columns analyte,
    group, day, n, median, q1, q3: computed by the analysis, nothing is estimated here).

    ``analytes`` are the table's analyte keys in panel order (titled by ``titles``); ``groups``
    the table's group labels to draw (legend names from ``group_labels``, under ``legend_title``,
    e.g. the ``by`` variable); days with fewer than
    ``min_patients`` patients are not drawn; values <= 0 cannot sit on the log axis.
    """
    need = {"analyte", "group", "day", "n", "median", "q1", "q3"}
    if not need <= set(course.columns):
        raise ValueError(f"the course table lacks {sorted(need - set(course.columns))}")
    names = {g: (group_labels or {}).get(g, "All patients" if g == "all" else str(g)) for g in groups}
    palette = colors_for([names[g] for g in groups]) if len(groups) > 1 else {names[groups[0]]: PALETTE[0]}
    data = course.assign(day=pd.to_numeric(course["day"], errors="coerce"))
    data = data[data["day"].between(window[0], window[1]) & (data["n"] >= min_patients)]
    n = len(analytes)
    nc = min(ncols, n)
    nr = int(np.ceil(n / nc))
    handles: list[Any] = []
    labels: list[str] = []
    with figure_style():
        fig = new_figure(panel_size[0] * nc, panel_size[1] * nr)
        fig.set_layout_engine("constrained")
        for i, analyte in enumerate(analytes):
            ax = fig.add_subplot(nr, nc, i + 1)
            title = (titles or {}).get(analyte, analyte)
            ax.set_label(title)
            part = data[data["analyte"].astype(str) == analyte]
            for g in groups:
                s = part[part["group"].astype(str) == g].sort_values("day", kind="mergesort")
                if s.empty:
                    continue
                color = palette[names[g]]
                q1, q3 = s["q1"].where(s["q1"] > 0), s["q3"].where(s["q3"] > 0)
                ax.fill_between(s["day"], q1.fillna(q3), q3, color=color, alpha=0.18, linewidth=0, zorder=2)
                ax.plot(s["day"], s["median"].where(s["median"] > 0), color=color, linewidth=1.8, marker="o",
                        markersize=2.5, zorder=3, label=names[g])
            shown = pd.DataFrame({"day": part["day"]}) if len(part) else pd.DataFrame({"day": [window[1]]})
            _day_axis(ax, window, shown)
            unit = (units or {}).get(analyte)
            ax.set_ylabel(f"{title} ({unit})" if unit else title)
            ax.set_title(title, loc="left")
            if part.empty:
                ax.text(0.5, 0.5, f"fewer than {min_patients} patients\non every day", transform=ax.transAxes,
                        ha="center", va="center", fontsize=6.5, color="0.35")
                ax.set_ylim(1, 10)
            readable_log_ticks(ax, "y")
            _thin_log_ticks(ax)
            ax.yaxis.set_major_formatter(FuncFormatter(_log_tick))  # 1000, not 1e+03
            h, lab = ax.get_legend_handles_labels()
            for hh, ll in zip(h, lab):
                if ll not in labels:
                    handles.append(hh)
                    labels.append(ll)
        if handles:  # above the panels, where it covers no course
            wide = sum(len(x) + 6 for x in labels) * 0.055 > panel_size[0] * nc
            fig.legend(handles, labels, loc="outside upper left", title=legend_title,
                       ncols=1 if nc == 1 or wide else min(len(labels), 3), borderaxespad=0.2,
                       title_fontsize=7, alignment="left")
        freeze_layout(fig)
    return fig
