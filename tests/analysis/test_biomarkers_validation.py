"""Frozen cut-off validation on hand-made cohorts, and the bootstrap optimism-corrected AUC."""

from __future__ import annotations

import numpy as np
import pytest

from cartscope.analysis.biomarkers import optimism_corrected_auc, validate_cutoff
from cartscope.stats.km import kaplan_meier
from cartscope.stats.proportions import proportion_ci
from cartscope.stats.ranktests import mann_whitney
from cartscope.stats.survival import logrank

# 10 patients; failure = 1. Cut-off 4.7, direction ">" (failure has the LOWER values, as MIP3a):
# test positive = value <= 4.7.
VALUES = np.array([3.1, 4.0, 4.7, 5.5, 2.2, 6.0, 7.3, 4.1, 8.8, 5.0])
OUTCOME = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, np.nan])
TIME = np.array([40, 90, 60, 300, 500, 420, 610, 200, 700, 100], dtype=float)
EVENT = np.array([1, 1, 1, 0, 0, 1, 0, 1, 0, 1], dtype=float)


def test_counts_by_hand() -> None:
    v = validate_cutoff(VALUES, OUTCOME, 4.7, ">")
    # failures 3.1, 4.0, 4.7 (on the cut-off: positive, pROC's <= rule) positive; 5.5 negative
    # non-failures 2.2, 4.1 positive; 6.0, 7.3, 8.8 negative; the NaN-outcome patient is out
    assert (v.tp, v.fn, v.fp, v.tn) == (3, 1, 2, 3)
    assert v.n == 9
    assert v.sensitivity == pytest.approx(3 / 4)
    assert v.specificity == pytest.approx(3 / 5)
    assert v.ppv == pytest.approx(3 / 5)
    assert v.npv == pytest.approx(3 / 4)
    ci = proportion_ci(3, 4, method="wilson-modified")
    assert v.sensitivity_ci == (pytest.approx(float(ci.lower)), pytest.approx(float(ci.upper)))
    assert v.ci_method == "wilson-modified"
    mw = mann_whitney(VALUES[:4], VALUES[4:9])
    assert v.mw_statistic == mw.statistic and v.mw_p_value == pytest.approx(mw.p_value, rel=1e-15)
    assert v.median_positive == pytest.approx(np.median(VALUES[:4]))
    assert np.isnan(v.logrank_p_value) and v.km_test_positive is None


def test_other_direction_and_ci_method() -> None:
    v = validate_cutoff(VALUES, OUTCOME, 4.7, "<", ci_method="clopper-pearson")
    # test positive = value >= 4.7: failures 4.7, 5.5; non-failures 6.0, 7.3, 8.8
    assert (v.tp, v.fn, v.fp, v.tn) == (2, 2, 3, 2)
    assert (v.ppv, v.npv) == (pytest.approx(2 / 5), pytest.approx(2 / 4))
    ci = proportion_ci(2, 4, method="clopper-pearson")
    assert v.npv_ci == (pytest.approx(float(ci.lower)), pytest.approx(float(ci.upper)))


def test_survival_by_side() -> None:
    v = validate_cutoff(VALUES, OUTCOME, 4.7, ">", time=TIME, event=EVENT)
    pos = VALUES <= 4.7  # all 10 patients have follow-up, the not-evaluable one included
    assert (v.n_test_positive_survival, v.n_test_negative_survival) == (pos.sum(), (~pos).sum())
    lr = logrank(TIME, EVENT, pos.astype(int))
    assert v.logrank_p_value == pytest.approx(lr.p_value, rel=1e-14)
    km = kaplan_meier(TIME[pos], EVENT[pos])
    assert v.km_test_positive is not None
    np.testing.assert_array_equal(v.km_test_positive.survival, km.survival)
    frame = v.to_frame()
    assert list(frame["measure"]) == ["sensitivity", "specificity", "ppv", "npv", "mann_whitney_p", "logrank_p"]
    assert frame.loc[0, "x"] == 3 and frame.loc[0, "n"] == 4


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="frozen"):
        validate_cutoff(VALUES, OUTCOME, 4.7, "auto")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both outcome classes"):
        validate_cutoff(VALUES, np.ones(10), 4.7, ">")
    with pytest.raises(ValueError, match="finite"):
        validate_cutoff(VALUES, OUTCOME, np.nan, ">")
    with pytest.raises(ValueError, match="patients"):
        validate_cutoff(VALUES, OUTCOME[:5], 4.7, ">")


# --------------------------------------------------------------------------------------------
# optimism-corrected AUC
# --------------------------------------------------------------------------------------------


def test_optimism_reproducible_by_seed() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 5))
    y = (rng.random(40) < 0.5).astype(float)
    a = optimism_corrected_auc(x, y, n_boot=30, seed=17)
    b = optimism_corrected_auc(x, y, n_boot=30, seed=17)
    c = optimism_corrected_auc(x, y, n_boot=30, seed=18)
    np.testing.assert_array_equal(a.replicate_optimism, b.replicate_optimism)
    assert a.corrected_auc == b.corrected_auc and a.replicate_marker == b.replicate_marker
    assert a.corrected_auc != c.corrected_auc
    assert a.apparent_auc == c.apparent_auc  # the apparent AUC does not depend on the seed
    assert a.selection_frequency().sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="seed"):
        optimism_corrected_auc(x, y, seed=None)  # type: ignore[arg-type]


def test_optimism_near_zero_for_one_strong_marker() -> None:
    rng = np.random.default_rng(5)
    n = 400
    y = (rng.random(n) < 0.5).astype(float)
    x = rng.normal(size=n) + 1.5 * y
    res = optimism_corrected_auc(x, y, n_boot=100, seed=1)
    assert res.n_markers == 1 and res.direction == "<"
    assert abs(res.optimism) < 0.005
    assert res.corrected_auc == pytest.approx(res.apparent_auc, abs=0.005)


def test_optimism_positive_for_search_over_null_markers() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 40))
    y = (rng.random(40) < 0.5).astype(float)
    res = optimism_corrected_auc(x, y, n_boot=60, seed=2)
    # the best of 40 null markers looks good on its own data ...
    assert res.apparent_auc > 0.7
    # ... and the bootstrap takes most of that back towards 0.5
    assert res.optimism > 0.1
    assert res.corrected_auc < res.apparent_auc - 0.1
    assert len(set(res.replicate_marker)) > 5  # the selection is unstable under resampling
