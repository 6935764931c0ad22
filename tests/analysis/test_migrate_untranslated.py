"""An old section-form protocol never loses a listed section: a section the migration has no
analysis for (the kinds that exist only in the plan form, or a section missing the part of the
protocol it needs) is an error naming it, from the file reader and from ``run_study`` alike."""

from __future__ import annotations

import pytest

from cartscope.analysis.plan.check import PlanError, parse_plan
from cartscope.analysis.protocol import parse_section_protocol
from cartscope.analysis.study import as_plan


def test_plan_only_kinds_listed_as_sections_are_errors_with_their_place():
    with pytest.raises(PlanError) as err:
        parse_plan({"name": "x", "sections": ["cohort", "compare", "icaht"]}, "old.yaml")
    assert err.value.problems == [
        "sections[1]: section 'compare' exists only in the plan form: write 'version: 1' and an analysis of "
        "kind 'compare' (see docs/protocol.md)",
        "sections[2]: section 'icaht' exists only in the plan form: write 'version: 1' and an analysis of "
        "kind 'icaht' (see docs/protocol.md)",
    ]


def test_a_section_without_the_block_it_needs_is_an_error():
    with pytest.raises(PlanError) as err:
        parse_plan({"name": "x", "sections": ["cohort", "validation"]}, "old.yaml")
    assert err.value.problems == ["sections[1]: section 'validation' needs the biomarkers: block of the protocol"]
    with pytest.raises(PlanError) as err:
        parse_plan({"name": "x", "sections": ["cox"]}, "old.yaml")
    assert err.value.problems == ["sections[0]: section 'cox' needs the cox: models of the protocol"]


def test_run_study_refuses_the_same_protocol_object():
    old = parse_section_protocol({"name": "x", "sections": ["cohort", "logistic"]}, "old.yaml")
    with pytest.raises(PlanError, match=r"sections\[1\]: section 'logistic' exists only in the plan form"):
        as_plan(old)


def test_translated_sections_still_migrate():
    plan = parse_plan({"name": "x", "sections": ["cohort", "response", "exclusions"]}, "old.yaml").plan
    assert [a.kind for a in plan.analyses] == ["describe", "response", "exclusions"]
