"""Maximally selected rank statistics against R maxstat 0.7 (R script: tests/stats/r/maxstat.R)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from cartscope.stats.maxstat import (
    _exit_probability,
    maxstat_test,
    maxstat_test_binary,
    p_exact_gauss,
)

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "maxstat.R"
RTOL = 1e-8
CASES = ["veteran_karno", "veteran_age", "lung_age", "lung_phkarno", "lung_wtloss_wide", "random_ties",
         "binary_random", "binary_veteran_prior", "random_full_range", "binary_full_range"]
# R's corrmsrs gives no correlation matrix for minprop = 0, maxprop = 1: no exactGauss reference
GAUSS_CASES = [c for c in CASES if not c.endswith("full_range")]


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


def _run(case: dict[str, Any], pmethod: str) -> Any:
    kw = {"minprop": num(case["minprop"]), "maxprop": num(case["maxprop"]), "pmethod": pmethod}
    if case["smethod"] == "LogRank":
        return maxstat_test(num(case["x"]), num(case["time"]), num(case["event"]), **kw)
    return maxstat_test_binary(num(case["x"]), num(case["y"]), **kw)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_statistic_cutpoint_and_lau94_match_r(ref: Any, name: str) -> None:
    case = next(c for c in ref["cases"] if c["name"] == name)
    res = _run(case, "Lau94")
    np.testing.assert_allclose(res.statistic, num(case["statistic"]), rtol=RTOL)
    assert res.cutpoint == num(case["estimate"])
    np.testing.assert_array_equal(res.cuts, num(case["cuts"]))
    np.testing.assert_allclose(res.stats, num(case["stats"]), rtol=RTOL)
    # R does not cap the Lau94 bound at 1; we do
    np.testing.assert_allclose(res.p_value, min(1.0, num(case["p_lau94"])), rtol=RTOL)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", GAUSS_CASES)
def test_exact_gauss_within_r_monte_carlo_error(ref: Any, name: str) -> None:
    """R integrates with randomized quasi-Monte-Carlo (mvtnorm GenzBretz; error estimate kept by
    the script); our value is a deterministic quadrature, so the tolerance is R's own error."""
    case = next(c for c in ref["cases"] if c["name"] == name)
    res = _run(case, "exactGauss")
    tol = 3.0 * num(case["p_exact_gauss_error"]) + 1e-7
    assert abs(res.p_value - num(case["p_exact_gauss"])) <= tol


def test_exact_gauss_two_cutpoints_by_quadrature() -> None:
    """Two cut-points: P(max |Z| >= b) is a one-dimensional integral, done here by scipy quad."""
    n, m, b = 50, np.array([12, 30]), 2.1
    a = m / (n - m)
    r = np.sqrt(a[0] / a[1])
    s = np.sqrt(1 - r * r)

    def inner(z: float) -> float:
        return float(np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
                     * (special.ndtr((b - r * z) / s) - special.ndtr((-b - r * z) / s)))

    inside, _ = integrate.quad(inner, -b, b, epsabs=1e-14, epsrel=1e-13)
    assert p_exact_gauss(b, n, m) == pytest.approx(1.0 - inside, rel=1e-9)


def test_exact_gauss_one_cutpoint_and_bounds() -> None:
    assert p_exact_gauss(1.96, 40, np.array([20])) == pytest.approx(2 * special.ndtr(-1.96), rel=1e-14)
    rho = np.array([0.9, 0.8, 0.95])
    p_small = _exit_probability(2.0, rho, 200)
    p_large = _exit_probability(3.0, rho, 200)
    assert 0 < p_large < p_small < 1
    # more cut-points can only raise the chance of a large maximum
    assert p_exact_gauss(2.5, 100, np.arange(10, 91, 5)) > p_exact_gauss(2.5, 100, np.array([10, 50, 90]))


def _surv_data(seed: int, n: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), 1)
    t = np.round(rng.exponential(100, n) * np.exp(-0.5 * x)) + 1
    e = (rng.random(n) < 0.7).astype(float)
    e[0] = 1.0
    return x, t, e


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_invariant_to_patient_order_and_monotone_transform(seed: int) -> None:
    x, t, e = _surv_data(seed)
    base = maxstat_test(x, t, e)
    perm = np.random.default_rng(seed + 1).permutation(x.size)
    shuffled = maxstat_test(x[perm], t[perm], e[perm])
    assert shuffled.statistic == pytest.approx(base.statistic, rel=1e-12)
    assert shuffled.cutpoint == base.cutpoint
    mono = maxstat_test(np.exp(x), t, e)
    assert mono.statistic == pytest.approx(base.statistic, rel=1e-12)
    assert mono.p_value == pytest.approx(base.p_value, rel=1e-12)
    assert mono.cutpoint == pytest.approx(np.exp(base.cutpoint), rel=1e-12)


def test_strong_split_is_found() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 200)
    t = rng.exponential(np.where(x > 6.0, 30.0, 300.0))
    e = np.ones(200)
    res = maxstat_test(x, t, e, pmethod="exactGauss")
    assert 5.5 < res.cutpoint < 6.5
    assert res.p_value < 1e-6
    assert res.to_frame().shape[0] == res.cuts.size


def test_bad_input() -> None:
    x, t, e = _surv_data(1)
    with pytest.raises(ValueError, match="pmethod"):
        maxstat_test(x, t, e, pmethod="HL")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="minprop"):
        maxstat_test(x, t, e, minprop=0.8, maxprop=0.2)
    with pytest.raises(ValueError, match="0/1"):
        maxstat_test(x, t, e * 2)
    with pytest.raises(ValueError, match="constant"):
        maxstat_test(x, t, np.zeros_like(e))
    with pytest.raises(ValueError, match="0/1"):
        maxstat_test_binary(x, np.full(x.size, 3.0))
