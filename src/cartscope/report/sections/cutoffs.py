"""How the report states a cut-off: its test-positive side from the one shared rule
(:mod:`cartscope.stats.cutoff_side`), the threshold in the report's number format, and the
words "NR/ER predicted when MIP3a ≤ 4.703" used by tables, figure legends and captions."""

from __future__ import annotations

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


def rule_text(inp: SectionInput, marker: str, cutoff: float, direction: Any) -> str:
    """"NR/ER predicted when MIP3a ≤ 4.703"."""
    return cutoff_rule(analyte_label(inp.labels, marker, unit=False), inp.fmt.cutoff(cutoff), direction, CASE_LABEL)


def km_curves_by_cutoff(inp: SectionInput, marker: str, cutoff: float, direction: Any,
                        above: Any, below: Any) -> dict[str, Any]:
    """The two Kaplan-Meier curves of a cut-off split, labelled by their condition, the
    test-positive side first: {"MIP3a ≤ 4.703 (NR/ER predicted)": below, "MIP3a > 4.703": above}."""
    name = analyte_label(inp.labels, marker, unit=False)
    c = inp.fmt.cutoff(cutoff)
    pos = f"{positive_condition(name, c, direction)} ({CASE_LABEL} predicted)"
    neg = negative_condition(name, c, direction)
    if positive_side(direction) == "high":
        return {pos: above, neg: below}
    return {pos: below, neg: above}
