"""Risk table under a cumulative incidence plot: numbers at risk (time >= t) and cumulative
events of each cause and censorings (<= t) per group, against R's multi-state ``survfit``
computed live (script r/competing_risk_table.R), on data with ties at the marks, events at
day 0 and a cause missing from one group; and through the ``cif`` analysis (its
``cif_risk_table`` at the figure's marks) on the lu2021 synthetic cohort."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartscope.stats.competing_risk_table import competing_risk_table

R_SCRIPT = Path(__file__).parent / "r" / "competing_risk_table.R"


def _r_counts(tmp_path: Path, frame: pd.DataFrame, marks: np.ndarray) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CARTSCOPE_REQUIRE_R"):
            pytest.fail("Rscript is required (CARTSCOPE_REQUIRE_R=1) but not installed")
        pytest.skip("Rscript not installed; R reference tests run in CI")
    data, mk, out = tmp_path / "d.csv", tmp_path / "m.csv", tmp_path / "o.json"
    frame.to_csv(data, index=False)
    pd.DataFrame({"time": marks}).to_csv(mk, index=False)
    proc = subprocess.run([rscript, "--vanilla", str(R_SCRIPT), str(data), str(mk), str(out)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"R failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 60
    time = np.round(rng.exponential(200, n)).astype(float)
    time[:4] = [0.0, 0.0, 100.0, 100.0]  # events at day 0 and ties at a mark
    cause = rng.choice([0, 1, 2], n, p=[0.4, 0.4, 0.2])
    group = np.where(np.arange(n) % 3 == 0, "b", "a")
    cause[(group == "b") & (cause == 2)] = 1  # cause 2 never occurs in b
    return pd.DataFrame({"time": time, "cause": cause, "group": group})


def test_counts_equal_r_survfit(tmp_path):
    d = _data()
    marks = np.array([0.0, 50.0, 100.0, 200.0, 400.0, 5000.0])
    ours = competing_risk_table(d["time"], d["cause"], marks, d["group"])
    ref = _r_counts(tmp_path, d, marks)
    assert ours.groups == ("a", "b") and ours.causes == (1, 2)
    for gi, g in enumerate(ours.groups):
        r = ref[g]
        np.testing.assert_array_equal(ours.n_risk[gi], r["n_risk"])
        np.testing.assert_array_equal(ours.cum_censored[gi], r["censored"])
        for k, c in enumerate(ours.causes):
            np.testing.assert_array_equal(ours.cum_events[k, gi], r["events"].get(str(c), [0] * len(marks)))
    frame = ours.to_frame()
    assert list(frame.columns) == ["group", "time", "n_risk", "censored", "events_1", "events_2"]
    # rows of group b: cause 2 has no event there; at the last mark nobody is at risk
    b = frame[frame["group"] == "b"]
    assert b["events_2"].eq(0).all() and b["n_risk"].iloc[-1] == 0
    assert int(b["events_1"].iloc[-1] + b["censored"].iloc[-1]) == int((d["group"] == "b").sum())


def test_hand_counts():
    # at t = 3: at risk are the times >= 3; events at 3 count as <= 3
    t = competing_risk_table([0, 1, 3, 3, 6, 8], [1, 1, 1, 2, 1, 0], [0, 3, 10])
    np.testing.assert_array_equal(t.n_risk[0], [6, 4, 0])
    np.testing.assert_array_equal(t.cum_events[0, 0], [1, 3, 4])
    np.testing.assert_array_equal(t.cum_events[1, 0], [0, 1, 1])
    np.testing.assert_array_equal(t.cum_censored[0], [0, 0, 1])
    assert repr(t) == "<CompetingRiskTable: 1 group(s) x 3 time(s), causes 1, 2>"
    with pytest.raises(ValueError, match="missing"):
        competing_risk_table([1.0, np.nan], [1, 0], [0])


@pytest.mark.slow
def test_cif_analysis_publishes_the_figure_marks(tmp_path):
    from cartscope.analysis.analyses.competing import risk_marks
    from cartscope.analysis.plan.check import read_plan
    from cartscope.analysis.presets import synthesize
    from cartscope.analysis.study import run_study
    from cartscope.report.figures._time import nice_ticks

    cohort = synthesize("lu2021", seed=2023)
    plan, _ = read_plan({"version": 1, "name": "t", "analyses": [
        {"id": "cr", "kind": "cif", "by": "disease_burden", "codings": ["relapse_nrm"]}]}, "p.yaml")
    res = run_study(cohort, plan)
    tab = res.tables["cif_risk_table"]
    ep = res.endpoints
    has = np.isfinite(ep["cr_time"].to_numpy(float))
    d = pd.DataFrame({"time": ep["cr_time"][has], "cause": ep["cr_cause"][has].fillna(0).astype(int),
                      "group": ep["disease_burden"][has].astype(str) if "disease_burden" in ep else None})
    split = tab[tab["by"] == "disease_burden"]
    marks = np.unique(split["month"].to_numpy(float))
    np.testing.assert_array_equal(marks, risk_marks(float(d["time"].max())))
    np.testing.assert_array_equal(marks, nice_ticks(float(d["time"].max()) / 30.4375, "months"))
    ref = _r_counts(tmp_path, d.dropna(), marks * 30.4375)
    for g, rows in split.groupby("group"):
        r = ref[str(g)]
        np.testing.assert_array_equal(rows["n_risk"], r["n_risk"])
        np.testing.assert_array_equal(rows["events_1"], r["events"].get("1", [0] * len(marks)))
        np.testing.assert_array_equal(rows["events_2"], r["events"].get("2", [0] * len(marks)))
        np.testing.assert_array_equal(rows["censored"], r["censored"])
    ard = res.ard[(res.ard["analysis"] == "cr") & (res.ard["variable"] == "relapse_nrm:risk table")]
    assert set(ard["stat_name"]) == {"n_risk", "events_1", "events_2", "censored"}


@pytest.mark.slow
def test_competing_section_names_the_population():
    from cartscope.analysis.plan.check import read_plan
    from cartscope.analysis.presets import synthesize
    from cartscope.analysis.study import run_study
    from cartscope.report.items import FigureItem, TableItem
    from cartscope.report.sections import SectionInput
    from cartscope.report.sections.competing import competing_section

    cohort = synthesize("lu2021", seed=2023)
    plan, _ = read_plan({"version": 1, "name": "t",
                         "populations": {"older": {"where": "age >= 10", "title": "age 10 or older"}},
                         "analyses": [{"id": "cr", "kind": "cif", "population": "older", "codings": ["relapse_nrm"],
                                       "landmark_months": [12]}]}, "p.yaml")
    res = run_study(cohort, plan)
    items = competing_section(SectionInput(res, cohort))
    fig = next(i for i in items if isinstance(i, FigureItem))
    assert fig.caption.startswith("Cumulative incidence of relapse and non-relapse mortality, population Age 10 "
                                  "or older (Aalen-Johansen); under the plot the number at risk")
    table = next(i.table for i in items if isinstance(i, TableItem) and i.key == "cif_landmarks")
    assert set(table.display["Group"]) == {"Age 10 or older"}
    risk = fig.recipe.kwargs["risk_table"]
    assert list(risk["group"].unique()) == ["all"] and risk["n_risk"].iloc[0] == res.objects["cif/relapse_nrm"].curves[0].n
