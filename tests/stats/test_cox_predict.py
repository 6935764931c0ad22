"""Predicted and adjusted survival from Cox fits against R ``survfit.coxph`` (script: r/cox_counting.R).

For every fit of the R script that survfit accepts (Efron, Breslow and exact ties; (start,
stop] and right-censored data; strata; robust fits, whose curves use the robust variance
as R's do), ``survfit(fit, newdata = profiles)`` gives the times, numbers at risk and events,
survival, cumulative hazard, its SE and the log-scale limits, compared to 1e-8 relative.
R's survfit fails on an exact-ties (start, stop] fit (``agexact.fit`` returns an object
without the coxph class), so those curves are not compared.

The adjusted curves are R's own direct adjustment, ``rowMeans(survfit(fit, newdata =
lung_with_sex_set_to_level)$surv)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartscope.stats.cox import CoxModelError, CoxResult, cox
from cartscope.stats.cox_predict import adjusted_survival, predict_survival

R_SCRIPT = Path(__file__).parent / "r" / "cox_counting.R"
RTOL = 1e-8
CURVE_CASES = [
    f"{stem}_{ties}" for ties in ("efron", "breslow")
    for stem in ("heart", "heart_cluster", "heart_strata", "tied_cluster", "tied_strata", "lung")
] + ["lung_exact"]


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)


def _opt(value: Any) -> Any:
    return None if value in ({}, [], None) else value


def fit_case(case: dict[str, Any]) -> CoxResult:
    """The case's fit, as in test_cox_counting.py."""
    cov = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in case["covariates"].items()})
    return cox(
        case["stop"], case["event"], cov, ties=case["ties"], strata=_opt(case["strata"]),
        start=_opt(case["start"]), cluster=_opt(case["cluster"]),
        robust=True if case["robust"] else None,
    )


def _mat(values: Any, k: int) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.ravel(values)], float).reshape(k, -1)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CURVE_CASES)
def test_curves_match_r_survfit(ref: dict[str, Any], name: str) -> None:
    case = next(c for c in ref["cases"] if c["name"] == name)
    r = case["curves"]
    fit = fit_case(case)
    newdata = pd.DataFrame({k: np.atleast_1d(v) for k, v in case["newdata"].items()})
    pred = predict_survival(fit, newdata)
    k = len(r["time"])
    np.testing.assert_allclose(pred.time, r["time"], rtol=0)
    np.testing.assert_array_equal(pred.n_risk, r["n_risk"])
    np.testing.assert_array_equal(pred.n_event, r["n_event"])
    for ours, key in [(pred.survival, "surv"), (pred.cumhaz, "cumhaz"),
                      (pred.std_err, "std_err"), (pred.lower, "lower"), (pred.upper, "upper")]:
        np.testing.assert_allclose(ours, _mat(r[key], k), rtol=RTOL, atol=1e-300)
    if case["strata"]:
        assert len(set(pred.stratum)) == 2
    frame = pred.to_frame()
    assert len(frame) == k * newdata.shape[0]


@pytest.mark.r_reference
def test_adjusted_curves_match_r(ref: dict[str, Any]) -> None:
    case = next(c for c in ref["cases"] if c["name"] == "lung_efron")
    fit = fit_case(case)
    data = pd.DataFrame({k: np.asarray(v, float) for k, v in case["covariates"].items()})
    adj = adjusted_survival(fit, data, "sex", levels=[1.0, 2.0])
    for j, curve in enumerate(ref["adjusted"]["curves"]):
        np.testing.assert_allclose(adj.time, curve["time"])
        np.testing.assert_allclose(adj.survival[:, j], curve["surv"], rtol=RTOL)
    at = adj.survival_at([0.0, 365.0])
    assert at.shape == (2, 2) and np.all(at[0] == 1.0) and at[1, 1] > at[1, 0]


def test_one_profile_at_the_mean_has_the_baseline_curve() -> None:
    rng = np.random.default_rng(1)
    t = np.round(rng.exponential(30, 80)) + 1
    e = rng.integers(0, 2, 80)
    x = rng.normal(size=(80, 2))
    fit = cox(t, e, x)
    pred = predict_survival(fit, x.mean(axis=0))
    # at the covariate means the increments are those of the Efron baseline
    assert np.all(np.diff(pred.survival[:, 0]) <= 0)
    assert pred.survival.shape == (np.unique(t).shape[0], 1)
    assert np.all(pred.lower <= pred.survival) and np.all(pred.survival <= pred.upper)


def test_factor_profiles_and_bad_profiles() -> None:
    rng = np.random.default_rng(2)
    n = 60
    data = pd.DataFrame({"arm": rng.choice(["a", "b", "c"], n), "age": rng.normal(60, 8, n)})
    t = np.round(rng.exponential(30, n)) + 1
    e = rng.integers(0, 2, n)
    fit = cox(t, e, data)
    pred = predict_survival(fit, pd.DataFrame({"arm": ["a", "c"], "age": [60.0, 60.0]}))
    manual = predict_survival(fit, np.array([[0.0, 0.0, 60.0], [0.0, 1.0, 60.0]]))
    np.testing.assert_allclose(pred.survival, manual.survival, rtol=1e-13)
    with pytest.raises(CoxModelError, match="unknown level"):
        predict_survival(fit, pd.DataFrame({"arm": ["d"], "age": [60.0]}))
    with pytest.raises(CoxModelError, match="lacks"):
        predict_survival(fit, pd.DataFrame({"arm": ["a"]}))
    with pytest.raises(CoxModelError, match="conf_type"):
        predict_survival(fit, np.array([0.0, 0.0, 60.0]), conf_type="logit")
    strat = cox(t, e, data[["age"]], strata=data["arm"])
    one = predict_survival(strat, pd.DataFrame({"age": [60.0]}), strata=["b"])
    assert np.isnan(one.survival[np.asarray(one.stratum) != "b"]).all()
    with pytest.raises(CoxModelError, match="unknown stratum"):
        predict_survival(strat, pd.DataFrame({"age": [60.0]}), strata=["z"])
    with pytest.raises(CoxModelError, match="without strata"):
        adjusted_survival(strat, data, "age")
