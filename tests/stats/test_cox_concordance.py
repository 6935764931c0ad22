"""Harrell's concordance counts of the Cox fit against counting every pair (R survival rules).

The R comparison lives in test_cox.py; here the pair counts and the jackknife SE are checked
by brute force on data with tied times, tied predictor values and strata (both the kernel's
path without predictor ties and its tie counting), on drawn samples down to one observation,
and on the edge cases (no event, no comparable pair, no observation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartscope.stats._cox_concordance import concordance

SETTINGS = settings(derandomize=True, deadline=None, database=None, max_examples=300,
                    suppress_health_check=[HealthCheck.too_slow])


def _brute(time: np.ndarray, event: np.ndarray, x: np.ndarray, strata: np.ndarray) -> tuple[float, ...]:
    n = time.size
    conc = np.zeros(n)
    disc = np.zeros(n)
    tied = np.zeros(n)
    totals = np.zeros(3)
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            if j == i or strata[j] != strata[i]:
                continue
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                k = 0 if x[i] > x[j] else (1 if x[i] < x[j] else 2)
                totals[k] += 1
                for who in (i, j):
                    (conc, disc, tied)[k][who] += 1
    npair = totals.sum()
    if npair == 0:
        return totals[0], totals[1], totals[2], float("nan"), float("nan")
    somers = (totals[0] - totals[1]) / npair
    dfbeta = ((conc - disc) - somers * (conc + disc + tied)) / npair
    return totals[0], totals[1], totals[2], (somers + 1) / 2, float(np.sqrt(np.sum(dfbeta**2) / 4))


def _check(time: np.ndarray, event: np.ndarray, x: np.ndarray, strata: np.ndarray) -> None:
    got = concordance(time, event, x, strata)
    c, d, t, cidx, se = _brute(time, event, x, strata)
    assert (got.concordant, got.discordant, got.tied_x) == (c, d, t)
    if np.isnan(cidx):
        assert np.isnan(got.concordance) and np.isnan(got.std_err)
    else:
        assert got.concordance == pytest.approx(cidx, rel=1e-14)
        assert got.std_err == pytest.approx(se, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tied_x", [False, True])
@pytest.mark.parametrize("n_strata", [1, 3])
def test_counts_match_every_pair(seed: int, tied_x: bool, n_strata: int) -> None:
    rng = np.random.default_rng(seed)
    n = 70
    time = np.round(rng.exponential(10.0, n))  # tied times
    event = (rng.random(n) < 0.6).astype(float)
    x = rng.normal(size=n)
    if tied_x:
        x = np.round(x * 2.0) / 2.0  # a handful of predictor values
    strata = rng.integers(0, n_strata, n).astype(np.intp)
    _check(time, event, x, strata)


@st.composite
def samples(draw: Any) -> tuple[np.ndarray, ...]:
    """Up to 25 observations: times and predictor values from small sets (many ties of both,
    or none), events, and up to three strata with arbitrary codes."""
    n = draw(st.integers(1, 25))
    times = st.integers(0, 6).map(float) if draw(st.booleans()) else st.floats(0.0, 100.0)
    xs = st.sampled_from([-1.5, 0.0, 0.5, 2.0]) if draw(st.booleans()) else st.floats(-5.0, 5.0)
    time = np.array(draw(st.lists(times, min_size=n, max_size=n)))
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=float)
    x = np.array(draw(st.lists(xs, min_size=n, max_size=n)))
    strata = np.array(draw(st.lists(st.sampled_from([7, -2, 3]), min_size=n, max_size=n)), dtype=np.intp)
    return time, event, x, strata


@SETTINGS
@given(samples())
def test_drawn_samples_match_every_pair(sample: tuple[np.ndarray, ...]) -> None:
    _check(*sample)


def test_edge_cases() -> None:
    one = np.ones(1)
    zero = np.zeros(1, dtype=np.intp)
    _check(one, one, one, zero)  # one observation: no pair
    _check(np.array([1.0, 2.0]), np.array([1.0, 0.0]), np.array([0.3, -0.1]), np.zeros(2, np.intp))
    _check(np.array([2.0, 2.0]), np.array([1.0, 1.0]), np.array([0.3, -0.1]), np.zeros(2, np.intp))
    _check(np.array([2.0, 2.0]), np.array([1.0, 0.0]), np.array([0.3, 0.3]), np.zeros(2, np.intp))
    rng = np.random.default_rng(5)
    _check(np.round(rng.exponential(5.0, 30)), np.zeros(30), rng.normal(size=30), np.zeros(30, np.intp))
    empty = concordance(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.intp))
    assert (empty.concordant, empty.discordant, empty.tied_x) == (0.0, 0.0, 0.0)
    assert np.isnan(empty.concordance) and np.isnan(empty.std_err)


def test_two_observations_known_counts() -> None:
    """Death at 1 with the larger predictor, the other at risk later: one concordant pair,
    C = 1, and each member's dfbeta is 0 (somers_d = 1), so the SE is 0."""
    got = concordance(np.array([1.0, 2.0]), np.array([1.0, 1.0]), np.array([0.5, 0.1]), np.zeros(2, np.intp))
    assert (got.concordant, got.discordant, got.tied_x, got.concordance, got.std_err) == (1.0, 0.0, 0.0, 1.0, 0.0)
