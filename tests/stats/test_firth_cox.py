"""cartscope.stats.firth_cox (Heinze & Schemper 2001) - R script: tests/stats/r/firth_cox.R.

No R package for Firth-penalised Cox regression is in Debian (coxphf is not packaged). The
reference is therefore a direct numerical maximisation, in R, of the penalised partial
likelihood l(beta) + 1/2 log det I(beta) built from R survival's own log partial likelihood and
information (``coxph.fit`` at ``init = beta`` with no iteration), with ``optimize``/``optim``
for the estimate and ``uniroot`` on the profile for the limits. One case is coxphf's own
documented example (3 patients, monotone likelihood) and one Heinze & Schemper's breast cancer
data set (as shipped with coxphf); their published table was not available here, so the
breast estimates are checked against the same direct maximisation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.cox import CoxModelError, cox
from cartscope.stats.firth_cox import cox_or_firth, firth_cox, penalized_partial_loglik

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "firth_cox.R"
BREAST = Path(__file__).parent / "data" / "heinze_schemper_2001_breast.csv"


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


@pytest.mark.r_reference
@pytest.mark.parametrize(
    "name", ["coxphf_example", "no_event_arm_breslow", "no_event_arm_efron", "no_event_arm_strata"]
)
def test_one_covariate_matches_direct_maximisation(ref: Any, name: str) -> None:
    c = next(c for c in ref["cases"] if c["name"] == name)
    time, event, x = num(c["time"]), num(c["event"]), num(c["x"])
    strata = None if c["strata"] == "none" else np.asarray(c["strata"])
    res = firth_cox(time, event, {"x": x}, ties=c["ties"], strata=strata)
    # maximising a function value (R's optimize) locates the maximiser to about sqrt(eps)
    np.testing.assert_allclose(res.coef[0], num(c["estimate"]), rtol=1e-7)
    np.testing.assert_allclose(res.penalized_loglik, num(c["penalized_loglik"]), rtol=1e-12)
    np.testing.assert_allclose(np.log([res.ci_lower[0], res.ci_upper[0]]), num(c["ci"]), rtol=1e-8)
    np.testing.assert_allclose(res.lr_statistic[0], num(c["pl_test"]), rtol=1e-8)
    np.testing.assert_allclose(res.lr_test.statistic, num(c["pl_test"]), rtol=1e-8)


@pytest.mark.r_reference
def test_no_event_arm_is_monotone_for_cox_but_finite_for_firth(ref: Any) -> None:
    c = next(c for c in ref["cases"] if c["name"] == "no_event_arm_efron")
    with pytest.raises(CoxModelError, match="monotone likelihood"):
        cox(num(c["time"]), num(c["event"]), num(c["x"])[:, None])
    res = firth_cox(num(c["time"]), num(c["event"]), num(c["x"])[:, None], ties="efron")
    assert res.converged and np.isfinite(res.coef).all() and res.names == ("x1",)


@pytest.mark.r_reference
def test_two_covariates_efron_matches_direct_maximisation(ref: Any) -> None:
    t = ref["two"]
    res = firth_cox(num(t["time"]), num(t["event"]), {"arm": num(t["arm"]), "age": num(t["age"])},
                    ties="efron")
    # optim (BFGS then Nelder-Mead) stops near 1e-6 of the maximiser; the maximum itself agrees
    np.testing.assert_allclose(res.coef, num(t["estimate"]), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(res.penalized_loglik, num(t["penalized_loglik"]), rtol=1e-11)
    np.testing.assert_allclose(np.log([res.ci_lower[0], res.ci_upper[0]]), num(t["ci_arm"]), rtol=1e-7)


@pytest.mark.r_reference
def test_breast_data_matches_direct_maximisation(ref: Any) -> None:
    b = ref["breast"]
    d = pd.read_csv(BREAST)
    res = firth_cox(d["TIME"], d["CENS"], d[["T", "N", "G", "CD"]], profile=False)
    np.testing.assert_allclose(res.coef, num(b["estimate"]), rtol=2e-5)
    np.testing.assert_allclose(res.penalized_loglik, num(b["penalized_loglik"]), rtol=1e-11)
    ll, _ = penalized_partial_loglik(d["TIME"], d["CENS"], d[["T", "N", "G", "CD"]].to_numpy(),
                                     num(b["loglik_at"]["beta"]))
    np.testing.assert_allclose(ll, num(b["loglik_at"]["loglik"]), rtol=1e-12)
    # where the ML estimate diverges (G: R's coxph stops at 18.4) Firth's stays finite
    assert num(b["ml_coef"])[2] > 15 and 1.0 < res.coef[2] < 5.0


def test_profile_limits_sit_at_the_cutoff() -> None:
    d = pd.read_csv(BREAST)
    x = d[["T", "N", "G", "CD"]]
    res = firth_cox(d["TIME"], d["CENS"], x)
    top = res.penalized_loglik
    for limit in (res.ci_lower[2], res.ci_upper[2]):
        # profile value at the limit: maximise over the others with G fixed (offset trick)
        fixed = np.log(limit)
        others = x[["T", "N", "CD"]].to_numpy()
        best = _max_with_fixed(d, others, x["G"].to_numpy(), fixed, res.coef[[0, 1, 3]])
        np.testing.assert_allclose(2 * (top - best), 3.841458820694124, rtol=1e-6)


def _max_with_fixed(d: pd.DataFrame, others: np.ndarray, g: np.ndarray, fixed: float, start: np.ndarray) -> float:
    from scipy import optimize

    full = np.column_stack([others[:, :2], g, others[:, 2]])

    def neg(b: np.ndarray) -> float:
        beta = np.array([b[0], b[1], fixed, b[2]])
        return -penalized_partial_loglik(d["TIME"], d["CENS"], full, beta)[1]

    out = optimize.minimize(neg, start, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000})
    return -float(out.fun)


@settings(derandomize=True, max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["breslow", "efron"]))
def test_penalised_score_is_zero_at_the_estimate(seed: int, ties: str) -> None:
    rng = np.random.default_rng(seed)
    n = 25
    x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    time = np.round(rng.exponential(10, n))
    event = (rng.random(n) < 0.7).astype(float)
    if event.sum() < 2:
        event[:2] = 1.0
    res = firth_cox(time, event, x, ties=ties, profile=False)
    assert res.converged
    h = 1e-5
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        up = penalized_partial_loglik(time, event, x, res.coef + e, ties)[1]
        dn = penalized_partial_loglik(time, event, x, res.coef - e, ties)[1]
        assert abs((up - dn) / (2 * h)) < 1e-5


def test_near_tied_times_are_merged_and_bad_input() -> None:
    a = firth_cox([0.1 + 0.2, 0.3, 1.0, 2.0], [1, 1, 0, 1], {"x": [1.0, 0.0, 1.0, 0.0]}, profile=False)
    b = firth_cox([0.3, 0.3, 1.0, 2.0], [1, 1, 0, 1], {"x": [1.0, 0.0, 1.0, 0.0]}, profile=False)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    with pytest.raises(ValueError, match="no events"):
        firth_cox([1.0, 2.0], [0, 0], {"x": [1.0, 0.0]})
    with pytest.raises(ValueError, match="collinear"):
        firth_cox([1.0, 2.0, 3.0], [1, 1, 0], {"x": [1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="ties"):
        firth_cox([1.0, 2.0], [1, 1], {"x": [1.0, 0.0]}, ties="exact")
    assert "Firth-penalised Cox" in repr(a) and len(a.to_frame()) == 1


def test_cox_or_firth_switches_only_on_monotone_likelihood() -> None:
    d = pd.read_csv(BREAST)
    fit, why = cox_or_firth(d["TIME"], d["CENS"], d[["T", "N", "CD"]], ties="breslow")
    assert why == "" and type(fit).__name__ == "CoxResult"
    fit, why = cox_or_firth(d["TIME"], d["CENS"], d[["T", "N", "G", "CD"]], ties="breslow")
    assert "monotone likelihood" in why and fit.method == "firth" and fit.ties == "breslow"
    with pytest.raises(CoxModelError, match="collinear"):
        cox_or_firth(d["TIME"], d["CENS"], d[["T"]].assign(T2=2 * d["T"]))
