"""Figures and methods sentences of the model kinds (landmark, Simon-Makuch, predicted and
adjusted Cox curves, rmst, td_roc), drawn from result objects the kinds store."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartscope.analysis.plan.schema import AnalysisSpec
from cartscope.report.models import model_figures, model_methods
from cartscope.stats.cox import cox
from cartscope.stats.cox_predict import adjusted_survival, predict_survival
from cartscope.stats.km import kaplan_meier
from cartscope.stats.survival import logrank


def _objects() -> dict:
    rng = np.random.default_rng(7)
    n = 60
    data = pd.DataFrame({"age": rng.normal(60, 8, n), "arm": rng.choice(["a", "b"], n)})
    t = np.round(rng.exponential(300, n)) + 1
    e = rng.integers(0, 2, n)
    fit = cox(t, e, data)
    pred = predict_survival(fit, pd.DataFrame({"age": [50.0, 70.0], "arm": ["a", "a"]},
                                              index=["age 50", "age 70"]))
    adj = adjusted_survival(fit, data, "arm")
    g = data["arm"].to_numpy()
    curves = {lev: kaplan_meier(t[g == lev], e[g == lev]) for lev in ("a", "b")}
    return {
        "cox_predicted/m/all": pred,
        "cox_adjusted/m/all": adj,
        "landmark/lm": {"curves": curves, "logrank": logrank(t, e, g), "landmark": 28.0,
                        "status": "response", "endpoint": "os"},
        "simon_makuch/lm": {"curves": curves, "status": "hsct", "endpoint": "os"},
        "cox/os/0": fit,
    }


def test_model_figures_draw_each_object() -> None:
    items = model_figures(_objects())
    assert [i.key for i in items] == ["cox_adjusted_m_all", "cox_predicted_m_all", "landmark_lm",
                                      "simon_makuch_lm"]
    for item in items:
        fig = item.figure
        assert fig.axes, item.key
    pred_fig = items[1].figure
    labels = [t.get_text() for t in pred_fig.axes[0].get_legend().get_texts()]
    assert labels == ["age 50", "age 70"]
    assert "day-28 landmark" in items[2].caption


def test_methods_sentences_name_each_model_option() -> None:
    specs = [
        AnalysisSpec(id="m1", kind="cox", options={"time_varying": ["hsct"], "robust": True, "ties": "exact"}),
        AnalysisSpec(id="m2", kind="cox", options={}),
        AnalysisSpec(id="lm", kind="landmark", options={"landmark": 28, "status": "cr_by_28"}),
        AnalysisSpec(id="r", kind="rmst", options={"tau": 365}),
        AnalysisSpec(id="t", kind="td_roc", options={}),
    ]
    text = model_methods(specs)
    assert len(text) == 4  # a plain cox model has nothing to add
    assert "hsct entered as time-dependent" in text[0] and "robust sandwich" in text[0]
    assert "exact partial likelihood" in text[0]
    assert "day 28" in text[1] and "immortal-time" in text[1]
    assert "day 365" in text[2]
    assert "riskRegression" in text[3]
    assert model_methods(specs, ran=["r"]) == [text[2]]
