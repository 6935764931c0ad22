"""docs/scale.md's measured section is rendered from the run it reports (docs/scale.json):
rendering that JSON again must give the published section byte for byte, so neither can go
stale alone. The timings themselves are not reproducible; the rendering of a run is."""

from __future__ import annotations

import shutil
from pathlib import Path

from cartscope.bench import scaling
from cartscope.bench.scaling import Measurement, Row, Run

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_published_scaling_is_the_rendering_of_its_json():
    run = Measurement.read_json(DOCS / "scale.json")
    assert scaling.measured_section(DOCS / "scale.md") == scaling.render(run)


def test_the_published_run_covers_1_2_and_4_workers_and_every_result_was_identical():
    run = Measurement.read_json(DOCS / "scale.json")
    workloads = {row.workload for row in run.rows}
    assert len(workloads) == 4
    for name in workloads:
        assert sorted(row.workers for row in run.rows if row.workload == name) == [0, 1, 2, 4]
    assert all(row.identical and len(row.runs) == run.repeats for row in run.rows)
    assert Measurement.from_dict(run.to_dict()) == run


def test_the_command_renders_a_run_into_the_page_without_timing_anything(tmp_path, capsys):
    page = tmp_path / "scale.md"
    shutil.copy(DOCS / "scale.md", page)
    assert scaling.main(["--from-json", str(DOCS / "scale.json"), "--doc", str(page)]) == 0
    assert page.read_text() == (DOCS / "scale.md").read_text()
    assert scaling.BEGIN in capsys.readouterr().out


def test_figures_are_read_from_the_median_run():
    """Cores used = CPU s / wall, floor = CPU s / cores, speed-up against 1 worker."""

    def row(workers: int, walls: list[float], cpu: float) -> Row:
        setting = "in process" if workers == 0 else f"LocalCluster, {workers} workers"
        return Row("w", setting, workers, True, [Run(w, cpu / 2, cpu / 2, 0.25, 0.5) for w in walls])

    m = Measurement("2026-12-01 14:00 UTC", 2, 3, {}, [row(0, [3.0, 1.0, 2.0], 2.0), row(1, [4.0, 4.2, 3.9], 4.0),
                                                     row(2, [2.5, 2.1, 2.2], 4.2), row(4, [2.3, 2.6, 2.4], 4.6)])
    text = scaling.render(m)
    assert "| w | in process | 2.00 | 2.00 | 1.00 | 1.00 | 0.25 | 0.50 | - | yes |" in text
    assert "| w | LocalCluster, 2 workers | 2.20 | 4.20 | 1.91 | 2.10 | 0.25 | 0.50 | 1.82x | yes |" in text
    assert "4 workers 2.40 s (1.67x of 1 worker, 1.92 cores busy, 4.60 CPU s, floor 2.30 s)" in text
