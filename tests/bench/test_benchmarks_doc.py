"""docs/benchmarks.md is rendered from the run it reports (docs/benchmarks.json): regenerating
it from that JSON must give the published page byte for byte, so neither can go stale alone."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cartscope.bench.report import BenchReport
from cartscope.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_published_benchmarks_are_the_rendering_of_their_json():
    report = BenchReport.read_json(DOCS / "benchmarks.json")
    assert report.to_markdown() == (DOCS / "benchmarks.md").read_text()


def test_a_run_survives_its_json_round_trip():
    report = BenchReport.read_json(DOCS / "benchmarks.json")
    again = BenchReport.from_dict(report.to_dict())
    assert json.dumps(again.to_dict()) == json.dumps(report.to_dict())  # NaN-safe equality
    assert {c.name for c in report.cases} >= {"screen", "fisher", "study"}


def test_the_command_line_renders_a_run_without_timing_anything(tmp_path):
    out = tmp_path / "bench.md"
    result = CliRunner().invoke(app, ["bench", "--from-json", str(DOCS / "benchmarks.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == (DOCS / "benchmarks.md").read_text()
