"""An analysis that raises inside its kind fails alone: recorded with its id and message, the
other analyses run, and the command line prints the failure and exits 0 (as for skips)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from cartscope.analysis.plan import registry
from cartscope.analysis.presets import synthesize
from cartscope.analysis.protocol import load_protocol
from cartscope.analysis.study import as_plan, run_study
from cartscope.cli import app
from cartscope.cohort.write import write_cohort

MESSAGE = "f(a) and f(b) must have different signs"


@pytest.fixture
def failing_cox(monkeypatch: pytest.MonkeyPatch) -> None:
    kind = registry.kinds()["cox"]

    def run(rc):  # writes a part, then fails as a root finder would
        rc.add_table("cox_partial", __import__("pandas").DataFrame({"x": [1]}))
        rc.exclude(["P-none"], "partial")
        raise ValueError(MESSAGE)

    monkeypatch.setitem(registry._REGISTRY, "cox", dataclasses.replace(kind, run=run))


def _plan():
    plan = as_plan(load_protocol("jin2023"))
    keep = [a for a in plan.analyses if a.kind in ("cox", "km")]
    assert {a.kind for a in keep} == {"cox", "km"}
    return plan.model_copy(update={"analyses": tuple(keep)})


def test_one_failing_analysis_does_not_stop_the_others(failing_cox: None) -> None:
    cohort = synthesize("jin2023", seed=2023)
    plan = _plan()
    res = run_study(cohort, plan)
    st = res.status.set_index("analysis")
    cox_ids = [a.id for a in plan.analyses if a.kind == "cox"]
    km_ids = [a.id for a in plan.analyses if a.kind == "km"]
    assert set(st.loc[cox_ids, "status"]) == {"failed"}
    assert set(st.loc[cox_ids, "reason"]) == {MESSAGE}
    assert set(st.loc[km_ids, "status"]) == {"ran"}
    assert "survival" in res.sections and any(k.startswith("km/") for k in res.objects)
    # what the failed analysis wrote is gone; the failure is shown where skips are
    assert "cox_partial" not in res.tables
    assert "P-none" not in set(res.exclusions["patient_id"])
    assert f"failed: {MESSAGE}" in " ".join(res.skipped.values())


def test_cli_prints_the_failure_writes_the_rest_and_exits_0(failing_cox: None, tmp_path) -> None:
    cohort_dir = write_cohort(synthesize("jin2023", seed=2023), tmp_path / "cohort")
    plan = _plan()
    cox_id = next(a.id for a in plan.analyses if a.kind == "cox")
    import yaml

    plan_file = tmp_path / "plan.yaml"
    full = yaml.safe_load(json.dumps(plan.model_dump(mode="json", exclude_none=True, by_alias=True)))
    plan_file.write_text(yaml.safe_dump(full), encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(cohort_dir), "--protocol", str(plan_file),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert f"analysis '{cox_id}' failed: {MESSAGE}" in result.output
    assert "Traceback" not in result.output
    written = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    rows = {r["analysis"]: r for r in written["analyses"]}
    assert rows[cox_id]["status"] == "failed" and rows[cox_id]["reason"] == MESSAGE
