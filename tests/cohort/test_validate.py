"""Validation: the malformed corpus (one defect, one problem each), the CLI, robustness, speed."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cartscope.cli import app
from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.problems import CohortError, Severity
from cartscope.cohort.validate import MAX_PER_KIND, validate

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good" / "days"
GOOD_DATES = HERE / "good" / "dates"
MALFORMED = HERE / "malformed"
CASES = yaml.safe_load((MALFORMED / "cases.yaml").read_text(encoding="utf-8"))


def _corpus_module():
    spec = importlib.util.spec_from_file_location("make_corpus", MALFORMED / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_good_fixtures_have_no_problems() -> None:
    assert validate(GOOD) == []
    assert validate(GOOD_DATES) == []


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    assert len({c["code"] for c in CASES}) >= 30
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_case_yields_exactly_its_problem(case: dict) -> None:
    """Loading raises nothing but CohortError, and the problems are exactly the manifest's one."""
    path = MALFORMED / case["path"]
    if case["severity"] == "error":
        with pytest.raises(CohortError) as info:
            load_cohort(path)
        problems = info.value.problems
    else:
        cohort, problems = load_cohort_with_problems(path)
        assert len(cohort.patients) >= 4
    got = [(p.code, p.file, p.row, p.column, p.severity.value) for p in problems]
    assert got == [(case["code"], case["file"], case["row"], case["column"], case["severity"])]
    assert problems[0].message


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cli_prints_location_and_exits_1_on_error(case: dict) -> None:
    result = CliRunner().invoke(app, ["validate", str(MALFORMED / case["path"])])
    output = result.output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    row = "" if case["row"] is None else str(case["row"])
    column = case["column"] or ""
    assert f"{case['file']}:{row}:{column}: {case['severity']}:" in output
    assert f"[{case['code']}]" in output
    assert result.exit_code == (1 if case["severity"] == "error" else 0)


def test_committed_corpus_matches_generator() -> None:
    corpus = _corpus_module()
    assert corpus.manifest() == CASES
    for case in corpus.CASES:
        if case.xlsx:
            continue
        expected = corpus.case_files(case)
        folder = MALFORMED / case.name
        assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
        for name, data in expected.items():
            assert (folder / name).read_bytes() == data, f"{case.name}/{name} is stale: run make_corpus.py"


def test_good_cli_run_is_ok() -> None:
    result = CliRunner().invoke(app, ["validate", str(GOOD)])
    assert result.exit_code == 0
    assert "OK: no errors (0 warning(s))" in result.output


def test_path_problems(tmp_path: Path) -> None:
    assert [p.code for p in validate(tmp_path / "nope")] == ["no-such-path"]
    text = tmp_path / "cohort.xls"
    text.write_bytes(b"\xd0\xcf\x11\xe0")
    assert [p.code for p in validate(text)] == ["unsupported-format"]
    damaged = tmp_path / "cohort.xlsx"
    damaged.write_bytes(b"not a zip file")
    assert [p.code for p in validate(damaged)] == ["unreadable"]
    mixed = tmp_path / "mixed"
    shutil.copytree(GOOD, mixed)
    pd.DataFrame({"patient_id": ["P01"]}).to_parquet(mixed / "labs.parquet")
    assert [p.code for p in validate(mixed)] == ["mixed-formats"]
    assert [p.code for p in validate(tmp_path)] == ["missing-table"] * 4


def test_problems_are_ordered_by_file_row_column(tmp_path: Path) -> None:
    shutil.copytree(GOOD, tmp_path / "c")
    events = (tmp_path / "c" / "events.csv").read_text().replace("P03,90,progression", "P03,-2,progression")
    (tmp_path / "c" / "events.csv").write_text(events)
    patients = (tmp_path / "c" / "patients.csv").read_text().replace("P01,B-ALL,F,34", "P01,B-ALL,X,340")
    (tmp_path / "c" / "patients.csv").write_text(patients)
    problems = validate(tmp_path / "c")
    assert [(p.file, p.row, p.column, p.code) for p in problems] == [
        ("events.csv", 5, "day", "event-before-infusion"),
        ("patients.csv", 2, "age", "out-of-range"),
        ("patients.csv", 2, "sex", "unknown-category"),
    ]


def test_did_you_mean_and_hints(tmp_path: Path) -> None:
    by_name = {c["name"]: c for c in CASES}

    def message(name: str) -> str:
        return validate(MALFORMED / by_name[name]["path"])[0].message

    assert "did you mean 'DLBCL'?" in message("unknown_category")
    assert "write 1.5" in message("decimal_comma")
    assert "Fahrenheit" in message("fahrenheit")
    assert "2024-01-31" in message("day_excel_serial")  # 45322 days after 1899-12-30
    assert "2023-03-20" in message("date_excel_serial")
    assert "x10^9/L" in message("incompatible_unit")
    assert "offset" in message("not_utf8") and "line 3" in message("not_utf8")


def test_many_problems_are_summarised(tmp_path: Path) -> None:
    shutil.copytree(GOOD, tmp_path / "c")
    n = MAX_PER_KIND + 50
    extra = "".join(f"P01,{d % 100},IL-6,abc,pg/mL,,serum,patient\n" for d in range(n))
    with (tmp_path / "c" / "labs.csv").open("a") as fh:
        fh.write(extra)
    problems = validate(tmp_path / "c")
    assert len(problems) == MAX_PER_KIND + 1
    assert {p.code for p in problems} == {"not-a-number"}
    summary = [p for p in problems if p.row is None]
    assert [p.message for p in summary] == ["... and 50 more rows with this problem"]


def test_large_labs_table_validates_quickly(tmp_path: Path) -> None:
    shutil.copytree(GOOD, tmp_path / "c")
    rng = np.random.default_rng(7)
    n = 100_000
    analytes = np.array(["IL-6", "ferritin", "CRP", "platelets", "IL-10", "sCD163"])
    units = np.array(["pg/mL", "ug/L", "mg/dL", "x10^9/L", "ng/mL", "ng/mL"])
    pick = rng.integers(0, len(analytes), n)
    labs = pd.DataFrame({
        "patient_id": rng.choice(["P01", "P02", "P03", "P04"], n),
        "day": rng.integers(-10, 60, n),
        "analyte": analytes[pick],
        "value": np.round(rng.gamma(2.0, 2.0, n), 3),
        "unit": units[pick],
        "role": "patient",
    })
    labs.loc[labs["patient_id"] == "P04", "day"] = labs.loc[labs["patient_id"] == "P04", "day"].clip(upper=60)
    labs.to_csv(tmp_path / "c" / "labs.csv", index=False)
    start = time.perf_counter()
    cohort, warnings = load_cohort_with_problems(tmp_path / "c")
    elapsed = time.perf_counter() - start
    assert warnings == []
    assert len(cohort.labs) == n
    assert elapsed < 10.0, f"100,000 lab rows took {elapsed:.1f} s"
    crp = cohort.labs["analyte"] == "crp"
    np.testing.assert_allclose(cohort.labs.loc[crp, "value"].to_numpy(),
                               labs.loc[crp.to_numpy(), "value"].to_numpy() * 10)


_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NA", "-1", "1e400", "45000", "2023-13-01", ">", ">=x", "yes", "None", "\u00b5g/L", ","]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(["patients", "infusions", "events", "labs", "kinetics", "toxicity_daily"]),
       line=st.integers(1, 4), column=st.integers(0, 6), cell=_CELLS)
def test_any_cell_gives_problems_never_exceptions(tmp_path: Path, table: str, line: int, column: int,
                                                   cell: str) -> None:
    folder = tmp_path / f"c{abs(hash((table, line, column, cell)))}"
    shutil.copytree(GOOD, folder)
    frame = pd.read_csv(GOOD / f"{table}.csv", dtype=str, keep_default_na=False)
    frame.iat[min(line, len(frame)) - 1, column % frame.shape[1]] = cell
    frame.to_csv(folder / f"{table}.csv", index=False)
    try:
        cohort, problems = load_cohort_with_problems(folder)
        assert len(cohort.patients) >= 3
    except CohortError as exc:
        problems = exc.problems
        assert any(p.is_error for p in problems)
    assert all(p.code != "internal-error" for p in problems), problems
