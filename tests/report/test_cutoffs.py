"""The test-positive side of every cut-off: one rule (cartscope.stats.cutoff_side) read the
same way by the ROC counts, the report's tables, figure legends and methods text."""

from __future__ import annotations

import numpy as np
import pytest

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.study import run_study
from cartscope.report.document import build_document
from cartscope.report.items import FigureItem, TableItem
from cartscope.report.numbers import NumberFormat
from cartscope.stats.cutoff_side import (
    cutoff_rule,
    is_test_positive,
    negative_condition,
    positive_condition,
    positive_operator,
    positive_side,
)
from cartscope.stats.roc import roc


def test_rule_reads_the_direction_as_the_order_of_the_classes():
    # pROC direction "<": controls < cases, positive when value >= threshold
    assert positive_operator("<") == ">=" and positive_side("<") == "high"
    assert positive_operator(">") == "<=" and positive_side(">") == "low"
    assert cutoff_rule("MIP3a", "4.703", ">", "NR/ER") == "NR/ER predicted when MIP3a \u2264 4.703"
    assert cutoff_rule("IL-6", "72.8", "<", "NR/ER", unicode=False) == "NR/ER predicted when IL-6 >= 72.8"
    assert negative_condition("MIP3a", "4.703", ">") == "MIP3a > 4.703"
    assert positive_condition("IL-6", "72.8", "<") == "IL-6 \u2265 72.8"
    np.testing.assert_array_equal(is_test_positive([1.0, 4.703, 9.0, np.nan], 4.703, ">"),
                                  [True, True, False, False])
    with pytest.raises(ValueError, match="direction"):
        positive_operator("auto")


def test_il6_higher_in_cases_is_positive_above_the_cutoff_with_6_of_9():
    # IL-6 higher in NR/ER (median 80 vs 36): the Youden cut-off 72.8 calls 6 of 9 cases positive
    cases = np.array([97.9, 150.0, 80.0, 310.0, 75.0, 120.0, 40.0, 20.0, 35.0])
    controls = np.array([37.5, 10.0, 30.0, 45.0, 20.5, 70.6, 12.0, 55.0, 36.0, 39.0, 28.0])
    score = np.concatenate([cases, controls])
    label = np.r_[np.ones(cases.size), np.zeros(controls.size)]
    r = roc(score, label)
    yd = r.youden()
    assert r.direction == "<" and float(yd.threshold) == pytest.approx(72.8)
    op = r.at(yd.threshold)
    pos = is_test_positive(score, float(yd.threshold), r.direction)
    assert (op.tp, op.fn) == (6, 3) and int(pos[label == 1].sum()) == 6
    assert int((~pos[label == 0]).sum()) == op.tn
    assert cutoff_rule("IL-6", NumberFormat().cutoff(yd.threshold), r.direction, "NR/ER") == \
        "NR/ER predicted when IL-6 \u2265 72.8"


@pytest.fixture(scope="module")
def jin_doc():
    cohort = synthesize("jin2023", seed=2023)
    results = run_study(cohort, load_protocol("jin2023"))
    return results, build_document(results, cohort)


def test_mip3a_is_lower_in_nr_er_and_every_reader_says_so(jin_doc):
    results, doc = jin_doc
    screen = results.tables["biomarker_screen"].set_index("analyte")
    assert screen.loc["MIP3a", "median_nr_er"] < screen.loc["MIP3a", "median_durable"]
    mk = results.tables["biomarker_markers"].set_index("marker")
    assert mk.loc["MIP3a", "direction"] == ">" and (mk.loc["MIP3a", "tp"], mk.loc["MIP3a", "fn"]) == (12, 1)
    rule = "NR/ER predicted when MIP3a \u2264 4.703"
    tables = {t.key: t.table for t in doc.tables()}
    for key in ("cutoffs_training", "cutoff_validation"):
        grid = tables[key].display
        cut = grid.loc[grid["Marker"] == "MIP3a", "Cut-off"]
        assert set(cut) == {"\u2264 4.703"}, key
        assert any(rule in n for n in tables[key].footnotes), key
    training = tables["cutoffs_training"].display.set_index("Marker")
    assert training.loc["MIP3a", "TP/(TP+FN)"] == "12/13"
    methods = " ".join(doc.methods)
    assert rule in methods
    figures = {f.key: f for f in doc.figures()}
    km = figures["km_pfs_cutoff_MIP3a"]
    assert rule in km.caption
    curves = km.recipe.args[0]
    first = next(iter(curves))
    assert first == "MIP3a \u2264 4.703 (NR/ER predicted)"
    # the test-positive curve is the "below" split of the analysis
    assert curves[first] is results.objects["km/pfs/cutoff_MIP3a/below"]
    assert "MIP3a > 4.703" in curves
    assert isinstance(km, FigureItem) and all(isinstance(t, TableItem) for t in doc.tables())
