"""Adverse events: worst CTCAE grade per patient and term, over the patients assessed."""

from __future__ import annotations

import pandas as pd

from cartscope.report.items import Item, NoteItem, TableItem
from cartscope.report.sections._base import SectionInput, group_order
from cartscope.report.tables import ae_table
from cartscope.report.tables.base import Table
from cartscope.report.toxicity_methods import grade_provenance

NOT_ASSESSED = "not assessed"


def ae_section(inp: SectionInput) -> list[Item]:
    ae = inp.table("ae_table")
    if ae is None:
        return [NoteItem("No adverse-event grades.", "missing")]
    items: list[Item] = []
    for g in group_order(ae["group"]):
        part = ae[ae["group"].astype(str) == g].reset_index(drop=True)
        n_all = int(part["patients"].iloc[0]) if "patients" in part else int(part["n"].iloc[0])
        assessed = part["n_evaluable"] if "n_evaluable" in part else part["n"]
        frame = part.drop(columns=[c for c in part.columns if c.endswith("_pct")]).assign(n=assessed.astype(int))
        label = "all patients" if g == "all" else g
        t = ae_table(frame, title=f"Adverse events by CTCAE grade, {label} (n={n_all})",
                     pct_decimals=inp.fmt.pct_decimals)
        display = t.display.copy()
        display.insert(1, "Assessed, n", [str(int(a)) for a in assessed])
        never = [i for i, a in enumerate(assessed) if int(a) == 0]
        for i in never:
            for col in display.columns[2:]:
                display.iat[i, display.columns.get_loc(col)] = NOT_ASSESSED
        notes = (f"% of the patients assessed for each event (at least one gradable measurement); "
                 f"{NOT_ASSESSED}: no patient had the measurement. Blank: no patient had the grade.",
                 *_crs_note(part))
        items.append(TableItem(f"ae_{g.replace(' ', '_')}", Table(t.frame, display, t.title, notes)))
    return items


def _crs_note(part: pd.DataFrame) -> tuple[str, ...]:
    """Where the CRS row's ASTCT grades came from (daily-graded / recorded, with counts)."""
    crs = part[part["term"].astype(str) == "crs"]
    if crs.empty or "recorded" not in crs:
        return ()
    r = crs.iloc[0]
    src = pd.DataFrame({"toxicity": ["CRS"], "graded_daily": [int(r["graded_daily"])], "recorded": [int(r["recorded"])],
                        "no_grade": [int(r["patients"] - r["graded_daily"] - r["recorded"]) if "patients" in crs else 0]})
    said = grade_provenance(src, "CRS")
    return (f"Cytokine release syndrome: ASTCT grade {said}.",) if said else ()
