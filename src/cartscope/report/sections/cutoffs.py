"""How the report states a cut-off: its test-positive side from the one shared rule
(:mod:`cartscope.stats.cutoff_side`), the threshold in the report's number format, and the
words "NR/ER predicted when MIP3a ≤ 4.703" used by tables, figure legends and captions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cartscope.report.labels import analyte_label
from cartscope.report.sections._base import SectionInput
from cartscope.stats.cutoff_side import (
    cutoff_rule,
    negative_condition,
    positive_condition,
    positive_operator,
    positive_side,
)

CASE_LABEL = "NR/ER"


def with_positive_side(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``positive_if`` (">=" or "<=") from its ROC ``direction`` column."""
    return frame.assign(positive_if=[positive_operator(d) for d in frame["direction"].astype(str)])


@dataclass(frozen=True)
class ScreenWords:
    """How captions and tables name a biomarker screen: its outcome ("NR/ER", "CRS grade >= 3"),
    the case and control groups ("NR/ER" / "durable"; "CRS grade >= 3 = 1" / "... = 0") and
    where it ran ("training cohort", "population B-ALL", "all patients")."""

    outcome: str = CASE_LABEL
    case: str = CASE_LABEL
    control: str = "durable"
    where: str = "training cohort"

    @property
    def versus(self) -> str:
        """"NR/ER vs durable remission" / "CRS grade >= 3 = 1 vs = 0"."""
        if self.outcome == CASE_LABEL:
            return "NR/ER vs durable remission"
        return f"{self.case} vs {self.control}"


def _where(inp: SectionInput, analysis_id: str, default: str) -> str:
    plan = getattr(inp.results, "plan", None)
    for a in getattr(plan, "analyses", ()) or ():
        if a.id == analysis_id:
            if not getattr(a, "population", None):
                return "all patients"
            spec = (getattr(plan, "populations", {}) or {}).get(a.population)
            title = getattr(spec, "title", "") or a.population
            return title if "cohort" in title.lower() else f"population {title}"
    return default


def screen_words(inp: SectionInput, screen: pd.DataFrame | None = None) -> ScreenWords:
    """The :class:`ScreenWords` of the plan's biomarker screen (its ``outcome`` column names the
    outcome variable; its ``analysis`` column the analysis, whose population is where it ran)."""
    screen = inp.table("biomarker_screen") if screen is None else screen
    bm = inp.protocol.biomarkers
    default = f"{getattr(bm, 'training', 'training')} cohort" if bm is not None else "training cohort"
    if screen is None or not len(screen):
        return ScreenWords(where=default)
    aid = str(screen["analysis"].iloc[0]) if "analysis" in screen else ""
    where = _where(inp, aid, default) if aid else default
    outcome = str(screen["outcome"].iloc[0]) if "outcome" in screen else "nr_er"
    if outcome == "nr_er":
        return ScreenWords(where=where)
    plan = getattr(inp.results, "plan", None)
    var = (getattr(plan, "variables", {}) or {}).get(outcome) if plan is not None else None
    label = getattr(var, "title", "") or inp.labels.text(outcome)
    return ScreenWords(label, f"{label} = 1", f"{label} = 0", where)


def rule_text(inp: SectionInput, marker: str, cutoff: float, direction: Any, case: str = CASE_LABEL) -> str:
    """"NR/ER predicted when MIP3a ≤ 4.703" (``case``: the screen's case group)."""
    return cutoff_rule(analyte_label(inp.labels, marker, unit=False), inp.fmt.cutoff(cutoff), direction, case)


def km_curves_by_cutoff(inp: SectionInput, marker: str, cutoff: float, direction: Any,
                        above: Any, below: Any, case: str = CASE_LABEL) -> dict[str, Any]:
    """The two Kaplan-Meier curves of a cut-off split, labelled by their condition, the
    test-positive side first: {"MIP3a ≤ 4.703 (NR/ER predicted)": below, "MIP3a > 4.703": above}."""
    name = analyte_label(inp.labels, marker, unit=False)
    c = inp.fmt.cutoff(cutoff)
    pos = f"{positive_condition(name, c, direction)} ({case} predicted)"
    neg = negative_condition(name, c, direction)
    if positive_side(direction) == "high":
        return {pos: above, neg: below}
    return {pos: below, neg: above}
