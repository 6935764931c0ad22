"""Response scales, MRD upgrade and BOR windows (domain-reference §4.1-4.4)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.clinical.response import (
    assessment_responses,
    best_response,
    normalise_response,
    response_rank,
    responses_in_window,
    scale_for_disease,
    upgrade_mrd,
)


def test_scales_and_orderings() -> None:
    scale = scale_for_disease(pd.Series(["B-ALL", "DLBCL", "FL", "MCL"]))
    assert scale.tolist() == ["b-all", "lugano", "lugano", "lugano"]
    labels = pd.Series(["MRD-negative CR", "CR", "CRi", "PR", "NR", "SD", "PD"])
    ball = normalise_response(labels, pd.Series(["b-all"] * 7))
    assert ball.tolist() == ["MRD-negative CR", "CR", "CRi", "PR", "NR", "NR", "NR"]
    assert response_rank(ball, pd.Series(["b-all"] * 7)).tolist() == [4, 3, 2, 1, 0, 0, 0]
    lug = normalise_response(labels, pd.Series(["lugano"] * 7))
    assert lug.tolist() == ["CR", "CR", "CR", "PR", "NR", "SD", "PD"]
    assert response_rank(lug, pd.Series(["lugano"] * 7)).tolist() == [4, 4, 4, 3, 1, 2, 0]


def test_mrd_upgrade_boundary() -> None:
    r = upgrade_mrd(pd.Series(["CR", "CR", "CRi", "PR", "CR"]), pd.Series([0.0099, 0.01, 0.0, 0.0, np.nan]))
    assert r.tolist() == ["MRD-negative CR", "CR", "MRD-negative CR", "PR", "CR"]


def test_lugano_patient_is_not_upgraded_and_window() -> None:
    a = pd.DataFrame({"patient_id": ["x", "x", "y", "y"], "day": [30, 90, 28, 60],
                      "response": ["CR", "PD", "CR", "CRi"], "mrd_pct": [0.0, None, 0.0, 0.5]})
    scale = pd.Series({"x": "lugano", "y": "b-all"})
    r = assessment_responses(a, scale)
    assert r["response"].tolist() == ["CR", "PD", "MRD-negative CR", "CRi"]
    stop = pd.Series({"x": np.nan, "y": 45.0})
    w = responses_in_window(r, stop, bor_days=60)
    best = best_response(w)
    assert best.loc["x", "bor"] == "CR" and best.loc["x", "bor_day"] == 30
    assert best.loc["y", "n_assessments"] == 1
    assert best_response(r.iloc[0:0]).empty
