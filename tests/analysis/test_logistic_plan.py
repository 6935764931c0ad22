"""The ``logistic`` kind through a plan on the lu2021 synthetic cohort (47 B-ALL patients).

Each analysis is parsed by the plan schema and run through its kind with a
:class:`~cartscope.analysis.plan.RunContext`, as the plan runner calls it. The numbers are
checked against :func:`cartscope.stats.logistic` on the same complete cases (whose agreement
with R glm / confint / brglm2 is tested in tests/stats/test_logistic.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.analyses import logistic as logistic_kind
from cartscope.analysis.plan.context import StudyRun
from cartscope.stats.logistic import logistic
from kind_runner import run_kind

PLAN = """
version: 1
name: response-predictors
variables:
  cr_by_28: {derive: response, by_day: 28}
  cr_copy: {derive: expression, expr: "cr_by_28 == 1"}
analyses:
  - id: cr-predictors
    kind: logistic
    outcome: cr_by_28
    variables: [age, sex, ph_positive, mrd_group]
  - id: cr-separated
    kind: logistic
    outcome: cr_by_28
    variables: [cr_copy, age]
    models: multivariable
  - id: cr-separated-ml
    kind: logistic
    outcome: cr_by_28
    variables: [cr_copy]
    firth: false
    models: univariable
"""

KIND = logistic_kind.KINDS[0]


@pytest.fixture(scope="module")
def run() -> StudyRun:
    from cartscope.analysis.presets import synthesize

    cohort = synthesize("lu2021", seed=2023)
    return run_kind(cohort, PLAN, KIND)


def _direct(study: StudyRun, names: list[str], **kw: object) -> object:
    y = study.variable("cr_by_28").reindex(study.endpoints["patient_id"].astype(str))
    x = pd.DataFrame({n: study.variable(n).reindex(y.index) for n in names})
    ok = y.notna().to_numpy() & x.notna().all(axis=1).to_numpy()
    x = x[ok].reset_index(drop=True)
    for n in x:
        if isinstance(x[n].dtype, pd.BooleanDtype):
            x[n] = x[n].astype(bool)
    return logistic(y.to_numpy(dtype=float)[ok], x, **kw)


def test_univariable_and_multivariable_rows(run: StudyRun) -> None:
    table = run.table("logistic", "cr-predictors")
    assert set(table["model"]) == {"univariable: age", "univariable: sex", "univariable: ph_positive",
                                   "univariable: mrd_group", "multivariable"}
    multi = table[table["model"] == "multivariable"].set_index("term")
    fit = _direct(run, ["age", "sex", "ph_positive", "mrd_group"], firth="auto")
    frame = fit.to_frame().set_index("term").drop(index="(Intercept)")
    # R's names: sexM (reference F), ph_positiveTRUE, mrd_group levels after "MRD 0.01-5%"
    assert list(multi.index) == list(frame.index)
    assert list(multi.index) == ["age", "sexM", "ph_positiveTRUE", "mrd_groupMRD <0.01%", "mrd_groupactive disease"]
    np.testing.assert_allclose(multi["odds_ratio"], frame["odds_ratio"], rtol=1e-12)
    np.testing.assert_allclose(multi["ci_lower"], frame["ci_lower"], rtol=1e-10)
    np.testing.assert_allclose(multi["p_value"], frame["p_value"], rtol=1e-12)
    assert (multi["n"] == fit.n).all() and (multi["events"] == fit.n_events).all()
    terms = run.table("logistic_terms", "cr-predictors")
    assert {"age", "sex", "ph_positive", "mrd_group"} <= set(terms["term"])
    assert int(terms[(terms["term"] == "mrd_group") & (terms["model"] == "multivariable")]["df"].iloc[0]) == 2
    ard = pd.DataFrame(run.ard_rows)
    ors = ard[(ard["analysis"] == "cr-predictors") & (ard["stat_name"] == "or")]
    assert len(ors) == len(table)


def test_separation_uses_firth_automatically(run: StudyRun) -> None:
    table = run.table("logistic", "cr-separated")
    assert set(table["method"]) == {"Firth"} and set(table["separation"]) == {"complete"}
    assert np.isfinite(table["ci_lower"]).all() and np.isfinite(table["ci_upper"]).all()
    fit = _direct(run, ["cr_copy", "age"], firth=True)
    np.testing.assert_allclose(table.set_index("term")["odds_ratio"],
                               fit.to_frame().set_index("term")["odds_ratio"].drop("(Intercept)"), rtol=1e-10)
    assert table["note"].str.contains("separation").all()
    assert not any(k.startswith("cr-separated:") for k in run.notes)  # Firth ran: nothing skipped


def test_ml_under_separation_is_flagged_not_hidden(run: StudyRun) -> None:
    table = run.table("logistic", "cr-separated-ml")
    assert set(table["method"]) == {"ML"} and table["ci_lower"].isna().all()
    note = next(v for k, v in run.notes.items() if k.startswith("cr-separated-ml:"))
    assert "not computed" in note and "infinite" in note and "use firth" in note


def test_options_are_strict() -> None:
    with pytest.raises(ValueError):
        KIND.options.model_validate({"outcome": "cr", "firth": "sometimes"})
    with pytest.raises(ValueError):
        KIND.options.model_validate({"outcome": "cr", "modles": "both"})
