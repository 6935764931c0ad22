"""Logistic regression table and methods sentence (kind ``logistic``).

The classic response-predictor table: OR (95% CI) and p per term, one column pair for the
univariable models (each term from its own model) and one for the multivariable model, from
the ``logistic`` result table of :mod:`cartscope.analysis.analyses.logistic`. Terms fitted by
Firth's penalised likelihood are marked and footnoted. Computes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from cartscope.report.tables.base import Table, require_columns, string_grid
from cartscope.report.tables.formatting import fmt_estimate_ci, fmt_p

FIRTH_MARK = "*"


def logistic_table(
    frame: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    or_decimals: int = 2,
    p_decimals: int = 3,
    p_format: Callable[[Any], str] | None = None,
    level: float = 0.95,
    title: str = "Logistic regression",
) -> Table:
    """OR (CI) and p per term, univariable and multivariable side by side (one group).

    Input: the ``logistic`` table (columns ``model``, ``term``, ``odds_ratio``, ``ci_lower``,
    ``ci_upper``, ``p_value``, ``method``; rows of one group). ``labels`` renames terms.
    """
    require_columns(frame, ["model", "term", "odds_ratio", "ci_lower", "ci_upper", "p_value", "method"],
                    "logistic_table")
    data = frame.reset_index(drop=True).copy()
    data["column"] = ["Univariable" if str(m).startswith("univariable") else "Multivariable"
                      for m in data["model"]]
    columns_present = [c for c in ("Univariable", "Multivariable") if (data["column"] == c).any()]
    terms = list(pd.unique(data["term"].astype(str)))
    names = dict(labels or {})
    level_text = f"{100 * level:g}"
    header = ["Variable"]
    for c in columns_present:
        header += [f"OR ({level_text}% CI), {c.lower()}", f"p, {c.lower()}"]
    rows = []
    any_firth = False
    for term in terms:
        row = [names.get(term, term)]
        for c in columns_present:
            hit = data[(data["term"].astype(str) == term) & (data["column"] == c)]
            if hit.empty:
                row += ["", ""]
                continue
            r = hit.iloc[0]
            firth = str(r["method"]).lower() == "firth"
            any_firth |= firth
            cell = fmt_estimate_ci(r["odds_ratio"], r["ci_lower"], r["ci_upper"], or_decimals)
            row += [cell + (FIRTH_MARK if firth and cell else ""),
                    p_format(r["p_value"]) if p_format is not None else fmt_p(r["p_value"], p_decimals)]
        rows.append(row)
    notes = ["OR, odds ratio; CI, profile-likelihood confidence interval; p from the Wald test."]
    if any_firth:
        notes.append(f"{FIRTH_MARK} Firth's penalised likelihood (separation in the data: the "
                     "maximum-likelihood estimate is infinite); penalised-likelihood-ratio interval.")
    return Table(frame=data.drop(columns="column"), display=string_grid(rows, header), title=title,
                 footnotes=tuple(notes))


def logistic_methods(analyses: Iterable[Any], ran: Iterable[str] | None = None) -> list[str]:
    """One methods sentence per ``logistic`` analysis of the plan (those in ``ran``, when given)."""
    done = set(ran) if ran is not None else None
    out = []
    for spec in analyses:
        if spec.kind != "logistic" or (done is not None and spec.id not in done):
            continue
        opts = getattr(spec, "options", {}) or {}
        firth = opts.get("firth", "auto")
        level = float(opts.get("level", 0.95))
        which = {"univariable": "univariable", "multivariable": "multivariable"}.get(
            opts.get("models", "both"), "univariable and multivariable")
        text = (f"Predictors of {opts.get('outcome', 'the outcome')} were assessed by {which} logistic "
                f"regression (odds ratios with {100 * level:g}% profile-likelihood intervals, Wald p; "
                "categorical predictors against their first level)")
        if firth == "auto":
            text += ("; where the outcome was separated, Firth's penalised likelihood was used "
                     "(Heinze and Schemper 2002) with penalised-likelihood-ratio intervals")
        elif firth is True:
            text += "; estimates by Firth's penalised likelihood (Heinze and Schemper 2002)"
        out.append(text + ".")
    return out
