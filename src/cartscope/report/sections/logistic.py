"""Logistic regression (kind ``logistic``): one OR table per analysis and group.

The table is :func:`cartscope.report.tables.logistic.logistic_table` (univariable and
multivariable OR with CI and p side by side); its footnotes add the number of patients and
events per model and the fit's own warnings (separation, Firth's penalised likelihood,
infinite profile limits). Computes nothing.
"""

from __future__ import annotations

from cartscope.report.items import Item, TableItem
from cartscope.report.sections._base import SectionInput
from cartscope.report.tables.base import Table
from cartscope.report.tables.logistic import logistic_table


def logistic_section(inp: SectionInput) -> list[Item]:
    frame = inp.table("logistic")
    if frame is None:
        return []
    items: list[Item] = []
    for (aid, group), part in frame.groupby(["analysis", "group"], sort=False):
        outcome = inp.labels.text(str(part["outcome"].iloc[0]))
        level = _level(inp, str(aid))
        where = "" if str(group) in ("", "all", "All") else f", {group}"
        t = logistic_table(part, labels={str(v): inp.labels.text(str(v)) for v in part["term"].unique()},
                           p_format=inp.fmt.p, level=level,
                           title=f"Logistic regression of {outcome}{where}")
        notes = list(t.footnotes)
        sizes = part.drop_duplicates("model")
        notes.append("; ".join(f"{m}: n = {int(n)}, events = {int(e)}" for m, n, e
                               in zip(sizes["model"], sizes["n"], sizes["events"])) + ".")
        if "note" in part:
            warned = sizes[sizes["note"].notna() & (sizes["note"].astype(str) != "")]
            notes.extend(f"{m}: {w}." for m, w in zip(warned["model"], warned["note"].astype(str)))
        key = f"logistic_{aid}" + (f"_{group}" if where else "")
        items.append(TableItem(key.replace(" ", "_"), Table(t.frame, t.display, t.title, tuple(notes))))
    return items


def _level(inp: SectionInput, aid: str) -> float:
    plan = getattr(inp.results, "plan", None)
    for spec in getattr(plan, "analyses", ()):
        if spec.id == aid:
            return float((getattr(spec, "options", {}) or {}).get("level", 0.95))
    return 0.95
