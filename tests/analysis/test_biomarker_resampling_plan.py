"""The ``biomarker_resampling`` kind through a plan on the jin2023 synthetic cohort: its table
holds, per analyte, what youden_bootstrap and permutation_test give on the same panel."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from cartscope.analysis.analyses import biomarker_resampling as kind_module
from cartscope.analysis.analyses.biomarkers import _analysis_set, panel_values
from cartscope.analysis.biomarkers.resampling import permutation_test, youden_bootstrap
from cartscope.analysis.plan import Plan, RunContext
from cartscope.analysis.plan.context import StudyRun
from cartscope.clinical.endpoints import derive_endpoints

PLAN = """
version: 1
name: resampling
analyses:
  - id: cutoff-intervals
    kind: biomarker_resampling
    timepoint: il6_peak
    analytes: [IL-6, ferritin, IL-10]
    n_boot: 200
    n_perm: 500
    seed: 11
"""

KIND = kind_module.KINDS[0]


@pytest.mark.slow
def test_kind_table_is_the_resampling_functions_output() -> None:
    from cartscope.analysis.presets import synthesize

    cohort = synthesize("jin2023", seed=2023)
    plan = Plan.model_validate(yaml.safe_load(PLAN))
    study = StudyRun(cohort=cohort, plan=plan, endpoints=derive_endpoints(cohort, plan.endpoint_rules()))
    spec = plan.analyses[0]
    rc = RunContext(study, spec, KIND, KIND.options.model_validate(spec.options))
    assert KIND.needs(rc) == ""
    KIND.run(rc)
    table = rc.table("biomarker_resampling", "cutoff-intervals") if hasattr(rc, "table") else None
    if table is None or not len(table):
        table = study.tables["biomarker_resampling"]
    o = rc.options
    wide = panel_values(cohort, o.timepoint, o.analytes, o.reference, plan.panels)
    rc2 = RunContext(study, spec, KIND, o)
    train, is_case = _analysis_set(rc2, wide, o.outcome, o.timepoint)
    values = wide.reindex(train["patient_id"].astype(str))
    keep = values.notna().all(axis=1).to_numpy()
    values, is_case = values[keep], is_case[keep]
    cols = list(values.columns)
    boot = youden_bootstrap(values.to_numpy(float), is_case.astype(float), n_boot=200, seed=11, markers=cols)
    perm = permutation_test(values.to_numpy(float), is_case.astype(float), n_perm=500, seed=11, markers=cols)
    assert list(table["analyte"]) == cols and len(cols) >= 2
    np.testing.assert_array_equal(table["threshold_lower"].to_numpy(), boot.table["threshold_lower"].to_numpy())
    np.testing.assert_array_equal(table["p_perm"].to_numpy(), perm.table["p_perm"].to_numpy())
    assert (table["threshold_lower"] <= table["threshold"]).all() and (table["threshold"] <= table["threshold_upper"]).all()
