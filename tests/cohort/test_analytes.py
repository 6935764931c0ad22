"""The analyte dictionary: built-in predictors (ctDNA, TMTV, MDSC, scores, CAR-T phenotypes,
CAR-Treg), cohort extensions (analytes sheet), ranges, and assay-limit cells."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cartscope.cohort.analytes import BUILTIN, DictionaryError, limit_token
from cartscope.cohort.load import load_cohort_with_problems
from cartscope.cohort.validate import validate

GOOD = Path(__file__).resolve().parent / "good" / "days"
HEADER = "patient_id,day,analyte,value,unit,timepoint,sample,role\n"


def _with_labs(tmp_path: Path, rows: list[str], analytes: str | None = None) -> Path:
    folder = tmp_path / "c"
    shutil.copytree(GOOD, folder)
    (folder / "labs.csv").write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    if analytes is not None:
        (folder / "analytes.csv").write_text(analytes, encoding="utf-8")
    return folder


def test_builtin_spellings() -> None:
    assert BUILTIN.canonical("ctDNA") == "ctdna" and BUILTIN.get("ctdna").unit == "hGE/mL"
    assert BUILTIN.canonical("CAR-Treg") == "car_treg_pct"
    assert BUILTIN.canonical("Total metabolic tumour volume") == "tmtv"
    assert BUILTIN.canonical("MDSC %") == "mdsc_pct"
    assert BUILTIN.get("exhaustion_score").minimum is None
    assert BUILTIN.factor("L", "mL", "tmtv") == 1000.0
    assert limit_token("BLQ") == ("<", "lloq") and limit_token(" >ULOQ ") == (">", "uloq")
    assert limit_token("ND") == ("<", "lod") and limit_token("5") is None


def test_new_predictors_load(tmp_path: Path) -> None:
    folder = _with_labs(tmp_path, [
        "P01,-3,ctDNA,1520,hGE/mL,baseline,plasma,patient",
        "P01,-3,TMTV,0.095,L,baseline,,patient",
        "P01,7,MDSC %,12.5,%,,blood,patient",
        "P01,7,exhaustion score,-0.42,score,,blood,patient",
        "P01,7,my_signature,-1.3,GSVA,,blood,patient",
        "P01,14,CAR-Treg,3.1,%,,blood,patient",
        "P01,14,CAR Tscm,22,%,,blood,patient",
        "P02,5,IL-6,<5,pg/mL,,serum,patient",
        "P02,6,IL-6,>5000,pg/mL,,serum,patient",
    ])
    cohort, problems = load_cohort_with_problems(folder)
    assert problems == []
    labs = cohort.labs
    assert labs["analyte"].tolist()[:7] == ["ctdna", "tmtv", "mdsc_pct", "exhaustion_score", "my_signature",
                                            "car_treg_pct", "car_tscm_pct"]
    assert labs["value"].tolist()[1] == pytest.approx(95.0) and labs["unit"].tolist()[1] == "mL"
    assert labs["value"].tolist()[3] == -0.42 and labs["unit"].tolist()[4] == "score"
    assert labs["qualifier"].tolist()[7:] == ["<", ">"] and labs["value"].tolist()[7:] == [5.0, 5000.0]


def test_ranges(tmp_path: Path) -> None:
    folder = _with_labs(tmp_path, [
        "P01,7,MDSC,120,%,,blood,patient",
        "P01,7,IL-6,-2,pg/mL,,serum,patient",
        "P01,7,novel_marker,-2,AU,,serum,patient",
    ])
    got = [(p.row, p.column, p.code, p.message) for p in validate(folder)]
    assert got == [
        (2, "value", "out-of-range", "value 120 % is impossible for mdsc_pct: must be at most 100"),
        (3, "value", "out-of-range", "value -2 is impossible: a measurement is at least 0"),
        (4, "unit", "unknown-unit", "unknown unit 'AU' for novel_marker"),
    ]


def test_analytes_sheet_extends_the_dictionary(tmp_path: Path) -> None:
    analytes = ("analyte,unit,aliases,minimum,lloq,uloq,conversions\n"
                "sIL6R,ng/mL,soluble IL-6 receptor|sil-6r,,2,400,\n"
                "novel_marker,AU,nm,-10,,,kAU=1000\n"
                "ctDNA,,,,,,\n")
    folder = _with_labs(tmp_path, [
        "P01,7,soluble IL-6 receptor,BLQ,ng/mL,,serum,patient",
        "P01,8,sIL-6R,>ULOQ,ng/mL,,serum,patient",
        "P01,9,sIL6R,1,ng/mL,,serum,patient",
        "P01,7,nm,-2,AU,,serum,patient",
        "P01,8,nm,0.5,kAU,,serum,patient",
        "P01,9,ctDNA,ND,hGE/mL,,plasma,patient",
    ], analytes)
    problems = validate(folder)
    got = [(p.row, p.code, p.severity.value) for p in problems]
    assert got == [(4, "below-lloq", "warning"), (7, "assay-limit-unknown", "error")]
    assert "'ND' needs the LOD of ctdna" in problems[1].message
    folder2 = _with_labs(tmp_path / "b", [
        "P01,7,soluble IL-6 receptor,BLQ,ng/mL,,serum,patient",
        "P01,8,sIL-6R,>ULOQ,pg/mL,,serum,patient",
        "P01,7,nm,-2,AU,,serum,patient",
        "P01,8,nm,0.5,kAU,,serum,patient",
    ], analytes)
    cohort, problems = load_cohort_with_problems(folder2)
    assert problems == []
    labs = cohort.labs
    assert labs["analyte"].tolist() == ["sil6r", "sil6r", "novel_marker", "novel_marker"]
    assert labs["qualifier"].tolist() == ["<", ">", "=", "="]
    assert labs["value"].tolist() == [2.0, 400.0, -2.0, 500.0]
    assert labs["unit"].tolist() == ["ng/mL", "ng/mL", "AU", "AU"]


def test_bad_dictionary_rows(tmp_path: Path) -> None:
    analytes = "analyte,unit,minimum,maximum\nfoo,AU,5,1\nbar,AU,x,\nil6_alias,pg/mL,,\n"
    folder = _with_labs(tmp_path, ["P01,7,IL-6,3,pg/mL,,serum,patient"], analytes)
    got = [(p.file, p.row, p.column, p.code) for p in validate(folder)]
    assert got == [("analytes.csv", 2, None, "bad-analyte"), ("analytes.csv", 3, "minimum", "not-a-number")]
    with pytest.raises(DictionaryError, match="already names 'il6'"):
        BUILTIN.extend([("x", {"name": "il6x", "unit": "pg/mL", "aliases": ["IL-6"]})])
    with pytest.raises(DictionaryError, match="did you mean 'aliases'"):
        BUILTIN.extend([("x", {"name": "q", "unit": "AU", "alias": "w"})])
