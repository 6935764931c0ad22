"""cartscope.stats._cox_univariable against one R ``coxph`` per marker (script: r/cox_univariable.R),
against :func:`cartscope.stats.cox` marker by marker, and its edge cases.

The per-marker kernel runs R's Newton-Raphson (start at 0, step halving, R's stopping rule)
for every marker, so each marker stops at the same iterate as its own ``coxph`` fit:
coefficients, SEs, p-values, log likelihoods and the LR and score tests agree to 1e-8
relative, with missing values (R drops that marker's NA rows) and tied times (Efron and
Breslow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats._cox_univariable import cox_univariable
from cartscope.stats.cox import CoxModelError, cox

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "cox_univariable.R"
RTOL = 1e-8


@pytest.mark.r_reference
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_every_marker_matches_its_own_coxph(r_reference: Any, ties: str) -> None:
    ref = r_reference(R_SCRIPT)
    x = np.array([num(row) for row in ref["x"]])
    fit_r = next(f for f in ref["fits"] if f["ties"] == ties)["markers"]
    res = cox_univariable(ref["time"], ref["status"], x, ties=ties, concordance=True)
    assert x.shape == (160, 12) and np.isnan(x).any()
    for j, r in enumerate(fit_r):
        assert res.status[j] == "ok"
        assert res.n[j] == r["n"] and res.n_events[j] == r["nevent"]
        assert res.iterations[j] == r["iter"]
        np.testing.assert_allclose(res.coef[j], num(r["coef"]), rtol=RTOL)
        np.testing.assert_allclose(res.se[j], num(r["se"]), rtol=RTOL)
        np.testing.assert_allclose(res.p_value[j], num(r["p"]), rtol=RTOL)
        np.testing.assert_allclose([res.loglik_null[j], res.loglik[j]], num(r["loglik"]), rtol=RTOL)
        np.testing.assert_allclose(res.lr_statistic[j], num(r["lr"]), rtol=RTOL)
        np.testing.assert_allclose(res.score_statistic[j], num(r["score"]), rtol=RTOL)
        np.testing.assert_allclose(res.concordance[j], num(r["concordance"])[0], rtol=RTOL)
        np.testing.assert_allclose(res.concordance_se[j], num(r["concordance"])[1], rtol=RTOL)


def _data(seed: int, n: int = 90, m: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, m))
    x[:, 1] = np.round(x[:, 1])
    x[rng.random((n, m)) < 0.1] = np.nan
    t = np.ceil(rng.exponential(20.0, size=n))
    e = (rng.random(n) < 0.7).astype(float)
    return x, t, e


@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), ties=st.sampled_from(["efron", "breslow"]))
def test_same_as_the_full_cox_fit_marker_by_marker(seed: int, ties: str) -> None:
    x, t, e = _data(seed)
    res = cox_univariable(t, e, x, ties=ties)
    for j in range(x.shape[1]):
        ok = ~np.isnan(x[:, j])
        try:
            f = cox(t[ok], e[ok], x[ok, j][:, None], ties=ties)
        except CoxModelError:
            assert np.isnan(res.coef[j]) and res.status[j] != "ok"
            continue
        np.testing.assert_allclose(res.coef[j], f.coef[0], rtol=1e-8)
        np.testing.assert_allclose(res.se[j], f.se[0], rtol=1e-8)
        np.testing.assert_allclose(res.loglik[j], f.loglik, rtol=1e-10)
        assert res.iterations[j] == f.iterations


def test_a_marker_alone_gets_the_numbers_it_gets_in_a_panel() -> None:
    x, t, e = _data(3, m=8)
    panel = cox_univariable(t, e, x)
    for j in (0, 5):
        alone = cox_univariable(t, e, x[:, j])
        assert alone.coef[0] == panel.coef[j] and alone.se[0] == panel.se[j]


def test_edge_cases_are_nan_with_their_reason() -> None:
    rng = np.random.default_rng(1)
    n = 40
    t = np.arange(1.0, n + 1)
    e = np.ones(n)
    x = np.column_stack([
        np.full(n, 2.0),                       # constant
        np.where(np.arange(n) < 1, 1.0, np.nan),  # one known value
        t.copy(),                              # perfectly ordered: monotone likelihood
        rng.normal(size=n),
    ])
    res = cox_univariable(t, e, x)
    # the monotone likelihood runs out of iterations here, as stats.cox reports it
    assert list(res.status) == ["constant", "too few", "not converged", "ok"]
    with pytest.raises(CoxModelError, match="did not converge"):
        cox(t, e, x[:, 2])
    assert np.isnan(res.coef[:3]).all() and np.isfinite(res.coef[3])
    frame = res.to_frame()
    assert list(frame["marker"]) == ["marker1", "marker2", "marker3", "marker4"]
    assert "Univariable Cox (efron ties)" in repr(res)


def test_bad_input_is_an_error_naming_it() -> None:
    x, t, e = _data(2)
    with pytest.raises(ValueError, match="ties"):
        cox_univariable(t, e, x, ties="exact")
    t2 = t.copy()
    t2[0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        cox_univariable(t2, e, x)
    with pytest.raises(ValueError, match="one value per patient"):
        cox_univariable(t[:-1], e, x)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(2, 25), seed=st.integers(0, 10_000), ties=st.sampled_from(["efron", "breslow"]))
def test_tiny_cohorts_with_ties_and_gaps_match_the_full_cox_fit(n: int, seed: int, ties: str) -> None:
    """The per-marker scan at its edges: a handful of patients, most times tied, few deaths,
    values on a coarse grid with gaps; a marker either fits as its own stats.cox fit or is NaN
    where stats.cox refuses it."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(n, 3)).astype(float)
    x[rng.random((n, 3)) < 0.2] = np.nan
    t = rng.integers(1, 5, size=n).astype(float)
    e = (rng.random(n) < 0.6).astype(float)
    res = cox_univariable(t, e, x, ties=ties)
    for j in range(3):
        ok = ~np.isnan(x[:, j])
        assert res.n[j] == ok.sum() and res.n_events[j] == e[ok].sum()
        try:
            f = cox(t[ok], e[ok], x[ok, j][:, None], ties=ties)
        except (CoxModelError, ValueError):
            assert np.isnan(res.coef[j]) and res.status[j] != "ok"
            continue
        assert res.status[j] == "ok", (res.status[j], f)
        np.testing.assert_allclose(res.coef[j], f.coef[0], rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(res.loglik[j], f.loglik, rtol=1e-10)
        assert res.iterations[j] == f.iterations


def test_many_tied_deaths_match_the_full_cox_fit() -> None:
    """Efron terms of every tied time in one pass: a dozen or more deaths on one day, markers
    on different scales, missing values; each marker as its own stats.cox fit."""
    rng = np.random.default_rng(11)
    n, m = 150, 70
    x = rng.normal(size=(n, m)) * rng.uniform(0.2, 3.0, size=m)
    x[rng.random((n, m)) < 0.05] = np.nan
    t = np.ceil(rng.exponential(6.0, size=n))
    e = (rng.random(n) < 0.8).astype(float)
    _, deaths = np.unique(t[e == 1], return_counts=True)
    assert deaths.max() >= 12
    res = cox_univariable(t, e, x)
    for j in (0, 33, 69):
        ok = ~np.isnan(x[:, j])
        one = cox(t[ok], e[ok], x[ok, j : j + 1])
        np.testing.assert_allclose(res.coef[j], one.coef[0], rtol=1e-9)
        np.testing.assert_allclose(res.se[j], one.se[0], rtol=1e-9)
        np.testing.assert_allclose(res.loglik[j], one.loglik, rtol=1e-10)
        assert res.iterations[j] == one.iterations
