"""Biomarker tables: the screening table (medians by class, p, FDR q, AUC) and the cut-off
table (sensitivity and specificity with CIs at a frozen threshold)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cartscope.report.tables.base import Table, require_columns, string_grid
from cartscope.report.tables.formatting import fmt_estimate_ci, fmt_num, fmt_p
from cartscope.stats.multiplicity import adjust_pvalues
from cartscope.stats.proportions import proportion_ci

_PRINTED = {">": ">", "<": "<", ">=": "\u2265", "<=": "\u2264"}
_ADJUST_NAMES = {"bh": "Benjamini-Hochberg false discovery rate", "by": "Benjamini-Yekutieli",
                 "holm": "Holm", "bonferroni": "Bonferroni", "hochberg": "Hochberg"}


def biomarker_table(
    frame: pd.DataFrame,
    *,
    medians: Mapping[str, str] | None = None,
    value_label: str = "Median fold change",
    adjust: str | None = "bh",
    sort: bool = True,
    top: int | None = None,
    value_decimals: int = 2,
    p_decimals: int = 3,
    auc_decimals: int = 3,
    p_format: Callable[[Any], str] | None = None,
    title: str = "Biomarker screening",
) -> Table:
    """One row per marker: median value per outcome class, p, q and AUC (95% CI).

    Input columns: ``marker``, ``p_value``; optional ``q_value`` (else ``adjust_pvalues(p,
    adjust)`` over every marker of the frame, before ``top`` cuts the list; ``adjust=None``
    leaves q out), ``auc``, ``auc_lower``, ``auc_upper``, and the medians: columns named
    ``median_<class>`` (header "<value_label>, <class>") or the ``medians`` mapping
    {column: class label}. ``sort`` orders by p (ties by marker name); ``top`` keeps the first
    rows after sorting.
    """
    require_columns(frame, ["marker", "p_value"], "biomarker_table")
    data = frame.reset_index(drop=True).copy()
    median_cols = dict(medians) if medians is not None else {
        c: c[len("median_"):] for c in data.columns if str(c).startswith("median_")
    }
    require_columns(data, list(median_cols), "biomarker_table")
    notes: list[str] = []
    if "q_value" not in data.columns and adjust is not None:
        data["q_value"] = adjust_pvalues(data["p_value"].to_numpy(dtype=float), method=adjust)
        notes.append(f"q: p adjusted over {len(data)} markers ({_ADJUST_NAMES.get(adjust, adjust)}).")
    if sort:
        data = data.sort_values(["p_value", "marker"], kind="mergesort").reset_index(drop=True)
    if top is not None:
        data = data.head(top)
    has_q = "q_value" in data.columns
    has_auc = "auc" in data.columns
    columns = ["Marker", *[f"{value_label}, {lab}" for lab in median_cols.values()], "p"]
    if has_q:
        columns.append("q")
    if has_auc:
        columns.append("AUC (95% CI)")
    rows = []
    pf = p_format if p_format is not None else (lambda p: fmt_p(p, p_decimals))
    for _, r in data.iterrows():
        row = [str(r["marker"]), *[fmt_num(r[c], value_decimals) for c in median_cols],
               pf(r["p_value"])]
        if has_q:
            row.append(pf(r["q_value"]))
        if has_auc:
            row.append(fmt_estimate_ci(r["auc"], r.get("auc_lower"), r.get("auc_upper"),
                                       auc_decimals))
        rows.append(row)
    if has_auc:
        notes.append("AUC, area under the ROC curve; CI, confidence interval.")
    return Table(frame=data, display=string_grid(rows, columns), title=title,
                 footnotes=tuple(notes))


def cutoff_table(
    frame: pd.DataFrame,
    *,
    ci_method: str = "wilson-modified",
    level: float = 0.95,
    cutoff_decimals: int = 3,
    pct_decimals: int = 2,
    counts: bool = True,
    cutoff_format: Callable[[Any], str] | None = None,
    title: str = "Diagnostic performance at the cut-off",
) -> Table:
    """Cut-off, sensitivity % (95% CI) and specificity % (95% CI) per marker (and cohort).

    Input columns: ``marker``; ``threshold`` (or ``cutoff``, ``youden_cutoff``: the screen
    table of :mod:`cartscope.analysis.biomarkers` works as is); either the proportions
    ``sensitivity``, ``specificity`` with ``sensitivity_lower/upper``, ``specificity_lower/upper``
    (as ``OperatingPoint.to_frame()``), or the counts ``tp``, ``fn``, ``tn``, ``fp`` from which
    the proportions and CIs are computed with :func:`cartscope.stats.proportion_ci`
    (``ci_method``: the modified Wilson interval reproduces Jin et al. 2023, 12/13 ->
    92.31 (66.69–99.61)). Optional ``positive_if`` (">", ">=", "<" or "<=": the test-positive
    side, printed before the cut-off as ">", "≥", "<", "≤"; take it from
    :func:`cartscope.stats.cutoff_side.positive_operator` of the ROC ``direction``, never the
    direction itself, whose sign convention is the order of the classes) and ``cohort`` (e.g.
    training / validation: a column after the marker). ``cutoff_format`` prints the cut-off
    (default ``cutoff_decimals`` places).
    """
    require_columns(frame, ["marker"], "cutoff_table")
    data = frame.reset_index(drop=True).copy()
    if "threshold" not in data.columns:
        alias = next((c for c in ("cutoff", "youden_cutoff") if c in data.columns), None)
        if alias is None:
            raise ValueError(
                "cutoff_table: input frame needs a 'threshold', 'cutoff' or 'youden_cutoff' column"
            )
        data["threshold"] = data[alias]
    has_counts = all(c in data.columns for c in ("tp", "fn", "tn", "fp"))
    computed = False
    for name, (hit, miss) in {"sensitivity": ("tp", "fn"), "specificity": ("tn", "fp")}.items():
        if f"{name}_lower" in data.columns and f"{name}_upper" in data.columns and name in data:
            continue
        if not has_counts:
            raise ValueError(
                f"cutoff_table: give {name} with {name}_lower/{name}_upper, or the counts "
                "tp, fn, tn, fp"
            )
        x = data[hit].to_numpy()
        n = x + data[miss].to_numpy()
        ci = proportion_ci(x, n, method=ci_method, level=level)
        computed = True
        data[name] = np.ravel(ci.estimate)
        data[f"{name}_lower"] = np.ravel(ci.lower)
        data[f"{name}_upper"] = np.ravel(ci.upper)
    has_cohort = "cohort" in data.columns
    show_counts = counts and has_counts
    level_text = fmt_num(100 * level, 1, strip_zeros=True)
    columns = ["Marker"] + (["Cohort"] if has_cohort else []) + ["Cut-off"]
    columns += [f"Sensitivity, % ({level_text}% CI)", f"Specificity, % ({level_text}% CI)"]
    if show_counts:
        columns = columns[:-2] + ["TP/(TP+FN)", columns[-2], "TN/(TN+FP)", columns[-1]]
    rows = []
    for _, r in data.iterrows():
        cut = cutoff_format(r["threshold"]) if cutoff_format is not None else fmt_num(r["threshold"], cutoff_decimals)
        if "positive_if" in data.columns and str(r["positive_if"]) in _PRINTED:
            cut = f"{_PRINTED[str(r['positive_if'])]} {cut}"
        sens = fmt_estimate_ci(100 * r["sensitivity"], 100 * r["sensitivity_lower"],
                               100 * r["sensitivity_upper"], pct_decimals)
        spec = fmt_estimate_ci(100 * r["specificity"], 100 * r["specificity_lower"],
                               100 * r["specificity_upper"], pct_decimals)
        row = [str(r["marker"])] + ([str(r["cohort"])] if has_cohort else []) + [cut]
        if show_counts:
            tp, fn, tn, fp = (int(r[c]) for c in ("tp", "fn", "tn", "fp"))
            row += [f"{tp}/{tp + fn}", sens, f"{tn}/{tn + fp}", spec]
        else:
            row += [sens, spec]
        rows.append(row)
    notes = ["TP, true positives; FN, false negatives; TN, true negatives; FP, false positives."
             if show_counts else "",
             f"CI, confidence interval ({ci_method} method)." if computed else
             "CI, confidence interval."]
    return Table(frame=data, display=string_grid(rows, columns), title=title,
                 footnotes=tuple(n for n in notes if n))
