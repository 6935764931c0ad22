"""RMST and its two-group contrasts (script: r/rmst_sm.R).

R ``survRM2`` is not in Debian. Per group the oracle is R survfit's ``rmean`` and
``se(rmean)`` with ``rmean = tau`` (the same Greenwood-type variance survRM2 uses); the
difference, the RMST ratio and the RMTL ratio with their CI and p are the formulas of
Uno et al. (J Clin Oncol 2014) / ``survRM2::rmst2``, evaluated in R on R's per-group values.
All to 1e-8 relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.rmst import rmst, rmst_compare

R_SCRIPT = Path(__file__).parent / "r" / "rmst_sm.R"


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["aml", "veteran", "lung"])
def test_rmst_contrasts_match_r(ref: dict[str, Any], name: str) -> None:
    c = next(x for x in ref["rmst"] if x["name"] == name)
    r = rmst_compare(c["time"], c["status"], c["arm"], c["tau"], reference=0)
    assert r.levels == (0, 1)
    np.testing.assert_allclose([g.estimate for g in r.per_group], c["rmean"], rtol=1e-8)
    np.testing.assert_allclose([g.std_err for g in r.per_group], c["se"], rtol=1e-8)
    for measure, key in [("rmst_difference", "diff"), ("rmst_ratio", "ratio"),
                         ("rmtl_ratio", "rmtl")]:
        k = r.contrast(measure)
        np.testing.assert_allclose([k.estimate, k.lower, k.upper, k.p_value], c[key], rtol=1e-8)
    frame = r.to_frame()
    assert list(frame["measure"]) == ["rmst", "rmtl", "rmst", "rmtl", "rmst_difference",
                                      "rmst_ratio", "rmtl_ratio"]


def test_tau_beyond_the_data_and_bad_groups_are_errors() -> None:
    t = [1, 2, 3, 4, 5, 6]
    e = [1, 0, 1, 1, 0, 1]
    with pytest.raises(ValueError, match="tau must be in"):
        rmst_compare(t, e, [0, 0, 0, 1, 1, 1], tau=5.5)
    with pytest.raises(ValueError, match="exactly two groups"):
        rmst_compare(t, e, [0, 1, 2, 0, 1, 2], tau=2)
    with pytest.raises(ValueError, match="reference"):
        rmst_compare(t, e, [0, 0, 0, 1, 1, 1], tau=3, reference=7)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.booleans()), min_size=4, max_size=30))
def test_rmst_is_area_under_the_curve_and_swapping_arms_inverts(data: list[tuple[int, bool]]) -> None:
    t = np.array([d[0] for d in data], float)
    e = np.array([d[1] for d in data])
    g = np.arange(t.shape[0]) % 2
    tau = float(min(t[g == 0].max(), t[g == 1].max()))
    one = rmst(t, e, tau)
    assert 0 < one.estimate <= tau
    a = rmst_compare(t, e, g, tau, reference=0)
    b = rmst_compare(t, e, g, tau, reference=1)
    assert a.contrast("rmst_difference").estimate == pytest.approx(
        -b.contrast("rmst_difference").estimate, abs=1e-12)
    assert a.contrast("rmst_ratio").estimate * b.contrast("rmst_ratio").estimate == pytest.approx(1.0)
