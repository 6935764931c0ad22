"""A plan with a ``logistic`` analysis gets its own report section: the OR table (univariable
and multivariable) and the methods sentence (lu2021 synthetic cohort, 47 B-ALL patients)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from cartscope.analysis.plan import Plan
from cartscope.analysis.presets import synthesize
from cartscope.analysis.study import run_study
from cartscope.report.methods import methods_paragraphs
from cartscope.report.sections import build_sections

PLAN = """
version: 1
name: response-predictors
variables:
  cr_by_28: {derive: response, by_day: 28}
analyses:
  - id: cr-predictors
    kind: logistic
    outcome: cr_by_28
    variables: [age, ph_positive]
"""


@pytest.fixture(scope="module")
def results():
    return run_study(synthesize("lu2021", seed=2023), Plan.model_validate(yaml.safe_load(PLAN)))


def test_logistic_section_shows_the_or_table(results) -> None:
    assert results.sections == ("logistic",)
    section = next(s for s in build_sections(results) if s.key == "logistic")
    assert section.title == "Logistic regression" and not section.skipped
    (item,) = section.items
    grid = item.table.display
    assert list(grid.columns[:3]) == ["Variable", "OR (95% CI), univariable", "p, univariable"]
    rows = results.tables["logistic"]
    multi = rows[(rows["model"] == "multivariable") & (rows["term"] == "age")].iloc[0]
    cell = grid.loc[grid["Variable"].str.lower() == "age", "OR (95% CI), multivariable"].iloc[0]
    assert cell.startswith(f"{multi['odds_ratio']:.2f} ({multi['ci_lower']:.2f}")
    assert np.isfinite(multi["odds_ratio"])
    assert any("multivariable: n = " in note for note in item.table.footnotes)


def test_methods_carry_the_logistic_sentence(results) -> None:
    text = " ".join(methods_paragraphs(results))
    assert ("Predictors of cr_by_28 were assessed by univariable and multivariable logistic regression"
            in text)
