"""Response and outcome: ORR and NR/ER share with CIs, best overall response in clinical
order, and the outcome of every patient."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cartscope.report.items import Item, TableItem
from cartscope.report.sections._base import SectionInput, group_label, group_order
from cartscope.report.tables import response_table
from cartscope.report.tables.base import INDENT, Table, string_grid

RESPONSE_ORDER: tuple[str, ...] = ("MRD-negative CR", "CR", "CRi", "PR", "SD", "PD", "NR", "PD/NR")
"""Best overall response from the deepest to none (B-ALL: MRD-negative CR > CR > CRi > PR >
NR; Lugano 2014: CR > PR > SD > PD); levels outside the list follow in their given order."""


def response_levels(values: Any) -> list[str]:
    """The response levels of ``values`` in clinical order (see :data:`RESPONSE_ORDER`)."""
    seen = list(dict.fromkeys(str(v) for v in values))
    rank = {lev: i for i, lev in enumerate(RESPONSE_ORDER)}
    known = sorted((v for v in seen if v in rank), key=rank.__getitem__)
    return known + [v for v in seen if v not in rank]


def response_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    orr = inp.table("response_orr")
    cls = inp.table("outcome_classes")
    rows = []
    methods = set()
    if orr is not None:
        for _, r in orr.iterrows():
            rows.append({"outcome": "Overall response (ORR)", "group": group_label(r["group"]),
                         "x": r["responders"], "n": r["evaluable"], "lower": r["lower"], "upper": r["upper"]})
            methods.add(str(r["method"]))
    if cls is not None:
        for _, r in cls.iterrows():
            rows.append({"outcome": "NR/ER (no response or early relapse)", "group": group_label(r["group"]),
                         "x": r["nr_er"], "n": r["evaluable"], "lower": r["lower"], "upper": r["upper"]})
            methods.add(str(r["method"]))
    if rows:
        frame = pd.DataFrame(rows)
        order = [group_label(g) for g in group_order(
            [g for g in (orr if orr is not None else cls)["group"]])]
        frame["group"] = pd.Categorical(frame["group"], categories=order)
        frame = frame.sort_values(["group"], kind="mergesort").assign(group=lambda f: f["group"].astype(str))
        t = response_table(frame, title="Response and outcome class", pct_decimals=inp.fmt.pct_decimals,
                           ci_decimals=inp.fmt.pct_decimals)
        notes = (f"CI, confidence interval ({', '.join(sorted(methods))} method).",
                 "ORR among patients with a response assessment; NR/ER share among patients "
                 "evaluable for the NR/ER vs durable-remission split.")
        items.append(TableItem("response", Table(t.frame, t.display, t.title, notes)))
    bor = inp.table("response_bor")
    if bor is not None:
        groups = group_order(bor["group"])
        levels = response_levels(bor["bor"])
        totals = {g: int(bor.loc[bor["group"].astype(str) == g, "n"].sum()) for g in groups}
        grid = []
        for lev in levels:
            row = [lev]
            for g in groups:
                hit = bor[(bor["group"].astype(str) == g) & (bor["bor"].astype(str) == lev)]
                row.append(inp.fmt.n_pct(int(hit["n"].iloc[0]) if len(hit) else 0, totals[g]))
            grid.append(row)
        header = ["Best overall response"] + [f"{group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("best_response", Table(
            bor, string_grid(grid, header), "Best overall response",
            ("n (%) of patients with a response assessment; deepest response first "
             "(MRD-negative CR > CR > CRi > PR > SD > PD/NR).",))))
    out = inp.table("outcomes")
    if out is not None:
        groups = group_order(out["group"])
        levels = list(dict.fromkeys(out["outcome"].astype(str)))
        grid = []
        indented = False
        for lev in levels:
            if ": " in lev:
                indented = True
                label = INDENT + lev.split(": ", 1)[1]
            else:
                label = lev
            row = [label]
            for g in groups:
                hit = out[(out["group"].astype(str) == g) & (out["outcome"].astype(str) == lev)]
                row.append(str(int(hit["n"].iloc[0])) if len(hit) else "0")
            grid.append(row)
        totals = {g: int(out.loc[(out["group"].astype(str) == g) & ~out["outcome"].astype(str).str.contains(": "),
                                 "n"].sum()) for g in groups}
        header = ["Outcome"] + [f"{group_label(g)} (n={totals[g]})" for g in groups]
        notes = ("Indented rows give the reasons a patient is not evaluable.",) if indented else ()
        items.append(TableItem("outcomes", Table(out, string_grid(grid, header), "Outcome of every patient", notes)))
    return items
