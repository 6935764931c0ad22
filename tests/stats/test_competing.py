"""cartscope.stats.competing against R cmprsk (cuminc, timepoints, crr) on the same data.

The R script ``r/competing.R`` writes both the input arrays and R's answers, so Python reads
exactly the arrays R used. Cases: ``survival::mgus2`` (competing-risks vignette coding,
groups by sex, strata by age >= 70), the ``?cuminc`` / ``?crr`` simulated examples, and a
random data set with heavy ties, tiny and singleton groups, events and censoring at time 0,
ties of different causes at one time and a cause absent from one group.

Tolerances: cumulative incidence and Gray's test use the same arithmetic as cmprsk's Fortran
(vectorised as cumulative sums), so agreement is to 1e-8 relative (observed ~1e-13).
Fine-Gray: crr stops its Newton-Raphson once ``max|score| * max(|b|, 1) < max(|loglik|, 1) *
1e-6``, so R's coefficients are only within ~1e-6 of the exact optimum; but ``fine_gray``
takes the very same iterates with the same stopping rule, so it reproduces R's *iterate*, not
just the optimum, and 1e-8 relative holds (observed ~1e-13; the iteration count is compared
too, which is what makes this tolerance legitimate rather than lucky).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.competing import (
    CumulativeIncidence,
    cumulative_incidence,
    fine_gray,
    gray_test,
)

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "competing.R"
CASES = ["mgus2", "cmprsk_doc", "ties"]
RTOL = 1e-8


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)["cases"]


def _close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = 1e-14) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), num(expected), rtol=rtol, atol=atol)


def _data(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return num(case["time"]), np.array(case["cause"], dtype=int), np.array(case["group"])


def _jumps(curve: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cinc's corner vectors (0, t1, t1, t2, t2, ..., t_max) -> values at the jumps."""
    x, e, v = num(curve["time"]), num(curve["est"]), num(curve["var"])
    return x[2:-1:2], e[2:-1:2], v[2:-1:2]


# ----------------------------------------------------------------------------------------
# cumulative incidence
# ----------------------------------------------------------------------------------------


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_cumulative_incidence_matches_cuminc(ref: dict[str, Any], name: str) -> None:
    case = ref[name]
    time, cause, group = _data(case)
    res = cumulative_incidence(time, cause, group)
    assert len(res.curves) == len(case["curves"])
    for cur in case["curves"]:
        mine = res.curve(int(cur["cause"]), cur["group"])
        t, est, var = _jumps(cur)
        np.testing.assert_array_equal(mine.time, t)
        _close(mine.estimate, est)
        _close(mine.variance, var)
        assert mine.max_time == num(cur["time"])[-1]


@pytest.mark.r_reference
def test_cumulative_incidence_ungrouped_matches_cuminc(ref: dict[str, Any]) -> None:
    case = ref["mgus2"]
    time, cause, _ = _data(case)
    res = cumulative_incidence(time, cause)
    assert res.groups == (None,)
    for cur in case["curves_ungrouped"]:
        mine = res.curve(int(cur["cause"]))
        t, est, var = _jumps(cur)
        np.testing.assert_array_equal(mine.time, t)
        _close(mine.estimate, est)
        _close(mine.variance, var)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_at_matches_timepoints_and_loglog_ci(ref: dict[str, Any], name: str) -> None:
    case = ref[name]
    time, cause, group = _data(case)
    tp = case["timepoints"]
    at = cumulative_incidence(time, cause, group).at(tp["times"])
    # R's row names are "group cause"
    assert [f"{g} {c}" for g, c in at.curves] == tp["rows"]
    np.testing.assert_array_equal(at.times, num(tp["times"]))
    for mine, key in [
        (at.estimate, "est"),
        (at.variance, "var"),
        (at.lower, "lower"),
        (at.upper, "upper"),
    ]:
        expected = num(tp[key])
        np.testing.assert_array_equal(np.isnan(mine), np.isnan(expected), err_msg=key)
        _close(mine[~np.isnan(mine)], expected[~np.isnan(expected)])


@pytest.mark.r_reference
def test_edge_groups_in_ties_case(ref: dict[str, Any]) -> None:
    """The ties data really holds the edge cases the R comparison above is meant to cover."""
    case = ref["ties"]
    time, cause, group = _data(case)
    res = cumulative_incidence(time, cause, group)
    single = res.curve(2, "d")
    assert single.n == 1 and single.n_events == 1
    assert single.estimate.tolist() == [1.0] and single.variance.tolist() == [1.0]  # as cinc
    absent = res.curve(3, "c")
    assert absent.n_events == 0 and absent.time.size == 0
    r_absent = next(c for c in case["curves"] if c["group"] == "c" and c["cause"] == "3")
    assert len(r_absent["time"]) == 2  # cinc's (0, t_max): no jump
    at5 = (time == 5) & (group == "a")
    assert {1, 2, 3} <= set(cause[at5].tolist()) and 0 in cause[at5]
    assert ((time == 0) & (cause == 0)).any() and ((time == 0) & (cause > 0)).any()


def test_hand_computed_book_case() -> None:
    """Five patients of group a: cause 1 at 1, 2, 4 and cause 2 at 2, 5 (no censoring):
    F1 = 1/5, 2/5, 3/5; with the tie at 2 the cuminc variances are 1/25, 1/16, 7/100."""
    t = np.array([1, 2, 2, 3, 4, 5, 6.0])
    c = np.array([1, 2, 1, 0, 1, 2, 1])
    g = np.array(["a", "a", "a", "b", "a", "a", "c"])
    cur = cumulative_incidence(t, c, g).curve(1, "a")
    np.testing.assert_allclose(cur.estimate, [1 / 5, 2 / 5, 3 / 5], rtol=1e-14)
    np.testing.assert_allclose(cur.variance, [1 / 25, 1 / 16, 7 / 100], rtol=1e-14)
    np.testing.assert_array_equal(cur.time, [1, 2, 4])


def test_to_frame_is_tidy() -> None:
    t = np.array([1, 2, 2, 3, 4, 5, 6.0])
    c = np.array([1, 2, 1, 0, 1, 2, 1])
    res = cumulative_incidence(t, c, np.array(["a"] * 4 + ["b"] * 3))
    frame = res.to_frame()
    columns = ["group", "cause", "time", "estimate", "variance", "lower", "upper"]
    assert list(frame.columns) == columns
    assert len(frame) == sum(cur.time.size for cur in res.curves)
    assert frame["cause"].tolist()[0] == 1 and frame["group"].tolist()[0] == "a"
    tp = res.at([0, 2, 10]).to_frame()
    assert len(tp) == len(res.curves) * 3 and tp["estimate"].isna().sum() == len(res.curves)


@pytest.mark.r_reference
def test_string_codes_and_custom_censor_code_give_same_numbers(ref: dict[str, Any]) -> None:
    time, cause, group = _data(ref["ties"])
    names = np.array(["cens", "relapse", "nrm", "other"])[cause]
    a = cumulative_incidence(time, cause, group)
    b = cumulative_incidence(time, names, group, censor_code="cens")
    assert b.causes == ("nrm", "other", "relapse")
    for code, label in [(1, "relapse"), (2, "nrm"), (3, "other")]:
        for g in a.groups:
            np.testing.assert_array_equal(a.curve(code, g).estimate, b.curve(label, g).estimate)
            np.testing.assert_array_equal(a.curve(code, g).variance, b.curve(label, g).variance)
    ga = gray_test(time, cause, group, 2)
    gb = gray_test(time, names, group, "nrm", censor_code="cens")
    assert ga.statistic == pytest.approx(gb.statistic, rel=1e-14)


def test_all_censored_is_an_error() -> None:
    # R: cuminc fails with "NAs in foreign function call"
    with pytest.raises(ValueError, match="every patient is censored"):
        cumulative_incidence([1.0, 2.0, 3.0], [0, 0, 0])


@pytest.mark.parametrize(
    ("time", "cause", "message"),
    [
        ([1.0, -2.0], [1, 0], "must be >= 0"),
        ([1.0, np.nan], [1, 0], "missing or infinite"),
        ([1.0, 2.0], [1, 0, 1], "has 3 values but time has 2"),
        ([1.0, 2.0], np.array([1, "x"], dtype=object), "cannot be ordered"),
        ([1.0, 2.0], np.array([1, None], dtype=object), "missing value"),
        ([[1.0, 2.0]], [1, 0], "must be 1-D"),
    ],
)
def test_bad_input_is_a_clear_error(time: Any, cause: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cumulative_incidence(time, cause)


# ----------------------------------------------------------------------------------------
# Gray's test
# ----------------------------------------------------------------------------------------


@pytest.mark.r_reference
@pytest.mark.parametrize(
    ("name", "key", "strata", "rho"),
    [
        ("mgus2", "tests", False, 0.0),
        ("mgus2", "tests_rho1", False, 1.0),
        ("mgus2", "tests_strata", True, 0.0),
        ("cmprsk_doc", "tests", False, 0.0),
        ("cmprsk_doc", "tests_strata", True, 0.0),
        ("ties", "tests", False, 0.0),
        ("ties", "tests_strata_rho", True, 0.5),
    ],
)
def test_gray_test_matches_cuminc(
    ref: dict[str, Any], name: str, key: str, strata: bool, rho: float
) -> None:
    case = ref[name]
    time, cause, group = _data(case)
    for row in case[key]:
        res = gray_test(
            time,
            cause,
            group,
            cause_of_interest=int(row["cause"]),
            strata=case["strata"] if strata else None,
            rho=rho,
        )
        assert res.statistic == pytest.approx(row["stat"], rel=RTOL)
        assert res.df == row["df"]
        # R prints 1 - pchisq(); we use the upper tail directly, compared with pchisq(upper)
        assert res.p_value == pytest.approx(row["pv_upper"], rel=RTOL)
        assert res.p_value == pytest.approx(row["pv"], rel=1e-6, abs=1e-15)
        stat, p = res
        assert (stat, p) == (res.statistic, res.p_value)


@pytest.mark.r_reference
def test_gray_test_singular_variance_is_an_error(ref: dict[str, Any]) -> None:
    case = ref["singular"]
    time, cause, group = _data(case)
    for row in case["tests"]:
        assert row["stat"] == -1  # cmprsk's sentinel for a singular variance
        with pytest.raises(ValueError, match="singular"):
            gray_test(time, cause, group, int(row["cause"]))


def test_gray_test_rejects_bad_requests() -> None:
    t = np.array([1, 2, 3, 4.0])
    c = np.array([1, 2, 1, 0])
    with pytest.raises(ValueError, match="at least two groups"):
        gray_test(t, c, ["a"] * 4)
    with pytest.raises(ValueError, match="cause_of_interest 3 does not occur"):
        gray_test(t, c, ["a", "a", "b", "b"], cause_of_interest=3)


# ----------------------------------------------------------------------------------------
# Fine-Gray
# ----------------------------------------------------------------------------------------


def _crr_inputs(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, Any]:
    d = case["crr_data"]
    if "x" in d:
        x: Any = num(d["x"])
    else:
        x = pd.DataFrame({k: v for k, v in d.items() if k not in ("time", "cause")})
        if "x2" in x:  # R's factor(levels = c("high", "low", "mid")): "high" is the reference
            x["x2"] = pd.Categorical(x["x2"], categories=["high", "low", "mid"])
    return num(d["time"]), np.array(d["cause"], dtype=int), x


R_NAMES = {"sexM": "sex[M]", "x2flow": "x2[low]", "x2fmid": "x2[mid]"}


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_fine_gray_matches_crr(ref: dict[str, Any], name: str) -> None:
    case = ref[name]
    time, cause, x = _crr_inputs(case)
    for fit in case["crr"]:
        res = fine_gray(time, cause, x, cause_of_interest=fit["failcode"])
        assert res.names == tuple(R_NAMES.get(n, n) for n in fit["names"])
        assert res.converged is bool(fit["converged"]) is True
        _close(res.coef, fit["coef"])
        _close(res.se, fit["se"])
        _close(res.variance, fit["var"], atol=1e-13)
        _close(res.information, fit["inf"], atol=1e-10)
        _close(res.ci_lower, fit["ci_lower"])
        _close(res.ci_upper, fit["ci_upper"])
        _close(res.p_value, fit["p"])
        _close(res.hazard_ratio, np.exp(num(fit["coef"])))
        assert res.loglik == pytest.approx(fit["loglik"], rel=RTOL)
        assert res.loglik_null == pytest.approx(fit["loglik_null"], rel=RTOL)
        assert res.n_events == int(np.sum(cause == fit["failcode"]))
        frame = res.to_frame()
        assert frame["term"].tolist() == list(res.names)


def test_fine_gray_errors() -> None:
    t = np.array([1, 2, 3, 4, 5, 6.0])
    c = np.array([1, 2, 1, 0, 1, 2])
    with pytest.raises(ValueError, match="cause_of_interest 3 does not occur"):
        fine_gray(t, c, np.arange(6.0), cause_of_interest=3)
    with pytest.raises(ValueError, match="singular"):
        fine_gray(t, c, np.ones(6))
    with pytest.raises(ValueError, match="has 5 rows"):
        fine_gray(t, c, np.arange(5.0))
    with pytest.raises(ValueError, match="missing value"):
        fine_gray(t, c, pd.DataFrame({"a": [1.0, None, 2, 3, 4, 5]}))


def test_fine_gray_iteration_limit_is_reported() -> None:
    rng = np.random.default_rng(3)
    t = rng.exponential(size=60)
    c = rng.integers(0, 3, size=60)
    res = fine_gray(t, c, rng.normal(size=(60, 2)), max_iter=0)
    assert not res.converged and res.warnings and np.all(res.coef == 0.0)


# ----------------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------------


def _km(time: np.ndarray, failed: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Plain-loop overall Kaplan-Meier (right-continuous), an independent reference."""
    out = []
    for s in at:
        surv = 1.0
        for u in np.unique(time[failed]):
            if u > s:
                break
            surv *= 1.0 - np.sum((time == u) & failed) / np.sum(time >= u)
        out.append(surv)
    return np.array(out)


competing_data = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


@settings(max_examples=60, deadline=None)
@given(competing_data)
def test_incidences_plus_survival_sum_to_one(data: Any) -> None:
    times, causes, groups, _ = data
    t, c, g = np.array(times, float), np.array(causes), np.array(groups)
    if not (c > 0).any():
        return
    res = cumulative_incidence(t, c, g)
    for gl in res.groups:
        m = g == gl
        grid = np.unique(t[m])
        at = res.at(grid)
        total = sum(at.estimate[i] for i, (cg, _) in enumerate(at.curves) if cg == gl)
        np.testing.assert_allclose(total + _km(t[m], c[m] > 0, grid), 1.0, atol=1e-12)


def _check_monotone(res: CumulativeIncidence) -> None:
    for cur in res.curves:
        assert np.all(np.diff(cur.estimate) > 0)
        assert np.all((cur.estimate > 0) & (cur.estimate <= 1.0 + 1e-12))
        ok = ~np.isnan(cur.lower)
        assert np.all(cur.lower[ok] <= cur.estimate[ok])
        assert np.all(cur.estimate[ok] <= cur.upper[ok])


@settings(max_examples=60, deadline=None)
@given(competing_data)
def test_permuting_patients_changes_nothing(data: Any) -> None:
    times, causes, groups, rnd = data
    t, c, g = np.array(times, float), np.array(causes), np.array(groups)
    if not (c > 0).any():
        return
    perm = np.array(rnd.sample(range(t.size), t.size))
    a = cumulative_incidence(t, c, g)
    b = cumulative_incidence(t[perm], c[perm], g[perm])
    _check_monotone(a)
    for ca, cb in zip(a.curves, b.curves, strict=True):
        np.testing.assert_array_equal(ca.time, cb.time)
        np.testing.assert_allclose(ca.estimate, cb.estimate, rtol=1e-12)
        np.testing.assert_allclose(ca.variance, cb.variance, rtol=1e-10, atol=1e-15)
    if len(set(groups)) > 1 and (c == 1).any():
        try:
            ga = gray_test(t, c, g, 1)
        except ValueError:
            with pytest.raises(ValueError):
                gray_test(t[perm], c[perm], g[perm], 1)
        else:
            gb = gray_test(t[perm], c[perm], g[perm], 1)
            assert gb.statistic == pytest.approx(ga.statistic, rel=1e-9, abs=1e-12)


@pytest.mark.r_reference
def test_fine_gray_permutation_invariant(ref: dict[str, Any]) -> None:
    time, cause, x = _crr_inputs(ref["ties"])
    perm = np.random.default_rng(7).permutation(time.size)
    a = fine_gray(time, cause, x)
    b = fine_gray(time[perm], cause[perm], x.iloc[perm].reset_index(drop=True))
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-10)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-10)


def test_fine_gray_gradient_and_hessian_are_the_derivatives_of_the_objective() -> None:
    """Central differences of the pseudo-likelihood agree with the analytic score and
    information (guards the cumulative-sum decomposition of the weighted risk sets)."""
    from cartscope.stats import _finegray

    rng = np.random.default_rng(11)
    n = 80
    time = rng.integers(0, 15, n).astype(float)
    status = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]).astype(np.int8)
    x = rng.normal(size=(n, 3))
    order = np.argsort(time, kind="stable")
    data = _finegray.prepare(time[order], status[order], x[order])
    beta = np.array([0.3, -0.2, 0.1])
    _, grad, hess = _finegray.objective(data, beta)
    h = 1e-5
    eye = np.eye(3)
    num_grad = np.array(
        [
            (_finegray.neg_loglik(data, beta + h * e) - _finegray.neg_loglik(data, beta - h * e))
            / (2 * h)
            for e in eye
        ]
    )
    num_hess = np.array(
        [
            (_finegray.objective(data, beta + h * e)[1] - _finegray.objective(data, beta - h * e)[1])
            / (2 * h)
            for e in eye
        ]
    )
    np.testing.assert_allclose(grad, num_grad, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hess, num_hess, rtol=1e-6, atol=1e-8)
