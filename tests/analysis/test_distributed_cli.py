"""``cartscope analyze --workers 2`` sends the resampling to a local Dask cluster and writes
the same bytes as the in-process run; an unreachable ``--scheduler`` is an error, not a
silent fall-back."""

from __future__ import annotations

import functools
import json

import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("distributed")

from cartscope.analysis import distributed as dist  # noqa: E402
from cartscope.analysis.presets import synthesize  # noqa: E402
from cartscope.analysis.protocol import load_protocol  # noqa: E402
from cartscope.analysis.study import as_plan  # noqa: E402
from cartscope.cli import app  # noqa: E402
from cartscope.cohort.write import write_cohort  # noqa: E402


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    """The jin2023 cohort as files and a plan of one resampling analysis of three analytes."""
    tmp = tmp_path_factory.mktemp("distributed_cli")
    cohort = write_cohort(synthesize("jin2023", seed=2023), tmp / "cohort")
    plan = as_plan(load_protocol("jin2023"))
    full = yaml.safe_load(json.dumps(plan.model_dump(mode="json", exclude_none=True, by_alias=True)))
    screen = next(a for a in full["analyses"] if a["kind"] == "biomarker_screen")
    full["analyses"] = [{
        "id": "intervals", "kind": "biomarker_resampling", "population": screen["population"],
        "options": {"timepoint": "il6_peak", "analytes": ["MIP3a", "Eotaxin", "IL-6"], "outcome": "nr_er",
                    "n_boot": 600, "n_perm": 1000, "seed": 7},
    }]
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(full), encoding="utf-8")
    return cohort, path


@pytest.mark.slow
def test_analyze_on_two_workers_writes_the_in_process_bytes(study, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cohort, plan = study
    sent: list[int] = []
    real = dist.map_tasks

    def counting(fn, shared, tasks):  # type: ignore[no-untyped-def]
        if dist.active_client() is not None:
            sent.append(len(tasks))
        return real(fn, shared, tasks)

    monkeypatch.setattr(dist, "map_tasks", counting)
    runner = CliRunner()
    outs = {}
    for label, extra in (("here", []), ("cluster", ["--workers", "2"])):
        outs[label] = tmp_path / label
        result = runner.invoke(app, ["analyze", str(cohort), "--protocol", str(plan), "--out", str(outs[label]),
                                     *extra])
        assert result.exit_code == 0, result.output
    assert sent and max(sent) > 1  # the replicate chunks went to the cluster
    here = sorted(p.relative_to(outs["here"]) for p in outs["here"].rglob("*.csv"))
    there = sorted(p.relative_to(outs["cluster"]) for p in outs["cluster"].rglob("*.csv"))
    assert here == there and any(p.name == "biomarker_resampling.csv" for p in here)
    differ = [str(p) for p in here if (outs["here"] / p).read_bytes() != (outs["cluster"] / p).read_bytes()]
    assert differ == []


@pytest.mark.slow
def test_an_unreachable_scheduler_is_an_error_naming_it(study, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cohort, plan = study
    monkeypatch.setattr(dist, "cluster", functools.partial(dist.cluster, timeout=1.0))  # not 10 s
    result = CliRunner().invoke(app, ["analyze", str(cohort), "--protocol", str(plan),
                                      "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
