"""Group comparisons (kind ``compare``): a clinical table per analysis and a figure per
continuous variable.

Unpaired: per variable and ``by`` split, one row per group with n and the summary (median
(IQR) of a continuous variable; n (%) of each level of a category), the test and its p on the
variable's first row. Paired: per group, the number of complete pairs, the median of each
reading, the test and p. Figures: each patient's value by group (dots over the quartile box)
and, paired, the two readings of each patient joined by a line; captions name the outcome,
the population and the test. Every number comes from the analysis' ``comparisons`` and
``comparison_values`` tables; nothing is computed here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cartscope.report.items import FigureItem, Item, TableItem, recipe
from cartscope.report.sections._base import SectionInput, grid_table, missing, text

TEST_NAMES = {"mann-whitney": "Mann-Whitney U", "kruskal-wallis": "Kruskal-Wallis", "fisher exact": "Fisher's exact",
              "chi-square": "Chi-square", "wilcoxon signed-rank": "Wilcoxon signed-rank", "paired t": "Paired t",
              "mcnemar": "McNemar"}


def test_name(method: Any) -> str:
    """``mann-whitney (exact)`` -> ``Mann-Whitney U (exact)``."""
    m = text(method)
    for key, name in TEST_NAMES.items():
        if m.startswith(key):
            return name + m[len(key):]
    return m


def _who(inp: SectionInput, spec: Any) -> str:
    plan = getattr(inp.results, "plan", None)
    if spec is None or not spec.population or plan is None:
        return "all patients"
    pop = plan.populations.get(spec.population)
    return (pop.title or spec.population) if pop is not None else spec.population


def _spec(inp: SectionInput, aid: str) -> Any:
    plan = getattr(inp.results, "plan", None)
    for a in getattr(plan, "analyses", ()):
        if a.id == aid:
            return a
    return None


def _unit(inp: SectionInput, var: str) -> str:
    """The unit of a variable: the label registry's, else that of the analyte a plan variable
    is derived from (a cytokine peak is in the cytokine's unit)."""
    unit = inp.labels.unit(var) or ""
    plan = getattr(inp.results, "plan", None)
    spec = getattr(plan, "variables", {}).get(var) if plan is not None else None
    if not unit and spec is not None and getattr(spec, "analyte", None) and \
            getattr(spec, "statistic", "peak") in ("peak", "baseline") and getattr(spec, "reference", "none") == "none":
        from cartscope.cohort.units import analyte_name_key

        unit = inp.labels.unit(analyte_name_key(spec.analyte)) or inp.labels.unit(str(spec.analyte)) or ""
    return unit


def _level_text(level: str, variable: str = "") -> str:
    """A level as read in a clinical table: 0/1 and true/false as no/yes, coded levels
    (sex F/M) by the Table 1 level labels."""
    from cartscope.report.tables.table_one import LEVEL_LABELS

    level = str(level)
    yes_no = {"0": "no", "1": "yes", "false": "no", "true": "yes", "False": "no", "True": "yes"}
    return yes_no.get(level) or LEVEL_LABELS.get(variable, {}).get(level, level)


def _summary(inp: SectionInput, r: pd.Series) -> str:
    if missing(r.get("median")):
        return ""
    return f"{inp.est(r['median'])} ({inp.fmt.range(r['q1'], r['q3'])})"


def _unpaired_rows(inp: SectionInput, part: pd.DataFrame) -> tuple[list[dict], list[str]]:
    rows, tests = [], []
    for (var, by, within), cell in part.groupby(["variable", "by", "within"], sort=False, dropna=False):
        test = cell[cell["group"].astype(str) == "test"]
        groups = cell[cell["group"].astype(str) != "test"]
        method = test_name(test["level"].iloc[0]) if len(test) else ""
        p = test["p_value"].iloc[0] if len(test) and "p_value" in test else None
        if method and method not in tests:
            tests.append(method)
        first = True
        label = inp.labels(str(var))
        if text(within):
            label += f" ({text(within)})"
        for g, gpart in groups.groupby("group", sort=False):
            if gpart["level"].astype(str).eq("").all():  # continuous
                r = gpart.iloc[0]
                n, summ = r["n"], _summary(inp, r)
            else:
                total = int(gpart["n"].sum())
                n = total
                summ = "; ".join(f"{_level_text(str(lv), str(var))} {int(c)} ({inp.fmt.pct(pc)} %)"
                                 for lv, c, pc in zip(gpart["level"], gpart["n"], gpart["pct"]))
            rows.append({"variable": label if first else "", "by": inp.labels(str(by), False) if first else "",
                         "group": _level_text(str(g), str(by)), "n": n, "summary": summ,
                         "test": method if first else "", "p": inp.pval(p) if first and p is not None else ""})
            first = False
        if not len(test):
            rows.append({"variable": "", "by": "", "group": "", "n": None, "summary": "",
                         "test": "no test (fewer than two groups with values)", "p": ""})
    return rows, tests


def _paired_rows(inp: SectionInput, part: pd.DataFrame, a: str, b: str) -> tuple[list[dict], list[str]]:
    rows, tests = [], []
    for r in part.itertuples(index=False):
        r = pd.Series(r._asdict())
        method = test_name(r.get("level"))
        if method and method not in tests:
            tests.append(method)
        ma, mb = r.get(f"median_{a}"), r.get(f"median_{b}")
        summ = "" if missing(ma) else f"{inp.est(ma)} \u2192 {inp.est(mb)}"
        rows.append({"group": "All patients" if text(r.get("group")) in ("", "all") else text(r.get("group")),
                     "n": r.get("n"), "summary": summ, "test": method or "no test (fewer than two pairs)",
                     "p": inp.pval(r.get("p_value")) if not missing(r.get("p_value")) else ""})
    return rows, tests


def compare_section(inp: SectionInput) -> list[Item]:
    frame = inp.table("comparisons")
    if frame is None:
        return []
    values = inp.table("comparison_values")
    items: list[Item] = []
    fmt_n = lambda x: "" if missing(x) else str(int(x))  # noqa: E731
    for aid, part in frame.groupby("analysis", sort=False):
        aid = str(aid)
        spec = _spec(inp, aid)
        paired = bool(spec is not None and (spec.options or {}).get("paired"))
        who = _who(inp, spec)
        title = spec.title if spec is not None and spec.title else ""
        if paired and spec is not None and len(spec.variables) == 2:
            a, b = spec.variables
            la, lb = inp.labels(a), inp.labels(b)
            rows, tests = _paired_rows(inp, part, a, b)
            heading = title or f"{la} vs {lb} within patients ({who})"
            table = grid_table(pd.DataFrame(rows), [
                ("group", "Group", text), ("n", "Pairs, n", fmt_n), ("summary", f"Median, {la} \u2192 {lb}", text),
                ("test", "Test", text), ("p", "p", text)], heading,
                (f"Patients with both readings; population: {who}. Tests: {', '.join(tests) or 'none'} "
                 "(two-sided).",))
            items.append(TableItem(f"compare_{aid}", table))
            if values is not None:
                v = values[(values["analysis"].astype(str) == aid) & (values["group"].astype(str) == "all")]
                if len(v):
                    allrow = part[part["group"].astype(str).isin(["all", ""])]
                    p = allrow["p_value"].iloc[0] if len(allrow) and "p_value" in allrow else None
                    method = test_name(allrow["level"].iloc[0]) if len(allrow) else ""
                    p_text = f"{method}: {inp.fmt.p_text(p)}" if method and not missing(p) else None
                    unit = _unit(inp, a) if _unit(inp, a) == _unit(inp, b) else ""
                    items.append(FigureItem(f"compare_{aid}_paired", recipe(
                        "figures.compare:paired_values_figure", v, readings=(a, b),
                        reading_labels={a: inp.labels(a, False), b: inp.labels(b, False)},
                        ylabel=f"Value ({unit})" if unit else "Value", p_text=p_text),
                        f"{la} and {lb} of each patient ({who}), joined by a line (rising in orange, falling "
                        f"in blue, unchanged in grey); diamonds, medians. {method} test" + (f", {inp.fmt.p_text(p)}." if p_text else ".")))
            continue
        rows, tests = _unpaired_rows(inp, part)
        bys = [inp.labels(str(b), False) for b in dict.fromkeys(part["by"].astype(str))]
        names = ", ".join(dict.fromkeys(inp.labels(str(v), False) for v in part["variable"]))
        heading = title or f"{names} by {', '.join(bys)} ({who})"
        table = grid_table(pd.DataFrame(rows), [
            ("variable", "Variable", text), ("by", "Groups by", text), ("group", "Group", text), ("n", "n", fmt_n),
            ("summary", "Median (IQR) or n (%)", text), ("test", "Test", text), ("p", "p", text)], heading,
            (f"Population: {who}. Continuous variables: median (interquartile range); categories: n (% of the "
             f"group's patients with a value). Tests: {', '.join(tests) or 'none'} (two-sided).",))
        items.append(TableItem(f"compare_{aid}", table))
        if values is None:
            continue
        mine = values[values["analysis"].astype(str) == aid]
        for (var, by, within), v in mine.groupby(["variable", "by", "within"], sort=False, dropna=False):
            cell = part[(part["variable"].astype(str) == str(var)) & (part["by"].astype(str) == str(by))
                        & (part["within"].astype(str) == str(within))]
            test = cell[cell["group"].astype(str) == "test"]
            groups = [str(g) for g in dict.fromkeys(cell.loc[cell["group"].astype(str) != "test", "group"])]
            method = test_name(test["level"].iloc[0]) if len(test) else ""
            p = test["p_value"].iloc[0] if len(test) else None
            p_text = f"{method}: {inp.fmt.p_text(p)}" if method and not missing(p) else None
            label, unit = inp.labels(str(var), False), _unit(inp, str(var))
            byword = inp.labels(str(by), False)
            where = f", {text(within)}" if text(within) else ""
            key = f"compare_{aid}_{var}_{by}" + (f"_{within}" if text(within) else "")
            items.append(FigureItem(key.replace(" ", "_"), recipe(
                "figures.compare:group_values_figure", v, groups=tuple(groups),
                group_labels={g: _level_text(g, str(by)) for g in groups},
                ylabel=f"{label} ({unit})" if unit else label, xlabel=byword, p_text=p_text),
                f"{label} by {byword} ({who}{where}): each patient a dot, boxes the quartiles and median, "
                f"whiskers to 1.5 IQR. {method or 'No'} test" + (f", {inp.fmt.p_text(p)}." if p_text else ".")))
    return items


__all__ = ["compare_section", "test_name"]
