"""Comparison of infusions: quantities after the first and the second infusion, and B-cell
aplasia after each."""

from __future__ import annotations

from cartscope.report.items import Item, NoteItem, TableItem
from cartscope.report.sections._base import SectionInput, decimals, grid_table, integer, missing, text


def infusion_section(inp: SectionInput) -> list[Item]:
    ic = inp.table("infusion_comparison")
    if ic is None:
        return [NoteItem("No infusion comparison.", "missing")]
    frame = ic.assign(quantity=ic["quantity"].astype(str).map(inp.labels),
                      rng=[("" if missing(a) else inp.fmt.range(a, b)) for a, b in zip(ic["min"], ic["max"])])
    items: list[Item] = [TableItem("infusion_comparison", grid_table(
        frame, [("quantity", "Quantity", text), ("label", "Infusion", text), ("n", "n", integer),
                ("median", "Median", inp.est), ("rng", "Range", text), ("p_value", "p", inp.pval),
                ("test", "Test", text)],
        "First vs second infusion"))]
    bca = inp.table("bca_by_infusion")
    if bca is not None:
        items.append(TableItem("bca_by_infusion", grid_table(
            bca, [("patient_id", "Patient", text), ("infusion_no", "Infusion", integer), ("bca", "B-cell aplasia", text),
                  ("bca_duration_months", "Duration, months", decimals(1)), ("censored", "Ongoing", text),
                  ("reason", "Note", text)],
            "B-cell aplasia after each infusion")))
    return items
