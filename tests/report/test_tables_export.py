"""The report tables other than Table 1 (exact printed strings, anchored on the published
figures of the reference studies where they exist) and the CSV / XLSX / DOCX round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartscope.report.tables import (
    Table,
    ae_table,
    biomarker_table,
    cox_table,
    cutoff_table,
    export_table,
    landmark_table,
    relapse_timing_table,
    response_table,
    table_one,
)
from cartscope.stats.multiplicity import adjust_pvalues

# --- cut-off table: Jin et al. 2023 (MIP3a and Eotaxin at the Youden cut-offs) --------------


def test_cutoff_table_reproduces_jin2023_from_counts() -> None:
    frame = pd.DataFrame(
        {
            "marker": ["MIP3a", "Eotaxin"],
            "threshold": [4.703, 1.671],
            "positive_if": [">", ">"],
            "tp": [12, 13], "fn": [1, 0], "tn": [17, 15], "fp": [9, 11],
        }
    )
    t = cutoff_table(frame)
    assert list(t.display.columns) == [
        "Marker", "Cut-off", "TP/(TP+FN)", "Sensitivity, % (95% CI)", "TN/(TN+FP)",
        "Specificity, % (95% CI)",
    ]
    # the paper: 92.31% (66.69-99.61), 65.38% (46.22-80.59); 100% (77.19-100), 57.69% (38.95-74.46)
    assert t.display.values.tolist() == [
        ["MIP3a", "> 4.703", "12/13", "92.31 (66.69\u201399.61)", "17/26", "65.38 (46.22\u201380.59)"],
        ["Eotaxin", "> 1.671", "13/13", "100.00 (77.19\u2013100.00)", "15/26",
         "57.69 (38.95\u201374.46)"],
    ]
    assert "wilson-modified" in t.footnotes[-1]


def test_cutoff_table_from_given_proportions() -> None:
    frame = pd.DataFrame(
        {
            "marker": ["MIP3a"], "cohort": ["validation"], "cutoff": [4.703],
            "sensitivity": [10 / 12], "sensitivity_lower": [0.5], "sensitivity_upper": [0.97],
            "specificity": [18 / 23], "specificity_lower": [0.6], "specificity_upper": [0.9],
        }
    )
    t = cutoff_table(frame)
    assert t.display.values.tolist() == [
        ["MIP3a", "validation", "4.703", "83.33 (50.00\u201397.00)", "78.26 (60.00\u201390.00)"],
    ]
    assert t.footnotes == ("CI, confidence interval.",)
    screen_like = frame.rename(columns={"cutoff": "youden_cutoff"}).assign(direction="<")
    assert cutoff_table(screen_like).display.values.tolist() == t.display.values.tolist()
    with pytest.raises(ValueError, match="'threshold', 'cutoff' or 'youden_cutoff'"):
        cutoff_table(frame.drop(columns="cutoff"))
    with pytest.raises(ValueError, match="tp, fn, tn, fp"):
        cutoff_table(frame.drop(columns="sensitivity_lower"))


# --- biomarker screening ---------------------------------------------------------------------


def test_biomarker_table_sorts_adjusts_and_formats() -> None:
    frame = pd.DataFrame(
        {
            "marker": ["EPO", "MIP3a", "Eotaxin", "IL-6"],
            "p_value": [0.004, 0.0019, 0.0021, 0.6],
            "median_NR/ER": [2.345, 5.1, 2.0, 1.0],
            "median_durable": [1.0, 3.25, 1.1, 1.0],
            "auc": [0.74, 0.80179, 0.8047, 0.5],
            "auc_lower": [0.58, 0.66568, 0.6709, 0.3],
            "auc_upper": [0.9, 0.9379, 0.9386, 0.7],
        }
    )
    t = biomarker_table(frame, auc_decimals=4)
    # BH over 4 markers: 0.0019*4/1 = 0.0076 -> cummin with 0.0021*4/2 = 0.0042 -> 0.0042
    assert t.display.values.tolist() == [
        ["MIP3a", "5.10", "3.25", "0.002", "0.004", "0.8018 (0.6657\u20130.9379)"],
        ["Eotaxin", "2.00", "1.10", "0.002", "0.004", "0.8047 (0.6709\u20130.9386)"],
        ["EPO", "2.35", "1.00", "0.004", "0.005", "0.7400 (0.5800\u20130.9000)"],
        ["IL-6", "1.00", "1.00", "0.600", "0.600", "0.5000 (0.3000\u20130.7000)"],
    ]
    assert list(t.display.columns) == [
        "Marker", "Median fold change, NR/ER", "Median fold change, durable", "p", "q",
        "AUC (95% CI)",
    ]
    q = t.frame.set_index("marker")["q_value"]
    expected = adjust_pvalues(frame["p_value"].to_numpy(), "bh")
    assert q[frame["marker"]].to_numpy() == pytest.approx(expected, rel=1e-15)
    screen_like = frame.rename(columns={"median_NR/ER": "median_positive",
                                        "median_durable": "median_negative"})
    named = biomarker_table(screen_like, medians={"median_positive": "NR/ER",
                                                  "median_negative": "durable"}, auc_decimals=4)
    assert named.display.values.tolist() == t.display.values.tolist()
    assert list(named.display.columns) == list(t.display.columns)
    top = biomarker_table(frame[["marker", "p_value"]], adjust=None, top=2)
    assert top.display.values.tolist() == [["MIP3a", "0.002"], ["Eotaxin", "0.002"]]


# --- AE table: Lu et al. 2021, Table 3 (14 patients) ------------------------------------------


def _lu2021_ae() -> pd.DataFrame:
    counts = {  # grade 1, 2, 3, 4 patients of 14
        "Anemia": (4, 4, 1, 1),
        "White blood cell decreased": (0, 6, 6, 2),
        "Neutrophil count decreased": (1, 3, 5, 3),
        "Lymphocyte count decreased": (0, 2, 1, 11),
        "Platelet count decreased": (5, 1, 1, 1),
    }
    labels = ["Anaemia", "Leukopenia", "Neutropenia", "Lymphopenia", "Thrombocytopenia"]
    rows = []
    for (term, grades), label in zip(counts.items(), labels):
        row: dict[str, object] = {"term": term, "label": label, "n": 14, "n_evaluable": 14,
                                  "category": "Hematological event"}
        for g, k in zip((1, 2, 3, 4), grades):
            row[f"grade_{g}_n"] = k
            row[f"grade_{g}_pct"] = 100 * k / 14
        rows.append(row)
    return pd.DataFrame(rows)


def test_ae_table_matches_lu2021_table3() -> None:
    t = ae_table(_lu2021_ae())
    assert list(t.display.columns) == [
        "Adverse event", "Grade 1, %", "Grade 2, %", "Grade 3, %", "Grade 4, %",
    ]
    assert t.display.values.tolist() == [
        ["Hematological event", "", "", "", ""],
        ["    Anaemia", "28.6", "28.6", "7.1", "7.1"],
        ["    Leukopenia", "", "42.9", "42.9", "14.3"],
        ["    Neutropenia", "7.1", "21.4", "35.7", "21.4"],
        ["    Lymphopenia", "", "14.3", "7.1", "78.6"],
        ["    Thrombocytopenia", "35.7", "7.1", "7.1", "7.1"],
    ]
    assert t.footnotes == ("Worst grade per patient (CTCAE); percentages of the 14 patients.",)
    n_pct = ae_table(_lu2021_ae().drop(columns=["category", "grade_1_pct"]), show="n_pct", zero="-")
    assert n_pct.display.iloc[0].tolist() == ["Anaemia", "4 (28.6)", "4 (28.6)", "1 (7.1)", "1 (7.1)"]
    assert n_pct.display.iloc[1, 1] == "-"


def test_ae_table_from_lab_grades() -> None:
    from cartscope.clinical.ctcae import LabGrades

    assert callable(LabGrades.ae_table)  # the frame it returns is the documented input
    frame = pd.DataFrame(
        [{"term": "Anemia", "label": "Anaemia", "n": 3, "n_evaluable": 2,
          "grade_1_n": 1, "grade_1_pct": 100 / 3, "grade_2_n": 0, "grade_2_pct": 0.0,
          "grade_3_n": 1, "grade_3_pct": 100 / 3, "grade_4_n": 0, "grade_4_pct": 0.0}]
    )
    assert ae_table(frame).display.values.tolist() == [["Anaemia", "33.3", "", "33.3", ""]]
    with pytest.raises(ValueError, match="'grade_4_n'"):
        ae_table(frame.drop(columns="grade_4_n"))


# --- outcome tables ----------------------------------------------------------------------------


def test_landmark_table_prints_jin2023_estimates() -> None:
    frame = pd.DataFrame(
        {
            "endpoint": ["OS", "OS", "PFS", "PFS"],
            "group": ["B-ALL", "B-NHL", "B-ALL", "B-NHL"],
            "time": [365.25] * 4,
            "survival": [0.7886, 0.5306, 0.6989, 0.4930],
            "lower": [0.6070, 0.4181, 0.5124, 0.3815],
            "upper": [0.8932, 0.6310, 0.8253, 0.5951],
        }
    )
    t = landmark_table(frame)
    assert list(t.display.columns) == ["Endpoint", "B-ALL, % (95% CI)", "B-NHL, % (95% CI)"]
    assert t.display.values.tolist() == [
        ["OS", "", ""],
        ["    12 months", "78.86 (60.70\u201389.32)", "53.06 (41.81\u201363.10)"],
        ["PFS", "", ""],
        ["    12 months", "69.89 (51.24\u201382.53)", "49.30 (38.15\u201359.51)"],
    ]
    single = landmark_table(frame.iloc[[0]].drop(columns=["endpoint", "group"]).assign(time=182.0),
                            pct_decimals=1)
    assert single.display.values.tolist() == [["6 months", "78.9 (60.7\u201389.3)"]]


def test_response_table_wilson_ci_by_group() -> None:
    frame = pd.DataFrame(
        {"group": ["B-ALL", "B-ALL", "B-NHL"], "outcome": ["ORR", "CR", "ORR"],
         "x": [32, 20, 0], "n": [35, 35, 84]}
    )
    t = response_table(frame)
    # Wilson intervals, R prop.test(x, n, correct = FALSE)$conf.int: 32/35 0.77621-0.97042,
    # 20/35 0.40857-0.72015, 0/84 0-0.04373
    assert t.display.values.tolist() == [
        ["ORR", "32/35 (91.4)", "77.6\u201397.0", "0/84 (0.0)", "0.0\u20134.4"],
        ["CR", "20/35 (57.1)", "40.9\u201372.0", "", ""],
    ]
    assert list(t.display.columns) == [
        "Outcome", "B-ALL, n/N (%)", "B-ALL, 95% CI", "B-NHL, n/N (%)", "B-NHL, 95% CI",
    ]


def test_relapse_timing_table_jin2023_b_all() -> None:
    # B-ALL relapses by bin in Jin et al. 2023: 5, 0, 1, 3, 2 (0-6, 6-12, 12-18, 18-24, >24)
    bins = ["0-6"] * 5 + ["12-18"] + ["18-24"] * 3 + [">24"] * 2
    endpoints = pd.DataFrame({"relapse_bin": bins + [None] * 4})
    t = relapse_timing_table(endpoints, order=["0-6", "6-12", "12-18", "18-24", ">24"])
    assert t.display.values.tolist() == [
        ["0-6", "5 (45.5)"], ["6-12", "0 (0.0)"], ["12-18", "1 (9.1)"], ["18-24", "3 (27.3)"],
        [">24", "2 (18.2)"],
    ]
    assert list(t.display.columns) == ["Time to relapse, months", "Overall (n=11)"]
    auto = relapse_timing_table(endpoints.iloc[::-1])
    assert auto.display["Time to relapse, months"].tolist() == ["0-6", "12-18", "18-24", ">24"]
    with pytest.raises(ValueError, match=r"relapse bins \['>24'\]"):
        relapse_timing_table(endpoints, order=["0-6", "12-18", "18-24"])


def test_cox_table_side_by_side_models() -> None:
    frame = pd.DataFrame(
        {
            "model": ["Univariable", "Univariable", "Multivariable"],
            "term": ["tp53", "ldh_high", "tp53"],
            "hazard_ratio": [2.345, 1.5, 2.0],
            "ci_lower": [1.2, 0.8, 1.0],
            "ci_upper": [4.5, 2.8, 4.0],
            "p_value": [0.0123, 0.2, 0.0004],
        }
    )
    t = cox_table(frame, labels={"tp53": "TP53 alteration"})
    assert list(t.display.columns) == [
        "Variable", "HR (95% CI), Univariable", "p, Univariable", "HR (95% CI), Multivariable",
        "p, Multivariable",
    ]
    assert t.display.values.tolist() == [
        ["TP53 alteration", "2.35 (1.20\u20134.50)", "0.012", "2.00 (1.00\u20134.00)", "<0.001"],
        ["ldh_high", "1.50 (0.80\u20132.80)", "0.200", "", ""],
    ]


# --- exports ---------------------------------------------------------------------------------


@pytest.fixture
def table() -> Table:
    patients = pd.DataFrame(
        {
            "disease": ["B-ALL"] * 5 + ["DLBCL"] * 5,
            "sex": ["F", "M", "F", "F", "M", "M", "M", "F", "M", "M"],
            "age": [11.0, 33, 60, 25, 40, 47, 17, 67, 50, np.nan],
            "disease_status": ["refractory", "first relapse", "second+ relapse", "refractory",
                               "refractory", "first relapse", "refractory", "refractory",
                               "second+ relapse", "first relapse"],
            "cns_involvement": [True, False, False, True, False, False, False, True, False, False],
        }
    )
    return table_one(patients, "disease")


def _xlsx_cells(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]


def test_export_writes_all_formats(table: Table, tmp_path: Path) -> None:
    paths = export_table(table, tmp_path / "out" / "table1", number=1)
    assert [p.name for p in paths] == ["table1.csv", "table1.xlsx", "table1.docx"]
    assert all(p.stat().st_size > 0 for p in paths)
    only = export_table(table, tmp_path / "t.docx", formats=["DOCX"])
    assert only == [tmp_path / "t.docx"]
    with pytest.raises(ValueError, match="unknown format"):
        export_table(table, tmp_path / "t", formats=("pdf",))


def test_csv_round_trip(table: Table, tmp_path: Path) -> None:
    (path,) = export_table(table, tmp_path / "t", formats=("csv",))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == list(table.display.columns)
    assert back.values.tolist() == table.display.values.tolist()


def test_xlsx_round_trip(table: Table, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    (path,) = export_table(table, tmp_path / "t", formats=("xlsx",), number=1)
    cells = _xlsx_cells(path)
    n = len(table.display)
    assert cells[0][0] == "Table 1. Baseline characteristics by disease"
    assert cells[1] == list(table.display.columns)
    assert cells[2 : 2 + n] == table.display.values.tolist()
    assert cells[2 + n] == [""] * table.display.shape[1]
    assert [row[0] for row in cells[3 + n :]] == list(table.footnotes)
    ws = load_workbook(path).active
    assert all(ws.cell(row=2, column=j).font.b for j in range(1, table.display.shape[1] + 1))
    assert not ws.cell(row=3, column=1).font.b
    assert ws.column_dimensions["A"].width == max(len(s) for s in table.display.iloc[:, 0]) + 2
    assert ws.freeze_panes == "A3"


def test_docx_round_trip(table: Table, tmp_path: Path) -> None:
    from docx import Document

    (path,) = export_table(table, tmp_path / "t", formats=("docx",), number=1)
    doc = Document(str(path))
    assert doc.paragraphs[0].text == "Table 1. Baseline characteristics by disease"
    (grid,) = doc.tables
    texts = [[cell.text for cell in row.cells] for row in grid.rows]
    assert texts[0] == list(table.display.columns)
    assert texts[1:] == table.display.values.tolist()
    assert all(run.bold for cell in grid.rows[0].cells for run in cell.paragraphs[0].runs)
    assert grid.rows[0]._tr.trPr.xpath("./w:tblHeader")  # header repeats on each page
    notes = [p.text for p in doc.paragraphs[1:]]
    assert notes == list(table.footnotes)
    assert any("Fisher's exact test" in n for n in notes)


def test_wide_docx_is_landscape(tmp_path: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT

    frame = pd.DataFrame(
        {"model": ["a", "b", "c"], "term": ["x"] * 3, "hazard_ratio": [1.0, 2.0, 3.0],
         "ci_lower": [0.5] * 3, "ci_upper": [4.0] * 3, "p_value": [0.5] * 3}
    )
    (path,) = export_table(cox_table(frame), tmp_path / "cox", formats=("docx",))
    section = Document(str(path)).sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height
