"""``protocol init`` writes toxicity analyses from whichever toxicity source the cohort has:
the daily sheet, the grades the centre recorded, both, or neither (then none)."""

from __future__ import annotations

import pytest
import yaml

from cartscope.analysis.plan.check import check_plan
from cartscope.analysis.plan.starter import has_toxicity, starter_plan
from cartscope.cohort.load import load_cohort
from hand_typed import write_registry


@pytest.mark.slow
@pytest.mark.parametrize(("sheet", "grades", "expected"), [
    (True, True, True), (False, True, True), (True, False, True), (False, False, False)])
def test_starter_plan_has_toxicity_from_either_source(tmp_path, sheet, grades, expected):
    cohort = load_cohort(write_registry(tmp_path / "r.xlsx", n=10, toxicity_sheet=sheet, recorded_grades=grades))
    assert has_toxicity(cohort) is expected
    text = starter_plan(cohort, "r")
    kinds = [a["kind"] for a in yaml.safe_load(text)["analyses"]]
    assert ("toxicity" in kinds) is expected
    if expected and not sheet:  # graded from the records alone: it checks as written
        assert not [p for p in check_plan(text, cohort, "r.yaml") if p.is_error]
