"""Survival: Kaplan-Meier figures (all patients with the pointwise band, by each grouping
with the log-rank p), landmark estimates and the events and median times."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cartscope.report.items import Item, TableItem
from cartscope.report.sections._base import (
    MONTH_DAYS,
    SectionInput,
    grid_table,
    group_label,
    integer,
    km_item,
    missing,
    text,
)
from cartscope.report.tables import landmark_table
from cartscope.report.tables.base import Table


def km_groups(inp: SectionInput, endpoint: str) -> dict[str, list[str]]:
    """by key (e.g. "disease_group", "crs_group|B-ALL") -> its levels, in object order."""
    out: dict[str, list[str]] = {}
    prefix = f"km/{endpoint}/"
    for key in getattr(inp.results, "objects", {}) or {}:
        if not key.startswith(prefix):
            continue
        parts = key[len(prefix):].split("/")
        if len(parts) != 2 or parts[0].startswith(("cutoff_", "validation_")):
            continue
        out.setdefault(parts[0], []).append(parts[1])
    return out


def by_title(inp: SectionInput, by: str) -> str:
    """"crs_group|B-ALL" -> "by CRS grade, B-ALL only"."""
    var, _, within = by.partition("|")
    if var == "all":  # every patient of one subgroup
        return f"in {within}"
    return f"by {inp.labels.text(var).lower() if not var.isupper() else var}" + (f", {within} only" if within else "")


def endpoint_short(inp: SectionInput, name: str) -> str:
    """"os" -> "OS"; longer endpoint names as their label."""
    return name.upper() if name.isalpha() and len(name) <= 4 else inp.labels.text(name)


def survival_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    spec = inp.protocol.survival
    conf = {"log-log": "log-log", "log": "log", "plain": "plain"}.get(spec.conf_type, str(spec.conf_type))
    level = f"{inp.fmt.cutoff(100 * spec.level)}%"
    for endpoint in spec.endpoints:
        name = inp.labels.text(endpoint)
        km_all = inp.obj(f"km/{endpoint}/all")
        if km_all is not None:
            items.append(km_item(inp, f"km_{endpoint}", endpoint, {"All patients": km_all}, None,
                                 f"{name}, all patients (Kaplan-Meier) with the {conf} {level} pointwise "
                                 "confidence band and the median (dashed); under the plot the number at "
                                 "risk and the cumulative number censored.", ci=True, median_lines=True))
        for by, levels in km_groups(inp, endpoint).items():
            if by == "all":
                continue
            curves = {lev: inp.obj(f"km/{endpoint}/{by}/{lev}") for lev in levels}
            lr = inp.obj(f"logrank/{endpoint}/{by}")
            safe = by.replace("|", "_").replace(" ", "_")
            items.append(km_item(inp, f"km_{endpoint}_{safe}", endpoint, curves, lr,
                                 f"{name} {by_title(inp, by)} (Kaplan-Meier), with the log-rank p; under "
                                 "the plot the number at risk and the cumulative number censored per group.",
                                 median_lines=True))
    lm = inp.table("km_landmarks")
    if lm is not None:
        items += _landmark_tables(inp, lm, conf, level)
    med = inp.table("km_medians")
    lr = inp.table("logrank")
    if med is not None:
        frame = med.assign(
            endpoint=med["endpoint"].astype(str).map(lambda e: endpoint_short(inp, e)),
            by=[("all patients" if b == "all" else by_title(inp, str(b))[3:]) for b in med["by"].astype(str)],
            group=med["group"].astype(str).map(group_label),
            median=[_median_text(inp, m, lo, hi)
                    for m, lo, hi in zip(med["median_days"], med["median_lower"], med["median_upper"])],
        )
        if lr is not None:
            pmap = {(str(r["endpoint"]), str(r["by"])): r["p_value"] for _, r in lr.iterrows()}
            frame["p"] = [pmap.get((e, b)) for e, b in zip(med["endpoint"].astype(str), med["by"].astype(str))]
            first = ~frame.duplicated(["endpoint", "by"])
            frame["p"] = [p if f else None for p, f in zip(frame["p"], first)]
        items.append(TableItem("km_medians", grid_table(
            frame, [("endpoint", "Endpoint", text), ("by", "Split", text), ("group", "Group", text),
                    ("n", "n", integer), ("events", "Events", integer),
                    ("median", "Median, months (95% CI)", text), ("p", "Log-rank p", inp.pval)],
            "Events and median times",
            ("NR, not reached. Log-rank p on the first row of each split.",))))
    return items


def _median_text(inp: SectionInput, m: Any, lo: Any, hi: Any) -> str:
    from cartscope.report.tables.formatting import fmt_num

    if missing(m):
        return "not reached"
    out = fmt_num(m / MONTH_DAYS, 1)
    if not missing(lo):
        out += f" ({fmt_num(lo / MONTH_DAYS, 1)}\u2013{'NR' if missing(hi) else fmt_num(hi / MONTH_DAYS, 1)})"
    return out


def _landmark_tables(inp: SectionInput, lm: pd.DataFrame, conf: str, level: str) -> list[Item]:
    """One landmark table per grouping; a grouping within a subgroup ("crs_group|B-ALL") has
    that subgroup's total as its first column, not the whole cohort."""
    spec = inp.protocol.survival
    items: list[Item] = []
    bys = list(dict.fromkeys(lm["by"].astype(str)))
    base = lm[lm["by"].astype(str) == "all"]
    for by in [b for b in bys if b != "all"] or ["all"]:
        _, _, within = by.partition("|")
        if by == "all":
            part = base
        elif within:
            total = lm[(lm["by"].astype(str) != "all") & ~lm["by"].astype(str).str.contains("|", regex=False)
                       & (lm["group"].astype(str) == within)].drop_duplicates(["endpoint", "day"])
            total = total.assign(group=f"All {within}")
            part = pd.concat([total, lm[lm["by"].astype(str) == by]])
        else:
            part = pd.concat([base, lm[lm["by"].astype(str) == by]])
        order = {inp.labels.text(e): i for i, e in enumerate(spec.endpoints)}
        frame = pd.DataFrame({
            "endpoint": part["endpoint"].astype(str).map(inp.labels.text),
            "group": part["group"].astype(str).map(group_label),
            "time": part["day"].astype(float), "survival": part["survival"],
            "lower": part["lower"], "upper": part["upper"], "n_risk": part["n_risk"],
        })
        frame = frame.sort_values(["endpoint", "time"], key=lambda s: s.map(order) if s.name == "endpoint" else s,
                                  kind="mergesort")
        title = "Landmark survival estimates" + ("" if by == "all" else f" {by_title(inp, by)}")
        t = landmark_table(frame, title=title, pct_decimals=inp.fmt.pct_decimals)
        notes = (f"Kaplan-Meier estimates with {conf} {level} pointwise confidence intervals; months of "
                 f"{MONTH_DAYS} days.",)
        items.append(TableItem(f"landmarks_{by.replace('|', '_')}", Table(t.frame, t.display, t.title, notes)))
    return items
