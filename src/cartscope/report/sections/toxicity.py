"""Toxicity: CRS and ICANS grades (highest ASTCT grade per patient) and their treatment."""

from __future__ import annotations

import pandas as pd

from cartscope.report.items import Item, TableItem
from cartscope.report.sections._base import SectionInput, group_label, group_order
from cartscope.report.tables.base import INDENT, Table, string_grid
from cartscope.report.toxicity_methods import grade_provenance, overall_sources


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
            grades, string_grid(grid, header), "Cytokine release syndrome and ICANS", (_grades_note(inp),))))
    treat = inp.table("toxicity_treatment")
    if treat is not None:
        groups = group_order(treat["group"])
        grid = []
        for t in dict.fromkeys(treat["treatment"].astype(str)):
            row = [t[:1].upper() + t[1:]]
            for g in groups:
                hit = treat[(treat["group"].astype(str) == g) & (treat["treatment"].astype(str) == t)]
                row.append(_treated_cell(inp, hit.iloc[0]) if len(hit) else "")
            grid.append(row)
        size = treat["patients"] + (treat["not_recorded"] if "not_recorded" in treat else 0)
        totals = {g: int(size[treat["group"].astype(str) == g].max()) for g in groups}
        header = ["Treatment"] + [f"{group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("toxicity_treatment", Table(treat, string_grid(grid, header),
                                                           "Treatment of CRS and ICANS", _treatment_notes(treat))))
    return items


def _grades_note(inp: SectionInput) -> str:
    """Footnote of the grade table: the denominator and where the grades came from (counts)."""
    src = overall_sources(inp.results)
    said = [] if src is None else [f"{t} {s}" for t in ("CRS", "ICANS") if (s := grade_provenance(src, t))]
    return ("Highest ASTCT consensus grade per patient (Lee et al. 2019), n (%) of the patients with a grade"
            + (": " + "; ".join(said) if said else "") + ".")


def _treated_cell(inp: SectionInput, r: pd.Series) -> str:
    """"n (%)" over the patients whose use is recorded; "not recorded" when nobody's is."""
    if int(r["patients"]) == 0 and int(r.get("not_recorded", 0) or 0) > 0:
        return "not recorded"
    cell = inp.fmt.n_pct(int(r["n"]), int(r["patients"]))
    missing = int(r.get("not_recorded", 0) or 0)
    return f"{cell}; {missing} not recorded" if missing else cell


def _treatment_notes(treat: pd.DataFrame) -> tuple[str, ...]:
    """Footnote: the denominator and the sources the use was read from."""
    if "source" not in treat:
        return ("n (%) of patients.",)
    alls = treat[treat["group"].astype(str) == "all"] if (treat["group"].astype(str) == "all").any() else treat
    said = []
    for t in dict.fromkeys(alls["treatment"].astype(str)):
        src = ", ".join(dict.fromkeys(x for v in alls.loc[alls["treatment"].astype(str) == t, "source"]
                                      if isinstance(v, str) for x in v.split("; ") if x))
        said.append(f"{t}: {src or 'none'}")
    return ("n (%) of the patients whose treatment is recorded (a daily flag or a treatment event); "
            "not recorded: neither source covers the patient (listed under exclusions). Sources: "
            + "; ".join(said) + ".",)
