"""Done-when of the models issue: HSCT as a time-varying Cox covariate and responders compared
from a day-28 landmark, through a plan on the lu2021 synthetic cohort (47 B-ALL patients, 17 with an HSCT after CAR-T); plus rmst and td_roc.
(On jin2023 the HSCT patients have no death after transplant: the fit reports monotone
likelihood as a note of the analysis instead of a number.)

The plan is read and checked as the command line does (``read_plan``, ``check_plan``) and run
by ``run_study`` through the kind registry. The numbers are
checked against the same model fitted directly from the stats layer on the (start, stop] rows
of the clinical layer, and against R: ``coxph(Surv(tstart, tstop, event) ~ age + hsct,
cluster = patient_id)`` on the rows the plan used (script r/timevarying_plan.R), and R
``survdiff`` / ``coxph`` / ``survfit`` on ``subset(time > 28)`` with ``time - 28`` for the
landmark (script r/landmark_plan.R).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from cartscope.analysis.plan.check import check_plan, read_plan
from cartscope.analysis.study import run_study
from cartscope.clinical.timevarying import counting_process_table, event_days
from cartscope.stats.cox import cox
from cartscope.stats.km import kaplan_meier

PLAN = """
version: 1
name: hsct-and-landmark
variables:
  cr_by_28: {derive: response, by_day: 28}
analyses:
  - id: os-hsct
    kind: cox
    endpoint: os
    covariates: [age]
    time_varying: [hsct]
    robust: true
    predict: [{age: 30, hsct: 0}, {age: 30, hsct: 1}]
  - id: os-landmark-28
    kind: landmark
    endpoint: os
    landmark: 28
    status: cr_by_28
    simon_makuch: response
  - id: os-rmst
    kind: rmst
    endpoint: os
    tau: 365
    by: cr_by_28
  - id: os-tdroc
    kind: td_roc
    endpoint: os
    variables: [age]
    times: [180, 365]
"""

R_SCRIPT = Path(__file__).parent / "r" / "timevarying_plan.R"
LANDMARK_R = Path(__file__).parent / "r" / "landmark_plan.R"

class Run:
    """The results of the plan with the accessors the checks below use."""

    def __init__(self, results: Any, cohort: Any) -> None:
        self.results = results
        self.cohort = cohort
        self.endpoints = results.endpoints
        self.objects = results.objects

    def table(self, name: str, analysis: str) -> pd.DataFrame:
        frame = self.results.tables[name]
        return frame[frame["analysis"] == analysis].reset_index(drop=True)

    def exclusions(self, analysis: str) -> pd.DataFrame:
        ex = self.results.exclusions
        return ex[ex["analysis"] == analysis]


@pytest.fixture(scope="module")
def run() -> Run:
    from cartscope.analysis.presets import synthesize

    cohort = synthesize("lu2021", seed=2023)
    plan, _ = read_plan(PLAN)
    problems = [p for p in check_plan(plan, cohort) if getattr(p, "severity", "error") == "error"]
    assert not problems, problems
    results = run_study(cohort, plan)
    assert set(results.status["analysis"]) >= {"os-hsct", "os-landmark-28", "os-rmst", "os-tdroc"}
    return Run(results, cohort)


@pytest.mark.slow
def test_hsct_as_time_varying_covariate(run: Run) -> None:
    coefs = run.table("cox_coefficients", "os-hsct")
    assert list(coefs["term"]) == ["age", "hsct"]
    assert set(coefs["se_type"]) == {"robust"}
    model = run.table("cox_models", "os-hsct").iloc[0]
    assert model["time_varying"] == "hsct" and model["rows"] > model["n"]
    assert model["concordance_lower"] < model["concordance"] < model["concordance_upper"]
    # the same fit from the layers below, built by hand
    ep = run.endpoints
    ok = ep["os_event"].notna() & (ep["os_time"] > 0)
    age = pd.to_numeric(run.cohort.patients.set_index("patient_id")["age"]).reindex(ep["patient_id"])
    ok &= age.notna().to_numpy()
    follow = pd.DataFrame({"patient_id": ep["patient_id"][ok].astype(str), "time": ep["os_time"][ok],
                           "event": ep["os_event"][ok].astype(int), "age": age.to_numpy()[ok]})
    index_day = pd.Series(ep["index_day"].to_numpy(float), index=ep["patient_id"].astype(str))
    rows = counting_process_table(follow, {"hsct": event_days(run.cohort.events, "hsct", index_day)})
    assert rows["hsct"].sum() > 0
    fit = cox(rows["tstop"], rows["event"], rows[["age", "hsct"]].astype(float), start=rows["tstart"],
              cluster=rows["patient_id"])
    np.testing.assert_allclose(coefs["coef"], fit.coef, rtol=1e-12)
    np.testing.assert_allclose(coefs["se"], fit.se, rtol=1e-12)
    pred = run.table("cox_predicted", "os-hsct")
    assert pred["profile"].nunique() == 2
    r = _r_fit(rows)
    np.testing.assert_allclose(coefs["coef"], r["coef"], rtol=1e-8)
    np.testing.assert_allclose(coefs["se"], r["se"], rtol=1e-8)
    np.testing.assert_allclose(coefs["se_model"], r["naive_se"], rtol=1e-8)
    np.testing.assert_allclose([model["concordance"], model["concordance_se"]], r["concordance"],
                               rtol=1e-8)


def _cr_by_28(run: Run) -> dict[str, float]:
    """Complete remission (CR, CRi, MRD-negative CR) by day 28 from the assessments, by hand;
    no qualifying-or-not assessment by then: unknown (NaN)."""
    ep = run.endpoints
    index_day = dict(zip(ep["patient_id"].astype(str), ep["index_day"].astype(float)))
    a = run.cohort.assessments.assign(patient_id=run.cohort.assessments["patient_id"].astype(str))
    a = a[a["response"].notna()]
    a = a.assign(day=pd.to_numeric(a["day"]) - a["patient_id"].map(index_day))
    a = a[(a["day"] >= 0) & (a["day"] <= 28)]
    hit = a["response"].astype(str).str.casefold().isin({"cr", "cri", "mrd-negative cr"})
    return a.assign(hit=hit).groupby("patient_id")["hit"].any().astype(float).to_dict()


def _r_fit(rows: pd.DataFrame) -> dict[str, Any]:
    """R coxph on the rows (see :func:`_r_json`)."""
    return _r_json(R_SCRIPT, rows)


def _r_json(script: Path, rows: pd.DataFrame) -> dict[str, Any]:
    """Run ``script data.csv out.json`` live (a missing Rscript fails under CARTSCOPE_REQUIRE_R=1)."""
    import os
    import tempfile

    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CARTSCOPE_REQUIRE_R"):
            pytest.fail("Rscript is required (CARTSCOPE_REQUIRE_R=1) but not installed")
        pytest.skip("Rscript not installed; R reference tests run in CI")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rows.csv"
        out = Path(tmp) / "fit.json"
        rows.to_csv(data, index=False)
        proc = subprocess.run([rscript, "--vanilla", str(script), str(data), str(out)],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            pytest.fail(f"R script failed:\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())


@pytest.mark.slow
def test_responders_compared_from_the_day_28_landmark(run: Run) -> None:
    km = run.table("landmark_km", "os-landmark-28")
    assert set(km["level"]) == {"no", "yes"}
    tests = run.table("landmark_tests", "os-landmark-28").iloc[0]
    assert 0 <= tests["logrank_p"] <= 1
    # by hand: event-free past day 28 with a known status, time from day 28
    ep = run.endpoints
    status = ep["patient_id"].astype(str).map(_cr_by_28(run)).to_numpy(float)
    t = ep["os_time"].to_numpy(float)
    keep = (t > 28) & np.isfinite(status)
    assert tests["n"] == keep.sum()
    yes = keep & (status == 1)
    fit = kaplan_meier(t[yes] - 28, ep["os_event"].to_numpy(float)[yes], conf_type="log-log")
    assert km.set_index("level").loc["yes", "n"] == yes.sum()
    assert km.set_index("level").loc["yes", "events"] == fit.n_events
    ex = run.exclusions("os-landmark-28")
    excluded = set(ex.loc[ex["reason"].str.contains("landmark"), "patient_id"].astype(str))
    assert excluded == set(ep["patient_id"].astype(str)[(t <= 28) & np.isfinite(t)])
    sm = run.table("curves_simon_makuch", "os-landmark-28")
    assert set(sm["level"]) == {"no", "yes"}
    cox_rows = run.table("landmark_cox", "os-landmark-28")
    assert list(cox_rows["term"]) == ["cr_by_28yes"]
    # R on the same patients: subset(time > 28), time - 28
    data = pd.DataFrame({"time": t[np.isfinite(status)], "event": ep["os_event"].to_numpy(float)[np.isfinite(status)],
                         "status": np.where(status[np.isfinite(status)] == 1, "yes", "no")})
    r = _r_json(LANDMARK_R, data)
    assert tests["n"] == r["n"]
    np.testing.assert_allclose([tests["logrank_chisq"], tests["logrank_p"]], [r["chisq"], r["p"]], rtol=1e-8)
    np.testing.assert_allclose([cox_rows["coef"].iloc[0], cox_rows["se"].iloc[0]], [r["coef"], r["se"]], rtol=1e-8)
    by_level = km.set_index("level")
    np.testing.assert_array_equal(by_level.loc[["no", "yes"], "events"], r["events"])
    np.testing.assert_allclose(by_level.loc[["no", "yes"], "median"].astype(float),
                               [np.nan if v is None else v for v in r["median"]], rtol=1e-12)


@pytest.mark.slow
def test_rmst_and_td_roc_kinds(run: Run) -> None:
    r = run.table("rmst", "os-rmst")
    assert list(r["measure"]) == ["rmst", "rmst", "rmst", "rmst_difference", "rmst_ratio", "rmtl_ratio"]
    assert (r.loc[r["measure"] == "rmst", "estimate"] <= 365).all()
    auc = run.table("td_roc", "os-tdroc")
    assert list(auc["time"]) == [180.0, 365.0]
    assert ((auc["lower"] <= auc["auc"]) & (auc["auc"] <= auc["upper"])).all()


@pytest.mark.slow
def test_the_report_shows_the_model_sections(run: Run) -> None:
    from cartscope.report.methods import methods_paragraphs
    from cartscope.report.sections import build_sections

    sections = {s.key: s for s in build_sections(run.results, run.cohort)}
    for key in ("landmark", "rmst", "td_roc"):
        assert key in sections and not sections[key].skipped, key
    landmark_items = [getattr(i, "key", "") for i in sections["landmark"].items]
    assert "landmark_km" in landmark_items and "landmark_os-landmark-28" in landmark_items
    assert "simon_makuch_os-landmark-28" in landmark_items
    assert "curves_landmark" not in landmark_items  # curve data are exported, not printed
    cox_items = sections["cox"].items
    table = next(i for i in cox_items if getattr(i, "key", "").startswith("cox_os"))
    notes = " ".join(table.table.footnotes)
    assert "Robust (sandwich)" in notes and "Time-dependent covariate(s): hsct" in notes
    assert "concordance" in notes and "95% CI" in notes
    assert any(getattr(i, "key", "").startswith("cox_predicted_os-hsct") for i in cox_items)
    text = " ".join(methods_paragraphs(run.results))
    assert "landmark method" in text and "hsct entered as time-dependent" in text
    assert "riskRegression" in text and "survRM2" in text


@pytest.mark.slow
def test_unknown_names_and_values_are_problems_before_anything_runs(run: Run) -> None:
    from cartscope.analysis.plan.check import PlanError

    bad = PLAN.replace("status: cr_by_28", "status: cr_by_82")
    plan, _ = read_plan(bad)
    problems = [str(p) for p in check_plan(plan, run.cohort)]
    assert any("cr_by_82" in p and "cr_by_28" in p for p in problems), problems
    with pytest.raises(PlanError, match="time_varying"):
        read_plan(PLAN.replace("time_varying: [hsct]", "time_varying: [hsc]"))
