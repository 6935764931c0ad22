"""Biomarker screening: the screen table, the Venn diagram of significant markers per
subgroup, the heatmap, ROC curves, marker dot plots, survival by the Youden cut-off, the
diagnostic performance at the cut-off, maximally selected rank statistics and the
correlations between the protocol markers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.report.items import FigureItem, Item, NoteItem, TableItem, recipe
from cartscope.report.labels import analyte_label
from cartscope.report.sections._base import SectionInput, decimals, grid_table, group_label, integer, km_item, text
from cartscope.report.sections.cutoffs import km_curves_by_cutoff, rule_text, screen_words, with_positive_side
from cartscope.report.tables import biomarker_table, cutoff_table
from cartscope.report.tables.base import Table
from cartscope.report.tables.formatting import fmt_estimate_ci

SCREEN_ROWS = 25
"""Markers shown in the report's screening table (all are in the exported files)."""


def training_panel(inp: SectionInput) -> tuple[pd.DataFrame, pd.Series] | None:
    """Training patients x analytes at the protocol time point and their outcome class."""
    if inp.cohort is None:
        return None
    from cartscope.analysis.analyses._context import StudyContext
    from cartscope.analysis.analyses.biomarkers import panel

    bm = inp.protocol.biomarkers
    ctx = StudyContext(cohort=inp.cohort, protocol=inp.protocol, endpoints=inp.results.endpoints)
    wide = panel(ctx, bm.timepoint)
    ep = inp.results.endpoints
    keep = ep[(ep["cohort_role"] == bm.training) & ep["outcome_class"].isin(["NR/ER", "durable"])
              & ep["patient_id"].isin(wide.index)]
    cls = keep.set_index("patient_id")["outcome_class"].astype(str)
    return wide.reindex(cls.index), cls


def screen_outcome(inp: SectionInput, screen: pd.DataFrame) -> tuple[str, str, str, str] | None:
    """(label, case level, control level, ", population X" or "") of a screen whose outcome is a
    plan variable other than NR/ER vs durable remission (None for NR/ER): the screen compares
    cases (value 1) with controls (value 0) of that variable."""
    if "outcome" not in screen:
        return None
    outcome = str(screen["outcome"].iloc[0])
    if outcome == "nr_er":
        return None
    plan = getattr(inp.results, "plan", None)
    var = (getattr(plan, "variables", {}) or {}).get(outcome) if plan is not None else None
    label = getattr(var, "title", "") or inp.labels.text(outcome)
    pop = ""
    aid = str(screen["analysis"].iloc[0]) if "analysis" in screen else ""
    for a in getattr(plan, "analyses", ()) or ():
        if a.id == aid and getattr(a, "population", None):
            spec = (getattr(plan, "populations", {}) or {}).get(a.population)
            pop = f", population {getattr(spec, 'title', '') or a.population}"
    return label, f"{label} = 1", f"{label} = 0", pop


def corr_table(inp: SectionInput, frame: pd.DataFrame, title: str) -> Table:
    frame = frame.assign(ci=[fmt_estimate_ci(r, lo, hi, 2) for r, lo, hi in
                             zip(frame["r"], frame["lower"], frame["upper"])],
                         x=frame["x"].astype(str).map(lambda c: analyte_label(inp.labels, c)),
                         y=frame["y"].astype(str).map(lambda c: analyte_label(inp.labels, c)))
    if "group" in frame:
        frame = frame.assign(group=frame["group"].astype(str).map(group_label))
    return grid_table(frame, [("group", "Group", text), ("x", "Variable", text), ("y", "With", text),
                              ("n", "n", integer), ("ci", "r (95% CI)", text), ("p_value", "p", inp.pval),
                              ("method", "Method", text)],
                      title, ("Pearson correlation with Fisher-z confidence interval unless stated.",))


def biomarker_section(inp: SectionInput) -> list[Item]:
    bm = inp.protocol.biomarkers
    items: list[Item] = []
    screen = inp.table("biomarker_screen")
    if screen is None:
        return [NoteItem("The screen did not run.", "missing")]
    scale = "fold change" if bm.reference != "none" else "value"
    frame = screen.rename(columns={"analyte": "marker"})
    frame = frame.assign(marker=frame["marker"].astype(str).map(lambda m: analyte_label(inp.labels, m, unit=False)))
    value_label = "Median fold change" if bm.reference != "none" else "Median"
    named = screen_outcome(inp, screen)
    cases, controls = (named[1], named[2]) if named else ("NR/ER", "durable")
    words = screen_words(inp, screen)
    title = f"Biomarker screening of {named[0]}{named[3]}" if named else f"Biomarker screening ({words.where})"
    full = biomarker_table(frame, medians={"median_nr_er": cases, "median_durable": controls},
                           value_label=value_label, title=title, p_format=inp.pval)
    notes = (f"Mann-Whitney U test (exact where R's wilcox.test is exact); q: p adjusted by "
             f"{bm.fdr_method.upper() if bm.fdr_method in ('bh', 'by') else bm.fdr_method.capitalize()} "
             f"over {len(frame)} markers; AUC, area under the ROC curve with DeLong 95% CI.",
             f"{scale.capitalize()} at {inp.labels.text(bm.timepoint).lower().replace('il-6', 'IL-6')}"
             + (" over the healthy-donor " + ("mean" if "mean" in bm.reference else "median")
                if bm.reference != "none" else "") + ".")
    if len(frame) > SCREEN_ROWS:
        shown = Table(full.frame, full.display.head(SCREEN_ROWS).reset_index(drop=True), full.title,
                      notes + (f"The {SCREEN_ROWS} markers with the smallest p of {len(frame)} are shown; "
                               "the exported table lists all.",))
    else:
        shown = Table(full.frame, full.display, full.title, notes)
    items.append(TableItem("biomarker_screen", shown, Table(full.frame, full.display, full.title, notes)))

    case = words.outcome  # "MIP3a ≤ 4.703 (NR/ER predicted)", "(CRS grade >= 3 predicted)"
    items += _venn(inp, screen, words)
    data = training_panel(inp) if named is None else None
    if named is not None:
        items.append(NoteItem(f"The heatmap groups patients by NR/ER and durable remission; it is not drawn for "
                              f"the screen of {words.outcome}.", "missing"))
    elif data is None:
        items.append(NoteItem("The heatmap and the marker dot plots need the patient-level cohort; "
                              "the report was written from the results alone.", "missing"))
    else:
        values, cls = data
        sig = list(screen.loc[screen["significant"].astype(bool), "analyte"].astype(str))
        show = sig if len(sig) >= 2 else list(screen["analyte"].astype(str).head(20))
        show = [a for a in show if a in values.columns]
        if len(show) >= 2 and len(values) >= 2:
            heat = values[show] if bm.reference != "none" else np.log2(values[show].clip(lower=1e-12))
            heat = heat.rename(columns=lambda a: analyte_label(inp.labels, a, unit=False))
            fig = recipe("figures.heatmap:fold_change_heatmap", heat, cls,
                         scale="fold_change" if bm.reference != "none" else "log2",
                         group_by_class=True, class_order=["NR/ER", "durable"])
            items.append(FigureItem("heatmap", fig, f"Log2 {scale} of the "
                                    + ("markers significant in the screen" if len(sig) >= 2 else "20 markers with the smallest p")
                                    + f" in the {words.where}, patients grouped by outcome class (NR/ER, durable)."))
    markers = [m for m in bm.markers if inp.obj(f"roc/{m}") is not None]
    mk = inp.table("biomarker_markers")
    mk_rows = {str(r["marker"]): r for _, r in mk.iterrows()} if mk is not None else {}
    if markers:
        rules = {analyte_label(inp.labels, m, unit=False):
                 rule_text(inp, m, mk_rows[m]["cutoff"], mk_rows[m]["direction"], case)
                 for m in markers if m in mk_rows}
        fig = recipe("figures.roc:roc_figure", {analyte_label(inp.labels, m, unit=False): inp.obj(f"roc/{m}")
                                                for m in markers}, cutoff_texts=rules)
        items.append(FigureItem("roc", fig, f"ROC curves of the protocol markers for {words.outcome} ({words.where}), "
                                "AUC with DeLong 95% CI; the point marks the Youden-optimal cut-off ("
                                + "; ".join(rules.values()) + ")."))
    p_of = dict(zip(screen["analyte"].astype(str), screen["p_value"]))
    dots = _dot_frames(inp, markers, data, words)
    if dots:
        for m, df in dots.items():
            positive = bool((df["value"].dropna() > 0).all())
            name = analyte_label(inp.labels, m, unit=False)
            rule = rule_text(inp, m, mk_rows[m]["cutoff"], mk_rows[m]["direction"], case) if m in mk_rows else ""
            fig = recipe("figures.markers:marker_by_class_figure", df, value="value",
                         order=None if named is None else [_two_lines(words.case), _two_lines(words.control)],
                         p_value=p_of.get(m), p_text=inp.fmt.p_text(p_of.get(m)), log_scale=positive,
                         ylabel=f"{name} ({scale})", reference=mk_rows[m]["cutoff"] if m in mk_rows else None)
            by = "outcome class" if named is None else words.outcome
            items.append(FigureItem(f"marker_{m}", fig, f"{name} {scale} by {by} ({words.where}), "
                                    "Mann-Whitney p; the line marks the Youden cut-off"
                                    + (f" ({rule})." if rule else ".")))
    ep = bm.survival_endpoint
    for m in markers:
        above, below = inp.obj(f"km/{ep}/cutoff_{m}/above"), inp.obj(f"km/{ep}/cutoff_{m}/below")
        if above is None or below is None or m not in mk_rows:
            continue
        r = mk_rows[m]
        curves = km_curves_by_cutoff(inp, m, r["cutoff"], r["direction"], above, below, case)
        items.append(km_item(inp, f"km_{ep}_cutoff_{m}", ep, curves, inp.obj(f"logrank/{ep}/cutoff_{m}"),
                             f"{inp.labels.text(ep)} by the {analyte_label(inp.labels, m, unit=False)} Youden cut-off "
                             f"for {words.outcome} in the {words.where} "
                             f"({rule_text(inp, m, r['cutoff'], r['direction'], case)}), with "
                             "the log-rank p; under the plot the number at risk and the cumulative number censored.",
                             median_lines=True))
    if mk is not None:
        frame = with_positive_side(mk).assign(
            cohort=words.where.removesuffix(" cohort"), marker=mk["marker"].astype(str).map(lambda m: analyte_label(inp.labels, m, unit=False)))
        t = cutoff_table(frame, ci_method=bm.ci_method,
                         title=f"Diagnostic performance at the Youden cut-off for {words.outcome} ({words.where})",
                         pct_decimals=inp.fmt.pct_decimals, cutoff_format=inp.fmt.cutoff)
        rules = [rule_text(inp, str(r["marker"]), r["cutoff"], r["direction"], case) for _, r in mk.iterrows()]
        cases_word = "NR/ER patients" if named is None else f"patients with {words.outcome}"
        items.append(TableItem("cutoffs_training", Table(t.frame, t.display, t.title, t.footnotes + (
            "Cut-off: the test-positive side (" + "; ".join(rules) + f"); sensitivity counts {cases_word} "
            "on that side.", f"CI method: {bm.ci_method}.",))))
    ms = inp.table("biomarker_maxstat")
    if ms is not None:
        from cartscope.report.sections.survival import endpoint_short

        items.append(TableItem("maxstat", grid_table(
            ms.assign(endpoint=ms["endpoint"].astype(str).map(lambda e: endpoint_short(inp, e)),
                      marker=ms["marker"].astype(str).map(lambda m: analyte_label(inp.labels, m, unit=False)),
                      cutpoint=ms["cutpoint"].map(inp.fmt.cutoff)),
            [("marker", "Marker", text), ("endpoint", "Endpoint", text), ("n", "n", integer),
             ("cutpoint", "Best cut-point", text), ("statistic", "Standardised statistic", decimals(2)),
             ("p_adjusted", "Adjusted p", inp.pval), ("pmethod", "p method", text)],
            "Maximally selected log-rank statistic",
            ("Lausen & Schumacher (1992), as R maxstat; the p-value accounts for the search over cut-points.",))))
    base = inp.table("biomarker_baseline")
    if base is not None:
        items.append(TableItem("baseline_marker", grid_table(
            base.assign(marker=base["marker"].astype(str).map(lambda m: analyte_label(inp.labels, m, unit=False)),
                        timepoint=base["timepoint"].astype(str).map(inp.labels.text)),
            [("marker", "Marker", text), ("timepoint", "Time point", text), ("n_nr_er", "n NR/ER", integer),
             ("n_durable", "n durable", integer), ("median_nr_er", "Median, NR/ER", inp.est),
             ("median_durable", "Median, durable", inp.est), ("p_value", "Mann-Whitney p", inp.pval)],
            "Markers before infusion")))
    corr = inp.table("biomarker_marker_correlation")
    if corr is not None:
        items.append(TableItem("marker_correlation", corr_table(
            inp, corr.rename(columns={"marker_a": "x", "marker_b": "y"}), "Correlation between the protocol markers")))
    return items


def _dot_frames(inp: SectionInput, markers: list[str], data: tuple | None, words) -> dict[str, pd.DataFrame]:
    """Per protocol marker the values and classes of its dot plot: for NR/ER the training panel
    by outcome class; for another outcome the patients of the marker's ROC analysis (its cases
    and controls, as the analysis classified them)."""
    out: dict[str, pd.DataFrame] = {}
    if data is not None:
        values, cls = data
        for m in markers:
            if m in values.columns:
                out[m] = pd.DataFrame({"value": values[m], "outcome_class": cls})
        return out
    if words.outcome == "NR/ER":
        return out
    from cartscope.stats.roc import RocResult

    for m in markers:
        r = inp.obj(f"roc/{m}")
        if not isinstance(r, RocResult) or r.n_markers != 1:
            continue
        obs = r.observations()
        out[m] = pd.DataFrame({"value": obs["score"].to_numpy(),
                               "outcome_class": np.where(obs["is_case"].to_numpy(), _two_lines(words.case),
                                                         _two_lines(words.control))})
    return out


def _two_lines(level: str) -> str:
    """"CRS grade >= 3 = 1" as "CRS grade >= 3\\n= 1", so two classes' axis labels do not meet."""
    head, sep, tail = level.rpartition(" = ")
    return f"{head}\n= {tail}" if sep else level


def _venn(inp: SectionInput, screen: pd.DataFrame, words=None) -> list[Item]:
    bm = inp.protocol.biomarkers
    sub = inp.table("biomarker_screen_subgroups")
    sets: dict[str, list[str]] = {}
    if sub is not None:
        for g in dict.fromkeys(sub["subgroup"].astype(str)):
            part = sub[(sub["subgroup"].astype(str) == g) & (sub["p_value"] < bm.significance)]
            sets[g] = sorted(analyte_label(inp.labels, a, unit=False) for a in part["analyte"].astype(str))
    words = words or screen_words(inp, screen)
    where = words.where
    everyone = (f"All {where[:-len(' cohort')]} patients" if where.endswith(" cohort")
                else "All patients" if where == "all patients" else f"All of {where}")
    sets[everyone] = sorted(analyte_label(inp.labels, a, unit=False) for a in
                                           screen.loc[screen["p_value"] < bm.significance, "analyte"].astype(str))
    if 2 <= len(sets) <= 3:
        return [FigureItem("venn", recipe("figures.venn:venn_figure", sets),
                           f"Markers with Mann-Whitney p < {inp.fmt.cutoff(bm.significance)} "
                           f"({words.versus}) within each subgroup and overall; "
                           "each region gives the number of "
                           "markers and names up to five.")]
    if sub is not None:
        return [NoteItem(f"Venn diagram not drawn: {len(sets)} sets (it shows two or three).", "missing")]
    return []
