"""Cox regression table: hazard ratio (95% CI) and p per term, one column pair per model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from cartscope.report.tables.base import Table, require_columns, string_grid
from cartscope.report.tables.formatting import fmt_estimate_ci, fmt_p


def cox_table(
    frame: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    hr_decimals: int = 2,
    p_decimals: int = 3,
    p_format: Callable[[Any], str] | None = None,
    level: float = 0.95,
    title: str = "Cox proportional-hazards regression",
) -> Table:
    """HR (95% CI) and p per term.

    Input columns: as :meth:`cartscope.stats.cox.CoxResult.to_frame`: ``term``,
    ``hazard_ratio``, ``ci_lower``, ``ci_upper``, ``p_value``; optional ``model`` (e.g.
    "Univariable", "Multivariable": one column pair per model, in order of appearance; a term
    absent from a model prints blank). ``labels`` renames terms ({"tp53": "TP53 alteration"}).
    """
    require_columns(frame, ["term", "hazard_ratio", "ci_lower", "ci_upper", "p_value"], "cox_table")
    data = frame.reset_index(drop=True).copy()
    has_model = "model" in data.columns
    if not has_model:
        data["model"] = ""
    data["model"] = data["model"].astype(str)
    data["term"] = data["term"].astype(str)
    models = list(pd.unique(data["model"]))
    terms = list(pd.unique(data["term"]))
    names = dict(labels or {})
    level_text = f"{100 * level:g}"
    columns = ["Variable"]
    for m in models:
        suffix = f", {m}" if has_model else ""
        columns += [f"HR ({level_text}% CI){suffix}", f"p{suffix}"]
    rows = []
    for term in terms:
        row = [names.get(term, term)]
        for m in models:
            hit = data[(data["term"] == term) & (data["model"] == m)]
            if hit.empty:
                row += ["", ""]
                continue
            r = hit.iloc[0]
            row += [fmt_estimate_ci(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], hr_decimals),
                    p_format(r["p_value"]) if p_format is not None else fmt_p(r["p_value"], p_decimals)]
        rows.append(row)
    if not has_model:
        data = data.drop(columns="model")
    notes = ("HR, hazard ratio; CI, confidence interval (Wald); p from the Wald test.",)
    return Table(frame=data, display=string_grid(rows, columns), title=title, footnotes=notes)
