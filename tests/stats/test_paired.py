"""cartscope.stats.paired against R's stats package (R script: tests/stats/r/paired.R)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.stats.paired import (
    friedman,
    mcnemar,
    paired_t,
    signrank_distribution,
    wilcoxon_signed_rank,
)

from r_json import ALTERNATIVE as ALT, case as _get, num, reference_fixture

RTOL = 1e-8
ref = reference_fixture(Path(__file__).parent / "r" / "paired.R")


def _matrix(rows: Any) -> np.ndarray:
    return np.array([[num(v) for v in row] for row in rows])


WILCOX = [
    "exact", "exact_less", "exact_greater", "exact_mu", "one_sample", "one_sample_mu",
    "ties_zeros", "ties_zeros_nocorrect", "ties_zeros_less", "ties_zeros_forced_exact",
    "zero_no_ties", "missing_pairs", "large_normal", "large_forced_exact", "small_forced_normal",
    "small_forced_normal_nocorrect", "n49_exact", "float_diffs",
]


@pytest.mark.r_reference
@pytest.mark.parametrize("name", WILCOX)
def test_wilcoxon_signed_rank_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "wilcox", name)
    y = None if c["y"] == "none" else num(c["y"])
    exact = None if c["exact"] == "auto" else bool(c["exact"])
    res = wilcoxon_signed_rank(num(c["x"]), y, exact=exact, correct=c["correct"],
                               alternative=ALT[c["alternative"]], mu=num(c["mu"]))
    assert res.statistic == num(c["V"])
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)
    assert res.method == ("exact" if "exact" in c["method"] else "normal")
    assert res.correct == c["correct"]


def test_wilcoxon_rules_without_r() -> None:
    # zeros force the normal approximation even when exact is asked for (R warns there)
    res = wilcoxon_signed_rank([1.0, 2.0, 3.0, 4.0], [1.0, 0.5, 1.0, 1.0], exact=True)
    assert res.method == "normal" and res.n == 3 and res.n_zeros == 1
    # all differences zero: R's 0/0 p-value
    allzero = wilcoxon_signed_rank([1.0, 2.0], [1.0, 2.0])
    assert np.isnan(allzero.p_value) and allzero.n == 0
    with pytest.raises(ValueError, match="same length"):
        wilcoxon_signed_rank([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="not enough"):
        wilcoxon_signed_rank([np.nan], [1.0])
    with pytest.raises(ValueError, match="alternative"):
        wilcoxon_signed_rank([1.0, 2.0], alternative="two.sided")  # type: ignore[arg-type]
    assert "V = " in repr(res) and len(res.to_frame()) == 1


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=12))
def test_signrank_distribution_counts_every_sign_pattern(n: int) -> None:
    # brute force over all 2^n sign patterns of ranks 1..n
    ranks = np.arange(1, n + 1)
    patterns = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    v = patterns @ ranks
    expected = np.bincount(v, minlength=n * (n + 1) // 2 + 1) / 2.0**n
    np.testing.assert_allclose(signrank_distribution(n), expected, rtol=1e-13)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=2, max_size=25))
def test_wilcoxon_is_antisymmetric_in_swap(d: list[int]) -> None:
    x = np.array(d, dtype=float)
    y = np.zeros_like(x)
    ab = wilcoxon_signed_rank(x, y)
    ba = wilcoxon_signed_rank(y, x)
    nonzero = int((x != 0).sum())
    assert ab.statistic + ba.statistic == nonzero * (nonzero + 1) / 2
    if not np.isnan(ab.p_value):
        np.testing.assert_allclose(ab.p_value, ba.p_value, rtol=1e-12)


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["two_sided", "less", "greater_mu_90", "missing", "large"])
def test_paired_t_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "ttest", name)
    res = paired_t(num(c["x"]), num(c["y"]), mu=num(c["mu"]), alternative=ALT[c["alternative"]],
                   level=num(c["level"]))
    np.testing.assert_allclose(
        [res.statistic, res.df, res.p_value, res.estimate, res.se],
        [num(c["t"]), num(c["df"]), num(c["p"]), num(c["estimate"]), num(c["se"])], rtol=RTOL,
    )
    np.testing.assert_allclose([res.ci_lower, res.ci_upper], num(c["ci"]), rtol=RTOL)


def test_paired_t_errors() -> None:
    with pytest.raises(ValueError, match="not enough"):
        paired_t([1.0, np.nan], [2.0, 3.0])
    with pytest.raises(ValueError, match="essentially constant"):
        paired_t([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert "Paired t-test" in repr(paired_t([1.0, 2.5, 3.0], [0.0, 1.0, 2.1]))


@pytest.mark.r_reference
@pytest.mark.parametrize("name", ["random", "rounding_times_ties", "missing_and_tied_rows", "two_groups"])
def test_friedman_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "friedman", name)
    res = friedman(_matrix(c["m"]))
    np.testing.assert_allclose(res.statistic, num(c["stat"]), rtol=RTOL)
    assert res.df == int(num(c["df"]))
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)


@pytest.mark.r_reference
@pytest.mark.parametrize(
    "name", ["presidential", "presidential_nocorrect", "small", "equal_discordant", "three_by_three"]
)
def test_mcnemar_matches_r(ref: Any, name: str) -> None:
    c = _get(ref, "mcnemar", name)
    res = mcnemar(_matrix(c["table"]), correct=c["correct"])
    np.testing.assert_allclose(res.statistic, num(c["stat"]), rtol=RTOL, atol=1e-15)
    assert res.df == int(num(c["df"]))
    np.testing.assert_allclose(res.p_value, num(c["p"]), rtol=RTOL)
    assert res.correct == c["corrected"]


def test_mcnemar_and_friedman_reject_bad_tables() -> None:
    with pytest.raises(ValueError, match="square"):
        mcnemar([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="nonnegative"):
        mcnemar([[1, -2], [3, 4]])
    with pytest.raises(ValueError, match="2 groups"):
        friedman([[1.0], [2.0]])
    with pytest.raises(ValueError, match="complete blocks"):
        friedman([[1.0, np.nan]])
    assert "McNemar" in repr(mcnemar([[3, 1], [5, 2]]))
