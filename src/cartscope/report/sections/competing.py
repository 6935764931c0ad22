"""Competing risks: cumulative incidence figures with their risk tables, landmark
incidences and Gray's test."""

from __future__ import annotations

from typing import Any

from cartscope.report.items import FigureItem, Item, TableItem, recipe
from cartscope.report.sections._base import SectionInput, decimals, grid_table, group_label, integer, text
from cartscope.report.tables.formatting import fmt_estimate_ci

SHORT = {"relapse_nrm": "Relapse vs NRM", "failure": "Failure vs death without failure"}
ROW_NAMES = {"relapse_nrm": {1: "Relapse", 2: "NRM"}, "failure": {1: "Failure", 2: "Death"}}
"""Short cause names of the risk-table rows under the figures."""
TITLES = {"relapse_nrm": "Relapse and non-relapse mortality",
          "failure": "Treatment failure (no response or relapse) and death without failure"}


def _everyone(inp: SectionInput, analysis_id: str) -> str:
    """"All patients", or the title of the population analysis ``analysis_id`` ran on."""
    plan = getattr(inp.results, "plan", None)
    for a in getattr(plan, "analyses", ()) or ():
        if a.id == analysis_id and getattr(a, "population", None):
            spec = (getattr(plan, "populations", {}) or {}).get(a.population)
            title = getattr(spec, "title", "") or a.population
            return title[:1].upper() + title[1:]
    return "All patients"


def _figure_rows(risk: Any, coding: str, cif: Any) -> Any:
    """The ``cif_risk_table`` rows of the figure of ``coding`` (its groups, one split), or None."""
    if risk is None or not len(risk):
        return None
    part = risk[risk["coding"].astype(str) == coding]
    want = {"all"} if list(cif.groups) == [None] else {str(g) for g in cif.groups}
    for by in dict.fromkeys(part["by"].astype(str)):
        rows = part[part["by"].astype(str) == by]
        if set(rows["group"].astype(str)) == want:
            return rows.reset_index(drop=True)
    return None


def competing_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    labels_tab = inp.table("cif_landmarks")
    gray_tab = inp.table("gray_tests")
    risk_tab = inp.table("cif_risk_table")
    for name in ("relapse_nrm", "failure"):
        cif = inp.obj(f"cif/{name}")
        if cif is None:
            continue
        labels: dict[Any, str] = {}
        if labels_tab is not None:
            for _, r in labels_tab[labels_tab["coding"].astype(str) == name].iterrows():
                labels[r["cause"]] = str(r["cause_label"])
        gray = {c: inp.obj(f"gray/{name}/{c}") for c in cif.causes if inp.obj(f"gray/{name}/{c}") is not None}
        p_texts = {c: inp.fmt.p_text(g.p_value) for c, g in gray.items()}
        aid = str(labels_tab["analysis"].iloc[0]) if labels_tab is not None and "analysis" in labels_tab else ""
        risk = _figure_rows(risk_tab, name, cif)
        fig = recipe("figures.cif:cif_figure", cif,
                     cause_labels={k: v[:1].upper() + v[1:] for k, v in labels.items()} or None,
                     cause_short=ROW_NAMES[name], risk_table=risk,
                     group_names={"all": _everyone(inp, aid)},
                     gray=gray or None, p_texts=p_texts or None)
        who = _everyone(inp, aid)
        caption = f"Cumulative incidence of {TITLES[name].lower()}" + ("" if who == "All patients" else
                                                                        f", population {who}") + " (Aalen-Johansen)"
        caption += ", with Gray's test across groups" if gray else ""
        if risk is not None:
            caption += ("; under the plot the number at risk and the cumulative number of events of each cause"
                        + (" per group" if len(cif.groups) > 1 else ""))
        caption += "."
        items.append(FigureItem(f"cif_{name}", fig, caption))
    if labels_tab is not None:
        frame = labels_tab.assign(
            coding=labels_tab["coding"].astype(str).map(lambda c: SHORT.get(c, c)),
            group=[_everyone(inp, str(a)) if str(g) == "all" else group_label(g) for a, g in
                   zip(labels_tab["analysis"] if "analysis" in labels_tab else [""] * len(labels_tab),
                       labels_tab["group"].astype(str))],
            est=[fmt_estimate_ci(100 * e, 100 * lo, 100 * hi, inp.fmt.pct_decimals) for e, lo, hi in
                 zip(labels_tab["estimate"], labels_tab["lower"], labels_tab["upper"])])
        items.append(TableItem("cif_landmarks", grid_table(
            frame, [("coding", "Competing-risks model", text), ("cause_label", "Cause", text),
                    ("group", "Group", text), ("month", "Month", decimals(0)),
                    ("est", "Cumulative incidence, % (95% CI)", text)],
            "Cumulative incidence at landmark times",
            ("Aalen-Johansen estimates; variance as cmprsk::cuminc, log-log intervals. NRM, non-relapse "
             "mortality; failure, no response or relapse.",))))
    if gray_tab is not None:
        frame = gray_tab.assign(coding=gray_tab["coding"].astype(str).map(lambda c: SHORT.get(c, c)))
        items.append(TableItem("gray_tests", grid_table(
            frame, [("coding", "Competing-risks model", text), ("cause_label", "Cause", text),
                    ("statistic", "Statistic", decimals(2)), ("df", "df", integer), ("p_value", "p", inp.pval),
                    ("note", "Note", text)],
            "Gray's test of equal cumulative incidence across groups")))
    return items
