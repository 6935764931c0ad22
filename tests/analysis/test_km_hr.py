"""``annotate_hr`` of the km kind: the Cox hazard ratio of each level against the first, with
its Wald interval and p, against R ``coxph(Surv(time, event) ~ group)`` computed live on the
patients the analysis used (script r/km_hr.R), and printed on the split's figure beside the
log-rank p, in the legend band above the plot (no data covered; the figure-quality checks)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.plan.check import read_plan
from cartscope.analysis.presets import synthesize
from cartscope.analysis.study import run_study
from cartscope.report.items import FigureItem
from cartscope.report.sections import SectionInput
from cartscope.report.sections.survival import survival_section

R_SCRIPT = Path(__file__).parent / "r" / "km_hr.R"


def _r(tmp_path: Path, frame: pd.DataFrame) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CARTSCOPE_REQUIRE_R"):
            pytest.fail("Rscript is required (CARTSCOPE_REQUIRE_R=1) but not installed")
        pytest.skip("Rscript not installed; R reference tests run in CI")
    data, out = tmp_path / "d.csv", tmp_path / "o.json"
    frame.to_csv(data, index=False)
    proc = subprocess.run([rscript, "--vanilla", str(R_SCRIPT), str(data), str(out)], capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"R failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def run():
    cohort = synthesize("lu2021", seed=2023)
    plan, _ = read_plan({"version": 1, "name": "t", "analyses": [
        {"id": "os-burden", "kind": "km", "endpoints": ["os"], "by": "disease_burden",
         "options": {"annotate_hr": True}, "landmark_months": [12]}]}, "p.yaml")
    res = run_study(cohort, plan)
    return res, cohort


@pytest.mark.slow
def test_hazard_ratios_equal_r_coxph(run, tmp_path):
    res, _ = run
    hr = res.tables["km_hazard_ratios"]
    ep = res.endpoints
    ok = ep["os_event"].notna() & np.isfinite(ep["os_time"].astype(float)) & ep["disease_burden"].notna()
    levels = [str(hr["reference"].iloc[0]), *hr["group"].astype(str)]
    d = pd.DataFrame({"time": ep.loc[ok, "os_time"].astype(float), "event": ep.loc[ok, "os_event"].astype(int),
                      "group": ep.loc[ok, "disease_burden"].astype(str)})
    d["rank"] = d["group"].map({lv: i for i, lv in enumerate(levels)})
    ref = _r(tmp_path, d)
    assert ref["levels"] == levels and len(levels) == 3
    np.testing.assert_allclose(hr["hr"], ref["hr"], rtol=1e-8)
    np.testing.assert_allclose(hr["lower"], ref["lower"], rtol=1e-8)
    np.testing.assert_allclose(hr["upper"], ref["upper"], rtol=1e-8)
    np.testing.assert_allclose(hr["p_value"], ref["p"], rtol=1e-7)
    assert list(hr["n"]) == [int((d["group"] == g).sum()) for g in levels[1:]]
    lr = res.tables["logrank"]
    np.testing.assert_allclose(lr["p_value"].iloc[0], ref["logrank_p"], rtol=1e-8)
    ard = res.ard[(res.ard["analysis"] == "os-burden") & (res.ard["stat_name"] == "hr")]
    np.testing.assert_allclose(ard["stat"].astype(float), ref["hr"], rtol=1e-8)


@pytest.mark.slow
def test_hazard_ratios_on_the_figure_above_the_data(run, tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
    from figure_quality import check_figure

    res, cohort = run
    items = [i for i in survival_section(SectionInput(res, cohort)) if isinstance(i, FigureItem)]
    split = next(i for i in items if i.key == "km_os_disease_burden")
    hr = res.tables["km_hazard_ratios"]
    ref = str(hr["reference"].iloc[0])
    assert f"the Cox hazard ratio (95% CI) against {ref}" in split.caption
    fig = split.recipe.draw()
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    for _, r in hr.iterrows():
        assert any(t.startswith(f"HR {r['hr']:.2f}"[:6]) and t.endswith(f"{r['group']} vs {ref}") for t in texts), texts
    assert any(t.startswith("Log-rank p") for t in texts)
    assert not check_figure(fig, "km_hr")
    # without the option: no HR table, no HR line
    whole = next(i for i in items if i.key == "km_os")
    assert not any(str(t.get_text()).startswith("HR ") for t in whole.recipe.draw().legends[0].get_texts())


@pytest.mark.slow
def test_methods_name_the_hazard_ratios(run):
    from cartscope.report.methods import methods_paragraphs

    res, _ = run
    stats = next(p for p in methods_paragraphs(res) if p.startswith("Statistical analysis."))
    assert ("Overall survival (all patients) was estimated by the Kaplan-Meier method (log-log transformed (R "
            "survival conf.type = \"log-log\") 95% pointwise intervals; landmark estimates at 12 months), and "
            "compared across pre-infusion disease burden with the log-rank test and Cox hazard ratios (Efron ties, "
            "Wald intervals) of each level against the first.") in stats
