"""Validation of the frozen cut-off: diagnostic performance in the training and validation
cohorts, the class comparison and survival by the frozen cut-off in the validation cohort."""

from __future__ import annotations

import pandas as pd

from cartscope.report.items import Item, NoteItem, TableItem
from cartscope.report.labels import analyte_label
from cartscope.report.sections._base import SectionInput, decimals, grid_table, integer, km_item, text
from cartscope.report.sections.cutoffs import _where, km_curves_by_cutoff, rule_text, screen_words, with_positive_side
from cartscope.report.sections.survival import endpoint_short
from cartscope.report.tables import cutoff_table
from cartscope.report.tables.base import Table


def validation_section(inp: SectionInput) -> list[Item]:
    bm = inp.protocol.biomarkers
    items: list[Item] = []
    val = inp.table("biomarker_validation")
    mk = inp.table("biomarker_markers")
    if val is None:
        return [NoteItem("No marker could be validated.", "missing")]
    words = screen_words(inp)
    case = words.outcome
    val_where = _where(inp, str(val["analysis"].iloc[0]), "validation cohort") if "analysis" in val else \
        "validation cohort"
    parts = []
    if mk is not None:
        parts.append(mk[mk["marker"].isin(val["marker"])].assign(cohort=words.where.removesuffix(" cohort")))
    parts.append(val.assign(cohort=val["cohort"].astype(str)))
    frame = with_positive_side(pd.concat(parts, ignore_index=True))
    frame = frame.sort_values(["marker", "cohort"], kind="mergesort")
    rules = list(dict.fromkeys(rule_text(inp, str(r["marker"]), r["cutoff"], r["direction"], case)
                               for _, r in frame.iterrows()))
    frame = frame.assign(marker=frame["marker"].astype(str).map(lambda m: analyte_label(inp.labels, m, unit=False)))
    t = cutoff_table(frame, ci_method=bm.ci_method,
                     title=f"Frozen cut-off for {words.outcome} in the {words.where} and the {val_where}",
                     pct_decimals=inp.fmt.pct_decimals, cutoff_format=inp.fmt.cutoff)
    items.append(TableItem("cutoff_validation", Table(t.frame, t.display, t.title, t.footnotes + (
        f"Cut-off: the test-positive side, frozen on the {words.where} (" + "; ".join(rules) + ").",))))
    frame2 = val.assign(cohort=val["cohort"].astype(str),
                        marker=val["marker"].astype(str).map(lambda m: analyte_label(inp.labels, m, unit=False)))
    items.append(TableItem("validation_tests", grid_table(
        frame2, [("marker", "Marker", text), ("cohort", "Cohort", text), ("n_nr_er", f"n {words.case}", integer),
                 ("n_durable", f"n {words.control}", integer), ("median_nr_er", f"Median, {words.case}", inp.est),
                 ("median_durable", f"Median, {words.control}", inp.est), ("p_value", "Mann-Whitney p", inp.pval),
                 ("auc", "AUC", decimals(2)),
                 ("pfs_logrank_p", f"{endpoint_short(inp, bm.survival_endpoint)} log-rank p", inp.pval)],
        f"{val_where[:1].upper() + val_where[1:]}: {words.versus} and survival by the frozen cut-off")))
    ep = bm.survival_endpoint
    for _, r in val.iterrows():
        m = str(r["marker"])
        above, below = inp.obj(f"km/{ep}/validation_{m}/above"), inp.obj(f"km/{ep}/validation_{m}/below")
        if above is None or below is None:
            continue
        curves = km_curves_by_cutoff(inp, m, r["cutoff"], r["direction"], above, below, case)
        items.append(km_item(inp, f"km_{ep}_validation_{m}", ep, curves, inp.obj(f"logrank/{ep}/validation_{m}"),
                             f"{inp.labels.text(ep)} by the frozen {analyte_label(inp.labels, m, unit=False)} cut-off "
                             f"for {words.outcome} in the {val_where} "
                             f"({rule_text(inp, m, r['cutoff'], r['direction'], case)}), with the "
                             "log-rank p; under the plot the number at risk and the cumulative number censored.",
                             median_lines=True))
    return items
