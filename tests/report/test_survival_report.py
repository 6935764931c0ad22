"""The survival section with two ``km`` analyses: each figure and table comes from its own
analysis (a later analysis' objects are stored as ``<id>:<key>``), captions name the population,
and a landmark beyond the follow-up reads "not estimable"."""

from __future__ import annotations

import pytest

from cartscope.analysis.plan.check import read_plan
from cartscope.analysis.presets import synthesize
from cartscope.analysis.study import run_study
from cartscope.report.items import FigureItem, TableItem
from cartscope.report.sections import SectionInput
from cartscope.report.sections.survival import survival_section

ENDPOINTS = {"endpoints": [{"name": "os", "relapse": False, "death": True},
                           {"name": "pfs", "relapse": True, "death": True, "no_response": "assessment"}]}


@pytest.fixture(scope="module")
def two_km():
    cohort = synthesize("lu2021", seed=2023)
    plan, _ = read_plan({
        "version": 1, "name": "t", "endpoints": ENDPOINTS,
        "populations": {"older": {"where": "age >= 40"}},
        "analyses": [
            {"id": "whole", "kind": "km", "endpoints": ["pfs"], "landmark_months": [6]},
            {"id": "old", "kind": "km", "endpoints": ["pfs", "os"], "population": "older",
             "landmark_months": [6, 600]},
        ]}, "p.yaml")
    res = run_study(cohort, plan)
    return res, survival_section(SectionInput(res, cohort))


@pytest.mark.slow
def test_each_figure_and_table_is_its_own_analysis(two_km):
    res, items = two_km
    n_all = len(res.endpoints)
    assert "old:km/pfs/all" in res.objects and res.objects["km/pfs/all"].n == n_all
    older = res.objects["old:km/pfs/all"].n
    assert 0 < older < n_all
    figs = [i for i in items if isinstance(i, FigureItem)]
    assert [f.key for f in figs] == ["km_pfs", "km_old_pfs", "km_old_os"]
    assert figs[0].caption.startswith(f"Progression-free survival, all patients (n = {n_all})")
    assert figs[1].caption.startswith(f"Progression-free survival, population older (n = {older})")
    assert figs[0].recipe.args[0] is res.objects["km/pfs/all"]
    assert figs[1].recipe.args[0] is res.objects["old:km/pfs/all"]
    tables = {i.key: i.table for i in items if isinstance(i, TableItem)}
    whole = tables["landmarks_all"].display
    assert "Overall survival" not in whole.to_string() and len(whole) == 2  # PFS header + 6 months
    old = tables["landmarks_old_all"]
    assert old.title == "Landmark survival estimates, population older"
    text = old.display.to_string()
    assert "Overall survival" in text and text.count("not estimable") == 2  # 600 months, PFS and OS
    assert tables["km_old_medians"].title == "Events and median times, population older"
    # "old" is the first to write km/os/all, so it keeps the bare key
    assert "old:km/os/all" not in res.objects and figs[2].recipe.args[0] is res.objects["km/os/all"]
    assert set(tables["km_old_medians"].frame["n"]) == {older, res.objects["km/os/all"].n}


@pytest.mark.slow
def test_screen_of_another_binary_outcome_names_it():
    from cartscope.report.sections.biomarkers import biomarker_section

    cohort = synthesize("jin2023", seed=2023)
    plan, _ = read_plan({
        "version": 1, "name": "t", "endpoints": ENDPOINTS,
        "variables": {"crs3": {"derive": "crs", "at_least": 3, "title": "CRS grade >= 3"}},
        "populations": {"ball": {"where": "disease == 'B-ALL'", "title": "B-ALL"}},
        "analyses": [{"id": "s", "kind": "biomarker_screen", "timepoint": "il6_peak", "outcome": "crs3",
                      "population": "ball", "survival_endpoint": None, "markers": ["MIP3a", "Eotaxin"]}]}, "p.yaml")
    res = run_study(cohort, plan)
    items = biomarker_section(SectionInput(res, cohort))
    screen = next(i.table for i in items if isinstance(i, TableItem))
    figs = {i.key: i for i in items if isinstance(i, FigureItem)}
    assert "roc" in figs and any(k.startswith("marker_") for k in figs)
    for key, fig in figs.items():  # every caption names the screen's outcome and population
        assert "CRS grade >= 3" in fig.caption and "population B-ALL" in fig.caption, (key, fig.caption)
        assert "training" not in fig.caption and "NR/ER" not in fig.caption, (key, fig.caption)
    dots = next(f for k, f in figs.items() if k.startswith("marker_"))
    frame = dots.recipe.args[0]
    roc = res.objects[f"roc/{dots.key[len('marker_'):]}"]
    assert (frame["outcome_class"] == "CRS grade >= 3\n= 1").sum() == roc.n_cases
    assert (frame["outcome_class"] == "CRS grade >= 3\n= 0").sum() == roc.n_controls
    assert screen.title == "Biomarker screening of CRS grade >= 3, population B-ALL"
    heads = " | ".join(map(str, screen.display.columns))
    assert "CRS grade >= 3 = 1" in heads and "CRS grade >= 3 = 0" in heads and "NR/ER" not in heads
    from cartscope.report.methods import methods_paragraphs

    methods = next(p for p in methods_paragraphs(res) if p.startswith("Statistical analysis."))
    assert "Patients with CRS grade >= 3 (= 1) and without it (= 0) (population B-ALL) were compared" in methods
    assert "training cohort" not in methods and "NR/ER" not in methods  # survival_endpoint: null
    assert "maxstat" not in methods and "log-rank" not in methods  # the markers run the bootstrap only


@pytest.mark.slow
def test_population_names_the_landmark_column_and_methods_name_every_km(two_km):
    from cartscope.report.methods import methods_paragraphs

    res, items = two_km
    tables = {i.key: i.table for i in items if isinstance(i, TableItem)}
    heads = list(map(str, tables["landmarks_old_all"].display.columns))
    assert heads[1].startswith("Older, % (95") and not any("All patients" in h for h in heads)
    assert list(map(str, tables["landmarks_all"].display.columns))[1].startswith("All patients, % (95")
    assert set(tables["km_old_medians"].display["Group"]) == {"Older"}
    figs = {i.key: i for i in items if isinstance(i, FigureItem)}
    assert [t.get_text() for t in figs["km_old_pfs"].recipe.draw().legends[0].get_texts()][0].startswith("Older (n = ")
    methods = next(p for p in methods_paragraphs(res) if p.startswith("Statistical analysis."))
    assert "Progression-free survival (all patients) was estimated by the Kaplan-Meier method" in methods
    assert ("Progression-free survival and overall survival (population older) were estimated by the "
            "Kaplan-Meier method (log-log 95% pointwise intervals; landmark estimates at 6 and 600 months)") in methods
