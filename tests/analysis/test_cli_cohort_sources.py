"""The commands read the same cohort sources: ``protocol check`` and ``protocol init`` take a
DuckDB store as ``analyze`` does (its only study by default), a misspelt study or preset gets a
did-you-mean, ``import`` prints the load warnings as ``validate`` does, and ``analyze`` lists
the plan's analyses by id with their status."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from cartscope.cli import app
from hand_typed import NEW_USER_PLAN, write_registry

run = CliRunner().invoke


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store")
    book = write_registry(folder / "registry.xlsx", n=14)
    out = run(app, ["import", str(book), "--db", str(folder / "study.duckdb")])
    assert out.exit_code == 0, out.output
    return folder, out.output


@pytest.mark.slow
def test_import_prints_the_load_warnings(store):
    _, output = store
    assert "registry.xlsx[infusions]:1:date: warning: dates in column 'date' read day-first (DMY)" in output
    assert "[date-order-detected]" in output
    assert "study 'registry': stored snapshot 1" in output


@pytest.mark.slow
def test_protocol_init_and_check_read_a_duckdb_store(store):
    folder, _ = store
    db, plan = folder / "study.duckdb", folder / "start.yaml"
    out = run(app, ["protocol", "init", "--cohort", str(db), "--out", str(plan)])
    assert out.exit_code == 0, out.output
    assert "from a cohort of 14 patients" in plan.read_text("utf-8")
    assert "name: registry" in plan.read_text("utf-8")
    out = run(app, ["protocol", "check", str(plan), "--cohort", str(db)])
    assert out.exit_code == 0, out.output
    assert f"check against {db}" in out.output
    out = run(app, ["protocol", "check", str(plan), "--cohort", str(db), "--study", "registry"])
    assert out.exit_code == 0, out.output


@pytest.mark.slow
def test_a_misspelt_study_or_preset_gets_a_did_you_mean(store):
    folder, _ = store
    db = folder / "study.duckdb"
    out = run(app, ["protocol", "check", "jin2023", "--cohort", str(db), "--study", "registy"])
    assert out.exit_code == 1
    assert f"{db}: no study 'registy' (did you mean 'registry'?); studies in this store: registry" in out.output
    out = run(app, ["analyze", str(db), "--protocol", "jin2032", "--out", str(folder / "r")])
    assert out.exit_code == 2
    assert "jin2032: no such protocol file; built-in presets are jin2023, li2023, lu2021 (did you mean " \
           "'jin2023'?)" in out.output
    out = run(app, ["protocol", "check", "jin2023", "--cohort", str(folder / "missing.duckdb")])
    assert out.exit_code == 1 and "missing.duckdb: no such DuckDB store" in out.output


@pytest.mark.slow
def test_analyze_lists_the_plan_analyses_with_their_status(store):
    folder, _ = store
    doc = yaml.safe_load(NEW_USER_PLAN)
    doc["analyses"].append({"id": "cd4", "kind": "cd4_cd8"})
    (folder / "plan.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    out = run(app, ["analyze", str(folder / "study.duckdb"), "--protocol", str(folder / "plan.yaml"),
                    "--out", str(folder / "r")])
    assert out.exit_code == 0, out.output
    assert "sections run" not in out.output
    assert "analyses (4 of 5 ran):" in out.output
    for line in ("  table1 (describe): ran", "  cyto (cytokines): ran", "  il6_by_response (compare): ran",
                 "  il6_paired (compare): ran", "  cd4 (cd4_cd8): skipped: "):
        assert line in out.output
