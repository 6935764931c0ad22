"""Kaplan-Meier against R survfit / summary.survfit / quantile.survfit (script: r/km.R)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats import kaplan_meier
from cartscope.stats.survival import median_followup

from r_json import num as arr

R_SCRIPT = Path(__file__).parent / "r" / "km.R"

CASES = [
    "lung",
    "lung_female",
    "veteran",
    "pbc_death",
    "colon_death",
    "ties_200",
    "ties_7",
    "continuous_500",
    "exact_half_then_drop",
    "exact_half_then_censored",
    "all_censored",
    "single_event",
    "single_censored",
    "events_at_zero",
    "tied_event_censor",
    "two_patients",
    "all_events_last_censored_first",
]
CONF_TYPES = ["plain", "log", "log-log"]
RTOL = 1e-8
ATOL = 1e-13

def close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), arr(expected), rtol=RTOL, atol=ATOL, equal_nan=True)


def _case(ref: list[dict[str, Any]], name: str) -> dict[str, Any]:
    by_name = {c["name"][0]: c for c in ref}
    assert sorted(by_name) == sorted(CASES), "case list out of step with km.R"
    return by_name[name]


@pytest.mark.r_reference
@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("name", CASES)
def test_matches_r(r_reference, name: str, conf_type: str) -> None:
    case = _case(r_reference(R_SCRIPT), name)
    res = next(r for r in case["results"] if r["conf_type"][0] == conf_type)
    time, event = arr(case["time"]), arr(case["event"]).astype(int)
    fit = kaplan_meier(time, event, conf_type=conf_type)

    tab = res["table"]
    close(fit.time, tab["time"])
    np.testing.assert_array_equal(fit.n_risk, arr(tab["n_risk"]))
    np.testing.assert_array_equal(fit.n_event, arr(tab["n_event"]))
    np.testing.assert_array_equal(fit.n_censor, arr(tab["n_censor"]))
    close(fit.survival, tab["surv"])
    close(fit.std_err, tab["std_err"])
    close(fit.lower, tab["lower"])
    close(fit.upper, tab["upper"])

    close([fit.median], res["median"])
    close(list(fit.median_ci), res["median_lower"] + res["median_upper"])

    q = fit.quantile(arr(res["quantile"]["probs"]))
    close(q.time, res["quantile"]["time"])
    close(q.lower, res["quantile"]["lower"])
    close(q.upper, res["quantile"]["upper"])

    at = fit.survival_at(arr(res["at"]["time"]))
    close(at.survival, res["at"]["surv"])
    close(at.std_err_surv, res["at"]["std_err"])
    close(at.lower, res["at"]["lower"])
    close(at.upper, res["at"]["upper"])
    np.testing.assert_array_equal(at.n_risk, arr(res["at"]["n_risk"]))

    risk = fit.risk_table(arr(res["risk"]["time"]))
    np.testing.assert_array_equal(risk.n_risk, arr(res["risk"]["n_risk"]))
    np.testing.assert_array_equal(risk.cum_events, arr(res["risk"]["cum_events"]))
    np.testing.assert_array_equal(risk.cum_censored, arr(res["risk"]["cum_censored"]))

    for tau, mean, se in zip(arr(res["rmean"]["tau"]), arr(res["rmean"]["rmean"]), arr(res["rmean"]["se"])):
        rm = fit.rmst(tau)
        close([rm.estimate, rm.std_err], [mean, se])

    fu = median_followup(time, event, conf_type=conf_type)
    close([fu.median, fu.lower, fu.upper], res["followup"]["median"] + res["followup"]["lower"] + res["followup"]["upper"])


# --- hand-checked values and documented behaviour ---------------------------------------


def test_small_example_by_hand() -> None:
    # S = 4/5, 4/5 * 3/4, then 2 at risk at t=3 (one censored at 2): 0.6 * 1/2, then 0
    fit = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 1], conf_type="plain")
    np.testing.assert_allclose(fit.survival, [0.8, 0.6, 0.3, 0.0])
    np.testing.assert_array_equal(fit.n_risk, [5, 4, 2, 1])
    # Greenwood SE of S at t=1: sqrt(0.8 * 0.2 / 5)
    assert fit.std_err_surv[0] == pytest.approx(np.sqrt(0.8 * 0.2 / 5), rel=1e-12)
    assert fit.std_err[0] == pytest.approx(np.sqrt(1 / (5 * 4)), rel=1e-12)
    assert np.isinf(fit.std_err[-1])
    assert fit.median == 3.0
    assert fit.n == 5 and fit.n_events == 4


def test_default_conf_type_is_log_log() -> None:
    fit = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 1, 1, 0])
    assert fit.conf_type == "log-log"
    s = fit.survival[0]
    z = 1.959963984540054
    shift = z * fit.std_err[0] / np.log(s)
    assert fit.lower[0] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) - shift)), rel=1e-12)


def test_landmarks_default_times_and_no_extrapolation() -> None:
    fit = kaplan_meier([100, 200, 300, 400, 500], [1, 0, 1, 0, 0])
    lm = fit.landmarks()
    np.testing.assert_array_equal(lm.time, [182.625, 365.25, 730.5])
    assert lm.survival[0] == pytest.approx(0.8)
    assert lm.survival[1] == pytest.approx(0.8 * 2 / 3)
    assert np.isnan(lm.survival[2])  # beyond the last follow-up (500 days) and S > 0
    done = kaplan_meier([10, 20], [1, 1])
    assert done.survival_at([1000]).survival[0] == 0.0  # the curve reached 0: known


def test_lu2021_style_greenwood_se_is_on_survival_scale() -> None:
    fit = kaplan_meier([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 0, 1, 0, 1, 0, 0, 1, 0, 0])
    at = fit.survival_at([6])
    s = at.survival[0]
    assert at.std_err_surv[0] == pytest.approx(s * fit.std_err[fit.time <= 6][-1], rel=1e-12)


def test_to_frame_columns() -> None:
    frame = kaplan_meier([1, 2, 3], [1, 0, 1]).to_frame()
    assert list(frame.columns) == [
        "time", "n_risk", "n_event", "n_censor", "survival", "std_err", "std_err_surv", "lower", "upper",
    ]
    assert len(frame) == 3


@pytest.mark.parametrize(
    ("time", "event", "kwargs", "match"),
    [
        ([], [], {}, "empty"),
        ([1, 2], [1], {}, "same length"),
        ([1, -2], [1, 1], {}, ">= 0"),
        ([1, np.nan], [1, 1], {}, "missing or infinite"),
        ([1, 2], [1, 2], {}, "0/1"),
        ([1, 2], [1, 0], {"conf_type": "logit"}, "unknown conf_type"),
        ([1, 2], [1, 0], {"level": 1.0}, "level"),
        ([[1, 2]], [[1, 0]], {}, "one-dimensional"),
    ],
)
def test_bad_input_is_a_clear_error(time, event, kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        kaplan_meier(time, event, **kwargs)


def test_rmst_rejects_bad_tau_and_handles_tau_before_first_time() -> None:
    fit = kaplan_meier([5, 8], [1, 1])
    with pytest.raises(ValueError, match="tau"):
        fit.rmst(0)
    early = fit.rmst(3.0)
    assert early.estimate == 3.0 and early.std_err == 0.0


def test_large_registry_is_vectorised() -> None:
    rng = np.random.default_rng(7)
    n = 1_000_000
    time = np.round(rng.exponential(500, n))
    event = rng.random(n) < 0.6
    fit = kaplan_meier(time, event)
    assert fit.n == n
    assert fit.n_events == int(event.sum())
    assert np.all(np.diff(fit.survival) <= 0)


# --- properties -------------------------------------------------------------------------

survival_data = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=0, max_value=15), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


@settings(max_examples=150, deadline=None)
@given(data=survival_data, conf_type=st.sampled_from(CONF_TYPES))
def test_survival_is_a_non_increasing_probability(data, conf_type: str) -> None:
    time, event = data
    fit = kaplan_meier(time, event, conf_type=conf_type)
    assert np.all((fit.survival >= 0) & (fit.survival <= 1))
    assert np.all(np.diff(fit.survival) <= 0)
    ok = ~np.isnan(fit.lower)
    assert np.all(fit.lower[ok] <= fit.survival[ok] + 1e-12)
    ok = ~np.isnan(fit.upper)
    assert np.all(fit.upper[ok] >= fit.survival[ok] - 1e-12)
    assert fit.n_risk[0] == len(time)
    assert fit.n_event.sum() + fit.n_censor.sum() == len(time)


@settings(max_examples=100, deadline=None)
@given(data=survival_data, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_permuting_patients_changes_nothing(data, seed: int) -> None:
    time, event = np.asarray(data[0]), np.asarray(data[1])
    perm = np.random.default_rng(seed).permutation(len(time))
    a = kaplan_meier(time, event).to_frame()
    b = kaplan_meier(time[perm], event[perm]).to_frame()
    assert a.equals(b)
