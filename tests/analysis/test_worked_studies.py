"""The three worked studies of docs/protocol.md (docs/examples/*.yaml) run end to end on
generated cohorts, and every YAML example of docs/protocol.md parses."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from cartscope.analysis.plan.check import load_and_check, read_plan
from cartscope.analysis.presets import synthesize
from cartscope.analysis.study import run_study
from cartscope.cohort.model import Cohort

DOCS = Path(__file__).resolve().parents[2] / "docs"


def cd19_registry() -> Cohort:
    """The B-NHL patients of the jin2023 generator as a single-infusion CD19 registry
    (the CAR22 infusion and its kinetics left out)."""
    c = synthesize("jin2023", seed=2023)
    ids = set(c.patients.loc[c.patients["disease"].astype(str) != "B-ALL", "patient_id"].astype(str))

    def keep(t):
        return t[t["patient_id"].astype(str).isin(ids)].reset_index(drop=True)

    inf = keep(c.infusions)
    kin = keep(c.kinetics)
    labs = c.labs[c.labs["patient_id"].astype(str).isin(ids) | (c.labs["role"] == "healthy_donor")]
    return Cohort(patients=keep(c.patients), infusions=inf[inf["infusion_no"] == 1].reset_index(drop=True),
                  assessments=keep(c.assessments), events=keep(c.events), labs=labs.reset_index(drop=True),
                  kinetics=kin[kin["measure"] == "cd19_car_copies"].reset_index(drop=True),
                  toxicity_daily=keep(c.toxicity_daily))


def _run(name: str, cohort: Cohort):
    plan, findings = load_and_check(DOCS / "examples" / f"{name}.yaml", cohort)
    assert not [f for f in findings if f.is_error]
    results = run_study(cohort, plan)
    assert results.status["status"].tolist() == ["ran"] * len(plan.analyses), results.status
    return results


def _p(results, analysis: str, variable: str) -> float:
    a = results.ard
    hit = a[(a["analysis"] == analysis) & (a["variable"] == variable) & (a["stat_name"] == "p_value")]
    return float(hit["stat"].iloc[0])


@pytest.mark.slow
def test_cd19_dlbcl_registry():
    r = _run("cd19_dlbcl_registry", cd19_registry())
    n = r.ard[(r.ard["analysis"] == "table1") & (r.ard["variable"] == "patients") & (r.ard["group1"] == "")]
    assert n["stat"].iloc[0] == 84
    assert 0 < _p(r, "crs3_day7", "ferritin_d7") < 0.05   # day-7 ferritin higher with CRS >= 3
    assert _p(r, "pfs_by_expansion", "pfs") < 0.001       # strong vs weak expanders
    assert np.isfinite(_p(r, "crs3_model", "log2_il6_d7"))  # the logistic model of CRS >= 3
    assert np.isfinite(_p(r, "cmax_by_response", "cmax"))


@pytest.mark.slow
def test_mrd_guided_ball():
    r = _run("mrd_guided_ball", synthesize("lu2021", seed=2023))
    levels = r.ard[(r.ard["analysis"] == "table1") & (r.ard["variable"] == "patients") & (r.ard["group1"] != "")]
    # flow MRD is measured before infusion in 18 patients (the 29 with active disease by morphology)
    assert dict(zip(levels["group1_level"], levels["stat"])) == {"<0.01%": 4, "0.01-<5%": 14}
    assert _p(r, "crs_vs_mrd", "crs2_first") < 0.001       # CRS >= 2 mostly with active disease
    assert 0.01 < _p(r, "mrd_expansion", "log10_mrd~peak") < 0.05   # Spearman, MRD vs peak expansion


@pytest.mark.slow
def test_repeat_infusion_windows_per_infusion():
    r = _run("repeat_infusion", synthesize("lu2021", seed=2023))
    t = r.tables["toxicity_grades"]
    crs = t[(t["toxicity"] == "CRS") & (t["group"] == "all")].set_index(["analysis", "grade"])["n"]
    assert (crs[("crs_after_1", 0)], crs[("crs_after_1", 1)]) == (2, 3)
    assert crs[("crs_after_2", 2)] == 1                    # the grade-2 CRS after a later infusion
    assert _p(r, "cmax_1_vs_2", "cmax_1 vs cmax_2") == pytest.approx(0.0625)   # exact signed-rank, n = 5


def _blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def test_every_yaml_example_of_the_docs_parses():
    text = (DOCS / "protocol.md").read_text(encoding="utf-8")
    blocks = _blocks(text)
    assert len(blocks) >= 25
    for block in blocks:
        data = yaml.safe_load(block)
        if isinstance(data, list):
            plan = {"version": 1, "name": "doc", "analyses": data}
        elif "version" in data:
            plan = data
        else:
            plan = {"version": 1, "name": "doc", "analyses": [], **data}
        read_plan(plan, "docs/protocol.md")  # raises with the key path when an example is wrong
    for path in sorted((DOCS / "examples").glob("*.yaml")):
        read_plan(path.read_text(encoding="utf-8"), str(path))
