"""Harrell's concordance counts of the Cox fit against counting every pair (R survival rules).

The R comparison lives in test_cox.py; here the pair counts and the jackknife SE are checked
by brute force on data with tied times, tied predictor values and strata, so both the fast
path (all predictor values distinct) and the tie counting are exercised.
"""

from __future__ import annotations

import numpy as np
import pytest

from cartscope.stats._cox_concordance import concordance


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
    somers = (totals[0] - totals[1]) / npair
    dfbeta = ((conc - disc) - somers * (conc + disc + tied)) / npair
    return totals[0], totals[1], totals[2], (somers + 1) / 2, float(np.sqrt(np.sum(dfbeta**2) / 4))


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
    got = concordance(time, event, x, strata)
    c, d, t, cidx, se = _brute(time, event, x, strata)
    assert (got.concordant, got.discordant, got.tied_x) == (c, d, t)
    assert got.concordance == pytest.approx(cidx, rel=1e-14)
    assert got.std_err == pytest.approx(se, rel=1e-12)
