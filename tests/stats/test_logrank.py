"""Log-rank, Fleming-Harrington and trend tests against R survdiff (script: r/logrank.R)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats import logrank, logrank_trend

from r_json import num as arr

R_SCRIPT = Path(__file__).parent / "r" / "logrank.R"

CASES = [
    "lung_sex",
    "lung_ecog",
    "lung_sex_by_ecog",
    "lung_ecog_by_sex",
    "veteran_celltype_by_trt",
    "pbc_trt",
    "pbc_edema",
    "pbc_stage_by_sex",
    "colon_rx_by_sex",
    "colon_differ",
    "random_ties_tiny_groups",
    "random_ties_4groups",
    "no_events_in_a_group",
    "group_gone_before_first_event",
    "two_patients",
    "three_patients",
    "events_at_zero",
    "tied_event_censor",
    "stratum_everyone_dies",
]
RTOL = 1e-8
ATOL = 1e-12

def close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), arr(expected), rtol=RTOL, atol=ATOL, equal_nan=True)


def _case(ref: list[dict[str, Any]], name: str) -> dict[str, Any]:
    by_name = {c["name"][0]: c for c in ref}
    assert sorted(by_name) == sorted(CASES), "case list out of step with logrank.R"
    return by_name[name]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", CASES)
def test_matches_survdiff(r_reference, name: str) -> None:
    case = _case(r_reference(R_SCRIPT), name)
    time, event, group = arr(case["time"]), arr(case["event"]).astype(int), arr(case["group"])
    strata = arr(case["strata"]) if "strata" in case else None
    for res in case["results"]:
        rho = res["rho"][0]
        lr = logrank(time, event, group, strata=strata, rho=rho)
        k = len(lr.groups)
        np.testing.assert_array_equal(lr.n, arr(res["n"]))
        close(lr.observed, res["observed"])
        close(lr.expected, res["expected"])
        # R stores the k x k matrix column-major
        close(lr.variance.T.ravel(), res["variance"])
        assert lr.variance.shape == (k, k)
        close([lr.statistic], res["chisq"])
        assert lr.df == int(res["df"][0])
        close([lr.p_value], res["pvalue"])
        assert lr.n_strata == (1 if strata is None else len(np.unique(strata)))
        if "trend" in res:
            tr = logrank_trend(time, event, group, strata=strata)
            close(tr.scores, res["trend"]["scores"])
            close([tr.u, tr.variance, tr.statistic, tr.p_value],
                  res["trend"]["u"] + res["trend"]["var"] + res["trend"]["chisq"] + res["trend"]["pvalue"])
            assert tr.df == 1


# --- hand-checked values and documented behaviour ---------------------------------------


def test_two_patients_by_hand() -> None:
    # t=1: 2 at risk, 1 death in group a: O-E = 1 - 1/2, V = 1 * 1 / 1 * 1/2 * 1/2 = 1/4
    # t=2: 1 at risk: no variance contribution. chisq = (1/2)^2 / (1/4) = 1
    lr = logrank([1, 2], [1, 1], ["a", "b"])
    np.testing.assert_allclose(lr.observed, [1, 1])
    np.testing.assert_allclose(lr.expected, [0.5, 1.5])
    assert lr.statistic == pytest.approx(1.0)
    assert lr.df == 1
    assert list(lr.groups) == ["a", "b"]


def test_trend_is_invariant_to_shifting_scores_but_not_to_spacing() -> None:
    rng = np.random.default_rng(3)
    n = 120
    time = rng.integers(1, 40, n)
    event = rng.random(n) < 0.7
    g = rng.integers(0, 3, n)
    base = logrank_trend(time, event, g)
    shifted = logrank_trend(time, event, g + 10)
    assert shifted.statistic == pytest.approx(base.statistic, rel=1e-10)
    spaced = logrank_trend(time, event, np.where(g == 2, 5, g))
    assert spaced.statistic != pytest.approx(base.statistic, rel=1e-6)


def test_two_group_trend_equals_logrank() -> None:
    rng = np.random.default_rng(11)
    time = rng.integers(1, 30, 80)
    event = rng.random(80) < 0.6
    g = rng.integers(0, 2, 80)
    assert logrank_trend(time, event, g).statistic == pytest.approx(logrank(time, event, g).statistic, rel=1e-10)


def test_to_frame_has_one_row_per_group() -> None:
    frame = logrank([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 0], [1, 1, 1, 2, 2, 2]).to_frame()
    assert list(frame.columns) == ["group", "n", "observed", "expected", "oe2_over_e", "oe2_over_v"]
    assert frame["n"].tolist() == [3, 3]
    assert frame["observed"].sum() == pytest.approx(4.0)
    assert frame["expected"].sum() == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1, 2, 3], [1, 0, 1], [1, 1, 1]), {}, "only one distinct value"),
        (([5], [1], [1]), {}, "only one distinct value"),
        (([1, 2, 3], [0, 0, 0], [1, 2, 2]), {}, "no events"),
        (([1, 2, 3], [1, 0, 1], [1, 2]), {}, "one value per patient"),
        (([1, 2, 3], [1, 0, 1], [1.0, np.nan, 2.0]), {}, "missing"),
        (([1, 2, 3], [1, 0, 1], [1, 2, 2]), {"strata": [1, 1]}, "one value per patient"),
        (([1, 2, 3, 4], [0, 0, 1, 1], [2, 2, 1, 1]), {}, "fewer than two groups"),
        (([1, 2, 3], [1, 0, 1], [1, 2, 2]), {"rho": float("nan")}, "rho"),
    ],
)
def test_bad_input_is_a_clear_error(args, kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        logrank(*args, **kwargs)


def test_trend_needs_numeric_scores() -> None:
    with pytest.raises(ValueError, match="numeric"):
        logrank_trend([1, 2, 3], [1, 1, 1], ["low", "mid", "high"])


def test_large_registry_is_vectorised() -> None:
    rng = np.random.default_rng(5)
    n = 1_000_000
    time = np.round(rng.exponential(400, n))
    event = rng.random(n) < 0.6
    group = rng.integers(0, 3, n)
    strata = rng.integers(0, 4, n)
    lr = logrank(time, event, group, strata=strata)
    assert lr.n.sum() == n
    assert lr.observed.sum() == pytest.approx(event.sum())
    assert lr.expected.sum() == pytest.approx(event.sum())


# --- properties -------------------------------------------------------------------------

logrank_data = st.integers(min_value=4, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=0, max_value=12), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(min_value=0, max_value=2), min_size=n, max_size=n),
    )
)


def _safe(time, event, group, **kwargs):
    try:
        return logrank(time, event, group, **kwargs)
    except ValueError:
        return None


@settings(max_examples=150, deadline=None)
@given(data=logrank_data, rho=st.sampled_from([0.0, 1.0]))
def test_monotone_transform_of_time_changes_nothing(data, rho: float) -> None:
    time, event, group = (np.asarray(x) for x in data)
    a = _safe(time, event, group, rho=rho)
    b = _safe(np.exp(time / 4.0) + 3.0 * time, event, group, rho=rho)
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(b.expected, a.expected, rtol=1e-10)
        np.testing.assert_allclose(b.variance, a.variance, rtol=1e-10, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(data=logrank_data, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_permuting_patients_changes_nothing(data, seed: int) -> None:
    time, event, group = (np.asarray(x) for x in data)
    perm = np.random.default_rng(seed).permutation(len(time))
    a = _safe(time, event, group)
    b = _safe(time[perm], event[perm], group[perm])
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(b.observed, a.observed)


@settings(max_examples=100, deadline=None)
@given(data=logrank_data)
def test_observed_minus_expected_sums_to_zero(data) -> None:
    lr = _safe(*(np.asarray(x) for x in data))
    if lr is not None:
        assert lr.observed.sum() == pytest.approx(lr.expected.sum(), rel=1e-10)
        np.testing.assert_allclose(lr.variance.sum(axis=1), 0.0, atol=1e-10)
        assert lr.statistic >= -1e-12
