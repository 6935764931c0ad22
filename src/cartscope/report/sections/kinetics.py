"""Cellular and cytokine kinetics: expansion and persistence parameters, cytokine peaks,
the CAR transgene courses and the cytokine courses."""

from __future__ import annotations

import math

from cartscope.report.items import FigureItem, Item, NoteItem, TableItem, recipe
from cartscope.report.labels import analyte_label
from cartscope.report.sections._base import SectionInput, grid_table, group_label, integer, text


def kinetics_section(inp: SectionInput) -> list[Item]:
    from cartscope.analysis.analyses._context import float_days, rebase

    items: list[Item] = []
    ks = inp.table("kinetics_summary")
    if ks is not None:
        items.append(TableItem("kinetics_summary", grid_table(
            ks.assign(rng=[inp.fmt.range(a, b) for a, b in zip(ks["min"], ks["max"])],
                      measure=ks["measure"].astype(str).map(inp.labels),
                      parameter=ks["parameter"].astype(str).map(inp.labels)),
            [("infusion_no", "Infusion", integer), ("measure", "Measure", text), ("parameter", "Parameter", text),
             ("n", "n", integer), ("median", "Median", inp.est), ("rng", "Range", text)],
            "CAR-T expansion and persistence",
            ("Cmax, peak level; Tmax, day of the peak; AUC 0-28 d, area under the curve over days 0-28 "
             "(linear trapezoids), in the unit of the measure times days.",))))
    cs = inp.table("cytokine_summary")
    if cs is not None:
        items.append(TableItem("cytokine_summary", grid_table(
            cs.assign(group=cs["group"].astype(str).map(group_label),
                      analyte=cs["analyte"].astype(str).map(lambda a: analyte_label(inp.labels, a)),
                      rng=[inp.fmt.range(a, b) for a, b in zip(cs["min"], cs["max"])],
                      parameter=cs["parameter"].astype(str).map(inp.labels)),
            [("analyte", "Analyte", text), ("group", "Group", text), ("parameter", "Parameter", text),
             ("n", "n", integer), ("median", "Median", inp.est), ("rng", "Range", text)],
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
            titles = {m: inp.labels.text(m) for m in measures}
            items.append(FigureItem("car_kinetics", recipe("figures.kinetics:car_kinetics_figure", kin,
                                                           measures=tuple(measures), titles=titles),
                                    "CAR transgene levels after the index infusion (log scale): patients as "
                                    "thin lines, median and interquartile band."))
    if "labs" in inp.cohort.present and not inp.cohort.labs.empty:
        labs = inp.cohort.labs
        labs = labs[labs["role"].astype(object) != "healthy_donor"] if "role" in labs else labs
        labs = float_days(rebase(labs, index_day))
        names = set(labs["analyte"].astype(str).str.lower().str.replace("-", "").str.replace("_", ""))
        analytes = tuple(a for a, key in (("IL-6", "il6"), ("Ferritin", "ferritin")) if key in names)
        window = labs["day"].between(0, 30)
        if analytes and window.sum() > 0:
            last = int(math.ceil(float(labs.loc[window, "day"].max())))
            groups = inp.results.endpoints.set_index("patient_id")["outcome_class"]
            groups = groups[groups.isin(["NR/ER", "durable"])]
            units = {a: inp.labels.unit(a.lower().replace("-", "")) for a in analytes}
            items.append(FigureItem("cytokine_course", recipe(
                "figures.kinetics:cytokine_course_figure", labs, analytes=analytes,
                groups=groups if groups.nunique() > 1 else None, units=units, window=(0.0, float(last))),
                f"Serum cytokine courses over days 0\u2013{last} after the index infusion (log scale), median "
                "and interquartile band per group."))
    return items
