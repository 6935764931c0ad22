"""cartscope.stats.cutoff_logrank against R survdiff per marker (tests/stats/r/cutoff_logrank.R)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.cutoff_logrank import logrank_at_cutoffs

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "cutoff_logrank.R"
RTOL = 1e-8


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


def _panel(ref: Any, name: str) -> tuple[Any, ...]:
    p = ref["panels"][name]
    values = np.array([[num(v) for v in row] for row in p["values"]])
    return num(p["time"]), num(p["event"]), values, num(p["cutoffs"]), p["results"]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["ties", "small", "larger"])
def test_matches_survdiff_per_marker(ref: Any, name: str) -> None:
    time, event, values, cutoffs, results = _panel(ref, name)
    res = logrank_at_cutoffs(time, event, values, cutoffs)
    for j, r in enumerate(results):
        if np.isnan(num(r["chisq"])):
            assert np.isnan(res.statistic[j]) and np.isnan(res.p_value[j])
            continue
        np.testing.assert_allclose(res.statistic[j], num(r["chisq"]), rtol=RTOL)
        np.testing.assert_allclose(res.p_value[j], num(r["p"]), rtol=RTOL)
        obs_low, obs_high = num(r["obs"])
        exp_low, exp_high = num(r["exp"])
        np.testing.assert_allclose([res.observed_low[j], res.observed_high[j]], [obs_low, obs_high], rtol=RTOL)
        np.testing.assert_allclose([res.expected_low[j], res.expected_high[j]], [exp_low, exp_high], rtol=RTOL)
        np.testing.assert_allclose(res.variance[j], num(r["var"]), rtol=RTOL)
        assert (res.n_low[j], res.n_high[j]) == tuple(int(v) for v in num(r["n"]))


def _simulated(n: int, m: int, seed: int) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(200.0, n), -1)
    event = rng.random(n) < 0.6
    values = np.round(rng.normal(size=(n, m)), 1)
    values[rng.random((n, m)) < 0.05] = np.nan
    cutoffs = np.nanmedian(values, axis=0)
    return time, event, values, cutoffs


def test_panel_equals_one_marker_path() -> None:
    """Chunked all-marker pass == each marker on its own, to 1e-12."""
    time, event, values, cutoffs = _simulated(150, 40, 1)
    res = logrank_at_cutoffs(time, event, values, cutoffs)
    for j in range(values.shape[1]):
        one = logrank_at_cutoffs(time, event, values[:, j], cutoffs[j])
        for field in ("statistic", "p_value", "expected_high", "variance", "observed_high"):
            np.testing.assert_allclose(getattr(res, field)[j], getattr(one, field)[0], rtol=1e-12)


def test_agrees_with_the_k_sample_logrank() -> None:
    """Same numbers as cartscope.stats.logrank on the dichotomised marker."""
    from cartscope import stats

    try:
        logrank = stats.logrank
    except (AttributeError, ImportError):
        pytest.skip("cartscope.stats.logrank not available")
    time, event, values, cutoffs = _simulated(120, 5, 2)
    res = logrank_at_cutoffs(time, event, values, cutoffs)
    for j in range(values.shape[1]):
        ok = ~np.isnan(values[:, j])
        lr = logrank(time[ok], event[ok], (values[ok, j] > cutoffs[j]).astype(int))
        np.testing.assert_allclose(res.statistic[j], lr.statistic, rtol=1e-10)
        np.testing.assert_allclose(res.p_value[j], lr.p_value, rtol=1e-10)


def test_side_convention_and_nan() -> None:
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    event = np.array([1, 1, 1, 0, 1, 0])
    values = np.array([5.0, 5.0, np.nan, 1.0, 2.0, 3.0])
    res = logrank_at_cutoffs(time, event, values, 3.0)  # 3.0 itself is "low"
    assert (res.n_high[0], res.n_low[0]) == (2, 3)
    assert res.observed_high[0] == 2.0 and res.observed_low[0] == 1.0


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="one entry per marker"):
        logrank_at_cutoffs([1.0, 2.0], [1, 0], np.zeros((2, 3)), [0.0, 1.0])
    with pytest.raises(ValueError, match="rows"):
        logrank_at_cutoffs([1.0, 2.0], [1, 0], np.zeros((3, 1)), [0.0])
    with pytest.raises(ValueError, match="time"):
        logrank_at_cutoffs([1.0, np.nan], [1, 0], np.zeros((2, 1)), [0.0])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.randoms())
def test_permuting_patients_changes_nothing(seed: int, rnd: Any) -> None:
    time, event, values, cutoffs = _simulated(30, 3, seed)
    base = logrank_at_cutoffs(time, event, values, cutoffs)
    perm = np.array(rnd.sample(range(30), 30))
    other = logrank_at_cutoffs(time[perm], event[perm], values[perm], cutoffs)
    np.testing.assert_allclose(other.statistic, base.statistic, rtol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(other.n_high, base.n_high)


def test_peak_memory_stays_near_input_size() -> None:
    import tracemalloc

    time, event, values, cutoffs = _simulated(400, 600, 4)
    tracemalloc.start()
    try:
        logrank_at_cutoffs(time, event, values, cutoffs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.0 * values.nbytes
