"""The ``cox`` kind falls back to Firth's penalised likelihood (Heinze & Schemper 2001) when the
ordinary fit has monotone likelihood, and says so; ``firth: false`` keeps the failure as a
note. The fallback's numbers are those of :func:`cartscope.stats.firth_cox` on the same rows
(that function is checked against a direct maximisation of the penalised likelihood in
tests/stats/test_firth_cox.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.plan.check import check_plan, read_plan
from cartscope.analysis.study import run_study
from cartscope.stats.cox import CoxModelError, cox
from cartscope.stats.firth_cox import firth_cox

PLAN = """
version: 1
name: firth-fallback
variables:
  died_flag: {derive: expression, expr: "os_event == 1"}
analyses:
  - id: os-auto
    kind: cox
    endpoint: os
    covariates: [age, died_flag]
  - id: os-plain
    kind: cox
    endpoint: os
    covariates: [age, died_flag]
    firth: false
"""


@pytest.fixture(scope="module")
def results():
    from cartscope.analysis.presets import synthesize

    cohort = synthesize("lu2021", seed=2023)
    plan, _ = read_plan(PLAN)
    assert not [p for p in check_plan(plan, cohort) if p.is_error]
    return cohort, run_study(cohort, plan)


@pytest.mark.slow
def test_monotone_likelihood_is_refitted_by_firth_and_noted(results):
    cohort, res = results
    coefs = res.tables["cox_coefficients"]
    assert (coefs["analysis"] == "os-auto").sum() == 2
    fit = res.objects["cox/os/0"]
    assert getattr(fit, "method", "") == "firth"
    ep = res.endpoints
    pats = cohort.patients.assign(patient_id=cohort.patients["patient_id"].astype(str)).set_index("patient_id")
    age = pd.to_numeric(pats["age"]).reindex(ep["patient_id"]).to_numpy(float)
    use = ep["os_event"].notna().to_numpy() & np.isfinite(age)
    time = ep.loc[use, "os_time"].to_numpy(float)
    event = ep.loc[use, "os_event"].to_numpy(int)
    covariates = pd.DataFrame({"age": age[use], "died_flag": event.astype(float)})
    with pytest.raises(CoxModelError, match="monotone likelihood"):
        cox(time, event, covariates)
    direct = firth_cox(time, event, covariates, ties="efron")
    np.testing.assert_allclose(np.atleast_1d(fit.coef), np.atleast_1d(direct.coef), rtol=1e-10)
    assert np.all(np.isfinite(np.atleast_1d(fit.coef)))
    notes = " ".join(f"{k}: {v}" for k, v in res.skipped.items())
    assert "Firth's penalised likelihood used" in notes and "monotone likelihood" in notes


@pytest.mark.slow
def test_firth_false_reports_the_failure(results):
    _, res = results
    coefs = res.tables["cox_coefficients"]
    assert not (coefs["analysis"] == "os-plain").any()
    notes = " ".join(f"{k}: {v}" for k, v in res.skipped.items())
    assert "model not fitted" in notes and "monotone likelihood" in notes
