"""Firth logistic regression where both covariates separate the outcome, against R brglm2.

Grade >= 3 CRS on log2 IL-6 and ferritin at day 7 (27 patients; every patient above an IL-6
or ferritin threshold has the event). The penalised likelihood has two local maxima here;
``brglm2::brglmFit`` reaches whichever is nearer its start, so R is run twice
(tests/stats/r/logistic_separation.R): from its default start and from near the higher
maximum. Our fit is the higher maximum (what ``logistf`` maximises), which R confirms to 1e-8;
the profile limits, which used to crash the root finder here, are computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartscope.stats._profile import profile_limit
from cartscope.stats.firth_logistic import firth_fit
from cartscope.stats.logistic import logistic

from r_json import num

R_SCRIPT = Path(__file__).parent / "r" / "logistic_separation.R"


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> Any:
    return r_reference(R_SCRIPT)


def _data(ref: Any) -> pd.DataFrame:
    return pd.DataFrame({k: num(v) for k, v in ref["data"].items()})


@pytest.mark.slow  # about 5 s: 100 constrained Firth fits for the six profile limits
@pytest.mark.r_reference
def test_firth_under_two_separating_covariates_matches_brglm2(ref: Any) -> None:
    d = _data(ref)
    res = logistic(d["crs3"], d[["log2_il6_d7", "ferritin_d7_1000"]], firth="auto")
    assert res.method == "firth" and res.converged
    started = ref["started"]
    np.testing.assert_allclose(res.estimate, num(started["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(res.se, num(started["se"]), rtol=1e-8)
    np.testing.assert_allclose(res.penalized_loglik, num(started["penalized_loglik"]), rtol=1e-8)
    # R's default start ends at the lower local maximum; we find it too from R's estimate
    default = ref["default"]
    assert num(default["penalized_loglik"]) < res.penalized_loglik - 1.0
    x = res.x
    y = d["crs3"].to_numpy(dtype=float)
    other = firth_fit(x, y, start=num(default["estimate"]))
    np.testing.assert_allclose(other.beta, num(default["estimate"]), rtol=1e-7)
    # the profile limits exist and bracket the estimate (no root-finder failure)
    assert np.all(res.ci_lower < res.estimate) and np.all(res.estimate < res.ci_upper)
    np.testing.assert_allclose(np.exp([res.ci_lower[2], res.ci_upper[2]]), [0.5879, 227.6], rtol=1e-3)


def test_profile_limit_keeps_the_bracket_it_saw() -> None:
    # a constrained maximum that comes out lower when re-evaluated (another local maximum
    # reached from another start) used to hand brentq a bracket with equal signs
    calls: dict[float, int] = {}

    def constrained(v: float) -> float:
        calls[v] = calls.get(v, 0) + 1
        value = -0.5 * v * v
        return value if calls[v] == 1 or abs(v) < 1.5 else value - 10.0

    limit = profile_limit(0.0, 1.0, 0.0, constrained, 3.841458820694124, +1)
    assert limit == pytest.approx(np.sqrt(3.841458820694124), rel=1e-9)


def test_profile_that_never_reaches_the_cutoff_gives_an_infinite_stated_limit() -> None:
    # the deviance drop levels off at 2 < 3.84: no finite upper limit
    limit = profile_limit(0.0, 1.0, 0.0, lambda v: -(1.0 - np.exp(-abs(v))), 3.841458820694124, +1)
    assert limit == np.inf
