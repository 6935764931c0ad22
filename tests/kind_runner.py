"""Run the analyses of one plan kind directly, without the study runner: each analysis of the
plan gets its own RunContext over one StudyRun, must have what it needs, and runs."""

from __future__ import annotations

import yaml

from cartscope.analysis.plan import Plan, RunContext
from cartscope.analysis.plan.context import StudyRun
from cartscope.analysis.plan.registry import Kind
from cartscope.clinical.endpoints import derive_endpoints


def run_kind(cohort, plan_yaml: str, kind: Kind) -> StudyRun:
    """The StudyRun after every analysis of ``plan_yaml`` has run as ``kind``."""
    plan = Plan.model_validate(yaml.safe_load(plan_yaml))
    study = StudyRun(cohort=cohort, plan=plan, endpoints=derive_endpoints(cohort, plan.endpoint_rules()))
    for spec in plan.analyses:
        rc = RunContext(study, spec, kind, kind.options.model_validate(spec.options))
        assert kind.needs(rc) == ""
        kind.run(rc)
    return study
