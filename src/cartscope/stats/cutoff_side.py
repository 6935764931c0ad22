"""The test-positive side of a ROC cut-off: one rule for every reader of a cut-off.

pROC's ``direction`` names the order of the two classes, not the side of the cut-off that
is called positive, and reading it as a comparison operator inverts the rule:

* ``direction="<"`` (controls < cases: the cases have the higher values): a value is test
  positive when ``value >= threshold``;
* ``direction=">"`` (controls > cases: the cases have the lower values): test positive when
  ``value <= threshold``.

This is pROC's rule (``coords``, ``roc.utils.thresholds``; cartscope.stats.roc follows it), so
the counts of :meth:`cartscope.stats.roc.RocResult.at` are the counts of this split. A value on
the threshold itself belongs to the positive side; pROC thresholds are midpoints between
observed values, so on the data they were chosen from no value lies on them.

The analysis (Kaplan-Meier by the cut-off, the frozen validation split), the report tables,
figures and methods text, and the patient page all take the side, the operator and the words
from here, so they cannot disagree.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Side = Literal["high", "low"]

_OPERATOR = {"<": ">=", ">": "<="}
_PRINTED = {">=": "\u2265", "<=": "\u2264", ">": ">", "<": "<"}
_NEGATED = {">=": "<", "<=": ">"}


def _check(direction: object) -> str:
    d = str(direction)
    if d not in _OPERATOR:
        raise ValueError(f"a ROC direction is '<' (cases higher) or '>' (cases lower); got {direction!r}")
    return d


def positive_operator(direction: object) -> str:
    """The comparison that makes a value test positive: ">=" for direction "<", "<=" for ">"."""
    return _OPERATOR[_check(direction)]


def negative_operator(direction: object) -> str:
    """The comparison of the test-negative side: "<" for direction "<", ">" for ">"."""
    return _NEGATED[positive_operator(direction)]


def positive_side(direction: object) -> Side:
    """"high" when the cases have the higher values (direction "<"), else "low"."""
    return "high" if _check(direction) == "<" else "low"


def is_test_positive(values: ArrayLike, threshold: float, direction: object) -> NDArray[np.bool_]:
    """True where ``values`` lie on the test-positive side of ``threshold`` (NaN: False)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return (v >= threshold) if positive_side(direction) == "high" else (v <= threshold)


def printed_operator(operator: str, *, unicode: bool = True) -> str:
    """">=" as "≥" and "<=" as "≤" (``unicode=False`` keeps the ASCII spelling)."""
    return _PRINTED[operator] if unicode else operator


def positive_condition(marker: str, threshold_text: str, direction: object, *, unicode: bool = True) -> str:
    """"MIP3a ≤ 4.703": the condition under which a value is test positive."""
    return f"{marker} {printed_operator(positive_operator(direction), unicode=unicode)} {threshold_text}"


def negative_condition(marker: str, threshold_text: str, direction: object, *, unicode: bool = True) -> str:
    """"MIP3a > 4.703": the condition of the test-negative side."""
    return f"{marker} {printed_operator(negative_operator(direction), unicode=unicode)} {threshold_text}"


def cutoff_rule(marker: str, threshold_text: str, direction: object, case_label: str, *,
                unicode: bool = True) -> str:
    """"NR/ER predicted when MIP3a ≤ 4.703": what a positive test predicts, in words."""
    return f"{case_label} predicted when {positive_condition(marker, threshold_text, direction, unicode=unicode)}"


__all__ = ["cutoff_rule", "is_test_positive", "negative_condition", "negative_operator", "positive_condition",
           "positive_operator", "positive_side", "printed_operator"]
