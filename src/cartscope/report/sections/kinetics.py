"""Cellular and cytokine kinetics: expansion and persistence parameters, cytokine peaks,
the CAR transgene courses and the cytokine courses."""

from __future__ import annotations

import math

from cartscope.report.items import FigureItem, Item, NoteItem, TableItem, recipe
from cartscope.report.labels import analyte_label
from cartscope.report.sections._base import SectionInput, grid_table, group_label, integer, text


def _window_text(plan, name: str | None) -> tuple[str, tuple[float, float]]:
    """The caption words and the days shown of a cytokines analysis' window (default 0-30)."""
    spec = plan.windows.get(name) if name else None
    if spec is None:
        return "days 0\u201330 after the index infusion", (0.0, 30.0)
    end = spec.end if spec.end is not None else 30.0
    which = "the index infusion" if spec.infusion == "index" else f"infusion {spec.infusion}"
    stop = ", up to the next infusion" if spec.until_next_infusion else ""
    title = f" ({spec.title})" if spec.title else ""
    return (f"days {spec.start:g}\u2013{end:g} after {which}{stop}{title}", (float(spec.start), float(end)))


def _levels_of(inp: SectionInput, aid: str) -> dict[str, list[str]]:
    """The ``by`` variable of each group level of analysis ``aid``, from its ARD rows."""
    ard = getattr(inp.results, "ard", None)
    out: dict[str, list[str]] = {}
    if ard is None or not len(ard):
        return out
    rows = ard[(ard["analysis"].astype(str) == aid) & (ard["group1"].astype(str) != "")]
    for by, level in zip(rows["group1"].astype(str), rows["group1_level"].astype(str)):
        if level not in out.setdefault(by, []):
            out[by].append(level)
    return out


def _group_names(inp: SectionInput, frame) -> list[str]:
    """The ``group`` column of a cytokines table in words: "All patients", or the ``by``
    variable with its level ("CRS grade >= 3: yes") when the level alone would not say it."""
    from cartscope.report.sections.compare import _level_text

    out = []
    owners = {}
    for aid in dict.fromkeys(frame["analysis"].astype(str)) if "analysis" in frame else ():
        owners[aid] = {lv: by for by, levels in _levels_of(inp, aid).items() for lv in levels}
    aids = frame["analysis"].astype(str) if "analysis" in frame else [""] * len(frame)
    for aid, g in zip(aids, frame["group"].astype(str)):
        by = owners.get(aid, {}).get(g)
        out.append(group_label(g) if by is None or g == "all" else
                   f"{inp.labels(by, False)}: {_level_text(g, by)}")
    return out


def cytokine_figures(inp: SectionInput) -> list[Item]:
    """One course figure per ``cytokines`` analysis of the plan and per ``by`` variable, from
    the analysis' ``cytokine_course`` table: its analytes (panels in the plan's order), its
    window and its groups; captions name the analysis' population, window and groups."""
    course = inp.table("cytokine_course")
    plan = getattr(inp.results, "plan", None)
    if course is None or plan is None:
        return []
    items: list[Item] = []
    for a in plan.analyses:
        if a.kind != "cytokines":
            continue
        rows = course[course["analysis"].astype(str) == a.id]
        if rows.empty:
            continue
        analytes = list(dict.fromkeys(rows["analyte"].astype(str)))
        order = [str(x) for x in (a.options.get("analytes") or ())]
        ranked = []
        for name in order:
            for member in plan.panels.get(name, (name,)):
                key = next((k for k in analytes if _same_analyte(k, member)), None)
                if key is not None and key not in ranked:
                    ranked.append(key)
        analytes = ranked + [k for k in analytes if k not in ranked]
        words, window = _window_text(plan, a.window)
        titles = {k: analyte_label(inp.labels, k) for k in analytes}
        units = {k: inp.labels.unit(k) for k in analytes}
        titles = {k: (t.rsplit(" (", 1)[0] if units.get(k) and t.endswith(f"({units[k]})") else t)
                  for k, t in titles.items()}
        pop = plan.populations.get(a.population) if a.population else None
        who = (pop.title or a.population) if pop is not None else "all patients"
        levels = _levels_of(inp, a.id)
        splits = [(by, levels.get(by, [])) for by in a.by] or [("", ["all"])]
        for by, groups in splits:
            groups = [g for g in groups if (rows["group"].astype(str) == g).any()] or ["all"]
            byword = inp.labels(by, False) if by else ""
            binary = set(groups) <= {"0", "1"}
            names = {g: (({'0': 'no', '1': 'yes'}[g] if binary else g) if by else "All patients") for g in groups}
            key = f"cytokine_course_{a.id}" + (f"_{by}" if by else "")
            split = f", by {byword}" if by else ""
            items.append(FigureItem(key, recipe(
                "figures.kinetics:cytokine_summary_figure", rows, analytes=tuple(analytes), groups=tuple(groups),
                group_labels=names, titles=titles, units=units, window=window, legend_title=byword or None),
                f"{a.title or 'Cytokine courses'}: {', '.join(titles[k] for k in analytes)} over {words} "
                f"in {who}{split} (log scale): daily median and interquartile band on days with at least 3 "
                "patients sampled."))
    return items


def _same_analyte(key: str, name: str) -> bool:
    """The figure's analyte-name rule (:func:`cartscope.cohort.units.analyte_name_key`), or the
    same name written with other case or separators."""
    from cartscope.cohort.units import analyte_name_key

    norm = lambda x: str(x).lower().replace("-", "").replace("_", "").replace(" ", "")  # noqa: E731
    return norm(key) == norm(name) or analyte_name_key(key) == analyte_name_key(name)


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
            cs.assign(group=_group_names(inp, cs),
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
    planned = cytokine_figures(inp)
    if planned:  # what the plan's cytokines analyses ask: their analytes, window and groups
        items += planned
    elif "labs" in inp.cohort.present and not inp.cohort.labs.empty:
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
