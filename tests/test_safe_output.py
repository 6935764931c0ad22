"""Safe outputs: no exported cell is a live formula; results and stores are owner-only."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from cartscope.safe_output import (create_private_file, is_dangerous, make_private, neutralise, neutralise_frame,
                                   owner_only, private_dir)

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "@SUM(A1:A2)", "+1+1", "-2+3", "\tx", "\rx"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture()
def open_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_neutralise_follows_owasp_and_leaves_numbers():
    for value in HOSTILE:
        assert neutralise(value) == "'" + value and is_dangerous(value)
    for value in ("-0.52", "+3", "-1e-5", "12%", "abc", "", "a=b", 3, -2.5, None, True):
        assert neutralise(value) == value and not is_dangerous(value)


def test_neutralise_frame_touches_text_only():
    frame = pd.DataFrame({
        "id": pd.Series(["=1+1", "p2", None], dtype="string"),
        "obj": ["@x", 5, None],
        "cat": pd.Categorical(["+a", "b", "+a"]),
        "num": [-1.0, 2.0, 3.0],
        "=col": [1, 2, 3],
    })
    out = neutralise_frame(frame)
    assert out["id"].tolist()[:2] == ["'=1+1", "p2"] and pd.isna(out["id"].iloc[2])
    assert out["id"].dtype == frame["id"].dtype
    assert out["obj"].tolist()[:2] == ["'@x", 5]
    assert out["cat"].tolist() == ["'+a", "b", "'+a"]
    assert out["num"].tolist() == [-1.0, 2.0, 3.0]
    assert list(out.columns)[-1] == "'=col"
    assert frame["id"].iloc[0] == "=1+1"  # the input is not changed


def test_exported_tables_hold_no_live_formula(tmp_path, open_umask):
    import docx
    import openpyxl

    from cartscope.report.tables.base import Table
    from cartscope.report.tables.export import export_table

    cells = HOSTILE[:-1]  # (a bare CR inside a cell is a CSV quoting matter, not a formula one)
    display = pd.DataFrame({"Patient": cells, "Value": ["-0.5"] * len(cells)})
    table = Table(frame=display, display=display, title="=HYPERLINK(1)", footnotes=("@note",))
    paths = export_table(table, tmp_path / "t")
    for path in paths:
        assert _mode(path) == 0o600, path
    with open(tmp_path / "t.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in cells]
    assert [r[1] for r in rows[1:]] == ["-0.5"] * len(cells)
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type != "f" for c in cells)
    assert all(not is_dangerous(c.value) for c in cells)
    texts = [cell.text for row in docx.Document(tmp_path / "t.docx").tables[0].rows for cell in row.cells]
    assert all(not is_dangerous(t) for t in texts) and "'=cmd|' /C calc'!A0" in texts


def test_private_dir_file_and_umask(tmp_path, open_umask):
    deep = private_dir(tmp_path / "a" / "b" / "c")
    for folder in (tmp_path / "a", tmp_path / "a" / "b", deep):
        assert _mode(folder) == 0o700
    made = create_private_file(deep / "f")
    assert _mode(made) == 0o600
    (deep / "g").write_text("x")
    assert _mode(deep / "g") == 0o644
    make_private(tmp_path / "a")
    assert _mode(deep / "g") == 0o600
    with owner_only():
        with owner_only():
            (deep / "h").write_text("x")
        (deep / "i").write_text("x")
    (deep / "j").write_text("x")
    assert (_mode(deep / "h"), _mode(deep / "i"), _mode(deep / "j")) == (0o600, 0o600, 0o644)


@pytest.mark.slow
def test_cli_results_and_store_are_owner_only_and_inert(tmp_path, open_umask):
    """Hostile patient ids end up neutralised in every CSV; the store and results are private."""
    import dataclasses

    from typer.testing import CliRunner

    from cartscope.analysis.presets import synthesize
    from cartscope.cli import app
    from cartscope.cohort.write import write_cohort

    cohort = synthesize("li2023", seed=4)
    ids = sorted(cohort.patients["patient_id"].unique())
    rename = {old: (HOSTILE[i] if i < 4 else old) for i, old in enumerate(ids)}
    changed = {name: (frame.assign(patient_id=frame["patient_id"].map(lambda v: rename.get(v, v)))
                      if "patient_id" in frame.columns and not frame.empty else frame)
               for name, frame in cohort.tables().items()}
    files = write_cohort(dataclasses.replace(cohort, **changed), tmp_path / "cohort", fmt="csv")
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(files), "--db", str(tmp_path / "s.duckdb"), "--study", "S"])
    assert result.exit_code == 0, result.output
    assert _mode(tmp_path / "s.duckdb") == 0o600
    out = tmp_path / "results"
    result = runner.invoke(app, ["analyze", str(files), "--protocol", "li2023", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for path in [out, *out.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    with open(out / "endpoints.csv", newline="") as fh:
        written = [row["patient_id"] for row in csv.DictReader(fh)]
    assert "'" + HOSTILE[0] in written and not any(is_dangerous(v) for v in written)
    for table in out.rglob("*.csv"):
        with open(table, newline="", encoding="utf-8-sig") as fh:
            assert not any(is_dangerous(cell) for row in csv.reader(fh) for cell in row), table
