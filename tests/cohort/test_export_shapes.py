"""Every export shape of :mod:`export_shapes` loads without error as its clean cohort."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from export_shapes import GOOD_DATES, SHAPES
from redcap_fixtures import write_twin

from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.schema import TABLE_ORDER


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    twin = write_twin(tmp_path_factory.mktemp("twin") / "c")
    return {"dates": load_cohort(GOOD_DATES), "twin": load_cohort(twin)}


def test_at_least_fifteen_shapes() -> None:
    assert len(SHAPES) >= 15 and len({s.name for s in SHAPES}) == len(SHAPES)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_shape_loads_as_its_clean_cohort(shape, clean, tmp_path: Path) -> None:
    source = shape.build(tmp_path)
    cohort, problems = load_cohort_with_problems(source)
    assert {p.code for p in problems} <= shape.warnings, [str(p) for p in problems]
    if shape.expected == "limits":
        labs = cohort.labs
        tail = labs.tail(2)[["analyte", "value", "qualifier", "unit"]].values.tolist()
        assert tail == [["ctdna", 10.0, "<", "hGE/mL"], ["crp", 300.0, ">", "mg/L"]]
        cohort_labs = labs.iloc[:-2].reset_index(drop=True)
        pd.testing.assert_frame_equal(cohort_labs, clean["dates"].labs)
        return
    expected = clean[shape.expected]
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(cohort.table(name), expected.table(name), obj=f"{shape.name}: {name}")
