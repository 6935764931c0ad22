"""Smoke tests of ``cartscope bench`` on tiny sizes: the structure of the results, the agreement
of cartscope's numbers with the peers', and the handling of missing peers. Nothing here asserts
a timing: times on a shared 2-core machine are not a test outcome.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cartscope.bench import QUICK, peers_python, peers_r, run_bench, time_stages
from cartscope.bench import cases as bench_cases
from cartscope.bench.explanations import EXPLANATIONS
from cartscope.bench.report import BenchReport
from cartscope.bench.results import Agreement, Target, max_difference
from cartscope.bench.runner import parse_cases
from cartscope.bench.timing import peak_memory, time_call
from cartscope.cli import app

HAVE_R = peers_r.rscript_path() is not None
HAVE_PY_PEERS = not peers_python.missing_packages("scipy", "scikit-learn", "lifelines")


def _require_r() -> None:
    if not HAVE_R:
        if os.environ.get("CARTSCOPE_REQUIRE_R"):
            pytest.fail("Rscript is required (CARTSCOPE_REQUIRE_R=1) but not installed")
        pytest.skip("Rscript not installed")


SMOKE = ("screen", "fisher", "resampling", "delong", "km", "cox", "study_stages")
"""The quick run of the test suite: the cases that run in process in seconds (screen_large and
study start fresh processes and are covered by their own small tests)."""


@pytest.fixture(scope="module")
def report() -> BenchReport:
    return run_bench(SMOKE, quick=True, repeats=1, seed=7, command="cartscope bench --quick --repeats 1")


def _case(report: BenchReport, name: str) -> Any:
    return next(c for c in report.cases if c.name == name)


# --- helpers -------------------------------------------------------------------------------


def test_max_difference_relative_and_absolute() -> None:
    diff, n = max_difference([1.0, 2.0, np.nan, 0.0], [1.0, 2.2, 5.0, 0.0], "relative")
    assert n == 3
    assert diff == pytest.approx(0.2 / 2.2)
    diff, n = max_difference([1.0, 2.0], [1.5, 2.0], "absolute")
    assert (diff, n) == (0.5, 2)
    # against an exact zero the difference is absolute, not infinite
    diff, _ = max_difference([1e-12], [0.0], "relative")
    assert diff == pytest.approx(1e-12)
    diff, n = max_difference([np.nan], [1.0], "relative")
    assert n == 0 and np.isnan(diff)
    with pytest.raises(ValueError, match="cannot compare"):
        max_difference([1.0, 2.0], [1.0], "absolute")


def test_target_and_agreement_status() -> None:
    assert Target("k", "x >= 5", 6.0, 5.0, True).status == "met"
    assert Target("k", "x >= 5", 4.0, 5.0, True).status == "MISSED"
    assert Target("k", "x <= 1", 1.5, 1.0, False).status == "MISSED"
    assert Target("k", "x <= 1", None, 1.0, False).status == "n/a"
    assert Agreement("q", "R", 3, 1e-9, "relative", 1e-8).ok
    assert not Agreement("q", "R", 3, 1e-7, "relative", 1e-8).ok
    assert not Agreement("q", "R", 0, float("nan"), "relative", 1e-8).ok


def test_explanations_fill_in_the_run_numbers_or_leave_them_out() -> None:
    from cartscope.bench.explanations import explain

    facts = {"r_ms": 6.25, "need_ms": 0.0625, "floor_ms": 0.0125, "need_floor": 5.0}
    text = explain("screen_vs_r", None, facts)
    assert "6.2 ms per marker" in text and "5.0x the cost of np.argsort" in text
    without = explain("screen_vs_r", None, {})
    assert "{" not in without and "ms per marker" not in without and "Cox scan" in without
    assert explain("cox_vs_lifelines", None, {"need_s": 0.15}).count("0.15 s") == 1
    assert explain("no_such_target", None) == ""
    said: set[str] = set()
    first = explain("screen_vs_floor", None, facts, said)
    second = explain("screen_vs_python", None, facts, said)
    assert "rank scan" in first and "rank scan" not in second and "as above" in second


def test_time_stages_runs_stages_in_order_every_repeat() -> None:
    calls: list[str] = []

    def slow() -> None:
        calls.append("slow")
        time.sleep(0.02)

    staged = time_stages([("fast", lambda: calls.append("fast")), ("slow", slow)], repeats=3)
    assert calls == ["fast", "slow"] * 3
    assert [s.stage for s in staged.stages] == ["fast", "slow"]
    assert len(staged.total.seconds) == 3
    assert staged.stages[1].seconds >= 0.02
    assert staged.stages[1].share > staged.stages[0].share
    assert list(staged.to_frame().columns) == ["stage", "seconds", "share"]
    with pytest.raises(ValueError, match="distinct"):
        time_stages([("a", lambda: None), ("a", lambda: None)], 1)
    with pytest.raises(ValueError, match="repeats"):
        time_call(lambda: None, 0)


def test_peak_memory_sees_numpy_allocations() -> None:
    n_bytes = 8 * 1_000_000
    peak = peak_memory(lambda: np.ones(1_000_000).sum())
    assert n_bytes <= peak < 3 * n_bytes


def test_parse_cases() -> None:
    assert parse_cases(None) == parse_cases("all") == (
        "screen", "screen_large", "fisher", "resampling", "delong", "km", "cox", "study")
    assert parse_cases("km, cox,km") == ("km", "cox")
    with pytest.raises(ValueError, match="unknown case"):
        parse_cases("screen,bogus")
    with pytest.raises(ValueError, match="no case"):
        parse_cases(" , ")


# --- a quick run ---------------------------------------------------------------------------


def test_report_structure(report: BenchReport) -> None:
    assert tuple(c.name for c in report.cases) == SMOKE
    for name in SMOKE[:-1]:
        case = _case(report, name)
        assert case.available
        ours = case.cartscope
        assert ours is not None and ours.seconds is not None and ours.seconds > 0
        if name in ("km", "cox"):
            assert case.breakdown and abs(sum(s.share for s in case.breakdown) - 1.0) < 1e-9
        if name in ("screen", "km", "cox"):
            assert case.peak_bytes is not None and case.peak_bytes > 0
        for t in case.targets:
            assert t.status in ("met", "MISSED", "n/a")
            if t.status == "MISSED" and t.key in EXPLANATIONS:
                assert t.explanation
    screen = _case(report, "screen")
    assert dict(screen.sizes) == {
        "patients": QUICK.screen_patients,
        "markers": QUICK.screen_markers,
        "peer markers": QUICK.screen_peer_markers,
    }
    floor = next(m for m in screen.measurements if m.role == "floor")
    assert floor.seconds is not None and floor.seconds > 0
    assert {t.key for t in screen.targets} == {
        "screen_vs_r",
        "screen_none_vs_r",
        "screen_vs_python",
        "screen_vs_floor",
        "screen_memory",
    }
    tools = [m.tool for m in screen.measurements]
    assert tools[:2] == ["cartscope screen() (defaults)", "cartscope screen(cox_per='none')"]
    memory = next(t for t in screen.targets if t.key == "screen_memory")
    assert memory.value == pytest.approx(screen.peak_bytes / screen.input_bytes)


def test_study_case_waits_for_the_runner(report: BenchReport) -> None:
    study = _case(report, "study_stages")
    if bench_cases.find_study_runner() is None:
        assert not study.available
        assert "not available" in study.notes[0]
        assert not study.measurements
    else:
        assert study.available and study.breakdown


def test_study_case_times_stages_once_a_runner_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, str]] = []

    def fake_runner(cohort: Any, protocol: str, progress: Any = None) -> str:
        seen.append((len(cohort.patients), protocol))
        progress("endpoints", 0.0)
        time.sleep(0.01)
        progress("survival", 0.5)
        time.sleep(0.02)
        progress("done", 1.0)
        return "results"

    monkeypatch.setattr(bench_cases, "find_study_runner", lambda: fake_runner)
    monkeypatch.setattr(bench_cases, "_write_results", lambda results, folder: None)
    case = bench_cases.study_case(QUICK, 2, 3, lambda _msg: None)
    assert case.available
    assert [s.stage for s in case.breakdown] == [
        "synthesize",
        "write CSV",
        "load + validate",
        "analyze",
        "write results",
    ]
    assert [s.stage for s in case.detail] == ["endpoints", "survival"]
    assert case.detail[0].seconds >= 0.01 and case.detail[1].seconds >= 0.02
    analyze = next(s for s in case.breakdown if s.stage == "analyze")
    assert sum(s.seconds for s in case.detail) <= analyze.seconds * 1.05
    assert len(seen) == 2 and seen[0][1] == "jin2023" and seen[0][0] > 0


def test_peers_agree_with_r(report: BenchReport) -> None:
    _require_r()
    expected = {
        "screen": {
            "AUC",
            "AUC CI lower",
            "AUC CI upper",
            "Mann-Whitney p",
            "Youden threshold",
            "log-rank p at cut-off",
            "Cox coefficient",
            "Cox Wald p",
        },
        "fisher": {"p-value"},
        "resampling": {"apparent AUC", "Youden cut-off (original data)", "observed W per marker"},
        "delong": {"Z", "p", "AUC a", "AUC b"},
        "km": {"S(t) at landmarks", "log-log CI lower", "log-log CI upper", "log-rank chi-square"},
        "cox": {"coefficients", "log partial likelihood"},
    }
    for name, quantities in expected.items():
        case = _case(report, name)
        got = {a.quantity: a for a in case.agreements if a.peer == "R"}
        assert set(got) == quantities
        for a in got.values():
            assert a.n > 0
            assert a.ok, f"{name}: {a.quantity} differs from R by {a.max_diff:.3g} ({a.kind})"
    for tool in (bench_cases.R_SCREEN, bench_cases.R_SCREEN_COX):
        screen_r = next(m for m in _case(report, "screen").measurements if m.tool == tool)
        assert screen_r.extrapolated and screen_r.units_timed == QUICK.screen_peer_markers
        assert screen_r.seconds is not None and "extrapolated" in screen_r.note
    cox_r = next(a for a in _case(report, "cox").agreements if a.peer == "R" and a.quantity == "coefficients")
    assert cox_r.max_diff <= 1e-6 and cox_r.n == QUICK.cox_covariates


def test_peers_agree_with_python(report: BenchReport) -> None:
    if not HAVE_PY_PEERS:
        pytest.skip("scipy / scikit-learn / lifelines not installed")
    by_peer = {(c.name, a.peer, a.quantity): a for c in report.cases for a in c.agreements}
    for key in (
        ("screen", "scipy", "Mann-Whitney p"),
        ("screen", "scikit-learn", "AUC (direction <)"),
        ("km", "lifelines", "S(t) at landmarks"),
        ("km", "lifelines", "log-rank chi-square"),
        ("cox", "lifelines", "coefficients"),
    ):
        a = by_peer[key]
        assert a.n > 0 and a.ok, f"{key}: {a.max_diff:.3g}"


def test_outputs(report: BenchReport, tmp_path: Path) -> None:
    md = report.to_markdown()
    for heading in (
        "# Benchmarks",
        "## Machine",
        "## How it is measured",
        "## Summary",
        "## screen:",
        "## fisher:",
        "## resampling:",
        "## delong:",
        "## km:",
        "## cox:",
        "## study_stages:",
    ):
        assert heading in md
    assert f"| cores | {report.machine.cores} |" in md
    data = json.loads(report.write_json(tmp_path / "bench.json").read_text())
    assert tuple(c["name"] for c in data["cases"]) == SMOKE
    assert data["machine"]["versions"]["numpy"] == np.__version__
    screen = data["cases"][0]
    assert screen["measurements"][0]["role"] == "cartscope"
    assert screen["measurements"][0]["ratio_to_cartscope"] == pytest.approx(1.0)
    frame = report.to_frame()
    assert {"case", "tool", "seconds", "ratio_to_cartscope"} <= set(frame.columns)
    titles = [t[0] for t in report.tables()]
    assert titles[1] == "Targets"


# --- missing peers -------------------------------------------------------------------------


def test_missing_peers_are_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers_r, "rscript_path", lambda: None)
    monkeypatch.setattr(peers_python, "missing_packages", lambda *names: list(names))
    small = bench_cases.Sizes(km_patients=500, cox_patients=300, cox_covariates=3)
    km = bench_cases.km_case(small, 1, 1, lambda _msg: None)
    peers = [m for m in km.measurements if m.role == "peer"]
    assert len(peers) == 2 and all(m.seconds is None for m in peers)
    assert any("apt-get install r-base-core" in n for n in km.notes)
    assert any("pip install" in n for n in km.notes)
    assert km.targets[0].status == "n/a"
    assert not km.agreements
    run = peers_r.run_r("km", {"time": np.ones(3)}, {"n_patients": 3, "repeats": 1})
    assert not run.ok and "Rscript not found" in run.note


def test_missing_r_script_is_a_note_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers_r, "rscript_path", lambda: "/usr/bin/Rscript")
    run = peers_r.run_r("no_such_case", {"time": np.ones(3)}, {})
    assert not run.ok and "no_such_case.R is missing" in run.note


def test_missing_r_package_is_reported(tmp_path: Path) -> None:
    _require_r()
    script = tmp_path / "needs.R"
    common = peers_r.script_path("_common")
    script.write_text(f'source("{common}")\nbench_require(c("jsonlite", "cartscopeNoSuchPackage"))\n')
    out = tmp_path / "out.json"
    import subprocess

    subprocess.run(
        [str(peers_r.rscript_path()), "--vanilla", str(script), str(tmp_path), str(out)],
        check=True,
        capture_output=True,
    )
    assert json.loads(out.read_text()) == {"missing": ["cartscopeNoSuchPackage"]}


# --- command line --------------------------------------------------------------------------


def test_cli_bench_writes_markdown_and_json(tmp_path: Path) -> None:
    md, js = tmp_path / "b.md", tmp_path / "b.json"
    result = CliRunner().invoke(
        app, ["bench", "--cases", "cox", "--quick", "--repeats", "1", "--out", str(md), "--json", str(js)]
    )
    assert result.exit_code == 0, result.output
    assert "Targets" in result.output
    assert "cartscope bench --cases cox --repeats 1 --quick" in md.read_text()
    assert [c["name"] for c in json.loads(js.read_text())["cases"]] == ["cox"]


@pytest.mark.slow
def test_fresh_process_cases_run_on_tiny_sizes() -> None:
    tiny = bench_cases.Sizes(large_patients=60, large_markers=12, large_peer_markers=2, study_report=False,
                             study_tenfold=False)
    large = bench_cases.CASES["screen_large"](tiny, 1, 3, lambda _msg: None)
    assert large.cartscope is not None and large.cartscope.seconds > 0
    assert "peak RSS" in large.cartscope.note
    assert {t.key for t in large.targets} == {"screen_large_vs_r", "screen_large_rss"}


def test_tenfold_cohort_has_ten_times_the_patients() -> None:
    from cartscope.analysis.presets import synthesize
    from cartscope.bench.cases_more import tenfold_cohort

    one = synthesize("jin2023", seed=5)
    ten = tenfold_cohort("jin2023", 5, times=3)
    assert len(ten.patients) == 3 * len(one.patients)
    assert ten.patients["patient_id"].is_unique
    patients_labs = ten.labs.loc[ten.labs["role"].astype(str) != "healthy_donor", "patient_id"]
    assert set(patients_labs) <= set(ten.patients["patient_id"])


def test_cli_bench_rejects_unknown_case() -> None:
    result = CliRunner().invoke(app, ["bench", "--cases", "nope"])
    assert result.exit_code == 2
