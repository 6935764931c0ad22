"""The marker dot plots of a screen on another outcome are drawn from the ROC analysis' own
cases and controls (its public observations), not from the NR/ER training panel."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cartscope.report.sections.biomarkers import _dot_frames
from cartscope.report.sections.cutoffs import ScreenWords
from cartscope.stats.roc import roc


def test_other_outcome_dot_frame_is_the_roc_analysis_cases_and_controls() -> None:
    score = np.array([3.0, np.nan, 1.0, 7.5, 2.0, 9.0])
    case = np.array([False, True, False, True, False, True])
    results = SimpleNamespace(objects={"roc/il6": roc(score, case)}, tables={}, protocol=None, plan=None)
    inp = SimpleNamespace(obj=lambda key: results.objects.get(key))
    words = ScreenWords(outcome="CRS grade >= 3", case="CRS grade >= 3 = 1", control="CRS grade >= 3 = 0")
    frames = _dot_frames(inp, ["il6", "ferritin"], None, words)  # type: ignore[arg-type]
    assert list(frames) == ["il6"]  # ferritin has no ROC analysis: no dot plot
    frame = frames["il6"]
    assert frame["value"].tolist() == [3.0, 1.0, 7.5, 2.0, 9.0]  # the unknown score is left out
    assert frame["outcome_class"].tolist() == ["CRS grade >= 3\n= 0", "CRS grade >= 3\n= 0", "CRS grade >= 3\n= 1",
                                               "CRS grade >= 3\n= 0", "CRS grade >= 3\n= 1"]


def test_observations_of_a_panel_marker() -> None:
    x = np.array([[1.0, 5.0], [2.0, np.nan], [3.0, 4.0], [4.0, 1.0]])
    r = roc(x, np.array([False, False, True, True]))
    obs = r.observations(1)
    assert obs["score"].tolist() == [5.0, 4.0, 1.0] and obs["is_case"].tolist() == [False, True, True]
