"""Result records of the ROC analysis: AUC intervals, Youden cut-offs, curves, operating points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray


def _out(values: NDArray[Any], one_d: bool) -> Any:
    if one_d:
        item = values[0]
        return item.item() if hasattr(item, "item") else item
    return values


@dataclass(frozen=True, eq=False)
class AucCI:
    """AUC with its confidence interval; scalars for one marker, arrays for a panel."""

    auc: Any
    lower: Any
    upper: Any
    se: Any
    method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "auc": np.atleast_1d(self.auc),
                "lower": np.atleast_1d(self.lower),
                "upper": np.atleast_1d(self.upper),
                "se": np.atleast_1d(self.se),
                "method": self.method,
                "level": self.level,
            }
        )


@dataclass(frozen=True, eq=False)
class YoudenCutoff:
    """Threshold maximising Youden's J = sensitivity + specificity - 1.

    When several thresholds share the maximal J (pROC ``coords(..., "best")`` returns all of
    them, in its curve order), the first of pROC's list is reported: the optimum with the
    highest sensitivity, i.e. the smallest threshold for direction "<" and the largest for ">".
    ``n_optimal`` says how many tied; ``all_thresholds`` lists them in pROC's order for a single
    marker (empty for a panel).
    """

    threshold: Any
    sensitivity: Any
    specificity: Any
    youden: Any
    n_optimal: Any
    direction: Any
    all_thresholds: tuple[float, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "threshold": np.atleast_1d(self.threshold),
                "sensitivity": np.atleast_1d(self.sensitivity),
                "specificity": np.atleast_1d(self.specificity),
                "youden": np.atleast_1d(self.youden),
                "n_optimal": np.atleast_1d(self.n_optimal),
                "direction": np.atleast_1d(self.direction),
            }
        )


@dataclass(frozen=True, eq=False)
class RocCurve:
    """All pROC thresholds with sensitivity and specificity (``coords(roc, "all")``)."""

    thresholds: NDArray[np.float64]
    sensitivity: NDArray[np.float64]
    specificity: NDArray[np.float64]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "threshold": self.thresholds,
                "sensitivity": self.sensitivity,
                "specificity": self.specificity,
            }
        )


@dataclass(frozen=True, eq=False)
class OperatingPoint:
    """Classification at a fixed threshold: counts, sensitivity, specificity, PPV, NPV and CIs.

    Each ``*_ci`` is a (lower, upper) pair from :func:`cartscope.stats.proportions.proportion_ci`
    (NaN when the denominator is 0, e.g. PPV when nobody is called positive).
    """

    threshold: Any
    direction: Any
    tp: Any
    fp: Any
    tn: Any
    fn: Any
    sensitivity: Any
    specificity: Any
    ppv: Any
    npv: Any
    sensitivity_ci: tuple[Any, Any]
    specificity_ci: tuple[Any, Any]
    ppv_ci: tuple[Any, Any]
    npv_ci: tuple[Any, Any]
    ci_method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        rows: dict[str, Any] = {
            "threshold": np.atleast_1d(self.threshold),
            "direction": np.atleast_1d(self.direction),
        }
        for name in ("tp", "fp", "tn", "fn"):
            rows[name] = np.atleast_1d(getattr(self, name))
        for name in ("sensitivity", "specificity", "ppv", "npv"):
            rows[name] = np.atleast_1d(getattr(self, name))
            lo, hi = getattr(self, f"{name}_ci")
            rows[f"{name}_lower"] = np.atleast_1d(lo)
            rows[f"{name}_upper"] = np.atleast_1d(hi)
        frame = pd.DataFrame(rows)
        frame["ci_method"] = self.ci_method
        frame["level"] = self.level
        return frame
