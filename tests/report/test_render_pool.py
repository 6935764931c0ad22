"""The report's figure workers: forked from a preloaded fork server (not spawned, not forked
from the caller), fed figure by figure as the document is built, and giving the same files
and inline SVGs as figures drawn in the calling process."""

from __future__ import annotations

import multiprocessing.forkserver
import os
from pathlib import Path

import pytest

from cartscope.report.items import FigureItem
from cartscope.report.render import MIN_PARALLEL, PRELOAD, FigurePool, render_figures


def _figure(title: str) -> object:
    from cartscope.report.figures.style import figure_style, new_figure

    with figure_style():
        fig = new_figure(3.0, 2.0)
        ax = fig.add_subplot()
        ax.step([0, 6, 12, 24], [1.0, 0.8, 0.7, 0.5], where="post", label="B-ALL (n = 35)")
        ax.set_title(title)
        ax.set_xlabel("Months since infusion")
        ax.legend()
    return fig


def _items(n: int) -> list[FigureItem]:
    return [FigureItem(f"km_{k}", _figure(f"Overall survival {k} \u2264 24 months"), "caption", k + 1)
            for k in range(n)]


def test_workers_are_forked_by_the_preloaded_fork_server() -> None:
    with FigurePool(2) as pool:
        executor = pool._ready()
        assert executor is not None
        parents = {executor.submit(os.getppid).result() for _ in range(4)}
    server = multiprocessing.forkserver._forkserver._forkserver_pid
    assert parents == {server}  # every worker is a child of the fork server, none of this process
    assert server != os.getpid()
    assert PRELOAD in multiprocessing.forkserver._forkserver._preload_modules


def test_figures_given_in_batches_are_drawn_as_all_at_once(tmp_path: Path) -> None:
    items = _items(MIN_PARALLEL + 1)
    with FigurePool(2) as pool:
        pool._ready()  # the workers are up (before, figures wait in this process until they are)
        pending = pool.stream(tmp_path / "streamed", formats=("svg", "pdf"))
        pending.add(items[:1])
        assert len(pending.futures) == 1  # the workers are up: each figure goes at once
        pending.add(items[1:MIN_PARALLEL - 1])
        pending.add(items[MIN_PARALLEL - 1:])
        assert len(pending.futures) == len(items)
        drawn = pending.collect()
        pending.finish()
    here = render_figures(items, tmp_path / "here", formats=("svg", "pdf"), workers=1)
    assert list(drawn) == [i.stem for i in items]  # in the figures' order, whatever order they finished in
    for stem in drawn:
        assert drawn[stem].svg == here[stem].svg
        for fmt in ("svg", "pdf"):
            assert (tmp_path / "streamed" / f"{stem}.{fmt}").read_bytes() == (tmp_path / "here" / f"{stem}.{fmt}").read_bytes()


def test_work_after_the_figures_runs_in_a_worker_once_they_are_taken(tmp_path: Path) -> None:
    items = _items(MIN_PARALLEL)
    with FigurePool(2) as pool:
        pool._ready()
        pending = pool.stream(tmp_path, formats=("svg",))
        pending.add(items)
        after = pending.call(os.getpid)  # queued behind every figure, run by a worker
        drawn = pending.collect()
        assert after() not in (os.getpid(), None)
        failing = pending.call(int, "not a number")
        with pytest.raises(ValueError, match="not a number"):  # what it raised, raised where it is waited for
            failing()
    assert len(drawn) == MIN_PARALLEL
    here = FigurePool(2).stream(tmp_path / "here", formats=("svg",))  # no worker up: run when asked, here
    assert here.call(os.getpid)() == os.getpid()


def test_fewer_figures_than_a_batch_are_drawn_in_this_process(tmp_path: Path) -> None:
    items = _items(2)
    pool = FigurePool(2)  # workers not started: two figures are not worth starting them
    pending = pool.stream(tmp_path, formats=("svg",))
    pending.add(items)
    assert pending.futures == []
    drawn = pending.collect()
    assert pool._pool is None
    assert [p.name for r in drawn.values() for p in r.files] == ["figure01_km_0.svg", "figure02_km_1.svg"]


def test_figures_given_before_the_workers_are_up_go_to_them_once_they_are(tmp_path: Path) -> None:
    items = _items(2)
    pool = FigurePool(2)
    try:
        pending = pool.stream(tmp_path, formats=("svg",))
        pending.add(items)  # no worker yet: the figures wait for them (no later add or collect needed)
        assert pending.futures == []
        pool.start()
        pool._ready()
        assert [stem for stem, _ in pending.futures] == [i.stem for i in items]
        drawn = pending.collect()
    finally:
        pool.close()
    assert [p.name for r in drawn.values() for p in r.files] == ["figure01_km_0.svg", "figure02_km_1.svg"]


def test_a_figure_given_again_with_its_recipe_is_drawn_once(tmp_path: Path) -> None:
    items = _items(2)
    pending = FigurePool(1).stream(tmp_path, formats=("svg",))
    pending.add(items)
    pending.add([FigureItem(i.key, i.recipe, i.caption, i.number) for i in items])  # the same, numbered again
    assert [job[0] for job in pending.jobs] == [i.stem for i in items]
    with pytest.raises(ValueError, match="figure01_km_0 was given twice, with different recipes"):
        pending.add([FigureItem("km_0", _figure("another"), "caption", 1)])


@pytest.fixture(scope="module")
def lu():
    from cartscope.analysis.presets import synthesize
    from cartscope.analysis.protocol import load_protocol
    from cartscope.analysis.study import run_study

    cohort = synthesize("lu2021", seed=2021)
    seen: list[tuple[object, object]] = []
    results = run_study(cohort, load_protocol("lu2021"), on_endpoints=lambda ep, plan: seen.append((ep, plan)))
    assert len(seen) == 1 and seen[0][0] is results.endpoints and seen[0][1] is results.plan
    return cohort, results


def test_the_patient_course_started_before_the_analyses_is_the_reports_own(lu, tmp_path: Path) -> None:
    from cartscope.report.document import build_document
    from cartscope.report.html import prepare_report

    cohort, results = lu
    job = prepare_report(tmp_path, cohort=cohort, pdf=False, workers=1)
    try:
        job.start_course(results.endpoints, results.protocol.sections)
        early = [job_[0] for job_ in job.pending.jobs]
        assert early and all(stem.startswith(f"figure{k:02d}_swimmer") for k, stem in enumerate(early, 1))
        doc = job.build(results).doc
        assert [job_[0] for job_ in job.pending.jobs] == [f.stem for f in doc.figures()]  # none drawn twice
    finally:
        job.close()
    plain = build_document(results, cohort)
    assert [(s.key, s.title, [(getattr(i, "stem", None), getattr(i, "caption", None)) for i in s.items])
            for s in doc.sections] == \
        [(s.key, s.title, [(getattr(i, "stem", None), getattr(i, "caption", None)) for i in s.items])
         for s in plain.sections]
    course = next(s for s in doc.sections if s.key == "course")
    assert [f.recipe for f in course.items] == [r for _, r, *_ in job.pending.jobs[:len(early)]]


def test_early_figures_keep_their_numbers_or_the_report_says_why(lu) -> None:
    from cartscope.report.document import build_document
    from cartscope.report.sections import FIGURE_FREE, early_course

    cohort, results = lu
    assert early_course(results.endpoints, cohort, ["survival", "response"]) is None  # survival draws first
    items = early_course(results.endpoints, cohort, results.protocol.sections)
    assert items is not None
    wrong = [FigureItem(i.key, i.recipe, i.caption, 2) for i in items if isinstance(i, FigureItem)]
    with pytest.raises(RuntimeError, match="was numbered 2 before the report placed it as figure 1"):
        build_document(results, cohort, course=wrong)
    doc = build_document(results, cohort)
    assert {"cohort", "response"} <= {s.key for s in doc.sections}
    for section in doc.sections:
        if section.key in FIGURE_FREE:
            assert not any(isinstance(i, FigureItem) for i in section.items), section.key


def test_streamed_figures_are_the_documents_figures_in_reading_order(lu, monkeypatch) -> None:
    from cartscope.report import sections
    from cartscope.report.document import build_document

    cohort, results = lu
    batches: list[list[str]] = []
    built: list[str] = []  # the sections before the first figure are built after every figure is handed over
    for key in sections.leading_figure_free(results.protocol.sections):
        builder = sections.BUILDERS[key]
        monkeypatch.setitem(sections.BUILDERS, key, lambda inp, b=builder, k=key: built.append(k) or b(inp))
    doc = build_document(results, cohort, on_figures=lambda figs: batches.append([f.stem for f in figs])
                         or built.append("figures"))
    assert sections.leading_figure_free(results.protocol.sections) == {"cohort", "response"}
    assert built[-2:] == ["cohort", "response"] and "figures" in built and "cohort" not in built[:-2]
    assert [s for batch in batches for s in batch] == [f.stem for f in doc.figures()]
    with_figures = [s for s in doc.sections if any(isinstance(i, FigureItem) for i in s.items)]
    assert batches == [[i.stem for i in s.items if isinstance(i, FigureItem)] for s in with_figures]
    assert [f.number for f in doc.figures()] == list(range(1, len(doc.figures()) + 1))
    plain = build_document(results, cohort)
    assert [(s.key, [getattr(i, "stem", None) for i in s.items]) for s in plain.sections] == \
        [(s.key, [getattr(i, "stem", None) for i in s.items]) for s in doc.sections]


def test_a_wrong_figure_format_stops_analyze_before_anything_runs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cartscope.cli import app

    res = CliRunner().invoke(app, ["analyze", str(tmp_path / "no-cohort"), "--protocol", "jin2023", "--out",
                                   str(tmp_path / "out"), "--report", "--figure-formats", "svg,pfd"])
    assert res.exit_code == 2
    assert "--figure-formats: unknown format 'pfd' (did you mean 'pdf'?)" in res.output
    assert not (tmp_path / "out").exists()


def test_workers_that_cannot_start_leave_the_figures_to_this_process(tmp_path: Path, monkeypatch) -> None:
    import multiprocessing.forkserver as forkserver

    def refused(fds):  # a fork server that died in its start-up refuses every worker
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(forkserver, "connect_to_new_process", refused)
    items = _items(MIN_PARALLEL)
    pool = FigurePool(2).start()
    try:
        pending = pool.stream(tmp_path, formats=("svg",))
        with pytest.warns(RuntimeWarning, match="the figure workers did not start .*Connection refused.*drawn in this process"):
            pending.add(items)
            drawn = pending.collect()
    finally:
        pool.close()
    assert pending.futures == [] and pool.workers == 1
    assert [p.name for r in drawn.values() for p in r.files] == [f"{i.stem}.svg" for i in items]


def test_a_second_start_follows_a_fork_server_that_died(tmp_path: Path, monkeypatch) -> None:
    import multiprocessing.forkserver as forkserver

    connect = forkserver.connect_to_new_process
    calls: list[int] = []

    def once_refused(fds):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError(111, "Connection refused")
        return connect(fds)

    monkeypatch.setattr(forkserver, "connect_to_new_process", once_refused)
    with FigurePool(2) as pool:
        executor = pool._ready()
        assert executor is not None and executor.submit(os.getpid).result() != os.getpid()
    assert len(calls) >= 3  # the refused one, then each worker of the second start


def test_a_course_started_from_other_endpoints_is_refused(lu, tmp_path: Path) -> None:
    from cartscope.report.html import prepare_report

    cohort, results = lu
    job = prepare_report(tmp_path, cohort=cohort, pdf=False, workers=1)
    job.start_course(results.endpoints.copy(), results.protocol.sections)
    with pytest.raises(ValueError, match="started from other endpoints than the results carry"):
        job.build(results)
