"""Binomial proportion CIs against R (binom.test, prop.test and closed forms in proportions.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartscope.stats import proportion_ci
from cartscope.stats.proportions import METHODS

R_SCRIPT = Path(__file__).parent / "r" / "proportions.R"


@pytest.mark.r_reference
@pytest.mark.parametrize("method", METHODS)
def test_matches_r_on_grid(r_reference, method: str) -> None:
    ref = r_reference(R_SCRIPT)
    x = np.asarray(ref["x"], dtype=int)
    n = np.asarray(ref["n"], dtype=int)
    level = np.asarray(ref["level"], dtype=float)
    # atol: at x = 0 (x = n) R's floating-point closed forms leave up to ~6e-17 of rounding
    # where cartscope returns the exact limit 0 (1).
    for lvl in np.unique(level):
        sel = level == lvl
        ci = proportion_ci(x[sel], n[sel], method=method, level=float(lvl))
        np.testing.assert_allclose(ci.lower, np.asarray(ref[method]["lower"])[sel], rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(ci.upper, np.asarray(ref[method]["upper"])[sel], rtol=1e-8, atol=1e-14)
        np.testing.assert_array_equal(ci.estimate, x[sel] / n[sel])


@pytest.mark.parametrize(
    ("x", "n", "estimate", "lower", "upper"),
    [
        (12, 13, 92.31, 66.69, 99.61),  # MIP3a sensitivity
        (17, 26, 65.38, 46.22, 80.59),  # MIP3a specificity
        (13, 13, 100.0, 77.19, 100.0),  # Eotaxin sensitivity
        (15, 26, 57.69, 38.95, 74.46),  # Eotaxin specificity
    ],
)
def test_modified_wilson_reproduces_jin2023(x: int, n: int, estimate: float, lower: float, upper: float) -> None:
    """The published jin2023 intervals, to the printed two decimals of a percentage."""
    ci = proportion_ci(x, n, method="wilson-modified")
    assert round(100 * float(ci.estimate), 2) == estimate
    assert round(100 * float(ci.lower), 2) == lower
    assert round(100 * float(ci.upper), 2) == upper


def test_plain_wilson_differs_from_modified_at_the_edge() -> None:
    """12/13: the plain Wilson upper limit is 98.63 %, the modified one 99.61 %."""
    assert round(100 * float(proportion_ci(12, 13, "wilson").upper), 2) == 98.63
    assert round(100 * float(proportion_ci(12, 13, "wilson-modified").upper), 2) == 99.61


def test_known_clopper_pearson_value() -> None:
    # binom.test(0, 10)$conf.int upper = 1 - 0.025^(1/10)
    ci = proportion_ci(0, 10, "clopper-pearson")
    assert float(ci.lower) == 0.0
    assert float(ci.upper) == pytest.approx(1 - 0.025 ** 0.1, rel=1e-12)


def test_vectorised_shape_and_frame() -> None:
    ci = proportion_ci([1, 5, 10], 10, method="jeffreys", level=0.9)
    assert ci.lower.shape == (3,)
    frame = ci.to_frame()
    assert list(frame.columns) == ["x", "n", "estimate", "lower", "upper", "method", "level"]
    assert frame["n"].tolist() == [10, 10, 10]
    assert frame["method"].iloc[0] == "jeffreys"
    assert frame["level"].iloc[0] == 0.9


@pytest.mark.parametrize(
    ("x", "n", "kwargs", "match"),
    [
        (5, 0, {}, "n must be >= 1"),
        (6, 5, {}, "between 0 and n"),
        (-1, 5, {}, "between 0 and n"),
        (1.5, 5, {}, "whole number"),
        (1, 5, {"method": "exact"}, "unknown method"),
        (1, 5, {"level": 95}, "level must be in"),
        ([1, 2], [3, 4, 5], {}, "same shape"),
    ],
)
def test_bad_input_is_a_clear_error(x, n, kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        proportion_ci(x, n, **kwargs)


@given(
    n=st.integers(min_value=1, max_value=400),
    data=st.data(),
    method=st.sampled_from(METHODS),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_interval_is_ordered_and_inside_unit(n: int, data, method: str, level: float) -> None:
    x = data.draw(st.integers(min_value=0, max_value=n))
    ci = proportion_ci(x, n, method=method, level=level)
    lo, hi = float(ci.lower), float(ci.upper)
    assert 0.0 <= lo <= hi <= 1.0
    if method != "agresti-coull":
        assert lo <= x / n <= hi
    # the interval for n - x mirrors the interval for x
    mirror = proportion_ci(n - x, n, method=method, level=level)
    assert float(mirror.lower) == pytest.approx(1 - hi, abs=1e-12)
    assert float(mirror.upper) == pytest.approx(1 - lo, abs=1e-12)


def test_modified_wilson_over_a_panel_is_each_count_on_its_own() -> None:
    """A panel of counts (as the biomarker screen passes) gets, count by count, the interval
    of that count alone, at the chi-square edges (n <= 100, x or n - x in 1..3) and elsewhere."""
    n = np.array([10, 10, 10, 10, 60, 60, 60, 100, 101, 13, 1, 2])
    x = np.array([0, 1, 2, 9, 3, 4, 58, 97, 1, 12, 1, 1])
    panel = proportion_ci(x, n, method="wilson-modified", level=0.9)
    for i in range(n.size):
        one = proportion_ci(int(x[i]), int(n[i]), method="wilson-modified", level=0.9)
        assert float(panel.lower[i]) == float(one.lower) and float(panel.upper[i]) == float(one.upper)
    wilson = proportion_ci(x, n, method="wilson", level=0.9)
    edge = np.array([False, True, True, True, True, False, True, True, False, True, True, True])
    assert np.all((panel.lower != wilson.lower) | (panel.upper != wilson.upper) == edge)
