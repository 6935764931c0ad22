"""Counting-process Kaplan-Meier and Simon-Makuch curves against R survfit (script: r/rmst_sm.R).

R ``survfit(Surv(start, stop, event) ~ transplant)`` on the Stanford heart transplant data
(``survival::heart``, split at the transplant) is the Simon-Makuch estimator: times, numbers
at risk, survival, SE and limits (log and log-log) to 1e-8 relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cartscope.stats.km import kaplan_meier
from cartscope.stats.km_counting import kaplan_meier_counting, simon_makuch

R_SCRIPT = Path(__file__).parent / "r" / "rmst_sm.R"


def _arr(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], float)


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["heart_log", "heart_loglog"])
def test_simon_makuch_matches_r(ref: dict[str, Any], name: str) -> None:
    c = next(x for x in ref["simon_makuch"] if x["name"] == name)
    curves = simon_makuch(c["start"], c["stop"], c["event"], c["group"], conf_type=c["conf"])
    strata = np.array(c["strata"])
    assert list(curves) == ["0", "1"]
    for g, fit in curves.items():
        m = strata == g
        np.testing.assert_array_equal(fit.time, _arr(c["time"])[m])
        np.testing.assert_array_equal(fit.n_risk, _arr(c["n_risk"])[m])
        np.testing.assert_array_equal(fit.n_event, _arr(c["n_event"])[m])
        np.testing.assert_array_equal(fit.n_censor, _arr(c["n_censor"])[m])
        for ours, key in [(fit.survival, "surv"), (fit.std_err, "std_err"),
                          (fit.lower, "lower"), (fit.upper, "upper")]:
            np.testing.assert_allclose(ours, _arr(c[key])[m], rtol=1e-8)


@pytest.mark.r_reference
def test_pooled_counting_km_matches_r(ref: dict[str, Any]) -> None:
    c = ref["simon_makuch"][0]
    fit = kaplan_meier_counting(c["start"], c["stop"], c["event"], conf_type="log")
    r = ref["pooled"]
    np.testing.assert_array_equal(fit.time, r["time"])
    np.testing.assert_array_equal(fit.n_risk, r["n_risk"])
    for ours, key in [(fit.survival, "surv"), (fit.std_err, "std_err"), (fit.lower, "lower"),
                      (fit.upper, "upper")]:
        np.testing.assert_allclose(ours, _arr(r[key]), rtol=1e-8)


def test_rows_from_zero_are_the_ordinary_kaplan_meier() -> None:
    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(20, 40)) + 1
    e = rng.integers(0, 2, 40)
    a = kaplan_meier(t, e)
    b = kaplan_meier_counting(np.zeros(40), t, e)
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(a.n_risk, b.n_risk)
    np.testing.assert_allclose(a.survival, b.survival, rtol=1e-14)
    np.testing.assert_allclose(a.upper, b.upper, rtol=1e-14)


def test_bad_intervals_are_errors() -> None:
    with pytest.raises(ValueError, match="start must be less than stop"):
        kaplan_meier_counting([0, 5], [3, 5], [1, 0])
    with pytest.raises(ValueError, match="one value per"):
        simon_makuch([0, 1], [2, 3], [1, 0], ["a"])


def test_near_tied_times_are_merged_as_r_timefix() -> None:
    """0.1 + 0.2 and 0.3 are one time (R aeqSurv), in start and stop alike."""
    a = kaplan_meier_counting([0.0, 0.0, 0.1 + 0.2], [0.3, 0.1 + 0.2, 1.0], [1, 1, 1])
    assert a.time.tolist() == [0.3, 1.0]
    assert a.n_event.tolist() == [2, 1]
