"""The (analyte, unit) pair coding of the unit checks equals ``pd.factorize`` of a MultiIndex."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartscope.cohort.checks_units import _pair_codes


@pytest.mark.parametrize("first, second", [
    (["il6", "il6", "crp", "il6", "crp"], ["pg/mL", "ng/mL", "mg/L", "pg/mL", "\0"]),
    (["b", "a", "b", "a"], ["x", "x", "y", "y"]),
    (["il6", None, "crp", np.nan, "il6"], ["pg/mL", "pg/mL", "mg/L", "\0", "pg/mL"]),  # a missing analyte
    (["one"], ["u"]),
    ([], []),
])
def test_pairs_are_coded_as_a_multiindex_factorizes_them(first: list, second: list) -> None:
    a, b = np.array(first, dtype=object), np.array(second, dtype=object)
    codes, pairs = _pair_codes(a, b)
    want_codes, want = pd.factorize(pd.MultiIndex.from_arrays([a, b]))
    np.testing.assert_array_equal(codes, want_codes)
    assert [tuple("nan" if x is np.nan else x for x in p) for p in pairs] == \
        [tuple("nan" if x is np.nan else x for x in p) for p in want]
