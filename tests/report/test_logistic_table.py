"""The logistic regression report table and methods sentence (report/tables/logistic.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.plan import AnalysisSpec
from cartscope.report.tables.logistic import logistic_methods, logistic_table

ROWS = pd.DataFrame({
    "group": "all",
    "model": ["univariable: age", "univariable: tp53", "multivariable", "multivariable"],
    "term": ["age", "tp53mut", "age", "tp53mut"],
    "odds_ratio": [1.0312, 0.2, 1.0255, 0.0412],
    "ci_lower": [0.98, 0.051, 0.97, 0.0011],
    "ci_upper": [1.09, 0.79, 1.085, 0.52],
    "p_value": [0.21, 0.021, 0.38, 0.0004],
    "method": ["ML", "ML", "Firth", "Firth"],
})


def test_univariable_and_multivariable_columns() -> None:
    t = logistic_table(ROWS, labels={"tp53mut": "TP53 mutated"})
    grid = t.display
    assert list(grid.columns) == ["Variable", "OR (95% CI), univariable", "p, univariable",
                                  "OR (95% CI), multivariable", "p, multivariable"]
    assert grid.iloc[1, 0] == "TP53 mutated"
    assert grid.iloc[0, 1] == "1.03 (0.98\u20131.09)"
    assert grid.iloc[1, 3] == "0.04 (0.00\u20130.52)*"  # Firth-marked
    assert grid.iloc[1, 4] == "<0.001"
    assert any("Firth" in f for f in t.footnotes)
    np.testing.assert_array_equal(t.to_frame()["odds_ratio"], ROWS["odds_ratio"])


def test_no_firth_footnote_without_firth() -> None:
    t = logistic_table(ROWS.assign(method="ML"))
    assert not any("Firth" in f for f in t.footnotes) and not t.display.iloc[1, 3].endswith("*")


def test_methods_sentence() -> None:
    spec = AnalysisSpec.model_validate({"id": "cr", "kind": "logistic", "outcome": "cr_by_28",
                                        "variables": ["age"]})
    other = AnalysisSpec.model_validate({"id": "km", "kind": "km"})
    (text,) = logistic_methods([spec, other])
    assert "univariable and multivariable logistic regression" in text and "Firth" in text
    assert logistic_methods([spec], ran=[]) == []
