"""Time-dependent AUC(t) against R ``riskRegression::Score`` (script: r/td_roc.R).

Score(..., metrics = "auc", cens.model = "km") is the same estimator (cumulative cases,
dynamic controls, Kaplan-Meier IPCW, trapezoidal AUC) with the influence-function SE, with
and without its censoring part (``conservative``). AUC, SE and limits to 1e-8 relative on
pbc (bilirubin), veteran (Karnofsky score, lower = worse) and a seeded set with tied
markers, tied times and events tied with censorings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.roc import roc
from cartscope.stats.td_roc import td_auc

R_SCRIPT = Path(__file__).parent / "r" / "td_roc.R"


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)


@pytest.mark.r_reference
@pytest.mark.parametrize("conservative", [False, True])
@pytest.mark.parametrize("name", ["pbc_bili", "veteran_karno", "simulated_ties"])
def test_auc_matches_score(ref: dict[str, Any], name: str, conservative: bool) -> None:
    c = next(x for x in ref["cases"] if x["name"] == name)
    r = next(s for s in c["scores"] if s["conservative"] == conservative)
    fit = td_auc(c["time"], c["status"], c["marker"], c["times"], conservative=conservative)
    np.testing.assert_array_equal(fit.times, r["times"])
    for ours, key in [(fit.auc, "auc"), (fit.std_err, "se"), (fit.lower, "lower"),
                      (fit.upper, "upper")]:
        np.testing.assert_allclose(ours, r[key], rtol=1e-8)


@pytest.mark.r_reference
def test_direction_lower_is_the_negated_marker(ref: dict[str, Any]) -> None:
    c = next(x for x in ref["cases"] if x["name"] == "veteran_karno")
    a = td_auc(c["time"], c["status"], -np.asarray(c["marker"]), c["times"], direction="lower")
    r = c["scores"][0]
    np.testing.assert_allclose(a.auc, r["auc"], rtol=1e-8)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 5)), min_size=6, max_size=40))
def test_without_censoring_before_t_it_is_the_plain_auc(rows: list[tuple[int, int]]) -> None:
    """Everyone followed past t or with an event by t: the weights are equal and AUC(t) is
    the ordinary (Mann-Whitney) AUC of cases versus controls."""
    time = np.array([r[0] for r in rows], float)
    marker = np.array([r[1] for r in rows], float)
    event = np.ones(time.shape[0])
    horizon = 15.0
    case = time <= horizon
    if case.all() or not case.any():
        return
    fit = td_auc(time, event, marker, [horizon])
    plain = roc(marker, case.astype(int), direction="<")
    assert fit.auc[0] == pytest.approx(plain.auc, rel=1e-12)


def test_no_cases_or_no_controls_give_nan_and_bad_input_errors() -> None:
    fit = td_auc([5, 6, 7, 8], [1, 0, 1, 1], [1.0, 2.0, 3.0, 4.0], [1.0, 20.0])
    assert np.isnan(fit.auc).all() and list(fit.n_cases) == [0, 3]
    with pytest.raises(ValueError, match="direction"):
        td_auc([5, 6], [1, 0], [1.0, 2.0], [3.0], direction="up")
    with pytest.raises(ValueError, match="marker"):
        td_auc([5, 6], [1, 0], [1.0, np.nan], [3.0])
