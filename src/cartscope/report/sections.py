"""Which tables and figures each report section shows, built from one ``Results``.

One builder per protocol section (``cohort``, ``response``, ``relapse_timing``, ``survival``,
``competing_risks``, ``toxicity``, ``biomarkers``, ``validation``, ``cox``, ``kinetics``,
``ae_table``, ``infusion_comparison``, ``correlations``, ``exclusions``) plus the swimmer plot
of every patient's course. Builders only select and lay out: every number comes from the
result tables and the statistical objects of :class:`~cartscope.analysis.results.Results`
(estimated in :mod:`cartscope.analysis`), drawn by :mod:`cartscope.report.tables` and
:mod:`cartscope.report.figures`. Parts that need patient-level data not kept in ``Results``
(Table 1, the heatmap, marker dot plots, kinetics courses) use the cohort when it is given
and otherwise say what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cartscope.report.document import FigureItem, FlowItem, Item, NoteItem, Section, TableItem
from cartscope.report.figures.style import format_number
from cartscope.report.tables import (
    ae_table,
    biomarker_table,
    cox_table,
    cutoff_table,
    fmt_estimate_ci,
    fmt_n_pct,
    fmt_num,
    fmt_p,
    landmark_table,
    relapse_timing_table,
    response_table,
    table_one,
)
from cartscope.report.tables.base import Table, string_grid

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.results import Results
    from cartscope.cohort.model import Cohort

SECTION_TITLES: dict[str, str] = {
    "cohort": "Patients",
    "response": "Response and outcome",
    "course": "Patient course",
    "relapse_timing": "Relapse timing",
    "survival": "Survival",
    "competing_risks": "Competing risks",
    "toxicity": "Toxicity",
    "kinetics": "Cellular and cytokine kinetics",
    "biomarkers": "Biomarker screening",
    "validation": "Validation of the frozen cut-off",
    "cox": "Multivariable Cox regression",
    "ae_table": "Adverse events",
    "infusion_comparison": "Comparison of infusions",
    "correlations": "Correlations",
    "exclusions": "Patients left out of each analysis",
}

ENDPOINT_NAMES = {"os": "Overall survival", "pfs": "Progression-free survival",
                  "efs": "Event-free survival", "dfs": "Disease-free survival",
                  "dor": "Duration of response", "lfs": "Leukaemia-free survival"}
BY_NAMES = {"disease_group": "disease group", "crs_group": "CRS grade",
            "disease_burden": "pre-infusion disease burden", "cohort_role": "cohort",
            "disease": "disease"}
SCREEN_ROWS = 25
"""Markers shown in the report's screening table (all are in the exported files)."""


@dataclass(frozen=True)
class _Input:
    results: Results
    cohort: Cohort | None

    @property
    def protocol(self) -> Any:
        return self.results.protocol

    def table(self, name: str) -> pd.DataFrame | None:
        frame = self.results.tables.get(name)
        return frame if frame is not None and len(frame) else None

    def obj(self, key: str) -> Any:
        return self.results.objects.get(key)


# ---------------------------------------------------------------- small helpers


def endpoint_name(name: str) -> str:
    """Readable endpoint name: "os" -> "Overall survival", "efs_hsct_event" -> "EFS (hsct event)"."""
    if name in ENDPOINT_NAMES:
        return ENDPOINT_NAMES[name]
    head, _, rest = name.partition("_")
    return f"{head.upper()} ({rest.replace('_', ' ')})" if rest else head.upper()


def _short(name: str) -> str:
    return name.split("_")[0].upper() if name in ENDPOINT_NAMES else endpoint_name(name)


def by_name(by: str) -> str:
    return BY_NAMES.get(by, by.replace("_", " "))


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _num(decimals: int) -> Callable[[Any], str]:
    return lambda x: fmt_num(x, decimals)


def _sig(x: Any) -> str:
    return "" if _missing(x) else format_number(float(x), 3)


def _text(x: Any) -> str:
    return "" if _missing(x) else str(x)


def _int(x: Any) -> str:
    return "" if _missing(x) else str(int(x))


def _pval(x: Any) -> str:
    return "" if _missing(x) else fmt_p(float(x), 3)


def grid_table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, Callable[[Any], str]]],
               title: str, footnotes: Sequence[str] = ()) -> Table:
    """A :class:`Table` of ``frame`` showing ``columns`` as (column, header, formatter)."""
    present = [(c, h, f) for c, h, f in columns if c in frame.columns]
    rows = [[f(r[c]) for c, _, f in present] for _, r in frame.iterrows()]
    tidy = frame[[c for c, _, _ in present]].reset_index(drop=True)
    return Table(frame=tidy, display=string_grid(rows, [h for _, h, _ in present]), title=title,
                 footnotes=tuple(footnotes))


def _group_order(values: Sequence[Any]) -> list[str]:
    """Group labels with "all" last, the rest in their given order."""
    seen = list(dict.fromkeys(str(v) for v in values))
    return [g for g in seen if g != "all"] + (["all"] if "all" in seen else [])


def _group_label(g: str) -> str:
    return "All patients" if g == "all" else g


# ---------------------------------------------------------------- cohort


def _patients_frame(inp: _Input) -> pd.DataFrame | None:
    if inp.cohort is None:
        return None
    pats = inp.cohort.patients.copy()
    pats["patient_id"] = pats["patient_id"].astype(str)
    group = inp.protocol.subgroups
    ep = inp.results.endpoints
    if group not in pats.columns and group in ep.columns:
        pats[group] = pats["patient_id"].map(ep.set_index("patient_id")[group]).astype(object)
    return pats


def _numeric_columns(frame: pd.DataFrame, columns: Sequence[str], min_levels: int = 6) -> list[str]:
    """Columns whose every known value is a number, with fractions or at least ``min_levels``
    distinct values: summarised as median (range), not one row per value (an integer score
    with few levels, e.g. ECOG, stays categorical)."""
    out = []
    for c in columns:
        known = frame[c].dropna()
        if known.dtype == bool or known.empty:
            continue
        numbers = pd.to_numeric(known.astype(object), errors="coerce")
        fractional = bool((numbers.dropna() % 1 != 0).any())
        if numbers.notna().all() and (numbers.nunique() >= min_levels or fractional):
            out.append(c)
    return out


def cohort_section(inp: _Input) -> list[Item]:
    items: list[Item] = []
    pats = _patients_frame(inp)
    group = inp.protocol.subgroups
    if pats is None:
        items.append(NoteItem("Table 1 needs the patient-level cohort; the report was written "
                              "from the results alone.", "missing"))
    else:
        drop = [c for c in ("cohort",) if c in pats.columns]
        variables = [c for c in pats.columns if c not in ("patient_id", group, *drop)
                     and pats[c].notna().any()]
        grouped = group if group in pats and pats[group].notna().any() else None
        t1 = table_one(pats, grouped, variables, continuous=_numeric_columns(pats, variables),
                       title="Baseline characteristics")
        items.append(TableItem("table1", Table(t1.frame, t1.display, t1.title, t1.footnotes)))
    fu = inp.table("followup")
    if fu is not None:
        fu = fu.assign(group=fu["group"].astype(str).map(_group_label),
                       ci=[fmt_estimate_ci(m, lo, hi, 0) if not _missing(m) else "not reached"
                           for m, lo, hi in zip(fu["median"], fu["lower"], fu["upper"])],
                       rng=[f"{fmt_num(a, 0)}\u2013{fmt_num(b, 0)}" for a, b in zip(fu["minimum"], fu["maximum"])])
        items.append(TableItem("followup", grid_table(
            fu, [("group", "Group", _text), ("n", "n", _int), ("ci", "Median follow-up, days (95% CI)", _text),
                 ("rng", "Range, days", _text)],
            "Follow-up", ("Median follow-up by the reverse Kaplan-Meier method (deaths censor, "
                          "censorings are events).",))))
    return items


# ---------------------------------------------------------------- response


def response_section(inp: _Input) -> list[Item]:
    items: list[Item] = []
    orr = inp.table("response_orr")
    cls = inp.table("outcome_classes")
    rows = []
    methods = set()
    if orr is not None:
        for _, r in orr.iterrows():
            rows.append({"outcome": "Overall response (ORR)", "group": _group_label(str(r["group"])),
                         "x": r["responders"], "n": r["evaluable"], "lower": r["lower"], "upper": r["upper"]})
            methods.add(str(r["method"]))
    if cls is not None:
        for _, r in cls.iterrows():
            rows.append({"outcome": "NR/ER (no response or early relapse)", "group": _group_label(str(r["group"])),
                         "x": r["nr_er"], "n": r["evaluable"], "lower": r["lower"], "upper": r["upper"]})
            methods.add(str(r["method"]))
    if rows:
        frame = pd.DataFrame(rows)
        order = [_group_label(g) for g in _group_order(
            [g for g in (orr if orr is not None else cls)["group"]])]
        frame["group"] = pd.Categorical(frame["group"], categories=order)
        frame = frame.sort_values(["group"], kind="mergesort").assign(group=lambda f: f["group"].astype(str))
        t = response_table(frame, title="Response and outcome class")
        notes = (f"CI, confidence interval ({', '.join(sorted(methods))} method).",
                 "ORR among patients with a response assessment; NR/ER share among patients "
                 "evaluable for the NR/ER vs durable-remission split.")
        items.append(TableItem("response", Table(t.frame, t.display, t.title, notes)))
    bor = inp.table("response_bor")
    if bor is not None:
        groups = _group_order(bor["group"])
        levels = list(dict.fromkeys(bor["bor"].astype(str)))
        totals = {g: int(bor.loc[bor["group"].astype(str) == g, "n"].sum()) for g in groups}
        grid = []
        for lev in levels:
            row = [lev]
            for g in groups:
                hit = bor[(bor["group"].astype(str) == g) & (bor["bor"].astype(str) == lev)]
                row.append(fmt_n_pct(int(hit["n"].iloc[0]) if len(hit) else 0, totals[g], 1))
            grid.append(row)
        header = ["Best overall response"] + [f"{_group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("best_response", Table(bor, string_grid(grid, header), "Best overall response",
                                                      ("n (%) of patients with a response assessment.",))))
    out = inp.table("outcomes")
    if out is not None:
        groups = _group_order(out["group"])
        levels = list(dict.fromkeys(out["outcome"].astype(str)))
        grid = []
        for lev in levels:
            row = [("    " + lev.split(": ", 1)[1]) if ": " in lev else lev]
            for g in groups:
                hit = out[(out["group"].astype(str) == g) & (out["outcome"].astype(str) == lev)]
                row.append(str(int(hit["n"].iloc[0])) if len(hit) else "0")
            grid.append(row)
        header = ["Outcome"] + [_group_label(g) for g in groups]
        items.append(TableItem("outcomes", Table(out, string_grid(grid, header), "Outcome of every patient",
                                                 ("Indented rows give the reasons a patient is not evaluable.",))))
    return items


def course_section(inp: _Input) -> list[Item]:
    from cartscope.report.figures import swimmer_figure

    ep = inp.results.endpoints
    ep = ep[ep["index_day"].notna()]
    if ep.empty:
        return [NoteItem("No patient has an index infusion.", "missing")]
    infusions = inp.cohort.infusions if inp.cohort is not None and "infusions" in inp.cohort.present else None
    group = "disease_group" if ep["disease_group"].nunique() > 1 else None
    fig = swimmer_figure(ep, infusions=infusions, group=group)
    return [FigureItem("swimmer", fig, "Course of every patient from the index infusion (day 0): "
                       "response, relapse (CD19-positive filled, CD19-negative open), HSCT, death "
                       "and loss to follow-up; an arrow marks patients alive and still followed.")]


# ---------------------------------------------------------------- relapse timing


def relapse_section(inp: _Input) -> list[Item]:
    from cartscope.report.figures import relapse_timing_figure

    ep = inp.results.endpoints
    group = inp.protocol.subgroups if inp.protocol.subgroups in ep.columns else None
    if not ep["relapse_bin"].notna().any():
        return [NoteItem("No relapse was observed.", "note")]
    if group is not None:
        ep = ep.sort_values(group, kind="mergesort", na_position="last")
    items: list[Item] = [TableItem("relapse_timing", relapse_timing_table(ep, group=group))]
    fig = relapse_timing_figure(ep, group=group,
                                group_order=sorted(ep[group].dropna().astype(str).unique()) if group else None)
    items.append(FigureItem("relapse_timing", fig, "Relapses per 6-month interval after the index "
                            "infusion" + (f", by {by_name(group)}." if group else ".")))
    ag = inp.table("relapse_antigen")
    if ag is not None:
        groups = _group_order(ag["group"])
        keys = list(dict.fromkeys(zip(ag["antigen"].astype(str), ag["status"].astype(str))))
        grid = []
        for antigen in dict.fromkeys(k[0] for k in keys):
            grid.append([antigen] + [""] * len(groups))
            for a, status in keys:
                if a != antigen:
                    continue
                row = [f"    {status}"]
                for g in groups:
                    sub = ag[(ag["group"].astype(str) == g) & (ag["antigen"].astype(str) == a)]
                    hit = sub[sub["status"].astype(str) == status]
                    row.append(fmt_n_pct(int(hit["relapses"].iloc[0]) if len(hit) else 0, int(sub["relapses"].sum()), 1))
                grid.append(row)
        header = ["Antigen at relapse"] + [_group_label(g) for g in groups]
        items.append(TableItem("relapse_antigen", Table(ag, string_grid(grid, header),
                                                        "Target antigen status at relapse",
                                                        ("n (%) of relapses.",))))
    return items


# ---------------------------------------------------------------- survival


def _km_groups(inp: _Input, endpoint: str) -> dict[str, list[str]]:
    """by key (e.g. "disease_group", "crs_group|B-ALL") -> its levels, in object order."""
    out: dict[str, list[str]] = {}
    prefix = f"km/{endpoint}/"
    for key in inp.results.objects:
        if not key.startswith(prefix):
            continue
        parts = key[len(prefix):].split("/")
        if len(parts) != 2 or parts[0].startswith(("cutoff_", "validation_")):
            continue
        out.setdefault(parts[0], []).append(parts[1])
    return out


def _by_title(by: str) -> str:
    var, _, within = by.partition("|")
    return f"by {by_name(var)}" + (f", {within} only" if within else "")


def km_item(inp: _Input, key: str, endpoint: str, curves: dict[str, Any], logrank: Any,
            caption: str) -> FigureItem:
    from cartscope.report.figures import km_figure

    ylabel = f"{endpoint_name(endpoint)} (%)"
    fig = km_figure(curves if len(curves) > 1 else next(iter(curves.values())), logrank=logrank,
                    ylabel=ylabel)
    return FigureItem(key, fig, caption)


def survival_section(inp: _Input) -> list[Item]:
    items: list[Item] = []
    spec = inp.protocol.survival
    conf = {"log-log": "log-log", "log": "log", "plain": "plain"}[spec.conf_type]
    for endpoint in spec.endpoints:
        km_all = inp.obj(f"km/{endpoint}/all")
        if km_all is not None:
            items.append(km_item(inp, f"km_{endpoint}", endpoint, {"All patients": km_all}, None,
                                 f"{endpoint_name(endpoint)}, all patients (Kaplan-Meier, "
                                 f"{conf} {fmt_num(100 * spec.level, 0)}% pointwise interval), with "
                                 "the number at risk."))
        for by, levels in _km_groups(inp, endpoint).items():
            if by == "all":
                continue
            curves = {lev: inp.obj(f"km/{endpoint}/{by}/{lev}") for lev in levels}
            lr = inp.obj(f"logrank/{endpoint}/{by}")
            safe = by.replace("|", "_").replace(" ", "_")
            items.append(km_item(inp, f"km_{endpoint}_{safe}", endpoint, curves, lr,
                                 f"{endpoint_name(endpoint)} {_by_title(by)}, with the log-rank "
                                 "p-value and the number at risk."))
    lm = inp.table("km_landmarks")
    if lm is not None:
        bys = list(dict.fromkeys(lm["by"].astype(str)))
        base = lm[lm["by"].astype(str) == "all"]
        for by in [b for b in bys if b != "all"] or ["all"]:
            part = pd.concat([base, lm[lm["by"].astype(str) == by]]) if by != "all" else base
            frame = pd.DataFrame({
                "endpoint": part["endpoint"].astype(str).map(endpoint_name),
                "group": part["group"].astype(str).map(_group_label),
                "time": part["day"].astype(float), "survival": part["survival"],
                "lower": part["lower"], "upper": part["upper"], "n_risk": part["n_risk"],
            })
            frame = frame.sort_values(["endpoint", "time"], key=lambda s: s.map(
                {endpoint_name(e): i for i, e in enumerate(spec.endpoints)}) if s.name == "endpoint" else s,
                kind="mergesort")
            title = "Landmark survival estimates" + ("" if by == "all" else f" {_by_title(by)}")
            t = landmark_table(frame, title=title)
            notes = (f"Kaplan-Meier estimates with {conf} {fmt_num(100 * spec.level, 0)}% pointwise "
                     "confidence intervals; months of 30.4375 days.",)
            items.append(TableItem(f"landmarks_{by.replace('|', '_')}", Table(t.frame, t.display, t.title, notes)))
    med = inp.table("km_medians")
    lr = inp.table("logrank")
    if med is not None:
        frame = med.assign(
            endpoint=med["endpoint"].astype(str).map(_short),
            by=[("all patients" if b == "all" else _by_title(str(b))[3:]) for b in med["by"].astype(str)],
            group=med["group"].astype(str).map(_group_label),
            median=[("not reached" if _missing(m) else fmt_num(m / 30.4375, 1))
                    + ("" if _missing(lo) else f" ({fmt_num(lo / 30.4375, 1)}\u2013"
                       f"{'NR' if _missing(hi) else fmt_num(hi / 30.4375, 1)})")
                    for m, lo, hi in zip(med["median_days"], med["median_lower"], med["median_upper"])],
        )
        if lr is not None:
            pmap = {(str(r["endpoint"]), str(r["by"])): r["p_value"] for _, r in lr.iterrows()}
            frame["p"] = [pmap.get((e, b)) for e, b in zip(med["endpoint"].astype(str), med["by"].astype(str))]
            first = ~frame.duplicated(["endpoint", "by"])
            frame["p"] = [p if f else None for p, f in zip(frame["p"], first)]
        items.append(TableItem("km_medians", grid_table(
            frame, [("endpoint", "Endpoint", _text), ("by", "Split", _text), ("group", "Group", _text),
                    ("n", "n", _int), ("events", "Events", _int),
                    ("median", "Median, months (95% CI)", _text), ("p", "Log-rank p", _pval)],
            "Events and median times",
            ("NR, not reached. Log-rank p on the first row of each split.",))))
    return items


# ---------------------------------------------------------------- competing risks


def competing_section(inp: _Input) -> list[Item]:
    from cartscope.report.figures import cif_figure

    items: list[Item] = []
    labels_tab = inp.table("cif_landmarks")
    gray_tab = inp.table("gray_tests")
    short = {"relapse_nrm": "Relapse vs NRM", "failure": "Failure vs death without failure"}
    titles = {"relapse_nrm": "Relapse and non-relapse mortality",
              "failure": "Treatment failure (no response or relapse) and death without failure"}
    for name in ("relapse_nrm", "failure"):
        cif = inp.obj(f"cif/{name}")
        if cif is None:
            continue
        labels: dict[Any, str] = {}
        if labels_tab is not None:
            for _, r in labels_tab[labels_tab["coding"].astype(str) == name].iterrows():
                labels[r["cause"]] = str(r["cause_label"])
        gray = {c: inp.obj(f"gray/{name}/{c}") for c in cif.causes if inp.obj(f"gray/{name}/{c}") is not None}
        fig = cif_figure(cif, cause_labels={k: v.capitalize() for k, v in labels.items()} or None,
                         gray=gray or None)
        caption = f"Cumulative incidence of {titles[name].lower()} (Aalen-Johansen)"
        caption += ", with Gray's test across groups." if gray else "."
        items.append(FigureItem(f"cif_{name}", fig, caption))
    if labels_tab is not None:
        short = {"relapse_nrm": "Relapse vs NRM", "failure": "Failure vs death without failure"}
        frame = labels_tab.assign(
            coding=labels_tab["coding"].astype(str).map(lambda c: short.get(c, c)),
            group=labels_tab["group"].astype(str).map(_group_label),
            est=[fmt_estimate_ci(100 * e, 100 * lo, 100 * hi, 1) for e, lo, hi in
                 zip(labels_tab["estimate"], labels_tab["lower"], labels_tab["upper"])])
        items.append(TableItem("cif_landmarks", grid_table(
            frame, [("coding", "Competing-risks model", _text), ("cause_label", "Cause", _text),
                    ("group", "Group", _text), ("month", "Month", _num(0)),
                    ("est", "Cumulative incidence, % (95% CI)", _text)],
            "Cumulative incidence at landmark times",
            ("Aalen-Johansen estimates; variance as cmprsk::cuminc, log-log intervals. NRM, non-relapse "
             "mortality; failure, no response or relapse.",))))
    if gray_tab is not None:
        frame = gray_tab.assign(coding=gray_tab["coding"].astype(str).map(lambda c: short.get(c, c)))
        items.append(TableItem("gray_tests", grid_table(
            frame, [("coding", "Competing-risks model", _text), ("cause_label", "Cause", _text),
                    ("statistic", "Statistic", _num(3)), ("df", "df", _int), ("p_value", "p", _pval),
                    ("note", "Note", _text)],
            "Gray's test of equal cumulative incidence across groups")))
    return items


# ---------------------------------------------------------------- toxicity


def toxicity_section(inp: _Input) -> list[Item]:
    items: list[Item] = []
    grades = inp.table("toxicity_grades")
    if grades is not None:
        groups = _group_order(grades["group"])
        grid = []
        for tox in dict.fromkeys(grades["toxicity"].astype(str)):
            sub = grades[grades["toxicity"].astype(str) == tox]
            grid.append([tox] + [""] * len(groups))
            for grade in dict.fromkeys(sub["grade"]):
                row = [f"    Grade {grade}"]
                for g in groups:
                    hit = sub[(sub["group"].astype(str) == g) & (sub["grade"] == grade)]
                    row.append(fmt_n_pct(int(hit["n"].iloc[0]), int(hit["evaluable"].iloc[0]), 1) if len(hit) else "")
                grid.append(row)
        totals = {g: int(grades.loc[grades["group"].astype(str) == g, "evaluable"].max()) for g in groups}
        header = ["Toxicity, ASTCT grade"] + [f"{_group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("toxicity_grades", Table(
            grades, string_grid(grid, header), "Cytokine release syndrome and ICANS",
            ("Highest ASTCT consensus grade per patient (Lee et al. 2019), n (%) of evaluable patients.",))))
    treat = inp.table("toxicity_treatment")
    if treat is not None:
        groups = _group_order(treat["group"])
        grid = []
        for t in dict.fromkeys(treat["treatment"].astype(str)):
            row = [t.capitalize()]
            for g in groups:
                hit = treat[(treat["group"].astype(str) == g) & (treat["treatment"].astype(str) == t)]
                row.append(fmt_n_pct(int(hit["n"].iloc[0]), int(hit["patients"].iloc[0]), 1) if len(hit) else "")
            grid.append(row)
        header = ["Treatment"] + [_group_label(g) for g in groups]
        items.append(TableItem("toxicity_treatment", Table(treat, string_grid(grid, header),
                                                           "Treatment of CRS and ICANS", ("n (%) of patients.",))))
    return items


# ---------------------------------------------------------------- biomarkers


def _training_panel(inp: _Input) -> tuple[pd.DataFrame, pd.Series] | None:
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


def biomarker_section(inp: _Input) -> list[Item]:
    from cartscope.report.figures import (
        fold_change_heatmap,
        marker_by_class_figure,
        roc_figure,
        venn_figure,
    )

    bm = inp.protocol.biomarkers
    items: list[Item] = []
    screen = inp.table("biomarker_screen")
    if screen is None:
        return [NoteItem("The screen did not run.", "missing")]
    scale = "fold change" if bm.reference != "none" else "value"
    frame = screen.rename(columns={"analyte": "marker"})
    value_label = "Median fold change" if bm.reference != "none" else "Median"
    full = biomarker_table(frame, medians={"median_nr_er": "NR/ER", "median_durable": "durable"},
                           value_label=value_label, title="Biomarker screening (training cohort)")
    notes = (f"Mann-Whitney U test (exact where R's wilcox.test is exact); q: p adjusted by "
             f"{bm.fdr_method.upper() if bm.fdr_method in ('bh', 'by') else bm.fdr_method.capitalize()} "
             f"over {len(frame)} markers; AUC, area under the ROC curve with DeLong 95% CI.",
             f"{scale.capitalize()} at {bm.timepoint.replace('_', ' ')}"
             + (" over the healthy-donor " + ("mean" if "mean" in bm.reference else "median")
                if bm.reference != "none" else "") + ".")
    shown = full
    if len(frame) > SCREEN_ROWS:
        shown = Table(full.frame, full.display.head(SCREEN_ROWS).reset_index(drop=True), full.title,
                      notes + (f"The {SCREEN_ROWS} markers with the smallest p of {len(frame)} are shown; "
                               "the exported table lists all.",))
    else:
        shown = Table(full.frame, full.display, full.title, notes)
    items.append(TableItem("biomarker_screen", shown, Table(full.frame, full.display, full.title, notes)))

    sub = inp.table("biomarker_screen_subgroups")
    sets: dict[str, list[str]] = {}
    if sub is not None:
        for g in dict.fromkeys(sub["subgroup"].astype(str)):
            part = sub[(sub["subgroup"].astype(str) == g) & (sub["p_value"] < bm.significance)]
            sets[g] = sorted(part["analyte"].astype(str))
    sets["All training patients"] = sorted(screen.loc[screen["p_value"] < bm.significance, "analyte"].astype(str))
    if 2 <= len(sets) <= 3:
        items.append(FigureItem("venn", venn_figure(sets),
                                f"Markers with Mann-Whitney p < {fmt_num(bm.significance, 2, strip_zeros=True)} "
                                "(NR/ER vs durable remission) within each subgroup and overall."))
    elif sub is not None:
        items.append(NoteItem(f"Venn diagram not drawn: {len(sets)} sets (it shows two or three).", "missing"))

    data = _training_panel(inp)
    if data is None:
        items.append(NoteItem("The heatmap and the marker dot plots need the patient-level cohort; "
                              "the report was written from the results alone.", "missing"))
    else:
        values, cls = data
        sig = list(screen.loc[screen["significant"].astype(bool), "analyte"].astype(str))
        show = sig if len(sig) >= 2 else list(screen["analyte"].astype(str).head(20))
        show = [a for a in show if a in values.columns]
        if len(show) >= 2 and len(values) >= 2:
            heat = values[show] if bm.reference != "none" else np.log2(values[show].clip(lower=1e-12))
            fig = fold_change_heatmap(heat, cls, scale="fold_change" if bm.reference != "none" else "log2",
                                      group_by_class=True, class_order=["NR/ER", "durable"])
            items.append(FigureItem("heatmap", fig, f"Log2 {scale} of the "
                                    + ("markers significant in the screen" if len(sig) >= 2 else "20 markers with the smallest p")
                                    + " in the training cohort, patients grouped by outcome class."))
    markers = [m for m in bm.markers if inp.obj(f"roc/{m}") is not None]
    if markers:
        fig = roc_figure({m: inp.obj(f"roc/{m}") for m in markers})
        items.append(FigureItem("roc", fig, "ROC curves of the protocol markers for NR/ER (training cohort), "
                                "AUC with DeLong 95% CI and the Youden-optimal cut-off."))
    p_of = dict(zip(screen["analyte"].astype(str), screen["p_value"]))
    mk = inp.table("biomarker_markers")
    cut_of = dict(zip(mk["marker"].astype(str), mk["cutoff"])) if mk is not None else {}
    if data is not None:
        values, cls = data
        for m in markers:
            if m not in values.columns:
                continue
            df = pd.DataFrame({"value": values[m], "outcome_class": cls})
            positive = bool((df["value"].dropna() > 0).all())
            fig = marker_by_class_figure(df, value="value", p_value=p_of.get(m), log_scale=positive,
                                         ylabel=f"{m} ({scale})", reference=cut_of.get(m))
            items.append(FigureItem(f"marker_{m}", fig, f"{m} {scale} by outcome class (training cohort), "
                                    "Mann-Whitney p; the line marks the Youden cut-off."))
    for m in markers:
        ep = bm.survival_endpoint
        above, below = inp.obj(f"km/{ep}/cutoff_{m}/above"), inp.obj(f"km/{ep}/cutoff_{m}/below")
        if above is None or below is None:
            continue
        c = format_number(float(cut_of[m]), 4) if m in cut_of else ""
        items.append(km_item(inp, f"km_{ep}_cutoff_{m}", ep,
                             {f"{m} > {c}": above, f"{m} \u2264 {c}": below},
                             inp.obj(f"logrank/{ep}/cutoff_{m}"),
                             f"{endpoint_name(ep)} by the {m} Youden cut-off ({c}) in the training cohort."))
    if mk is not None:
        frame = mk.assign(cohort="training", positive_if=mk["direction"].astype(str))
        t = cutoff_table(frame, ci_method=bm.ci_method, title="Diagnostic performance at the Youden cut-off (training)")
        items.append(TableItem("cutoffs_training", Table(t.frame, t.display, t.title, t.footnotes + (
            f"CI method: {bm.ci_method}.",))))
    ms = inp.table("biomarker_maxstat")
    if ms is not None:
        items.append(TableItem("maxstat", grid_table(
            ms.assign(endpoint=ms["endpoint"].astype(str).map(_short)),
            [("marker", "Marker", _text), ("endpoint", "Endpoint", _text), ("n", "n", _int),
             ("cutpoint", "Best cut-point", _sig), ("statistic", "Standardised statistic", _num(3)),
             ("p_adjusted", "Adjusted p", _pval), ("pmethod", "p method", _text)],
            "Maximally selected log-rank statistic",
            ("Lausen & Schumacher (1992), as R maxstat; the p-value accounts for the search over cut-points.",))))
    base = inp.table("biomarker_baseline")
    if base is not None:
        items.append(TableItem("baseline_marker", grid_table(
            base, [("marker", "Marker", _text), ("timepoint", "Time point", _text), ("n_nr_er", "n NR/ER", _int),
                   ("n_durable", "n durable", _int), ("median_nr_er", "Median, NR/ER", _num(3)),
                   ("median_durable", "Median, durable", _num(3)), ("p_value", "Mann-Whitney p", _pval)],
            "Markers before infusion")))
    corr = inp.table("biomarker_marker_correlation")
    if corr is not None:
        items.append(TableItem("marker_correlation", _corr_table(corr.rename(columns={"marker_a": "x", "marker_b": "y"}),
                                                                 "Correlation between the protocol markers")))
    return items


def _corr_table(frame: pd.DataFrame, title: str) -> Table:
    frame = frame.assign(ci=[fmt_estimate_ci(r, lo, hi, 3) for r, lo, hi in
                             zip(frame["r"], frame["lower"], frame["upper"])])
    if "group" in frame:
        frame = frame.assign(group=frame["group"].astype(str).map(_group_label))
    return grid_table(frame, [("group", "Group", _text), ("x", "Variable", _text), ("y", "With", _text),
                              ("n", "n", _int), ("ci", "r (95% CI)", _text), ("p_value", "p", _pval),
                              ("method", "Method", _text)],
                      title, ("Pearson correlation with Fisher-z confidence interval unless stated.",))


# ---------------------------------------------------------------- validation


def validation_section(inp: _Input) -> list[Item]:
    bm = inp.protocol.biomarkers
    items: list[Item] = []
    val = inp.table("biomarker_validation")
    mk = inp.table("biomarker_markers")
    if val is None:
        return [NoteItem("No marker could be validated.", "missing")]
    parts = []
    if mk is not None:
        parts.append(mk[mk["marker"].isin(val["marker"])].assign(cohort="training"))
    parts.append(val.assign(cohort=val["cohort"].astype(str)))
    frame = pd.concat(parts, ignore_index=True)
    frame["positive_if"] = frame["direction"].astype(str)
    frame = frame.sort_values(["marker", "cohort"], kind="mergesort")
    items.append(TableItem("cutoff_validation", cutoff_table(
        frame, ci_method=bm.ci_method, title="Frozen cut-off in the training and validation cohorts")))
    frame2 = val.assign(cohort=val["cohort"].astype(str))
    items.append(TableItem("validation_tests", grid_table(
        frame2, [("marker", "Marker", _text), ("cohort", "Cohort", _text), ("n_nr_er", "n NR/ER", _int),
                 ("n_durable", "n durable", _int), ("median_nr_er", "Median, NR/ER", _sig),
                 ("median_durable", "Median, durable", _sig), ("p_value", "Mann-Whitney p", _pval),
                 ("auc", "AUC", _num(3)), ("pfs_logrank_p", f"{_short(bm.survival_endpoint)} log-rank p", _pval)],
        "Validation cohort: class comparison and survival by the frozen cut-off")))
    ep = bm.survival_endpoint
    for m in val["marker"].astype(str):
        above, below = inp.obj(f"km/{ep}/validation_{m}/above"), inp.obj(f"km/{ep}/validation_{m}/below")
        if above is None or below is None:
            continue
        c = format_number(float(val.loc[val["marker"].astype(str) == m, "cutoff"].iloc[0]), 4)
        items.append(km_item(inp, f"km_{ep}_validation_{m}", ep,
                             {f"{m} > {c}": above, f"{m} \u2264 {c}": below},
                             inp.obj(f"logrank/{ep}/validation_{m}"),
                             f"{endpoint_name(ep)} by the frozen {m} cut-off ({c}) in the validation cohort."))
    return items


# ---------------------------------------------------------------- cox


def cox_section(inp: _Input) -> list[Item]:
    from cartscope.report.figures import forest_figure

    items: list[Item] = []
    coefs = inp.table("cox_coefficients")
    models = inp.table("cox_models")
    for i, spec in enumerate(inp.protocol.cox):
        res = inp.obj(f"cox/{spec.endpoint}/{i}")
        if res is None:
            continue
        labels = term_labels(spec.covariates, [str(t) for t in res.names])
        items.append(FigureItem(f"forest_{spec.endpoint}_{i}", forest_figure(res, labels=labels),
                                f"Hazard ratios of {endpoint_name(spec.endpoint).lower()} "
                                f"(multivariable Cox model, {spec.ties} ties) with 95% CI."))
        if coefs is not None:
            part = coefs[coefs["model"].astype(str) == str(i)]
            notes: list[str] = [f"Cox proportional-hazards model of {endpoint_name(spec.endpoint).lower()}, "
                                f"{spec.ties} method for ties; HR, hazard ratio; CI, confidence interval."]
            if models is not None:
                mrow = models[models["model"].astype(str) == str(i)]
                if len(mrow):
                    r = mrow.iloc[0]
                    notes.append(f"n = {int(r['n'])}, events = {int(r['events'])}; concordance "
                                 f"{fmt_num(r['concordance'], 3)}; likelihood-ratio test p = {fmt_p(r['lr_p'], 3)}.")
            t = cox_table(part.drop(columns="model"), labels=labels, title=f"Cox regression of {endpoint_name(spec.endpoint).lower()}")
            items.append(TableItem(f"cox_{spec.endpoint}_{i}", Table(t.frame, t.display, t.title, tuple(notes))))
    return items


# ---------------------------------------------------------------- kinetics, AE, correlations


def term_labels(covariates: Sequence[str], terms: Sequence[str]) -> dict[str, str]:
    """Readable Cox term names: "disease_groupB-NHL" -> "disease group: B-NHL", "age" -> "age"."""
    out = {}
    for term in terms:
        var = next((c for c in sorted(covariates, key=len, reverse=True) if term.startswith(c)), None)
        if var is None:
            out[term] = term.replace("_", " ")
        elif term == var:
            out[term] = var.replace("_", " ")
        else:
            out[term] = f"{var.replace('_', ' ')}: {term[len(var):]}"
    return out


def analysis_name(name: str) -> str:
    """"biomarkers:training" -> "Biomarkers (training)", "outcome_class" -> "Outcome class"."""
    head, _, rest = name.partition(":")
    text = head.replace("_", " ").capitalize()
    return f"{text} ({rest.replace('_', ' ')})" if rest else text


def kinetics_section(inp: _Input) -> list[Item]:
    from cartscope.analysis.analyses._context import float_days, rebase
    from cartscope.report.figures import car_kinetics_figure, cytokine_course_figure

    items: list[Item] = []
    ks = inp.table("kinetics_summary")
    if ks is not None:
        items.append(TableItem("kinetics_summary", grid_table(
            ks.assign(rng=[f"{_sig(a)}\u2013{_sig(b)}" for a, b in zip(ks["min"], ks["max"])],
                      parameter=ks["parameter"].astype(str).str.replace("_", " ")),
            [("infusion_no", "Infusion", _int), ("measure", "Measure", _text), ("parameter", "Parameter", _text),
             ("n", "n", _int), ("median", "Median", _sig), ("rng", "Range", _text)],
            "CAR-T expansion and persistence",
            ("Cmax, peak level; Tmax, day of the peak; AUC0-28, area under the curve over days 0-28 "
             "(linear trapezoids).",))))
    cs = inp.table("cytokine_summary")
    if cs is not None:
        items.append(TableItem("cytokine_summary", grid_table(
            cs.assign(group=cs["group"].astype(str).map(_group_label),
                      rng=[f"{_sig(a)}\u2013{_sig(b)}" for a, b in zip(cs["min"], cs["max"])],
                      parameter=cs["parameter"].astype(str).str.replace("_", " ")),
            [("analyte", "Analyte", _text), ("group", "Group", _text), ("parameter", "Parameter", _text),
             ("n", "n", _int), ("median", "Median", _sig), ("rng", "Range", _text)],
            "Cytokine peaks")))
    if inp.cohort is None:
        items.append(NoteItem("The kinetics courses need the patient-level cohort; the report was "
                              "written from the results alone.", "missing"))
        return items
    index_day = inp.results.endpoints.set_index("patient_id")["index_day"]
    if "kinetics" in inp.cohort.present and not inp.cohort.kinetics.empty:
        kin = float_days(rebase(inp.cohort.kinetics, index_day))
        present = set(kin["measure"].astype(str))
        measures = [m for m in (inp.protocol.kinetics_measure, "cd19_car_copies", "cd22_car_copies") if m in present]
        if measures:
            fig = car_kinetics_figure(kin, measures=tuple(measures))
            items.append(FigureItem("car_kinetics", fig, "CAR transgene levels after the index infusion "
                                    "(log scale): patients as thin lines, median and interquartile band."))
    if "labs" in inp.cohort.present and not inp.cohort.labs.empty:
        labs = inp.cohort.labs
        labs = labs[labs["role"].astype(object) != "healthy_donor"] if "role" in labs else labs
        labs = float_days(rebase(labs, index_day))
        names = set(labs["analyte"].astype(str).str.lower().str.replace("-", "").str.replace("_", ""))
        analytes = tuple(a for a, key in (("IL-6", "il6"), ("Ferritin", "ferritin")) if key in names)
        if analytes and labs["day"].between(0, 30).sum() > 0:
            groups = inp.results.endpoints.set_index("patient_id")["outcome_class"]
            groups = groups[groups.isin(["NR/ER", "durable"])]
            fig = cytokine_course_figure(labs, analytes=analytes,
                                         groups=groups if groups.nunique() > 1 else None)
            items.append(FigureItem("cytokine_course", fig, "Serum cytokine courses over the first 30 days "
                                    "(log scale), median and interquartile band per group."))
    return items


def ae_section(inp: _Input) -> list[Item]:
    ae = inp.table("ae_table")
    if ae is None:
        return [NoteItem("No adverse-event grades.", "missing")]
    items: list[Item] = []
    for g in _group_order(ae["group"]):
        part = ae[ae["group"].astype(str) == g]
        n = int(part["n"].iloc[0])
        label = "all patients" if g == "all" else g
        t = ae_table(part, title=f"Adverse events by CTCAE grade, {label} (n={n})")
        items.append(TableItem(f"ae_{g.replace(' ', '_')}", t))
    return items


def infusion_section(inp: _Input) -> list[Item]:
    ic = inp.table("infusion_comparison")
    if ic is None:
        return [NoteItem("No infusion comparison.", "missing")]
    frame = ic.assign(quantity=ic["quantity"].astype(str).str.replace("_", " "),
                      rng=[("" if _missing(a) else f"{_sig(a)}\u2013{_sig(b)}") for a, b in zip(ic["min"], ic["max"])])
    items: list[Item] = [TableItem("infusion_comparison", grid_table(
        frame, [("quantity", "Quantity", _text), ("label", "Infusion", _text), ("n", "n", _int),
                ("median", "Median", _sig), ("rng", "Range", _text), ("p_value", "p", _pval), ("test", "Test", _text)],
        "First vs second infusion"))]
    bca = inp.table("bca_by_infusion")
    if bca is not None:
        items.append(TableItem("bca_by_infusion", grid_table(
            bca, [("patient_id", "Patient", _text), ("infusion_no", "Infusion", _int), ("bca", "B-cell aplasia", _text),
                  ("bca_duration_months", "Duration, months", _num(1)), ("censored", "Ongoing", _text),
                  ("reason", "Note", _text)],
            "B-cell aplasia after each infusion")))
    return items


def correlations_section(inp: _Input) -> list[Item]:
    corr = inp.table("correlations")
    if corr is None:
        return [NoteItem("No correlation could be computed.", "missing")]
    return [TableItem("correlations", _corr_table(corr, "Correlations"))]


# ---------------------------------------------------------------- exclusions


def exclusions_section(inp: _Input) -> list[Item]:
    ex = inp.results.exclusions
    n = len(inp.results.endpoints)
    if ex.empty:
        return [FlowItem(n, ()), NoteItem("No patient was left out of any analysis.")]
    flows = []
    for analysis in dict.fromkeys(ex["analysis"].astype(str)):
        part = ex[ex["analysis"].astype(str) == analysis]
        reasons = part.groupby("reason", sort=True)["patient_id"].nunique()
        flows.append((analysis_name(analysis), int(part["patient_id"].nunique()),
                      tuple((str(r), int(k)) for r, k in reasons.items())))
    items: list[Item] = [FlowItem(n, tuple(flows))]
    items.append(TableItem("exclusions", grid_table(
        ex.assign(analysis=ex["analysis"].astype(str).map(analysis_name)), [("patient_id", "Patient", _text), ("analysis", "Analysis", _text), ("reason", "Reason", _text)],
        "Every patient left out of an analysis, with the reason")))
    return items


BUILDERS: dict[str, Callable[[_Input], list[Item]]] = {
    "cohort": cohort_section,
    "response": response_section,
    "course": course_section,
    "relapse_timing": relapse_section,
    "survival": survival_section,
    "competing_risks": competing_section,
    "toxicity": toxicity_section,
    "kinetics": kinetics_section,
    "biomarkers": biomarker_section,
    "validation": validation_section,
    "cox": cox_section,
    "ae_table": ae_section,
    "infusion_comparison": infusion_section,
    "correlations": correlations_section,
    "exclusions": exclusions_section,
}


def section_order(sections: Sequence[str]) -> list[str]:
    """The protocol's sections with the patient course (swimmer plot) after response."""
    order = list(sections)
    anchor = "response" if "response" in order else "cohort" if "cohort" in order else None
    order.insert(order.index(anchor) + 1 if anchor else 0, "course")
    return order


def build_sections(results: Results, cohort: Cohort | None = None) -> list[Section]:
    """One :class:`Section` per protocol section (plus the patient course), protocol order."""
    inp = _Input(results, cohort)
    out = []
    for key in section_order(results.protocol.sections):
        title = SECTION_TITLES.get(key, key.replace("_", " ").capitalize())
        notes = tuple(f"{k.split(':', 1)[1].replace(':', ', ')}: {why}" for k, why in results.skipped.items()
                      if k.startswith(f"{key}:"))
        if key in results.skipped:
            out.append(Section(key, title, skipped=results.skipped[key], notes=notes))
            continue
        if key != "course" and key not in results.sections:
            out.append(Section(key, title, skipped="the section did not run", notes=notes))
            continue
        out.append(Section(key, title, tuple(BUILDERS[key](inp)), notes=notes))
    return out


__all__ = ["BUILDERS", "SECTION_TITLES", "build_sections", "endpoint_name", "grid_table", "section_order"]

