"""(start, stop] rows for time-dependent covariates against R survival's ``tmerge`` (script: r/tmerge.R).

The R script draws 30 patients, HSCT days (one on day 0, one on the last follow-up day, one
after it), first-response days (one shared with an HSCT day) and repeated reinfusions, and
builds ``tmerge(..., death = event(futime, status), hsct = tdc(day), response = tdc(day),
reinfusions = cumtdc(day))``; the rows must be identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartscope.clinical.timevarying import (
    TimeVaryingSpec,
    counting_process_table,
    event_days,
    reinfusion_days,
    response_days,
)

R_SCRIPT = Path(__file__).parent / "r" / "tmerge.R"


@pytest.fixture(scope="module")
def ref(r_reference: Any) -> dict[str, Any]:
    return r_reference(R_SCRIPT)


def _days(d: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": d["id"], "day": d["day"]})


@pytest.mark.r_reference
def test_rows_match_tmerge(ref: dict[str, Any]) -> None:
    b = ref["base"]
    followup = pd.DataFrame({"patient_id": b["id"], "time": b["futime"], "event": b["status"],
                             "age": b["age"]})
    table = counting_process_table(followup, {
        "hsct": _days(ref["hsct"]),
        "response": _days(ref["response"]),
        "reinfusions": TimeVaryingSpec(_days(ref["reinfusion"]), "cumtdc"),
    })
    r = ref["rows"]
    assert table["patient_id"].tolist() == r["id"]
    for ours, theirs in [("tstart", "tstart"), ("tstop", "tstop"), ("event", "death"),
                         ("age", "age"), ("hsct", "hsct"), ("response", "response"),
                         ("reinfusions", "reinfusions")]:
        np.testing.assert_array_equal(table[ours].to_numpy(float), np.asarray(r[theirs], float),
                                      err_msg=ours)


def test_the_rows_cover_follow_up_once_with_the_event_last() -> None:
    followup = pd.DataFrame({"patient_id": ["a", "b"], "time": [100.0, 40.0], "event": [1, 0]})
    t = counting_process_table(followup, {"hsct": pd.Series({"a": 60.0, "b": 40.0})})
    assert t[["tstart", "tstop", "event", "hsct"]].values.tolist() == [
        [0, 60, 0, 0], [60, 100, 1, 1], [0, 40, 0, 0]]


def test_bad_follow_up_is_an_error() -> None:
    with pytest.raises(ValueError, match="> 0; patient"):
        counting_process_table(pd.DataFrame({"patient_id": ["a"], "time": [0.0], "event": [1]}), {})
    with pytest.raises(ValueError, match="already a column"):
        counting_process_table(pd.DataFrame({"patient_id": ["a"], "time": [5.0], "event": [1],
                                             "hsct": [1]}), {"hsct": pd.Series({"a": 1.0})})
    with pytest.raises(ValueError, match="cumtdc"):
        TimeVaryingSpec(pd.DataFrame({"patient_id": [], "day": []}), "count")


def test_day_extractors_rebase_to_the_index_infusion() -> None:
    index_day = pd.Series({"a": 10.0, "b": 0.0})
    events = pd.DataFrame({"patient_id": ["a", "b", "a"], "day": [110, 30, 50],
                           "type": ["hsct", "hsct", "relapse"]})
    assert event_days(events, "hsct", index_day).values.tolist() == [["a", 100.0], ["b", 30.0]]
    inf = pd.DataFrame({"patient_id": ["a", "a", "b"], "infusion_no": [1, 2, 1], "day": [10, 70, 0]})
    assert reinfusion_days(inf, index_day).values.tolist() == [["a", 60.0]]
    ass = pd.DataFrame({"patient_id": ["a", "a", "b"], "day": [38, 100, 28],
                        "response": ["PR", "CR", "CRi"]})
    assert response_days(ass, index_day).values.tolist() == [["a", 90.0], ["b", 28.0]]
    assert response_days(ass, index_day, ["PR", "CR"]).values.tolist() == [["a", 28.0]]
