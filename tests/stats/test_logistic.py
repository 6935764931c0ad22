"""cartscope.stats.logistic against R's glm, confint, drop1 and brglm2 (R script: r/logistic.R).

Firth's penalised-likelihood-ratio limits (logistf's method) have no R package in Debian
(logistf is not packaged): they are checked against a direct numerical profiling of the
penalised likelihood, in R (optim inside uniroot, r/logistic.R) and written here independently
(scipy.optimize on l + 1/2 log det I); the Firth estimates against
brglm2::brglmFit(type = "AS_mean") live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special
from scipy import stats as sps

from cartscope.stats.logistic import LogisticModelError, logistic

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "logistic.R"
RTOL = 1e-8


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


def _case(ref: Any, name: str) -> Any:
    return next(c for c in ref["cases"] if c["name"] == name)


def _frame(data: dict[str, Any]) -> pd.DataFrame:
    cols = {}
    for k, v in data.items():
        try:
            cols[k] = num(v)
        except ValueError:
            cols[k] = np.array(v, dtype=object)
    return pd.DataFrame(cols)


def _fit(case: Any, **kwargs: Any) -> Any:
    d = _frame(case["data"])
    outcome = {"mixed": "cr", "mixed_90": "cr", "univariable": "cr", "factor_only": "cr",
               "small_two_numeric": "resp"}[case["name"]]
    covs = {
        "mixed": ["ldh", "tp53", "stage"], "mixed_90": ["ldh", "tp53", "stage"],
        "univariable": ["ldh"], "factor_only": ["stage"], "small_two_numeric": ["logcmax", "age"],
    }[case["name"]]
    if case["name"] == "small_two_numeric":
        d["logcmax"] = np.log(d["cmax"])  # R's log(cmax) in the formula
    x = d[covs]
    return logistic(d[outcome], x, level=num(case["level"]), **kwargs)


CASES = ["mixed", "mixed_90", "univariable", "factor_only", "small_two_numeric"]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_ml_matches_glm(ref: Any, name: str) -> None:
    c = _case(ref, name)
    res = _fit(c)
    names = list(c["names"])
    if name == "small_two_numeric":
        names = [nm.replace("log(cmax)", "logcmax") for nm in names]
    assert list(res.names) == names  # R's treatment-contrast names, reference = first level
    np.testing.assert_allclose(res.estimate, num(c["estimate"]), rtol=RTOL)
    np.testing.assert_allclose(res.se, num(c["se"]), rtol=RTOL)
    np.testing.assert_allclose(res.z, num(c["z"]), rtol=RTOL)
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=1e-7)
    # R's default control stops at a relative deviance change of 1e-8
    np.testing.assert_allclose(res.estimate, num(c["estimate_default"]), rtol=1e-4, atol=1e-7)
    wald = np.array([num(r) for r in c["wald_ci"]])
    np.testing.assert_allclose(np.c_[res.wald_lower, res.wald_upper], wald, rtol=RTOL)
    np.testing.assert_allclose([res.deviance, res.null_deviance, res.aic, res.loglik],
                               [num(c["deviance"]), num(c["null_deviance"]), num(c["aic"]),
                                num(c["loglik"])], rtol=RTOL)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_profile_limits_match_r(ref: Any, name: str) -> None:
    c = _case(ref, name)
    res = _fit(c)
    ours = np.c_[res.ci_lower, res.ci_upper]
    # the same points found by uniroot on offset fits (tolerance 1e-13)
    np.testing.assert_allclose(ours, np.array([num(r) for r in c["exact"]]), rtol=RTOL, atol=1e-12)
    # MASS's confint.glm interpolates a spline through a profile grid: agrees to its grid error
    np.testing.assert_allclose(ours, np.array([num(r) for r in c["confint"]]), rtol=1e-3, atol=2e-5)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_term_tests_match_drop1_and_wald(ref: Any, name: str) -> None:
    c = _case(ref, name)
    res = _fit(c)
    frame = res.terms_frame().set_index("term")
    raw = c["drop1_terms"]
    terms = [t.replace("log(cmax)", "logcmax") for t in ([raw] if isinstance(raw, str) else raw)]
    np.testing.assert_allclose(frame.loc[terms, "lr_statistic"], num(c["drop1_lrt"]), rtol=1e-7)
    np.testing.assert_allclose(frame.loc[terms, "lr_p_value"], num(c["drop1_p"]), rtol=1e-6)
    for w in (c["wald_terms"] if isinstance(c["wald_terms"], list) else [c["wald_terms"]]):
        term = w["term"].replace("log(cmax)", "logcmax")
        assert frame.loc[term, "df"] == int(num(w["df"]))
        np.testing.assert_allclose(frame.loc[term, "wald_statistic"], num(w["chisq"]), rtol=RTOL)
    np.testing.assert_allclose(frame.loc["model", "lr_statistic"],
                               num(c["null_deviance"]) - num(c["deviance"]), rtol=RTOL)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_firth_matches_brglm2(ref: Any, name: str) -> None:
    c = _case(ref, name)
    res = _fit(c, firth=True)
    assert res.method == "firth"
    np.testing.assert_allclose(res.estimate, num(c["firth_estimate"]), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(res.se, num(c["firth_se"]), rtol=RTOL)


@pytest.mark.r_reference
def test_separation_detected_and_firth_finite(ref: Any) -> None:
    s = ref["separation"]
    d = _frame(s["data"])
    res = logistic(d["cr"], d[["tp53", "ldh"]])
    assert list(res.names) == list(s["names"])
    # the coefficients whose SE keeps growing with the iteration limit in R are the infinite ones
    growing = num(s["se_ratio"]) > 100
    assert res.separation.status == "quasi-complete"
    assert [d_ != 0 for d_ in res.separation.direction] == list(growing)
    assert res.separation.direction[:2] == (-1, 1)
    assert len(res.separation.separated) == 6
    assert res.converged == bool(s["converged"])
    # ML under separation is R's fit where R stops (the MLE does not exist: no profile, no LR)
    np.testing.assert_allclose(res.estimate, num(s["estimate_default"]), rtol=1e-6)
    assert np.isnan(res.ci_lower).all() and np.isnan(res.lr_p_value).all()
    assert any("separation" in w for w in res.warnings)
    auto = logistic(d["cr"], d[["tp53", "ldh"]], firth="auto")
    assert auto.method == "firth" and "separation" in auto.firth_reason
    np.testing.assert_allclose(auto.estimate, num(s["firth_estimate"]), rtol=RTOL)
    np.testing.assert_allclose(auto.se, num(s["firth_se"]), rtol=RTOL)
    assert np.isfinite(auto.ci_lower).all() and np.isfinite(auto.ci_upper).all()
    # penalised-likelihood-ratio limits against R's direct profile (optim inside uniroot)
    np.testing.assert_allclose([auto.ci_lower[1], auto.ci_upper[1]], num(s["pl_tp53wt"]), rtol=1e-8)


@pytest.mark.r_reference
def test_firth_endometrial_matches_brglm2(ref: Any) -> None:
    e = ref["endometrial"]
    d = _frame(e["data"])
    res = logistic(d["HG"], d[["NV", "PI", "EH"]], firth=True)
    np.testing.assert_allclose(res.estimate, num(e["firth_estimate"]), rtol=RTOL)
    np.testing.assert_allclose(res.se, num(e["firth_se"]), rtol=RTOL)
    assert logistic(d["HG"], d[["NV", "PI", "EH"]]).separation.direction == (0, 1, 0, 0)
    # NV's penalised-likelihood-ratio limits (0.61 to 7.85) against R's direct profile of the
    # penalised likelihood
    np.testing.assert_allclose([res.ci_lower[1], res.ci_upper[1]], num(e["pl_nv"]), rtol=1e-8)
    # penalised-likelihood limits against direct numerical profiling
    x = res.x
    y = d["HG"].to_numpy(dtype=float)
    _check_pl_limits(x, y, res, [1, 3])


def _pen(x: np.ndarray, y: np.ndarray, b: np.ndarray) -> float:
    """l(b) + 1/2 log det(X'WX), written out independently of the package."""
    eta = x @ b
    p = special.expit(eta)
    ll = -float(np.sum(y * np.logaddexp(0, -eta) + (1 - y) * np.logaddexp(0, eta)))
    return ll + 0.5 * float(np.linalg.slogdet(x.T @ (x * (p * (1 - p))[:, None]))[1])


def _profiled(x: np.ndarray, y: np.ndarray, j: int, v: float, start: np.ndarray) -> float:
    free = [k for k in range(x.shape[1]) if k != j]

    def neg(bf: np.ndarray) -> float:
        b = np.empty(x.shape[1])
        b[free] = bf
        b[j] = v
        return -_pen(x, y, b)

    res = optimize.minimize(neg, start[free], method="BFGS", options={"gtol": 1e-10})
    return -float(res.fun)


def _check_pl_limits(x: np.ndarray, y: np.ndarray, res: Any, which: list[int]) -> None:
    top = _pen(x, y, res.estimate)
    q = sps.chi2.ppf(res.level, 1)
    for j in which:
        for limit in (res.ci_lower[j], res.ci_upper[j]):
            # the profile at our limit sits exactly q/2 below the maximum
            drop = 2.0 * (top - _profiled(x, y, j, limit, res.estimate))
            np.testing.assert_allclose(drop, q, rtol=1e-6)
        # and a PL test p-value from the same profile at 0
        drop0 = 2.0 * (top - _profiled(x, y, j, 0.0, res.estimate))
        np.testing.assert_allclose(res.lr_statistic[j], drop0, rtol=1e-6, atol=1e-9)


def test_firth_pl_limits_against_numerical_profile() -> None:
    rng = np.random.default_rng(7)
    n = 40
    x1 = rng.normal(size=n)
    g = rng.choice(["a", "b"], n)
    y = (rng.random(n) < special.expit(-0.3 + 1.1 * x1 + 0.8 * (g == "b"))).astype(float)
    res = logistic(y, pd.DataFrame({"x1": x1, "g": g}), firth=True, level=0.9)
    _check_pl_limits(res.x, y, res, [0, 1, 2])


def test_separation_complete_and_none() -> None:
    x = np.arange(10.0)
    comp = logistic((x > 4).astype(int), {"x": x})
    assert comp.separation.status == "complete" and comp.separation.direction == (-1, 1)
    ok = logistic(np.array([0, 1, 0, 1, 1, 0, 1, 1, 0, 1]), {"x": x})
    assert ok.separation.status == "none" and not ok.warnings
    # all events: the intercept alone is infinite
    allone = logistic(np.ones(5), None)
    assert allone.separation.direction == (1,)


def test_bad_input_messages() -> None:
    with pytest.raises(LogisticModelError, match="0/1"):
        logistic([0, 1, 2], {"x": [1.0, 2.0, 3.0]})
    with pytest.raises(LogisticModelError, match="missing"):
        logistic([0, 1, np.nan], {"x": [1.0, 2.0, 3.0]})
    with pytest.raises(LogisticModelError, match="missing"):
        logistic([0, 1, 1], {"x": [1.0, np.nan, 3.0]})
    with pytest.raises(LogisticModelError, match="collinear"):
        logistic([0, 1, 1, 0], {"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.0, 6.0, 8.0]})
    with pytest.raises(LogisticModelError, match="unknown covariate 'stg'"):
        logistic([0, 1, 1, 0], {"stage": ["I", "II", "I", "II"]}, reference={"stg": "II"})
    with pytest.raises(LogisticModelError, match="reference level"):
        logistic([0, 1, 1, 0], {"stage": ["I", "II", "I", "II"]}, reference={"stage": "IV"})
    with pytest.raises(LogisticModelError, match="firth"):
        logistic([0, 1], None, firth="yes")  # type: ignore[arg-type]


def test_reference_level_and_factors() -> None:
    y = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0])
    stage = np.array(["I", "II", "III"] * 4, dtype=object)
    res = logistic(y, {"stage": stage}, reference={"stage": "II"})
    assert res.names == ("(Intercept)", "stageI", "stageIII")
    coded = logistic(y, {"grade": np.array([1, 2, 3] * 4)}, factors=["grade"])
    assert coded.names == ("(Intercept)", "grade2", "grade3")
    # same model either way: deviance does not depend on the coding
    np.testing.assert_allclose(res.deviance, coded.deviance, rtol=1e-12)
    assert len(res.to_frame()) == 3 and "Logistic regression" in repr(res)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_score_is_zero_at_the_estimate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 30
    x = rng.normal(size=(n, 2))
    y = (rng.random(n) < special.expit(x @ np.array([0.7, -0.5]))).astype(float)
    for firth in (False, True):
        res = logistic(y, x, firth=firth, profile=False)
        if res.separation.detected and not firth:
            continue
        xm = res.x
        p = special.expit(xm @ res.estimate)
        if firth:
            w = p * (1 - p)
            h = w * np.einsum("ij,jk,ik->i", xm, np.linalg.inv(xm.T @ (xm * w[:, None])), xm)
            score = xm.T @ (y - p + h * (0.5 - p))
        else:
            score = xm.T @ (y - p)
        np.testing.assert_allclose(score, 0.0, atol=1e-8)
