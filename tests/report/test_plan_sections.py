"""The report renders what the plan asks: Table 1 per ``describe`` analysis (its variables,
split by its ``by``), the cytokine course per ``cytokines`` analysis (its analytes, window and
groups) and a section for ``compare`` (clinical table with groups, n, summary, test and p;
dot / box plot by group, paired lines), on a small hand-typed registry. Every figure passes
the figure-quality checks."""

from __future__ import annotations

import pytest
import yaml

from cartscope.analysis.plan.check import load_and_check
from cartscope.analysis.study import run_study
from cartscope.cohort.load import load_cohort
from cartscope.report.sections import build_sections
from figure_quality import check_figure, figure_texts
from hand_typed import NEW_USER_PLAN, write_registry


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    cohort = load_cohort(write_registry(tmp_path_factory.mktemp("reg") / "registry.xlsx"))
    plan, _ = load_and_check(yaml.safe_load(NEW_USER_PLAN), cohort)
    results = run_study(cohort, plan)
    sections = {s.key: s for s in build_sections(results, cohort)}
    return results, sections


def _items(sections, key):
    return {it.key: it for it in sections[key].items}


@pytest.mark.slow
def test_table1_has_the_plan_variables_split_by_its_by(report):
    _, sections = report
    t1 = _items(sections, "cohort")["table1"].table
    grid = t1.display
    assert list(grid.columns) == ["Characteristic", "B-ALL (n=16)", "B-NHL (n=12)", "Overall (n=28)", "p", "Test"]
    first = grid["Characteristic"].astype(str)
    rows = [c for c in first if ", median" in c or ", n (%)" in c]
    assert rows == ["Age (years), median (range)", "Sex, n (%)", "LDH (U/L), median (range)", "CRS grade, n (%)",
                    "IL-6 peak (pg/mL), median (range)"]  # the describe's variables, in its order; nothing else
    assert not first.str.contains("Prior lines|Disease status|Prior HSCT", regex=True).any()


@pytest.mark.slow
def test_cytokine_figure_draws_the_analysis_analytes_and_groups(report):
    _, sections = report
    figs = {k: v for k, v in _items(sections, "kinetics").items() if k.startswith("cytokine_course")}
    assert list(figs) == ["cytokine_course_cyto_crs3"]
    item = figs["cytokine_course_cyto_crs3"]
    assert item.recipe.kwargs["analytes"] == ("il6", "crp", "ferritin")  # the panel's order
    assert item.recipe.kwargs["groups"] == ("0", "1")
    fig = item.recipe.draw()
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["IL-6", "CRP", "Ferritin"]
    assert check_figure(fig, item.key) == []
    assert "days 0\u201330 after the index infusion" in item.caption and ", by " in item.caption


@pytest.mark.slow
def test_compare_has_its_own_section_with_table_and_figures(report):
    results, sections = report
    assert "compare" in results.sections
    items = _items(sections, "compare")
    assert sections["compare"].title == "Group comparisons"
    unpaired = items["compare_il6_by_response"].table
    assert list(unpaired.display.columns) == ["Variable", "Groups by", "Group", "n", "Median (IQR) or n (%)",
                                              "Test", "p"]
    comp = results.tables["comparisons"]
    test = comp[(comp["analysis"] == "il6_by_response") & (comp["variable"] == "il6_peak") & (comp["group"] == "test")]
    row = unpaired.display.iloc[0]
    assert row["Variable"].startswith("IL-6 peak") and row["Group"] == "no" and row["Test"].startswith("Mann-Whitney U")
    assert row["p"] == f"{float(test['p_value'].iloc[0]):.2f}"
    assert int(unpaired.display.iloc[0]["n"]) + int(unpaired.display.iloc[1]["n"]) == 28
    sex = unpaired.display[unpaired.display["Variable"] == "Sex"].iloc[0]
    assert "Female" in sex["Median (IQR) or n (%)"] and sex["Test"] == "Fisher's exact"
    paired = items["compare_il6_paired"].table
    assert list(paired.display.columns)[:3] == ["Group", "Pairs, n", paired.display.columns[2]]
    assert paired.display.iloc[0]["Pairs, n"] == "28" and paired.display.iloc[0]["p"] == "< 0.001"
    figs = {k: it for k, it in items.items() if hasattr(it, "recipe")}
    assert set(figs) == {"compare_il6_by_response_il6_peak_responder", "compare_il6_paired_paired"}
    for key, it in figs.items():
        fig = it.recipe.draw()
        assert check_figure(fig, key) == []
        assert any("p = 0.28" in t or "p < 0.001" in t for t in figure_texts(fig))
        assert "all patients" in it.caption and " test" in it.caption


@pytest.mark.slow
def test_methods_describe_each_compare_and_only_the_kinetics_that_ran(report):
    from cartscope.report.methods import methods_paragraphs

    results, _ = report
    methods = next(p for p in methods_paragraphs(results) if p.startswith("Statistical analysis."))
    assert ("IL-6 peak and sex (all patients) were compared across responder with the Mann-Whitney U test "
            "and Fisher's exact test.") in methods
    assert ("Within patients (all patients), IL-6 baseline was compared with IL-6 peak with the Wilcoxon "
            "signed-rank test.") in methods
    assert ("car_kinetics" in {a.kind for a in results.plan.analyses}) == ("CAR-T kinetics" in methods)
