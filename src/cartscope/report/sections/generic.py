"""The generic renderer: any analysis's result tables, well formatted, without bespoke code.

A section or analysis kind the report has no builder for (a kind added to the analysis plan
later: logistic, landmark, rmst, td_roc, icaht, ...) still appears: each of its result
tables becomes a report table whose caption comes from the analysis id, kind and
description, whose headers and code values (analytes, measures, covariates, terms) come from
the label registry, and whose numbers follow the report's number format (p-values by the
p rule, proportions as percentages, counts as integers, estimates at the policy's precision).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cartscope.report.items import Item, NoteItem, TableItem
from cartscope.report.labels import analyte_label
from cartscope.report.sections._base import SectionInput, group_label, missing
from cartscope.report.tables.base import Table, string_grid

CODE_COLUMNS = ("analyte", "marker", "measure", "parameter", "term", "variable", "covariate", "endpoint",
                "quantity", "toxicity", "by")
"""Columns whose values are codes printed through the label registry."""

HEADERS = {"n": "n", "p_value": "p", "p": "p", "q_value": "q", "p_adjusted": "Adjusted p", "hr": "HR",
           "hazard_ratio": "HR", "or": "OR", "odds_ratio": "OR", "ci_lower": "Lower 95% CI",
           "ci_upper": "Upper 95% CI", "lower": "Lower 95% CI", "upper": "Upper 95% CI", "se": "SE",
           "auc": "AUC", "rmst": "RMST", "group": "Group", "events": "Events", "estimate": "Estimate",
           "statistic": "Statistic", "df": "df", "median": "Median", "coef": "Coefficient"}


def _is_p(col: str) -> bool:
    c = col.lower()
    return c in ("p", "q", "p_value", "q_value", "p_adjusted", "pvalue") or c.endswith(("_p", "_p_value"))


def _is_pct(col: str, values: pd.Series) -> bool:
    c = col.lower()
    if not (c.endswith(("_pct", "percent")) or c in ("proportion", "rate", "incidence", "cumulative_incidence")):
        return False
    return True


def column_formatter(inp: SectionInput, col: str, values: pd.Series) -> Callable[[Any], str]:
    """How one column of a result table prints."""
    if col in CODE_COLUMNS:
        if col in ("analyte", "marker"):
            return lambda x: "" if missing(x) else analyte_label(inp.labels, x)
        return lambda x: "" if missing(x) else inp.labels(x)
    if col == "group":
        return lambda x: "" if missing(x) else group_label(x)
    if _is_p(col):
        return inp.pval
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        if _is_pct(col, values):
            scale = 100.0 if col.lower() in ("proportion", "rate", "incidence", "cumulative_incidence") else 1.0
            return lambda x: "" if missing(x) else inp.fmt.pct(scale * float(x))
        known = values.dropna().to_numpy(dtype=float)
        if known.size and np.all(np.mod(known, 1) == 0) and (col == "n" or col.startswith(("n_", "events"))
                                                            or np.abs(known).max() >= 1 and col.lower() in ("df",)):
            return lambda x: "" if missing(x) else str(int(x))
        if col.lower() in ("cutoff", "threshold", "cutpoint"):
            return inp.fmt.cutoff
        return inp.est
    return lambda x: "" if missing(x) else (inp.labels(x) if isinstance(x, str) and "_" in x and x.islower() else str(x))


def header(inp: SectionInput, col: str) -> str:
    if col in HEADERS:
        return HEADERS[col]
    return inp.labels.text(col) if inp.labels.known(col) else inp.labels(col)


def generic_table(inp: SectionInput, frame: pd.DataFrame, title: str, footnotes: tuple[str, ...] = ()) -> Table:
    """A report table of any result frame (see the module docstring). Columns that hold one
    value for every row are stated once in a footnote instead of repeated."""
    data = frame.reset_index(drop=True)
    constant = [c for c in data.columns if len(data) > 1 and data[c].astype(str).nunique() == 1
                and c not in ("group", "n")]
    shown = [c for c in data.columns if c not in constant] or list(data.columns)
    fmts = {c: column_formatter(inp, c, data[c]) for c in shown}
    rows = [[fmts[c](r[c]) for c in shown] for _, r in data.iterrows()]
    notes = list(footnotes)
    if constant:
        notes.append("For every row: " + "; ".join(
            f"{header(inp, c)} {column_formatter(inp, c, data[c])(data[c].iloc[0])}" for c in constant) + ".")
    return Table(frame=data, display=string_grid(rows, [header(inp, c) for c in shown]), title=title,
                 footnotes=tuple(n for n in notes if n))


def caption(inp: SectionInput, analysis_id: str, kind: str = "", description: str = "") -> str:
    """"Description (kind)" or the analysis id as a label."""
    head = description or inp.labels.text(analysis_id)
    kind_text = inp.labels.text(kind) if kind else ""
    return f"{head} ({kind_text})" if kind_text and kind_text.lower() not in head.lower() else head


def tables_of(inp: SectionInput, key: str) -> list[tuple[str, pd.DataFrame]]:
    """The result tables of section or analysis ``key``: the table named ``key`` and those
    named ``key_<part>``, in the results' order."""
    tables = getattr(inp.results, "tables", None) or {}
    return [(name, frame) for name, frame in tables.items()
            if (name == key or name.startswith(f"{key}_")) and frame is not None and len(frame)]


def generic_section(inp: SectionInput, key: str, kind: str = "", description: str = "") -> list[Item]:
    """Every result table of ``key`` through :func:`generic_table`."""
    found = tables_of(inp, key)
    if not found:
        return [NoteItem(f"{caption(inp, key, kind, description)}: no result table.", "missing")]
    items: list[Item] = []
    for name, frame in found:
        part = name[len(key) + 1:] if name != key else ""
        title = caption(inp, key, kind, description) + (f": {inp.labels.text(part).lower()}" if part else "")
        items.append(TableItem(name, generic_table(inp, frame, title)))
    return items


def ard_table(inp: SectionInput, ard: pd.DataFrame, analysis_id: str, kind: str = "",
              description: str = "") -> Table:
    """One analysis's rows of the analysis-results dataset (one row per analysis x group x
    statistic, :mod:`cartscope.analysis.plan.ard`) as a table: a row per variable level and
    group, a column per statistic."""
    part = ard[ard["analysis"].astype(str) == analysis_id]
    index = [c for c in ("variable", "variable_level", "group1_level", "group2_level")
             if c in part.columns and part[c].astype(str).str.len().gt(0).any()]
    wide = part.pivot_table(index=index or None, columns="stat_name", values="stat", aggfunc="first", sort=False)
    wide = wide.reset_index() if index else wide.reset_index(drop=True)
    wide.columns.name = None
    wide = wide.rename(columns={"group1_level": "group", "group2_level": "subgroup", "variable_level": "level"})
    return generic_table(inp, wide, caption(inp, analysis_id, kind, description))


def further_analyses(inp: SectionInput, shown: set[str]) -> list[Item]:
    """Every analysis of the plan that ran in a section the report did not show: its result
    tables when it has any, else its rows of the analysis-results dataset."""
    status = getattr(inp.results, "status", None)
    ard = getattr(inp.results, "ard", None)
    if status is None or not len(status) or "section" not in status:
        return []
    items: list[Item] = []
    for _, row in status.iterrows():
        if str(row.get("status")) != "ran" or not str(row.get("section") or "") or str(row.get("section")) in shown:
            continue
        aid, kind = str(row["analysis"]), str(row.get("kind", ""))
        found = tables_of(inp, aid)
        if found:
            items += [TableItem(name, generic_table(inp, frame, caption(inp, aid, kind))) for name, frame in found]
        elif ard is not None and len(ard) and (ard["analysis"].astype(str) == aid).any():
            items.append(TableItem(f"ard_{aid}", ard_table(inp, ard, aid, kind)))
    return items
