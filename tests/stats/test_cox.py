"""cartscope.stats.cox against R survival ``coxph`` / ``cox.zph`` (script: r/cox.R).

Each case in the R script fits, with ties = "efron" and "breslow",

    coxph(Surv(time, status) ~ covariates [+ strata(s)], data, ties = ties)

and writes the data it used, the coefficients, variance, log likelihoods, the three tests,
the concordance with its SE (``summary(fit)$concordance``) and ``cox.zph(fit, transform)``
for the km, rank and identity transforms. Everything is compared to 1e-8 relative: both
sides run the same Newton-Raphson iterations from zero with the same stopping rule, so they
stop at the same point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats._cox_concordance import concordance as _concordance
from cartscope.stats.cox import CoxModelError, CoxResult, cox, cox_zph

R_SCRIPT = Path(__file__).parent / "r" / "cox.R"
CASES = ["lung", "veteran", "veteran_strata", "colon", "ties", "ties_strata", "near_ties"]
TIES = ["efron", "breslow"]
RTOL = 1e-8


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)


def _case(ref: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in ref["cases"] if c["name"] == name)


def _fit(case: dict[str, Any], ties: str) -> CoxResult:
    frame = {}
    for col, values in case["covariates"].items():
        if col in case["factors"]:
            frame[col] = pd.Categorical(values, categories=case["factors"][col])
        else:
            frame[col] = np.asarray(values, dtype=float)
    return cox(
        case["time"], case["status"], pd.DataFrame(frame), ties=ties, strata=case["strata"] or None
    )


def _close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = 0.0) -> None:
    exp = np.asarray(expected, dtype=float)
    np.testing.assert_allclose(np.asarray(actual, dtype=float), exp, rtol=rtol, atol=atol)


@pytest.mark.r_reference
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("name", CASES)
def test_coefficients_match_r(ref: dict[str, Any], name: str, ties: str) -> None:
    case = _case(ref, name)
    r = case["fits"][ties]
    fit = _fit(case, ties)
    assert list(fit.names) == r["names"]
    _close(fit.coef, r["coef"])
    _close(fit.se, r["se"])
    _close(fit.var, r["var"])
    _close(fit.hazard_ratio, r["hazard_ratio"])
    _close(fit.ci_lower, r["ci_lower"])
    _close(fit.ci_upper, r["ci_upper"])
    _close(fit.z, r["z"])
    _close(fit.p_value, r["p"])
    _close([fit.loglik_null, fit.loglik], r["loglik"])
    assert fit.iterations == r["iter"]


@pytest.mark.r_reference
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("name", CASES)
def test_model_tests_match_r(ref: dict[str, Any], name: str, ties: str) -> None:
    """summary(fit)$logtest, $waldtest and $sctest: statistic, df, p."""
    r = _case(ref, name)["fits"][ties]
    fit = _fit(_case(ref, name), ties)
    for ours, theirs in [(fit.lr_test, r["lr"]), (fit.wald_test, r["wald"]),
                         (fit.score_test, r["score"])]:
        _close([ours.statistic, ours.df, ours.p_value], theirs)


@pytest.mark.r_reference
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("name", CASES)
def test_concordance_matches_r(ref: dict[str, Any], name: str, ties: str) -> None:
    """summary(fit)$concordance: C (tied predictors count half) and its jackknife SE."""
    case = _case(ref, name)
    r = case["fits"][ties]
    fit = _fit(case, ties)
    _close([fit.concordance, fit.concordance_se], r["concordance"])
    lp = (fit.x - fit.x.mean(axis=0)) @ fit.coef
    counts = _concordance(fit.time, fit.event, lp, fit.strata)
    assert [counts.concordant, counts.discordant, counts.tied_x] == r["concordant"]


@pytest.mark.r_reference
@pytest.mark.parametrize("transform", ["km", "rank", "identity"])
@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("name", CASES)
def test_zph_matches_r(ref: dict[str, Any], name: str, ties: str, transform: str) -> None:
    """cox.zph(fit, transform): per-term and GLOBAL chisq, df, p; residuals and var."""
    r = _case(ref, name)["fits"][ties]["zph"][transform]
    zph = cox_zph(_fit(_case(ref, name), ties), transform=transform)
    assert [*zph.terms, "GLOBAL"] == r["terms"]
    _close(zph.chisq, r["chisq"])
    np.testing.assert_array_equal(zph.df, r["df"])
    _close(zph.p_value, r["p"])
    _close(zph.x, r["x"])
    _close(zph.time, r["time"])
    y_r = np.array([[np.nan if v is None else v for v in row] for row in r["y"]], dtype=float)
    y_r = y_r.reshape(zph.y.shape)
    # residuals near zero: an absolute floor relative to their spread
    _close(zph.y, y_r, atol=1e-9 * np.nanmax(np.abs(y_r)))
    _close(zph.var, np.asarray(r["var"], dtype=float).reshape(zph.var.shape))


@pytest.mark.r_reference
def test_factor_naming_and_terms(ref: dict[str, Any]) -> None:
    fit = _fit(_case(ref, "veteran"), "efron")
    assert fit.names == ("trt", "celltypesmallcell", "celltypeadeno", "celltypelarge",
                         "karno", "age")
    assert dict(fit.terms)["celltype"] == (1, 2, 3)
    frame = fit.to_frame()
    assert list(frame["term"]) == list(fit.names)
    np.testing.assert_allclose(frame["hazard_ratio"], np.exp(fit.coef), rtol=1e-15)


@pytest.mark.r_reference
def test_separation_is_an_error_where_r_warns(ref: dict[str, Any]) -> None:
    sep = ref["separation"]
    assert sep["warned"] is True
    x = np.column_stack([sep["z"], sep["w"]])
    with pytest.raises(CoxModelError, match="converged before coefficient.*'z'"):
        cox(sep["time"], sep["status"], x, names=["z", "w"])


# --- input errors ----------------------------------------------------------------------------


def _small() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 40
    x = rng.normal(size=(n, 2))
    time = rng.exponential(size=n)
    event = (rng.random(n) < 0.7).astype(float)
    return time, event, x


def test_collinear_columns_are_named() -> None:
    time, event, x = _small()
    x3 = np.column_stack([x, 2 * x[:, 0] - x[:, 1]])
    with pytest.raises(CoxModelError, match="'c' is a linear combination of 'a', 'b'"):
        cox(time, event, x3, names=["a", "b", "c"])


def test_constant_column_is_named() -> None:
    time, event, x = _small()
    with pytest.raises(CoxModelError, match="'k' is constant"):
        cox(time, event, np.column_stack([x, np.ones(40)]), names=["a", "b", "k"])


def test_no_events() -> None:
    time, _, x = _small()
    with pytest.raises(CoxModelError, match="no events"):
        cox(time, np.zeros(40), x)


def test_missing_values_are_reported_by_column() -> None:
    time, event, x = _small()
    x[[1, 5], 1] = np.nan
    with pytest.raises(CoxModelError, match=r"b \(2\)"):
        cox(time, event, x, names=["a", "b"])
    with pytest.raises(CoxModelError, match="time has 1 missing"):
        cox(np.where(np.arange(40) == 0, np.nan, time), event, x[:, :1])


def test_mismatched_lengths() -> None:
    time, event, x = _small()
    with pytest.raises(CoxModelError, match="event has 39 values but time has 40"):
        cox(time, event[:-1], x)
    with pytest.raises(CoxModelError, match="covariates have 39 rows"):
        cox(time, event, x[:-1])
    with pytest.raises(CoxModelError, match="strata has 3 values"):
        cox(time, event, x, strata=[1, 2, 3])


def test_non_convergence_is_an_error() -> None:
    time, event, x = _small()
    with pytest.raises(CoxModelError, match="did not converge in 1 iterations"):
        cox(time, event, x, max_iter=1)


def test_zph_from_arguments_equals_zph_from_fit() -> None:
    time, event, x = _small()
    a = cox_zph(time, event, x, ties="breslow", transform="rank")
    b = cox_zph(cox(time, event, x, ties="breslow"), transform="rank")
    np.testing.assert_array_equal(a.chisq, b.chisq)
    assert list(a.to_frame()["term"]) == ["x1", "x2", "GLOBAL"]
    with pytest.raises(CoxModelError, match="transform"):
        cox_zph(cox(time, event, x), transform="log")


def test_bad_event_coding_and_ties() -> None:
    time, event, x = _small()
    with pytest.raises(CoxModelError, match="0/1"):
        cox(time, event * 2, x)
    with pytest.raises(CoxModelError, match="ties"):
        cox(time, event, x, ties="discrete")
    assert issubclass(CoxModelError, ValueError)


# --- invariants --------------------------------------------------------------------------------


def _data(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, size=n)])
    time = rng.integers(1, 12, size=n).astype(float)  # many ties
    event = (rng.random(n) < 0.75).astype(float)
    event[:3] = 1.0
    x[:2, 1] = [0.0, 1.0]
    return time, event, x


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), ties=st.sampled_from(TIES))
def test_permuting_patients_changes_nothing(seed: int, ties: str) -> None:
    time, event, x = _data(seed)
    rng = np.random.default_rng(seed + 1)
    perm = rng.permutation(time.shape[0])
    strata = np.where(np.arange(time.shape[0]) % 3 == 0, "a", "b")
    a = cox(time, event, x, ties=ties, strata=strata)
    b = cox(time[perm], event[perm], x[perm], ties=ties, strata=strata[perm])
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-9)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-12)
    np.testing.assert_allclose(b.concordance, a.concordance, rtol=1e-12)
    np.testing.assert_allclose(b.concordance_se, a.concordance_se, rtol=1e-9)
    np.testing.assert_allclose(cox_zph(b).chisq, cox_zph(a).chisq, rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.floats(0.01, 100.0))
def test_scaling_a_covariate_divides_its_coefficient(seed: int, c: float) -> None:
    time, event, x = _data(seed)
    a = cox(time, event, x)
    xs = x.copy()
    xs[:, 0] *= c
    b = cox(time, event, xs)
    np.testing.assert_allclose(b.coef[0], a.coef[0] / c, rtol=1e-7)
    np.testing.assert_allclose(b.coef[1], a.coef[1], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(b.z, a.z, rtol=1e-7, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_negated_covariate_gives_reciprocal_hazard_ratio(seed: int) -> None:
    time, event, x = _data(seed)
    a = cox(time, event, x)
    b = cox(time, event, x * np.array([-1.0, 1.0]))
    np.testing.assert_allclose(b.hazard_ratio[0], 1.0 / a.hazard_ratio[0], rtol=1e-8)
    np.testing.assert_allclose(b.ci_lower[0], 1.0 / a.ci_upper[0], rtol=1e-8)
    np.testing.assert_allclose(b.concordance, a.concordance, rtol=1e-12)
