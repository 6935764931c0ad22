"""The synthetic preset cohorts reproduce the published figures of presets.md.

Counts are checked exactly; medians and ranges that the generators pin are checked to 1e-9
(doses, IL-6, ferritin, fold changes) or exactly (integer days and ages); Kaplan-Meier rates
that are only matched in distribution are checked within 0.06 (jin2023) and exactly where the
times were chosen to give them (lu2021). Grades and endpoints are derived with the project's
own clinical rules (ASTCT CRS, CTCAE v5, endpoint derivation), so the data follow the domain
rules literally.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pytest

from cartscope.analysis.presets import PRESETS, _synth, synthesize
from cartscope.cohort.units import canonical_analyte
from cartscope.analysis.presets import jin2023 as jin
from cartscope.analysis.presets import lu2021 as lu
from cartscope.clinical.crs import CrsRules, grade_crs
from cartscope.clinical.ctcae import grade_labs
from cartscope.clinical.endpoints import EndpointRules, TimeToEventRule, derive_endpoints
from cartscope.cohort.schema import TABLES
from cartscope.stats import kaplan_meier
from cartscope.stats.roc import roc

MONTH = 30.4375


@pytest.fixture(scope="module")
def cohorts() -> dict:
    return {name: synthesize(name, seed=2023) for name in PRESETS}


# --- schema, determinism, speed ------------------------------------------------------------


@pytest.mark.parametrize("name", list(PRESETS))
def test_tables_follow_the_schema(cohorts: dict, name: str) -> None:
    cohort = cohorts[name]
    for table, frame in cohort.tables().items():
        schema = TABLES[table]
        extra = set(frame.columns) - set(schema.names)
        assert not extra or (table == "patients" and schema.keep_extra_columns), (table, extra)
        for col in schema.columns:
            assert col.name in frame.columns, (table, col.name)
            values = frame[col.name].dropna()
            if col.required:
                assert frame[col.name].notna().all() or (table == "labs" and col.name == "day"), (table, col.name)
            if col.allowed:
                assert set(values.astype(str)) <= set(col.allowed), (table, col.name, set(values) - set(col.allowed))
            if col.minimum is not None and len(values):
                assert values.astype(float).min() >= col.minimum, (table, col.name)
            if col.maximum is not None and len(values):
                assert values.astype(float).max() <= col.maximum, (table, col.name)
    assert cohort.patients["patient_id"].is_unique
    ids = set(cohort.patients["patient_id"])
    for table in ("infusions", "assessments", "events", "kinetics", "toxicity_daily"):
        assert set(cohort.table(table)["patient_id"]) <= ids, table
    labs = cohort.labs
    assert set(labs.loc[labs["role"] == "patient", "patient_id"]) <= ids


def _csv_bytes(cohort) -> bytes:
    buf = io.StringIO()
    for name, frame in cohort.tables().items():
        buf.write(name)
        frame.to_csv(buf, index=False)
    return buf.getvalue().encode()


@pytest.mark.parametrize("name", list(PRESETS))
def test_same_seed_same_tables_other_seed_other_tables(cohorts: dict, name: str) -> None:
    again = synthesize(name, seed=2023)
    for table, frame in cohorts[name].tables().items():
        pd.testing.assert_frame_equal(frame, again.table(table), check_exact=True)
    assert _csv_bytes(again) == _csv_bytes(cohorts[name])
    assert _csv_bytes(synthesize(name, seed=7)) != _csv_bytes(cohorts[name])


@pytest.mark.parametrize("name", list(PRESETS))
def test_generation_is_fast(name: str) -> None:
    start = time.perf_counter()
    synthesize(name, seed=99)
    assert time.perf_counter() - start < 4.0  # < 2 s on an idle machine; slack for a loaded CI runner


def test_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        synthesize("nope")


# --- shared building blocks -----------------------------------------------------------------


def test_pinned_sample_has_exact_median_and_range() -> None:
    rng = np.random.default_rng(1)
    odd = _synth.pinned_sample(rng, 35, 269.8, 15.73, 5000.0, decimals=2, n_at_hi=2)
    even = _synth.pinned_sample(rng, 84, 214.8, 9.71, 5000.0, decimals=2, n_at_hi=3)
    assert (np.median(odd), odd.min(), odd.max(), (odd == 5000).sum()) == (269.8, 15.73, 5000.0, 2)
    assert np.median(even) == pytest.approx(214.8, abs=1e-9) and even.min() == 9.71 and (even == 5000).sum() == 3


def test_exact_u_pvalue_matches_known_values() -> None:
    # 5 vs 5: counts of U = 0, 1, 2 are 1, 1, 2 of C(10, 5) = 252, so two-sided p(U = 2) = 8/252
    assert _synth.exact_u_pvalue(2, 5, 5) == pytest.approx(8 / 252)
    assert _synth.exact_u_pvalue(12, 5, 5) == 1.0
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1, 6), rng.normal(1, 1, 9)
    u = int((y[None, :] > x[:, None]).sum())
    assert _synth.exact_u_pvalue(u, 6, 9) == pytest.approx(mannwhitneyu(x, y, method="exact").pvalue, rel=1e-12)


@pytest.mark.parametrize("grade", [0, 1, 2, 3, 4])
def test_crs_rows_grade_back_to_the_intended_grade(grade: int) -> None:
    for seed in range(25):
        rng = np.random.default_rng(seed)
        rows = _synth.crs_rows(rng, "x", grade, onset=2, duration=int(rng.integers(1, 8)), last_day=14)
        tox = _synth.frame("toxicity_daily", rows)
        assert grade_crs(tox)["crs_grade"].iloc[0] == grade


# --- jin2023 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jin_endpoints(cohorts: dict) -> pd.DataFrame:
    return derive_endpoints(cohorts["jin2023"])


def _group(patients: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(patients["disease"] == "B-ALL", "B-ALL", "B-NHL"), index=patients.index)


def test_jin_baseline_counts(cohorts: dict) -> None:
    p = cohorts["jin2023"].patients
    g = _group(p)
    expected = {
        "B-ALL": dict(n=35, F=22, auto=2, allo=7, lines=(9, 15, 11), status=(10, 15, 10), cns=4, tp53=5, age=(33, 11, 60)),
        "B-NHL": dict(n=84, F=28, auto=16, allo=1, lines=(10, 27, 47), status=(25, 23, 36), cns=9, tp53=31, age=(47, 17, 67)),
    }
    for group, e in expected.items():
        s = p[g == group]
        assert len(s) == e["n"]
        assert (s["sex"] == "F").sum() == e["F"]
        assert ((s["prior_hsct"] == "auto").sum(), (s["prior_hsct"] == "allo").sum()) == (e["auto"], e["allo"])
        lines = s["prior_lines"].astype(int)
        assert ((lines == 1).sum(), (lines == 2).sum(), (lines >= 3).sum()) == e["lines"]
        status = tuple((s["disease_status"] == k).sum() for k in ("refractory", "first relapse", "second+ relapse"))
        assert status == e["status"]
        assert s["cns_involvement"].sum() == e["cns"] and s["tp53"].sum() == e["tp53"]
        assert (s["age"].median(), s["age"].min(), s["age"].max()) == e["age"]
    assert (p["age"].median(), p["age"].min(), p["age"].max()) == (44, 11, 67)
    assert (p.loc[g == "B-NHL", "disease"] == "DLBCL").sum() > 42


def test_jin_doses_and_schedule(cohorts: dict) -> None:
    c = cohorts["jin2023"]
    inf = c.infusions.merge(c.patients[["patient_id", "disease"]], on="patient_id")
    assert (inf.groupby("patient_id").size() == 2).all()
    first = inf[inf["infusion_no"] == 1]
    assert (first["day"] == 0).all() and (first["label"] == "CAR19").all()
    assert (inf.loc[inf["infusion_no"] == 2, "label"] == "CAR22").all()
    for label, col, ball, nhl in (("CAR19", "dose_cd19_per_kg", (3.04, 1.0, 10.0), (4.55, 1.35, 10.0)),
                                  ("CAR22", "dose_cd22_per_kg", (3.41, 1.0, 10.0), (5.77, 1.90, 11.35))):
        s = inf[inf["label"] == label]
        for is_ball, (med, lo, hi) in ((True, ball), (False, nhl)):
            v = s.loc[(s["disease"] == "B-ALL") == is_ball, col]
            assert v.median() == pytest.approx(med, abs=1e-9) and v.min() == lo and v.max() == hi


def test_jin_il6_and_ferritin_maxima(cohorts: dict) -> None:
    c = cohorts["jin2023"]
    labs = c.labs[c.labs["panel"] == "clinical"].merge(c.patients[["patient_id", "disease"]], on="patient_id")
    for analyte, limit, ball, nhl in (("il6", 5000.0, (269.8, 15.73), (214.8, 9.71)),
                                      ("ferritin", 50000.0, (1083.5, 77.4), (845.1, 174.7))):
        s = labs[labs["analyte"] == analyte]
        idx = s.groupby("patient_id")["value"].idxmax()
        peaks = s.loc[idx]
        assert set(s.loc[s["value"] >= limit, "qualifier"]) == {">="}
        for is_ball, (med, lo) in ((True, ball), (False, nhl)):
            v = peaks.loc[(peaks["disease"] == "B-ALL") == is_ball]
            assert v["value"].median() == pytest.approx(med, abs=1e-9)
            assert v["value"].min() == lo and v["value"].max() == limit
            if analyte == "il6":
                assert (v["day"].median(), v["day"].min(), v["day"].max()) == (5, 2, 9 if is_ball else 10)


def test_jin_crs_grades_from_daily_rows(cohorts: dict) -> None:
    c = cohorts["jin2023"]
    graded = grade_crs(c.toxicity_daily, c.events, patients=c.patients).set_index("patient_id")["crs_grade"]
    g = _group(c.patients.set_index("patient_id"))
    assert (graded > 0).sum() == 117
    for group, low, high in (("B-ALL", 30, 5), ("B-NHL", 76, 8)):
        s = graded[g == group]
        assert ((s <= 2).sum(), (s >= 3).sum()) == (low, high)


def test_jin_outcomes_relapse_bins_and_followup(cohorts: dict, jin_endpoints: pd.DataFrame) -> None:
    e = jin_endpoints
    table = pd.crosstab(e["disease_group"], e["outcome"])
    assert table.loc["B-ALL"].to_dict() == {"no response": 3, "not evaluable": 9, "relapse": 11, "remission": 12}
    assert table.loc["B-NHL"].to_dict() == {"no response": 9, "not evaluable": 10, "relapse": 30, "remission": 35}
    classes = pd.crosstab(e["disease_group"], e["outcome_class"])
    assert (classes.loc["B-ALL", "NR/ER"], classes.loc["B-ALL", "durable"]) == (8, 18)
    assert (classes.loc["B-NHL", "NR/ER"], classes.loc["B-NHL", "durable"]) == (31, 43)
    bins = pd.crosstab(e["disease_group"], e["relapse_bin"])[["0-6", "6-12", "12-18", "18-24", ">24"]]
    assert bins.loc["B-ALL"].tolist() == [5, 0, 1, 3, 2] and bins.loc["B-NHL"].tolist() == [22, 3, 2, 1, 2]
    ev = cohorts["jin2023"].events
    hsct = set(ev.loc[ev["type"] == "hsct", "patient_id"])
    lost = set(ev.loc[ev["type"] == "lost_to_follow_up", "patient_id"])
    ne = e[e["outcome_class"] == "not evaluable"].set_index("patient_id")["disease_group"]
    assert sorted(ne[ne.index.isin(hsct)].value_counts().items()) == [("B-ALL", 7), ("B-NHL", 4)]
    assert sorted(ne[ne.index.isin(lost)].value_counts().items()) == [("B-ALL", 2), ("B-NHL", 2)]
    end = ev.groupby("patient_id")["day"].max()
    g = e.set_index("patient_id")["disease_group"]
    assert (end.median(), end.min(), end.max()) == (208, 9, 1005)
    for group, expected in (("B-ALL", (265, 9, 988)), ("B-NHL", (192, 25, 1005))):
        s = end[g.reindex(end.index) == group]
        assert (s.median(), s.min(), s.max()) == expected


def test_jin_twelve_month_survival_near_published(jin_endpoints: pd.DataFrame) -> None:
    published = {("B-ALL", "os"): 0.7886, ("B-NHL", "os"): 0.5306, ("B-ALL", "pfs"): 0.6989, ("B-NHL", "pfs"): 0.4930}
    for (group, ep), target in published.items():
        s = jin_endpoints[jin_endpoints["disease_group"] == group]
        km = kaplan_meier(s[f"{ep}_time"].to_numpy(float), s[f"{ep}_event"].to_numpy(bool))
        assert km.survival_at(365.25).survival[0] == pytest.approx(target, abs=0.06), (group, ep)


def _fold_changes(cohort, panel: str, timepoint: str = "il6_peak") -> pd.DataFrame:
    labs = cohort.labs
    hd = labs[labs["role"] == "healthy_donor"].groupby("analyte")["value"].mean()
    s = labs[(labs["timepoint"] == timepoint) & (labs["panel"] == panel)]
    return s.pivot(index="patient_id", columns="analyte", values="value") / hd


def test_jin_biomarker_training_set(cohorts: dict, jin_endpoints: pd.DataFrame) -> None:
    c = cohorts["jin2023"]
    labs = c.labs
    donors = labs[labs["role"] == "healthy_donor"]
    assert sorted(donors["patient_id"].unique()) == ["HD1", "HD2", "HD3"]
    assert not set(donors["patient_id"]) & set(c.patients["patient_id"])
    fc = _fold_changes(c, jin.PANEL)
    assert fc.shape == (43, 70) and fc.notna().all().all()
    assert (c.patients.set_index("patient_id").loc[fc.index, "cohort"] == "training").all()
    group = jin_endpoints.set_index("patient_id").loc[fc.index, "disease_group"]
    assert group.value_counts().to_dict() == {"B-NHL": 31, "B-ALL": 12}
    cls = jin_endpoints.set_index("patient_id").loc[fc.index, "outcome_class"]
    assert cls.value_counts().to_dict() == {"durable": 26, "NR/ER": 13, "not evaluable": 4}
    for marker, med, lo, hi in (("MIP3a", 4.273, 3.901, 5.538), ("Eotaxin", 1.390, 0.936, 1.912)):
        assert fc[marker].median() == pytest.approx(med, abs=1e-9)
        assert fc[marker].min() == pytest.approx(lo, abs=1e-9) and fc[marker].max() == pytest.approx(hi, abs=1e-9)
    ev = cls != "not evaluable"
    nrer = (cls[ev] == "NR/ER").to_numpy()
    for marker, auc, cut, sens, spec in (("MIP3a", 271 / 338, 4.703, 12, 17), ("Eotaxin", 272 / 338, 1.671, 13, 15)):
        x = fc.loc[ev, marker].to_numpy()
        result = roc(x, nrer)
        assert result.auc == pytest.approx(auc, rel=1e-12)
        youden = result.youden()
        assert youden.threshold == pytest.approx(cut, abs=1e-9) and youden.n_optimal == 1
        assert ((x < cut) & nrer).sum() == sens and ((x > cut) & ~nrer).sum() == spec
        assert np.median(x[~nrer]) > np.median(x[nrer])  # higher in durable remission
    assert np.corrcoef(fc["MIP3a"], fc["Eotaxin"])[0, 1] == pytest.approx(0.43, abs=0.01)
    pos, neg = int(nrer.sum()), int((~nrer).sum())
    for marker, p_published in jin.PUBLISHED_P.items():
        x = fc.loc[ev, canonical_analyte(marker) or marker].to_numpy()
        p = _synth.exact_u_pvalue(_synth.u_of(x, nrer.astype(int)), pos, neg)
        assert p == pytest.approx(p_published, rel=0.35), marker
        for g in ("B-ALL", "B-NHL"):
            if marker in ("MIP3a", "Eotaxin"):
                m = (group[ev] == g).to_numpy()
                pg = _synth.exact_u_pvalue(_synth.u_of(x[m], nrer[m].astype(int)), int(nrer[m].sum()), int((~nrer[m]).sum()))
                assert pg < 0.05, (marker, g)
    for marker in jin.OTHER_MARKERS:
        x = fc.loc[ev, canonical_analyte(marker) or marker].to_numpy()
        assert _synth.exact_u_pvalue(_synth.u_of(x, nrer.astype(int)), pos, neg) >= 0.1, marker


def test_jin_validation_and_baseline_samples(cohorts: dict, jin_endpoints: pd.DataFrame) -> None:
    c = cohorts["jin2023"]
    fc = _fold_changes(c, jin.VALIDATION_PANEL)["MIP3a"]
    assert len(fc) == 30
    info = jin_endpoints.set_index("patient_id").loc[fc.index]
    assert info["disease_group"].value_counts().to_dict() == {"B-NHL": 20, "B-ALL": 10}
    nrer, durable = info["outcome_class"] == "NR/ER", info["outcome_class"] == "durable"
    assert ((fc < 4.703) & nrer).sum() / nrer.sum() == pytest.approx(0.8333, abs=1e-4)
    assert ((fc > 4.703) & durable).sum() / durable.sum() == pytest.approx(0.7826, abs=1e-4)
    base = _fold_changes(c, jin.PANEL, "baseline")["MIP3a"]
    assert len(base) == 35 and base.max() < fc.min()
    kin = c.kinetics
    assert set(kin["measure"]) == {"cd19_car_copies", "cd22_car_copies"}
    tmax = kin.loc[kin.groupby(["patient_id", "measure"])["value"].idxmax(), "day"]
    assert tmax.between(7, 17).mean() > 0.9


# --- li2023 ---------------------------------------------------------------------------------


def test_li_patients_doses_and_intervals(cohorts: dict) -> None:
    c = cohorts["li2023"]
    p = c.patients.set_index("patient_id")
    for col, expected in (("age_at_diagnosis", (3.62, 1.39, 11.87)), ("age", (7.36, 5.61, 12.38)),
                          ("age_at_cart2", (8.36, 6.96, 15.1)), ("cart2_transduction_pct", (44.85, 25.0, 64.55))):
        assert (p[col].median(), p[col].min(), p[col].max()) == expected
    inf = c.infusions
    cart1, cart2 = (inf[inf["label"] == k].set_index("patient_id") for k in ("CART1", "CART2"))
    assert (cart1["infusion_no"] == 1).all() and (cart1["day"] == 0).all() and (cart2["infusion_no"] == 2).all()
    for frame, col, expected in ((cart1, "dose_per_kg", (10.0, 8.0, 12.0)), (cart2, "dose_per_kg", (11.0, 4.3, 15.0)),
                                 (cart2, "dose_cd19_per_kg", (5.54, 2.21, 6.0)), (cart2, "dose_cd22_per_kg", (5.29, 2.09, 9.0))):
        assert (frame[col].median(), frame[col].min(), frame[col].max()) == pytest.approx(expected)
    ratio = cart2["dose_cd22_per_kg"] / cart2["dose_cd19_per_kg"]
    assert ratio.between(0.9, 1.5).all()
    gap = cart2["day"] / MONTH
    assert (gap.median(), gap.min(), gap.max()) == pytest.approx((15.93, 11.9, 33.13), abs=0.02)
    age_gap = p["age_at_cart2"] - p["age"] - cart2["day"] / 365.25
    assert age_gap.abs().max() < 0.05
    ev = c.events
    relapse1 = ev[(ev["type"] == "relapse") & (ev["day"] < ev["patient_id"].map(cart2["day"]))].set_index("patient_id")["day"] / MONTH
    assert (relapse1.median(), relapse1.min(), relapse1.max()) == pytest.approx((11.87, 4.07, 32.87), abs=0.02)


def test_li_response_crs_il6_and_events(cohorts: dict) -> None:
    c = cohorts["li2023"]
    c2 = c.infusions[c.infusions["label"] == "CART2"].set_index("patient_id")["day"]
    crs = grade_crs(c.toxicity_daily, patients=c.patients).set_index("patient_id")
    assert crs["crs_grade"].value_counts().to_dict() == {1: 3, 2: 2}
    assert set(crs.index[crs["tocilizumab"]]) == set(crs.index[crs["crs_grade"] == 2])
    assert ((crs["onset_day"] - c2) <= 6).all() and crs["duration_days"].between(7, 14).all()
    tox = c.toxicity_daily
    assert (tox["ice_score"].dropna() == 10).all() and (tox["capd_score"].dropna() == 0).all()
    ass = c.assessments.merge(c2.rename("c2"), left_on="patient_id", right_index=True)
    post = ass[(ass["day"] > ass["c2"]) & (ass["day"] <= ass["c2"] + 91)]
    assert set(post.loc[post["response"].notna(), "patient_id"]) == set(c2.index)
    assert (post["response"].dropna() == "MRD-negative CR").all()
    il6 = c.labs[c.labs["analyte"] == "il6"].merge(c2.rename("c2"), left_on="patient_id", right_index=True)
    il6["after"] = np.where(il6["day"] >= il6["c2"] - 1, "CART2", "CART1")
    peak = il6.groupby(["after", "patient_id"])["value"].max()
    base = il6[il6["timepoint"] == "baseline"].set_index(["after", "patient_id"])["value"]
    fold = peak / base
    assert peak["CART1"].median() == pytest.approx(100.4) and peak["CART2"].median() == pytest.approx(1300.0)
    assert fold["CART1"].median() == pytest.approx(7.46, rel=1e-4) and fold["CART2"].median() == pytest.approx(849.7, rel=1e-4)
    for values, p_published in ((fold, 0.2), (peak, 0.4)):  # exact two-sided Mann-Whitney, 5 vs 5
        x = np.concatenate([values["CART1"].to_numpy(), values["CART2"].to_numpy()])
        p = _synth.exact_u_pvalue(_synth.u_of(x, np.repeat([1, 0], 5)), 5, 5)
        assert p == pytest.approx(p_published, abs=0.03)
    ev = c.events.set_index("patient_id")
    assert (ev["type"] == "hsct").sum() == 3 and (ev["type"] == "death").sum() == 1
    assert (ev["type"] == "lost_to_follow_up").sum() == 1
    end = c.events.groupby("patient_id")["day"].max() - c2
    assert (end / MONTH).median() == pytest.approx(26.3, abs=0.05)
    relapse2 = c.events[(c.events["type"] == "relapse") & (c.events["day"] > c.events["patient_id"].map(c2))]
    assert relapse2["patient_id"].tolist() == ["pt01"]
    assert (relapse2["day"].iloc[0] - c2["pt01"]) / MONTH == pytest.approx(9.0, abs=0.02)


def test_li_kinetics_and_b_cell_aplasia(cohorts: dict) -> None:
    c = cohorts["li2023"]
    c2 = c.infusions[c.infusions["label"] == "CART2"].set_index("patient_id")["day"]
    k = c.kinetics
    total = k[k["measure"] == "car_copies_per_ug"]
    peaks = total[total["infusion_no"] == 2].groupby("patient_id")["value"].max()
    assert peaks["pt03"] == 100_650.0 and peaks["pt04"] == 59_630.0
    pt03 = total[(total["patient_id"] == "pt03")]
    assert pt03.loc[pt03["day"] == c2["pt03"] + 347, "value"].iloc[0] > 0
    pt05 = total[total["patient_id"] == "pt05"].set_index(["infusion_no", "day"])["value"]
    assert pt05[(2, c2["pt05"] + 89)] == 23_450.0 and pt05[(1, 60)] == 14_930.0
    comp = k[(k["patient_id"] == "pt04") & k["measure"].isin(["cd19_car_copies", "cd22_car_copies"])]
    top = comp.loc[comp.groupby("measure")["value"].idxmax()].set_index("measure")
    assert top.loc["cd19_car_copies", "value"] > top.loc["cd22_car_copies", "value"]
    assert top.loc["cd19_car_copies", "day"] < top.loc["cd22_car_copies", "day"]
    ratio = k[k["measure"] == "cd4_cd8_ratio"].merge(c2.rename("c2"), left_on="patient_id", right_index=True)
    before = ratio[ratio["day"] < ratio["c2"]].set_index("patient_id")["value"]
    day6 = ratio[ratio["day"] == ratio["c2"] + 6].set_index("patient_id")["value"]
    assert (before > 1).all() and (day6 < 1).all()
    durations = {}
    bc = k[k["measure"].isin(["b_cells_pct", "b_cells_per_ul"])].pivot_table(
        index=["patient_id", "infusion_no", "day"], columns="measure", values="value").reset_index()
    bc["aplastic"] = (bc["b_cells_pct"] < 1) | (bc["b_cells_per_ul"] <= 200)
    for (pid, no), s in bc.groupby(["patient_id", "infusion_no"]):
        start = s.loc[s["aplastic"], "day"].min()
        loss = s.loc[~s["aplastic"], "day"].min()
        durations.setdefault(no, []).append((loss - start) / MONTH)
    assert (np.median(durations[1]), min(durations[1]), max(durations[1])) == pytest.approx((6.03, 3.17, 9.77), abs=0.02)
    assert (np.median(durations[2]), min(durations[2]), max(durations[2])) == pytest.approx((11.57, 8.53, 17.5), abs=0.02)


# --- lu2021 ---------------------------------------------------------------------------------


def test_lu_table2_transcription() -> None:
    t = lu.published_table()
    assert len(t) == 14 and t["patient"].tolist() == list(range(1, 15))
    assert t["malignancy"].str.contains("Ph+", regex=False).sum() == 5
    assert (t["mrd_day28"] == "MR").sum() == 12
    assert t["crs_grade"].value_counts().to_dict() == {1: 10, 0: 4}
    assert t["car_t_infusions"].tolist() == [1, 2, 2, 3, 1, 1, 3, 1, 3, 1, 1, 1, 1, 1]
    assert t["car_t_dose_1e6_per_kg"].median() == pytest.approx(6.775)


def test_lu_whole_cohort(cohorts: dict) -> None:
    c = cohorts["lu2021"]
    p = c.patients
    assert len(p) == 47
    assert (p["age"].median(), p["age"].min(), p["age"].max()) == (29, 13, 66)
    assert (p["sex"] == "M").sum() == 27 and p["cns_involvement"].sum() == 6
    assert p["complex_karyotype"].sum() == 9 and p["ph_positive"].sum() == 12
    assert p["mrd_group"].value_counts().to_dict() == {"active disease": 29, "MRD 0.01-5%": 14, "MRD <0.01%": 4}
    a = c.assessments
    pre = a[(a["day"] == -5) & (a["kind"] == "bone_marrow")].set_index("patient_id")["blasts_pct"]
    assert (pre.median(), pre.min(), pre.max()) == (30.0, 0.0, 98.8)
    group = p.set_index("patient_id")["mrd_group"]
    assert (pre[group[group == "active disease"].index] >= 5).all()
    mrd = a[(a["day"] == -5) & (a["kind"] == "flow_mrd")].set_index("patient_id")["mrd_pct"]
    pub = [f"pt{i:02d}" for i in range(1, 15)]
    assert mrd[pub].between(0.01, 5, inclusive="left").all() and (mrd[pub] > 0.01).all()
    day28 = a[(a["day"] == 28) & a["patient_id"].isin(pub)]
    assert (day28["response"] == "MRD-negative CR").sum() == 12


def test_lu_survival_is_the_published_one(cohorts: dict) -> None:
    c = cohorts["lu2021"]
    rules = EndpointRules(endpoints=(
        TimeToEventRule("os", relapse=False, death=True),
        TimeToEventRule("efs", relapse=True, death=True, hsct="ignore", no_response="none",
                        censor_at="last_assessment"),
    ))
    e = derive_endpoints(c, rules)
    s = e[e["patient_id"].str.startswith("pt")]
    for ep, surv, se in (("efs", 0.612, 0.140), ("os", 0.786, 0.110)):
        est = kaplan_meier(s[f"{ep}_time"].to_numpy(float), s[f"{ep}_event"].to_numpy(bool)).survival_at(730.5)
        assert est.survival[0] == pytest.approx(surv, abs=5e-4) and est.std_err_surv[0] == pytest.approx(se, abs=5e-4)
    end = c.events[c.events["patient_id"].str.startswith("pt")].groupby("patient_id")["day"].max()
    assert (end.median(), end.min(), end.max()) == (647, 172, 945)
    ev = c.events
    hsct = ev[(ev["type"] == "hsct") & ev["patient_id"].isin(["pt01", "pt06", "pt10", "pt12", "pt14"])]["day"]
    assert hsct.median() == 51
    rel = ev[ev["type"] == "relapse"].set_index("patient_id")
    assert rel.loc[["pt04", "pt05", "pt07", "pt09"], "day"].tolist() == [740, 238, 597, 238]
    assert rel.loc["pt05", "cd19_status"] == "negative"
    deaths = ev[ev["type"] == "death"]
    assert sorted(deaths.loc[deaths["patient_id"].str.startswith("pt"), "cause"]) == ["disease", "hsct", "hsct"]
    os_active = e[e["patient_id"].str.startswith("ctl")]
    km_active = kaplan_meier(os_active["os_time"].to_numpy(float), os_active["os_event"].to_numpy(bool))
    assert km_active.survival_at(730.5).survival[0] < 0.786


def test_lu_kinetics_labs_and_adverse_events(cohorts: dict) -> None:
    c = cohorts["lu2021"]
    pub = [f"pt{i:02d}" for i in range(1, 15)]
    k = c.kinetics
    peak = k.groupby(["patient_id", "infusion_no"])["value"].max()
    a = c.assessments
    mrd = a[(a["day"] == -5) & (a["kind"] == "flow_mrd")].set_index("patient_id").loc[pub, "mrd_pct"]
    first = peak.xs(1, level="infusion_no")[pub]
    assert np.corrcoef(mrd, first)[0, 1] == pytest.approx(0.640, abs=0.005)
    for pid in ("pt02", "pt03", "pt04", "pt07", "pt09"):
        assert peak[pid].is_monotonic_decreasing
    assert set(mrd.sort_values().index[-3:]) == {"pt05", "pt07", "pt09"}
    crs = grade_crs(c.toxicity_daily, patients=c.patients, rules=CrsRules(window=(0, 27))).set_index("patient_id")["crs_grade"]
    table = lu.published_table()
    assert crs[pub].tolist() == table["crs_grade"].tolist()
    group = c.patients.set_index("patient_id")["mrd_group"]
    assert crs[group == "active disease"].mean() > crs[pub].mean()
    labs = c.labs
    infl = labs[labs["panel"] == "inflammation"].groupby(["analyte", "patient_id"])["value"].max()
    from scipy.stats import mannwhitneyu

    for analyte in ("crp", "il2r", "il6"):
        x = infl[analyte]
        assert mannwhitneyu(x[pub], x[group[group == "active disease"].index]).pvalue < 0.05
    grades = grade_labs(labs[labs["panel"] == "haematology"], toxicity_daily=c.toxicity_daily,
                        patients=c.patients[c.patients["patient_id"].isin(pub)])
    ae = grades.ae_table().set_index("label")
    expected = {"Anaemia": (4, 4, 2, 0), "Leukopenia": (0, 6, 6, 2), "Neutropenia": (1, 3, 5, 3),
                "Lymphopenia": (0, 2, 1, 11), "Thrombocytopenia": (5, 1, 1, 1), "Febrile neutropenia": (0, 0, 8, 0)}
    for label, counts in expected.items():
        got = tuple(int(ae.loc[label, f"grade_{g}_n"]) for g in (1, 2, 3, 4))
        assert got == counts, label
    fever = c.toxicity_daily[c.toxicity_daily["day"] <= 21].groupby("patient_id")["temperature_c"].max()[pub]
    assert ((fever >= 38.0) & (fever <= 39.0)).sum() == 8 and ((fever > 39.0) & (fever <= 40.0)).sum() == 2
