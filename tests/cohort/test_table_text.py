"""The data hash's table text is exactly ``to_csv``'s, whichever path writes it.

``cohort.store.data_hash`` is recorded in results and compared with stored snapshots, so the
faster column-by-column writer (:func:`table_text`) must give the bytes of the defining
``to_csv`` call (:func:`pandas_table_text`) for every table it writes itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartscope.cohort import store
from cartscope.cohort import table_text as tt
from cartscope.cohort.load import load_cohort

GOOD = Path(__file__).parent / "good"


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if ``table_text`` hands a table to ``to_csv``: the test is about its own writer."""
    def refuse(frame: pd.DataFrame, digits: int) -> str:
        raise AssertionError(f"table with columns {list(frame.columns)} fell back to to_csv")

    monkeypatch.setattr(tt, "pandas_table_text", refuse)


def _same_text(frame: pd.DataFrame) -> None:
    expected = frame.to_csv(index=False, lineterminator="\n", float_format="%.15g")
    assert tt.table_text(frame, 15) == expected


def test_the_data_hash_of_a_stored_fixture_is_unchanged() -> None:
    """The digest recorded for this fixture before the writer changed (a regression pin)."""
    assert store.data_hash(load_cohort(GOOD / "days")) == (
        "db66bb747a2c5c4847818bd2e1ac47ee61f6ed0a56b9eabfb2b57d3a185f5e4b")


@pytest.mark.parametrize("preset", ["jin2023", "li2023", "lu2021"])
def test_preset_tables_are_written_as_to_csv_writes_them(preset: str, tmp_path: Path) -> None:
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort

    cohort = load_cohort(write_cohort(synthesize(preset, seed=2023), tmp_path / preset, fmt="csv"))
    expected = {name: cohort.table(name).to_csv(index=False, lineterminator="\n", float_format="%.15g")
                for name in cohort.present}
    for name in sorted(cohort.present):
        with pytest.MonkeyPatch.context() as mp:  # the loaded cohort's types are all covered
            mp.setattr(tt, "pandas_table_text", lambda frame, digits: pytest.fail(f"{name} fell back"))
            assert tt.table_text(cohort.table(name), 15) == expected[name], name


@pytest.mark.slow
def test_the_tenfold_cohort_is_written_as_to_csv_writes_it(tmp_path: Path) -> None:
    from cartscope.bench.cases_more import tenfold_cohort
    from cartscope.cohort.write import write_cohort

    cohort = load_cohort(write_cohort(tenfold_cohort("jin2023", 1), tmp_path / "ten", fmt="csv"))
    assert len(cohort.patients) == 1190
    for name in sorted(cohort.present):
        frame = cohort.table(name)
        assert tt.table_text(frame, 15) == tt.pandas_table_text(frame, 15), name


ODD_FLOATS = [math.nan, -0.0, 0.0, math.inf, -math.inf, 1e-300, -1e-300, 5e-324, 2.2250738585072014e-308,
              float(2**53), float(2**53 + 2), 1e15, 1e16, -1e16, 123456789012345678.0, 0.1 + 0.2, 1 / 3,
              999999999999999.9, 0.000123456789012345678, 1.5, -2.5, 100.0, 1e100, 7.0]
floats = st.one_of(st.sampled_from(ODD_FLOATS), st.floats(allow_nan=True, allow_infinity=True, width=64))
texts = st.one_of(st.sampled_from(["", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "crlf\r\n", " pad ",
                                   "µg/L", "x", ",", '"', "\n"]), st.text(max_size=6))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.sampled_from(["float", "str", "Int64", "boolean", "int64", "bool"]),
                          min_size=2, max_size=5))
    names = draw(st.lists(texts.filter(bool), min_size=len(kinds), max_size=len(kinds), unique=True))
    data = {}
    for name, kind in zip(names, kinds):
        if kind == "float":
            data[name] = pd.Series(draw(st.lists(floats, min_size=n, max_size=n)), dtype="float64")
        elif kind == "str":
            values = draw(st.lists(st.one_of(st.none(), texts), min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype=pd.StringDtype(na_value=np.nan))
        elif kind in ("Int64", "int64"):
            big = st.integers(-(2**62), 2**62)
            values = draw(st.lists(st.one_of(st.none(), big) if kind == "Int64" else big, min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype=kind)
        else:
            values = draw(st.lists(st.one_of(st.none(), st.booleans()) if kind == "boolean" else st.booleans(),
                                   min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype=kind)
    return pd.DataFrame(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames())
def test_odd_values_are_written_as_to_csv_writes_them(frame: pd.DataFrame, no_fallback: None) -> None:
    expected = frame.to_csv(index=False, lineterminator="\n", float_format="%.15g")
    assert tt.table_text(frame, 15) == expected


def test_negative_zero_and_nan_keep_their_own_text() -> None:
    """-0.0 equals 0.0 but prints "-0"; values are told apart by their bits, not by ==."""
    frame = pd.DataFrame({"a": [0.0, -0.0, math.nan, 1e-300, float(2**53)], "b": ["x"] * 5})
    assert tt.table_text(frame, 15) == "a,b\n0,x\n-0,x\n,x\n1e-300,x\n9.00719925474099e+15,x\n"
    _same_text(frame)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": [1.0, math.nan]}),  # a lone empty field is written '""'
    pd.DataFrame({"a": pd.Series(dtype=float), "b": pd.Series(dtype=object)}),  # no rows
    pd.DataFrame({"a": [1.5, 2.0], "b": [object(), "x"]}).assign(b=["y", 3]),  # object column
    pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]),  # duplicate names
    pd.DataFrame({1: [1.0], 2: ["x"]}),  # names that are not strings
    pd.DataFrame({"d": pd.to_datetime(["2024-01-02", None]), "x": [1.0, 2.0]}),  # dates
    pd.DataFrame({"f": np.array([1.5, 2.25], dtype=np.float32), "x": [1, 2]}),  # float32
])
def test_other_tables_are_written_by_to_csv_itself(frame: pd.DataFrame) -> None:
    _same_text(frame)
