"""Outcome tables: response rates with CIs, relapse timing, landmark survival.

Each builder takes a plain frame whose columns are named in its docstring; groups and rows
keep their order of first appearance in that frame, so the caller decides the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cartscope.clinical.endpoints import MONTH_DAYS
from cartscope.report.tables.base import INDENT, Table, require_columns, string_grid
from cartscope.report.tables.formatting import (
    fmt_ci,
    fmt_estimate_ci,
    fmt_fraction_pct,
    fmt_n_pct,
    fmt_num,
)
from cartscope.stats.proportions import proportion_ci


def _groups(frame: pd.DataFrame, column: str | None) -> list[str]:
    if column is None or column not in frame.columns:
        return []
    return [str(g) for g in pd.unique(frame[column].astype(str))]


def _level_text(level: float) -> str:
    return fmt_num(100.0 * level, 1, strip_zeros=True)


def response_table(
    frame: pd.DataFrame,
    *,
    ci_method: str = "wilson",
    level: float = 0.95,
    pct_decimals: int = 1,
    ci_decimals: int = 1,
    title: str = "Response",
) -> Table:
    """Counts, percentages and CIs of response outcomes (ORR, CR rate, MRD-negative CR, ...).

    Input columns: ``outcome`` (row label), ``x`` (patients with the outcome), ``n``
    (denominator); optional ``group`` (one column pair per group, in order of appearance);
    optional ``lower`` and ``upper`` (CI limits as proportions in [0, 1]) — when absent the CI is
    :func:`cartscope.stats.proportion_ci` with ``ci_method`` (Wilson by default, R
    ``prop.test(correct = FALSE)``).

    Display: "Outcome", then per group "<group>, n/N (%)" and "<group>, 95% CI" (percent).
    """
    require_columns(frame, ["outcome", "x", "n"], "response_table")
    data = frame.reset_index(drop=True).copy()
    has_group = "group" in data.columns
    if not has_group:
        data["group"] = ""
    if "lower" in data.columns and "upper" in data.columns:
        lower = data["lower"].to_numpy(dtype=float)
        upper = data["upper"].to_numpy(dtype=float)
        method = "given"
    else:
        ci = proportion_ci(data["x"].to_numpy(), data["n"].to_numpy(), method=ci_method, level=level)
        lower, upper = np.ravel(ci.lower), np.ravel(ci.upper)
        method = ci_method
    x = data["x"].to_numpy(dtype=float)
    n = data["n"].to_numpy(dtype=float)
    tidy = pd.DataFrame(
        {
            "outcome": data["outcome"].astype(str),
            "group": data["group"].astype(str),
            "x": x.astype(np.int64),
            "n": n.astype(np.int64),
            "estimate": np.divide(x, n, out=np.full(x.shape, np.nan), where=n > 0),
            "lower": lower,
            "upper": upper,
            "ci_method": method,
            "level": level,
        }
    )
    groups = _groups(tidy, "group")
    outcomes = list(pd.unique(tidy["outcome"]))
    ci_head = f"{_level_text(level)}% CI"
    columns = ["Outcome"]
    for g in groups:
        prefix = f"{g}, " if has_group else ""
        columns += [f"{prefix}n/N (%)", f"{prefix}{ci_head}"]
    rows = []
    for out in outcomes:
        row = [out]
        for g in groups:
            hit = tidy[(tidy["outcome"] == out) & (tidy["group"] == g)]
            if hit.empty:
                row += ["", ""]
                continue
            r = hit.iloc[0]
            row += [
                fmt_fraction_pct(r["x"], r["n"], pct_decimals),
                fmt_ci(100.0 * r["lower"], 100.0 * r["upper"], ci_decimals),
            ]
        rows.append(row)
    notes = [f"CI, confidence interval ({method} method)." if method != "given"
             else "CI, confidence interval."]
    return Table(frame=tidy, display=string_grid(rows, columns), title=title, footnotes=tuple(notes))


def _bin_key(label: str) -> tuple[float, str]:
    text = label.strip()
    if text.startswith(">"):
        try:
            return (float(text.lstrip(">=\u2265 ")) + 0.5, text)
        except ValueError:
            return (np.inf, text)
    head = text.split("-")[0]
    try:
        return (float(head), text)
    except ValueError:
        return (np.inf, text)


def relapse_timing_table(
    endpoints: pd.DataFrame,
    *,
    group: str | None = None,
    bin_column: str = "relapse_bin",
    order: Sequence[str] | None = None,
    overall: bool = True,
    pct_decimals: int = 1,
    title: str = "Time from infusion to relapse",
) -> Table:
    """Relapses per timing bin (e.g. 0-6, 6-12, 12-18, 18-24, >24 months), n (% of relapses).

    Input: one row per patient (as :func:`cartscope.clinical.endpoints.derive_endpoints`):
    ``relapse_bin`` (label of the bin, missing for patients without relapse) and optionally the
    ``group`` column. Bins print in ``order``, else by their lower edge ("0-6" before "6-12",
    ">24" last). Percentages are of the relapses in the column (Jin et al. 2023 report the share
    of relapses in the first 6 months).
    """
    cols = [bin_column] + ([group] if group else [])
    require_columns(endpoints, cols, "relapse_timing_table")
    relapsed = endpoints[endpoints[bin_column].notna()]
    labels = relapsed[bin_column].astype(str)
    bins = list(order) if order is not None else sorted(pd.unique(labels), key=_bin_key)
    unknown = sorted(set(labels) - set(bins))
    if unknown:
        raise ValueError(f"relapse bins {unknown} are not in order={list(bins)}")
    columns: list[tuple[str, pd.Series]] = []
    if group:
        for g in _groups(relapsed, group):
            columns.append((g, relapsed[group].astype(str) == g))
    if overall or not group:
        columns.append(("Overall", pd.Series(True, index=relapsed.index)))
    tidy_rows = []
    rows = []
    for b in bins:
        row = [b]
        for g, mask in columns:
            total = int(mask.sum())
            count = int((labels[mask] == b).sum())
            tidy_rows.append({"bin": b, "group": g, "relapses": count, "total_relapses": total,
                              "percent": 100.0 * count / total if total else np.nan})
            row.append(fmt_n_pct(count, total, pct_decimals))
        rows.append(row)
    header = ["Time to relapse, months"] + [
        f"{g} (n={int(m.sum())})" for g, m in columns
    ]
    tidy = pd.DataFrame(tidy_rows, columns=["bin", "group", "relapses", "total_relapses", "percent"])
    notes = (
        "n: patients with a relapse; n (%): relapses in the bin, percentage of the relapses in the column.",
        f"Months of {MONTH_DAYS} days; bins include their upper limit.",
    )
    return Table(frame=tidy, display=string_grid(rows, header), title=title, footnotes=notes)


NOT_ESTIMABLE = "not estimable"  # a landmark beyond the group's last observed time (KM undefined there)


def landmark_table(
    frame: pd.DataFrame,
    *,
    time_unit: Literal["days", "months", "years"] = "months",
    pct_decimals: int = 2,
    level: float = 0.95,
    title: str = "Landmark survival estimates",
) -> Table:
    """Survival at fixed times, "% (95% CI)", e.g. 12-month OS 78.86 (60.70–89.32).

    Input columns: ``time`` (days from the origin), ``survival``, ``lower``, ``upper``
    (proportions in [0, 1], e.g. from ``KaplanMeier.survival_at``); optional ``endpoint``
    ("OS", "PFS": one block of rows each), ``group`` (one column each) and ``n_risk``. Times
    print in ``time_unit`` (months of 30.4375 days, years of 365.25 days).
    """
    require_columns(frame, ["time", "survival", "lower", "upper"], "landmark_table")
    if time_unit not in ("days", "months", "years"):
        raise ValueError("time_unit must be 'days', 'months' or 'years'")
    data = frame.reset_index(drop=True).copy()
    has_group = "group" in data.columns
    has_endpoint = "endpoint" in data.columns
    if not has_group:
        data["group"] = ""
    if not has_endpoint:
        data["endpoint"] = ""
    scale = {"days": 1.0, "months": MONTH_DAYS, "years": 12 * MONTH_DAYS}[time_unit]
    data["group"] = data["group"].astype(str)
    data["endpoint"] = data["endpoint"].astype(str)
    groups = _groups(data, "group")
    head = f"% ({_level_text(level)}% CI)"
    columns = ["Endpoint" if has_endpoint else "Time"] + [
        f"{g}, {head}" if has_group else head for g in groups
    ]
    rows: list[list[str]] = []
    estimates: dict[tuple[str, float, str], tuple[float, float, float]] = {}  # the first row of each cell
    for ep, t, g, est, lo, hi in zip(data["endpoint"], data["time"], data["group"], data["survival"],
                                     data["lower"], data["upper"]):
        estimates.setdefault((ep, t, g), (est, lo, hi))
    for ep in pd.unique(data["endpoint"]):
        block = data[data["endpoint"] == ep]
        if has_endpoint:
            rows.append([ep, *([""] * len(groups))])
        for t in pd.unique(block["time"]):
            when = fmt_num(float(t) / scale, 1, strip_zeros=True)
            unit = time_unit[:-1] if when == "1" else time_unit
            label = f"{INDENT}{when} {unit}" if has_endpoint else f"{when} {unit}"
            row = [label]
            for g in groups:
                hit = estimates.get((ep, t, g))
                row.append("" if hit is None else fmt_estimate_ci(100.0 * hit[0], 100.0 * hit[1], 100.0 * hit[2],
                                                                  pct_decimals, missing=NOT_ESTIMABLE))
            rows.append(row)
    tidy = data.copy()
    if not has_group:
        tidy = tidy.drop(columns="group")
    if not has_endpoint:
        tidy = tidy.drop(columns="endpoint")
    return Table(frame=tidy, display=string_grid(rows, columns), title=title,
                 footnotes=("Kaplan-Meier estimates; CI, confidence interval; not estimable, the time "
                            "lies beyond the group's last follow-up.",))
