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


def km_analyses(inp: SectionInput) -> list[tuple[str, str]]:
    """(analysis id, population text) of each ``km`` analysis of the plan, plan order; one
    ("", "") entry for results without a plan (every table row and object is then the one's)."""
    plan = getattr(inp.results, "plan", None)
    if plan is None:
        return [("", "")]
    out = []
    for a in getattr(plan, "analyses", ()) or ():
        if getattr(a, "kind", "") != "km":
            continue
        pop = getattr(a, "population", None) or ""
        spec = (getattr(plan, "populations", {}) or {}).get(pop) if pop else None
        out.append((a.id, (getattr(spec, "title", "") or pop) if pop else ""))
    return out or [("", "")]


def _own(frame: pd.DataFrame | None, aid: str) -> pd.DataFrame | None:
    """Rows of ``frame`` written by analysis ``aid`` (all rows without a plan)."""
    if frame is None or not aid or "analysis" not in frame:
        return frame
    part = frame[frame["analysis"].astype(str) == aid].reset_index(drop=True)
    return part if len(part) else None


def _obj(inp: SectionInput, aid: str, key: str) -> Any:
    """The object analysis ``aid`` wrote under ``key``: ``<aid>:<key>`` when an earlier analysis
    already held ``key``, else ``key`` itself (callers only ask for keys ``aid`` wrote)."""
    hit = inp.obj(f"{aid}:{key}") if aid else None
    return hit if hit is not None else inp.obj(key)


def survival_section(inp: SectionInput) -> list[Item]:
    """Figures and tables of each ``km`` analysis from that analysis' own rows and objects; the
    captions name its population."""
    items: list[Item] = []
    runs = km_analyses(inp)
    for i, (aid, pop) in enumerate(runs):
        tag = "" if i == 0 else f"{aid}_"
        items += _one_analysis(inp, aid, pop, tag)
    return items


def _one_analysis(inp: SectionInput, aid: str, pop: str, tag: str) -> list[Item]:
    items: list[Item] = []
    spec = inp.protocol.survival
    conf = {"log-log": "log-log", "log": "log", "plain": "plain"}.get(spec.conf_type, str(spec.conf_type))
    level = f"{inp.fmt.cutoff(100 * spec.level)}%"
    med = _own(inp.table("km_medians"), aid)
    lr = _own(inp.table("logrank"), aid)
    lm = _own(inp.table("km_landmarks"), aid)
    hr = _own(inp.table("km_hazard_ratios"), aid)
    whole = f"population {pop}" if pop else "all patients"
    everyone = _everyone(pop)
    where = f", population {pop}" if pop else ""
    endpoints = list(dict.fromkeys(med["endpoint"].astype(str))) if med is not None else \
        ([] if aid else list(spec.endpoints))
    for endpoint in endpoints:
        name = inp.labels.text(endpoint)
        km_all = _obj(inp, aid, f"km/{endpoint}/all")
        if km_all is not None and (med is None or ((med["endpoint"].astype(str) == endpoint)
                                                   & (med["by"].astype(str) == "all")).any()):
            n = getattr(km_all, "n", None)
            items.append(km_item(inp, f"km_{tag}{endpoint}", endpoint, {everyone: km_all}, None,
                                 f"{name}, {whole}{f' (n = {n})' if n is not None else ''} (Kaplan-Meier) "
                                 f"with the {conf} {level} pointwise confidence band and the median (dashed); "
                                 "under the plot the number at risk and the cumulative number censored.",
                                 ci=True, median_lines=True, label=everyone))
        if med is not None:
            rows = med[(med["endpoint"].astype(str) == endpoint) & (med["by"].astype(str) != "all")]
            groups: dict[str, list[str]] = {}
            for b, g in zip(rows["by"].astype(str), rows["group"].astype(str)):
                groups.setdefault(b, []).append(g)
        else:
            groups = {b: v for b, v in km_groups(inp, endpoint).items() if b != "all"}
        for by, levels in groups.items():
            curves = {lev: _obj(inp, aid, f"km/{endpoint}/{by}/{lev}") for lev in levels}
            curves = {k: v for k, v in curves.items() if v is not None}
            if not curves:
                continue
            tested = lr is None or ((lr["endpoint"].astype(str) == endpoint) & (lr["by"].astype(str) == by)
                                    & lr["p_value"].notna()).any()
            test = _obj(inp, aid, f"logrank/{endpoint}/{by}") if tested else None
            safe = by.replace("|", "_").replace(" ", "_")
            hr_lines = hr_texts(inp, hr, endpoint, by, level)
            with_hr = (f", the Cox hazard ratio ({level} CI) against {hr_lines[1]}" if hr_lines[0] else "")
            items.append(km_item(inp, f"km_{tag}{endpoint}_{safe}", endpoint, curves, test,
                                 f"{name} {by_title(inp, by)}{where} (Kaplan-Meier), with the log-rank p{with_hr}; "
                                 "under the plot the number at risk and the cumulative number censored per group.",
                                 median_lines=True, **({"hr_text": hr_lines[0]} if hr_lines[0] else {})))
    if lm is not None:
        items += _landmark_tables(inp, lm, conf, level, where, tag, everyone)
    if med is not None:
        frame = med.assign(
            endpoint=med["endpoint"].astype(str).map(lambda e: endpoint_short(inp, e)),
            by=[("all patients" if b == "all" else by_title(inp, str(b))[3:]) for b in med["by"].astype(str)],
            group=med["group"].astype(str).map(lambda g: everyone if g == "all" else group_label(g)),
            median=[_median_text(inp, m, lo, hi)
                    for m, lo, hi in zip(med["median_days"], med["median_lower"], med["median_upper"])],
        )
        if lr is not None:
            pmap = {(str(r["endpoint"]), str(r["by"])): r["p_value"] for _, r in lr.iterrows()}
            frame["p"] = [pmap.get((e, b)) for e, b in zip(med["endpoint"].astype(str), med["by"].astype(str))]
            first = ~frame.duplicated(["endpoint", "by"])
            frame["p"] = [p if f else None for p, f in zip(frame["p"], first)]
        items.append(TableItem(f"km_{tag}medians", grid_table(
            frame, [("endpoint", "Endpoint", text), ("by", "Split", text), ("group", "Group", text),
                    ("n", "n", integer), ("events", "Events", integer),
                    ("median", "Median, months (95% CI)", text), ("p", "Log-rank p", inp.pval)],
            f"Events and median times{where}",
            ("NR, not reached. Log-rank p on the first row of each split.",))))
    return items


def hr_texts(inp: SectionInput, hr: pd.DataFrame | None, endpoint: str, by: str,
             level: str = "95%") -> tuple[list[str], str]:
    """The legend lines "HR 2.10 (95% CI 1.20–3.60), B-NHL vs B-ALL" of a split's Cox hazard
    ratios (``annotate_hr``) and the reference level; ([], "") when none were asked for."""
    if hr is None or not len(hr):
        return [], ""
    rows = hr[(hr["endpoint"].astype(str) == endpoint) & (hr["by"].astype(str) == by)]
    if rows.empty:
        return [], ""
    ref = str(rows["reference"].iloc[0])
    lines = []
    for _, r in rows.iterrows():
        vs = f", {r['group']} vs {ref}"
        if missing(r["hr"]):
            lines.append(f"HR not estimable{vs}")
        else:
            lines.append(f"HR {inp.fmt.estimate(r['hr'])} ({level} CI {inp.fmt.estimate(r['lower'])}\u2013{inp.fmt.estimate(r['upper'])}){vs}")
    return lines, ref


def _median_text(inp: SectionInput, m: Any, lo: Any, hi: Any) -> str:
    from cartscope.report.tables.formatting import fmt_num

    if missing(m):
        return "not reached"
    out = fmt_num(m / MONTH_DAYS, 1)
    if not missing(lo):
        out += f" ({fmt_num(lo / MONTH_DAYS, 1)}\u2013{'NR' if missing(hi) else fmt_num(hi / MONTH_DAYS, 1)})"
    return out


def _everyone(pop: str) -> str:
    """The name of an analysis' whole population in tables and legends: "All patients", or the
    population's title ("B-ALL", "Age >= 40")."""
    return (pop[:1].upper() + pop[1:]) if pop else "All patients"


def _landmark_tables(inp: SectionInput, lm: pd.DataFrame, conf: str, level: str, where: str = "",
                     tag: str = "", everyone: str = "All patients") -> list[Item]:
    """One landmark table per grouping; a grouping within a subgroup ("crs_group|B-ALL") has
    that subgroup's total as its first column, not the whole cohort; the whole population's
    column is named by the population (``everyone``), not "All patients"."""
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
        names = dict.fromkeys([*map(str, spec.endpoints), *lm["endpoint"].astype(str)])
        order = {inp.labels.text(e): i for i, e in enumerate(names)}
        frame = pd.DataFrame({
            "endpoint": part["endpoint"].astype(str).map(inp.labels.text),
            "group": part["group"].astype(str).map(lambda g: everyone if g == "all" else group_label(g)),
            "time": part["day"].astype(float), "survival": part["survival"],
            "lower": part["lower"], "upper": part["upper"], "n_risk": part["n_risk"],
        })
        frame = frame.sort_values(["endpoint", "time"], key=lambda s: s.map(order) if s.name == "endpoint" else s,
                                  kind="mergesort")
        title = "Landmark survival estimates" + ("" if by == "all" else f" {by_title(inp, by)}") + where
        t = landmark_table(frame, title=title, pct_decimals=inp.fmt.pct_decimals, level=spec.level)
        notes = (f"Kaplan-Meier estimates with {conf} {level} pointwise confidence intervals; months of "
                 f"{MONTH_DAYS} days.",)
        items.append(TableItem(f"landmarks_{tag}{by.replace('|', '_')}", Table(t.frame, t.display, t.title, notes)))
    return items
