"""Relapse timing: relapses per 6-month interval and the target antigen at relapse."""

from __future__ import annotations

from cartscope.report.items import FigureItem, Item, NoteItem, TableItem, recipe
from cartscope.report.sections._base import SectionInput, group_label, group_order
from cartscope.report.tables import relapse_timing_table
from cartscope.report.tables.base import INDENT, Table, string_grid


def relapse_section(inp: SectionInput) -> list[Item]:
    ep = inp.results.endpoints
    group = inp.protocol.subgroups if inp.protocol.subgroups in ep.columns else None
    if "relapse_bin" not in ep or not ep["relapse_bin"].notna().any():
        return [NoteItem("No relapse was observed.", "note")]
    if group is not None:
        ep = ep.sort_values(group, kind="mergesort", na_position="last")
    items: list[Item] = [TableItem("relapse_timing", relapse_timing_table(ep, group=group,
                                                                         pct_decimals=inp.fmt.pct_decimals))]
    order = sorted(ep[group].dropna().astype(str).unique()) if group else None
    items.append(FigureItem("relapse_timing", recipe("figures.relapse:relapse_timing_figure", ep, group=group,
                                                     group_order=order),
                            "Relapses per 6-month interval after the index infusion"
                            + (f", by {inp.labels.text(group).lower()}." if group else ".")))
    ag = inp.table("relapse_antigen")
    if ag is not None:
        groups = group_order(ag["group"])
        keys = list(dict.fromkeys(zip(ag["antigen"].astype(str), ag["status"].astype(str))))
        grid = []
        for antigen in dict.fromkeys(k[0] for k in keys):
            grid.append([antigen] + [""] * len(groups))
            for a, status in keys:
                if a != antigen:
                    continue
                row = [INDENT + status]
                for g in groups:
                    sub = ag[(ag["group"].astype(str) == g) & (ag["antigen"].astype(str) == a)]
                    hit = sub[sub["status"].astype(str) == status]
                    row.append(inp.fmt.n_pct(int(hit["relapses"].iloc[0]) if len(hit) else 0,
                                             int(sub["relapses"].sum())))
                grid.append(row)
        totals = {g: int(ag.loc[ag["group"].astype(str) == g].groupby("antigen")["relapses"].sum().max())
                  for g in groups}
        header = ["Antigen at relapse"] + [f"{group_label(g)} (n={totals[g]})" for g in groups]
        items.append(TableItem("relapse_antigen", Table(ag, string_grid(grid, header),
                                                        "Target antigen status at relapse",
                                                        ("n (%) of relapses with the antigen tested.",))))
    return items
