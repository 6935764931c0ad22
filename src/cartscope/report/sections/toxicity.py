"""Toxicity: CRS and ICANS grades (highest ASTCT grade per patient) and their treatment."""

from __future__ import annotations

from cartscope.report.items import Item, TableItem
from cartscope.report.sections._base import SectionInput, group_label, group_order
from cartscope.report.tables.base import INDENT, Table, string_grid


def toxicity_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    grades = inp.table("toxicity_grades")
    if grades is not None:
        groups = group_order(grades["group"])
        grid = []
        for tox in dict.fromkeys(grades["toxicity"].astype(str)):
            sub = grades[grades["toxicity"].astype(str) == tox]
            grid.append([inp.labels.text(tox) if tox.islower() else tox] + [""] * len(groups))
            for grade in sorted(dict.fromkeys(sub["grade"]), key=lambda g: (str(g) not in "012345", str(g))):
                row = [f"{INDENT}Grade {grade}"]
                for g in groups:
                    hit = sub[(sub["group"].astype(str) == g) & (sub["grade"] == grade)]
                    row.append(inp.fmt.n_pct(int(hit["n"].iloc[0]), int(hit["evaluable"].iloc[0]))
                               if len(hit) else "not assessed")
                grid.append(row)
        totals = {g: int(grades.loc[grades["group"].astype(str) == g, "evaluable"].max()) for g in groups}
        header = ["Toxicity, ASTCT grade"] + [f"{group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("toxicity_grades", Table(
            grades, string_grid(grid, header), "Cytokine release syndrome and ICANS",
            ("Highest ASTCT consensus grade per patient (Lee et al. 2019), n (%) of the patients "
             "with daily toxicity observations.",))))
    treat = inp.table("toxicity_treatment")
    if treat is not None:
        groups = group_order(treat["group"])
        grid = []
        for t in dict.fromkeys(treat["treatment"].astype(str)):
            row = [t[:1].upper() + t[1:]]
            for g in groups:
                hit = treat[(treat["group"].astype(str) == g) & (treat["treatment"].astype(str) == t)]
                row.append(inp.fmt.n_pct(int(hit["n"].iloc[0]), int(hit["patients"].iloc[0])) if len(hit) else "")
            grid.append(row)
        totals = {g: int(treat.loc[treat["group"].astype(str) == g, "patients"].max()) for g in groups}
        header = ["Treatment"] + [f"{group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("toxicity_treatment", Table(treat, string_grid(grid, header),
                                                           "Treatment of CRS and ICANS", ("n (%) of patients.",))))
    return items
