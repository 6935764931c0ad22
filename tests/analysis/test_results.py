"""Results writing: tidy CSV + Parquet tables and a byte-identical results.json."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.results import results_json, write_results
from cartscope.analysis.study import run_study
from cartscope.cli import app
from cartscope.cohort.write import write_cohort


@pytest.fixture(scope="module")
def li_results():
    return run_study(synthesize("li2023", seed=2023), load_protocol("li2023"))


def test_results_json_is_byte_identical_across_runs(li_results, tmp_path):
    again = run_study(synthesize("li2023", seed=2023), load_protocol("li2023"))
    a = write_results(li_results, tmp_path / "a") / "results.json"
    b = write_results(again, tmp_path / "b") / "results.json"
    assert a.read_bytes() == b.read_bytes()
    assert results_json(li_results) == a.read_text(encoding="utf-8")


def test_results_json_content(li_results):
    doc = json.loads(results_json(li_results))
    assert doc["data_hash"] == li_results.data_hash and len(doc["data_hash"]) == 64
    assert doc["protocol"]["name"] == "li2023"
    assert set(doc["versions"]) == {"cartscope", "python", "numpy", "scipy", "pandas"}
    assert doc["sections"] == list(li_results.sections)
    for name, table in li_results.tables.items():
        assert doc["tables"][name]["rows"] == len(table)
    assert doc["key_numbers"]["response.orr.all"] == 1.0
    text = results_json(li_results)
    assert "NaN" not in text and "Infinity" not in text
    assert list(doc) == sorted(doc)


def test_tables_written_as_csv_and_parquet(li_results, tmp_path):
    out = write_results(li_results, tmp_path)
    for name, table in li_results.tables.items():
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        pq = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert len(csv) == len(pq) == len(table)
        assert list(pq.columns) == [str(c) for c in table.columns]
    exc = pd.read_csv(out / "exclusions.csv")
    assert list(exc.columns) == ["analysis", "patient_id", "reason"]
    assert len(exc) == len(li_results.exclusions)
    assert len(pd.read_parquet(out / "endpoints.parquet")) == len(li_results.endpoints)


def test_cli_analyze_writes_results(tmp_path):
    cohort_dir = write_cohort(synthesize("li2023", seed=2023), tmp_path / "cohort", fmt="csv")
    result = CliRunner().invoke(app, ["analyze", str(cohort_dir), "--protocol", "li2023", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "results:" in result.output
    doc = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert doc["key_numbers"]["survival.os.all.all.12m"] == 1.0
