"""run_study on each preset's synthetic cohort: coverage of patients, exclusions with reasons,
skipped sections, and jin2023's key numbers against the paper (presets.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.results import Results
from cartscope.analysis.study import run_study
from cartscope.cli import app
from cartscope.stats.survival import kaplan_meier

PRESETS = ("jin2023", "li2023", "lu2021")


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[object, Results]]:
    out = {}
    for preset in PRESETS:
        cohort = synthesize(preset, seed=2023)
        out[preset] = (cohort, run_study(cohort, load_protocol(preset)))
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_every_patient_in_endpoints_and_every_exclusion_has_a_reason(runs, preset):
    cohort, res = runs[preset]
    ids = set(cohort.patients["patient_id"].astype(str))
    assert set(res.endpoints["patient_id"]) == ids
    assert len(res.endpoints) == len(ids)
    assert list(res.exclusions.columns) == ["analysis", "patient_id", "reason"]
    assert set(res.exclusions["patient_id"]) <= ids
    assert (res.exclusions["reason"].str.len() > 0).all()
    assert not res.exclusions.duplicated().any()


@pytest.mark.parametrize("preset", PRESETS)
def test_protocol_sections_all_run_or_are_skipped_with_reason(runs, preset):
    _, res = runs[preset]
    wanted = set(load_protocol(preset).sections)
    assert wanted == set(res.sections) | (wanted & set(res.skipped))
    assert all(why for why in res.skipped.values())


@pytest.mark.parametrize("preset", PRESETS)
def test_km_objects_match_endpoint_frame(runs, preset):
    _, res = runs[preset]
    ep = res.endpoints
    name = res.protocol.survival.endpoints[0]
    ok = ep[f"{name}_event"].notna()
    fit = kaplan_meier(ep.loc[ok, f"{name}_time"], ep.loc[ok, f"{name}_event"].astype(int),
                       conf_type=res.protocol.survival.conf_type)
    stored = res.objects[f"km/{name}/all"]
    np.testing.assert_array_equal(stored.survival, fit.survival)
    lm = res.tables["km_landmarks"]
    row = lm[(lm["endpoint"] == name) & (lm["by"] == "all")].iloc[0]
    assert row["survival"] == pytest.approx(float(fit.survival_at([row["day"]]).survival[0]), rel=1e-12)
    # the survival excluded count equals the patients outside the endpoint
    out = res.exclusions[res.exclusions["analysis"] == f"survival:{name}"]
    assert len(out) == int((~ok & ep["index_day"].notna()).sum())


def test_jin2023_outcomes_and_shares_as_published(runs):
    _, res = runs["jin2023"]
    oc = res.tables["outcomes"].set_index(["group", "outcome"])["n"]
    assert (oc["B-ALL", "no response"], oc["B-ALL", "relapse"], oc["B-ALL", "remission"]) == (3, 11, 12)
    assert (oc["B-NHL", "no response"], oc["B-NHL", "relapse"], oc["B-NHL", "remission"]) == (9, 30, 35)
    k = res.key_numbers
    assert k["response.nr_er_share.B-ALL"] == pytest.approx(0.308, abs=0.01)
    assert k["response.nr_er_share.B-NHL"] == pytest.approx(0.419, abs=0.01)
    # OS better in B-ALL than in B-NHL at 12 months, as published (78.9% vs 53.1%)
    assert k["survival.os.disease_group.B-ALL.12m"] > k["survival.os.disease_group.B-NHL.12m"]


def test_jin2023_biomarkers_as_published(runs):
    _, res = runs["jin2023"]
    k = res.key_numbers
    assert k["biomarkers.training.n_nr_er"] == 13 and k["biomarkers.training.n_durable"] == 26
    assert k["biomarkers.MIP3a.auc"] > 0.7 and k["biomarkers.Eotaxin.auc"] > 0.7
    assert k["biomarkers.MIP3a.cutoff"] == pytest.approx(4.703, rel=1e-6)
    assert k["biomarkers.MIP3a.sensitivity"] == pytest.approx(12 / 13)
    assert k["biomarkers.MIP3a.specificity"] == pytest.approx(17 / 26)
    markers = res.tables["biomarker_markers"].set_index("marker")
    # the modified Wilson interval of the published sensitivity 92.31% (66.69-99.61)
    assert markers.at["MIP3a", "sensitivity_lower"] == pytest.approx(0.6669, abs=5e-5)
    assert markers.at["MIP3a", "sensitivity_upper"] == pytest.approx(0.9961, abs=5e-5)
    assert k["biomarkers.MIP3a.pfs_logrank_p"] < 0.05
    assert k["biomarkers.MIP3a.baseline_p"] > 0.05
    screen = res.tables["biomarker_screen"]
    assert set(screen.head(2)["analyte"]) == {"MIP3a", "Eotaxin"}
    assert k["validation.MIP3a.sensitivity"] == pytest.approx(5 / 6)
    # every training patient is either analysed or excluded with a reason
    ep = res.endpoints
    train = set(ep.loc[ep["cohort_role"] == "training", "patient_id"])
    excluded = set(res.exclusions.loc[res.exclusions["analysis"] == "biomarkers", "patient_id"])
    assert len(train) - len(excluded) == 13 + 26


def test_li2023_infusion_comparison(runs):
    _, res = runs["li2023"]
    k = res.key_numbers
    assert k["response.orr.all"] == 1.0
    assert k["infusions.il6_fold_change.CART2.median"] > k["infusions.il6_fold_change.CART1.median"]
    assert k["infusions.bca_duration_months.CART2.median"] > k["infusions.bca_duration_months.CART1.median"]
    assert k["survival.os.all.all.12m"] == 1.0


def test_lu2021_correlation_direction(runs):
    _, res = runs["lu2021"]
    k = res.key_numbers
    # the correlations and the AE table run on population mrd_pos (MRD-positive B-ALL)
    assert k["correlations.all.mrd~peak_expansion.r"] > 0.3
    assert k["correlations.all.mrd~response_duration_days.r"] < 0
    ae = res.tables["ae_table"]
    assert set(ae["group"]) == {"all"} and set(ae["n"][ae["term"] == "crs"]) == {14}


def test_sections_skipped_when_table_absent():
    cohort = synthesize("li2023", seed=2023)
    empty = cohort.toxicity_daily.iloc[0:0]
    lean = dataclasses.replace(cohort, toxicity_daily=empty, present=cohort.present - {"toxicity_daily"})
    res = run_study(lean, load_protocol("li2023"))
    assert res.skipped["toxicity"] == "no toxicity_daily table"
    assert "toxicity" not in res.sections
    assert res.endpoints["crs_grade"].isna().all()


def test_cox_missing_covariate_goes_to_exclusions():
    cohort = synthesize("jin2023", seed=2023)
    pats = cohort.patients.copy()
    pats.loc[pats.index[:2], "age"] = np.nan
    full = load_protocol("jin2023")
    protocol = full.model_copy(update={"analyses": tuple(a for a in full.analyses if a.kind == "cox")})
    res = run_study(dataclasses.replace(cohort, patients=pats), protocol)
    out = res.exclusions[res.exclusions["analysis"] == "cox_pfs"]
    missing = set(pats.loc[pats.index[:2], "patient_id"])
    assert missing <= set(out["patient_id"])
    assert set(out.loc[out["patient_id"].isin(missing), "reason"]) == {"missing covariate: age"}
    fit = res.objects["cox/pfs/0"]
    assert fit.n == int(res.endpoints["pfs_event"].notna().sum()) - 2


def test_progress_callback_reaches_one():
    seen: list[tuple[str, float]] = []
    cohort = synthesize("li2023", seed=2023)
    run_study(cohort, load_protocol("li2023"), progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_cli_bad_protocol_lists_problems_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsurvival:\n  level: 2\n  bogus: 1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--protocol", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"{bad}: survival.bogus: unknown key" in result.output
    assert "survival.level" in result.output
    assert "Traceback" not in result.output


def test_cli_analyze_bad_cohort_exits_1(tmp_path):
    (tmp_path / "patients.csv").write_text("patient_id,disease\nP1,B-ALL\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--protocol", "li2023", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "infusions" in result.output
