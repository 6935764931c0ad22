"""R corners of Kaplan-Meier and log-rank (R script: tests/stats/r/timefix.R).

* survival's ``timefix``: times equal up to rounding (0.1 + 0.2 and 0.3) are one time in
  survfit and survdiff (R ``aeqSurv``);
* ``quantile.survfit`` reads a non-monotone log-scale band in sorted order (survival::aml
  pooled, conf.type "log": upper limit of the median 48, not 45) and gives no quantile at
  prob 0 when the band stays at 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cartscope.stats._timefix import merge_near_ties
from cartscope.stats.cutoff_logrank import logrank_at_cutoffs
from cartscope.stats.km import kaplan_meier
from cartscope.stats.survival import logrank

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "timefix.R"


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


@pytest.mark.r_reference
def test_near_equal_times_merge_in_km_and_logrank(ref: Any) -> None:
    k = ref["km"]
    t, e, g = num(k["time_in"]), num(k["status"]), num(k["group"])
    assert len(np.unique(t)) == int(num(k["n_distinct_raw"]))
    fit = kaplan_meier(t, e, conf_type="log")
    assert len(fit.time) == len(num(k["time"])) < len(np.unique(t))
    np.testing.assert_allclose(fit.time, num(k["time"]), rtol=1e-15)
    np.testing.assert_array_equal(fit.n_risk, num(k["n_risk"]))
    np.testing.assert_array_equal(fit.n_event, num(k["n_event"]))
    np.testing.assert_allclose(fit.survival, num(k["surv"]), rtol=1e-12)
    np.testing.assert_allclose(fit.std_err, num(k["std_err"]), rtol=1e-12)
    lr = logrank(t, e, g)
    np.testing.assert_allclose(lr.statistic, num(k["chisq"]), rtol=1e-10)
    # the per-cut-off log-rank panel uses the same times
    panel = logrank_at_cutoffs(t, e, g, 1.5)
    np.testing.assert_allclose(panel.to_frame()["statistic"].iloc[0], num(k["chisq"]), rtol=1e-10)


QUANT = ["aml_log", "aml_loglog", "band_at_one", "band_at_one_8", "plain_8"]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", QUANT)
def test_quantile_corners_match_r(ref: Any, name: str) -> None:
    c = next(q for q in ref["quantile"] if q["name"] == name)
    fit = kaplan_meier(num(c["time"]), num(c["status"]), conf_type=c["conf_type"])
    q = fit.quantile(num(c["probs"]))
    np.testing.assert_array_equal(q.time, num(c["quantile"]))
    np.testing.assert_array_equal(q.lower, num(c["lower"]))
    np.testing.assert_array_equal(q.upper, num(c["upper"]))
    if name == "aml_log":
        assert q.upper[3] == 48.0


def test_merge_rule() -> None:
    t = np.array([0.1 + 0.2, 0.3, 1.0, 1.0 + 1e-12, 2.0])
    merged = merge_near_ties(t)
    assert len(np.unique(merged)) == 3
    assert merged[0] == merged[1] == min(0.1 + 0.2, 0.3)
    # distinct recorded days are never merged
    days = np.arange(0.0, 2000.0)
    np.testing.assert_array_equal(merge_near_ties(days), days)
