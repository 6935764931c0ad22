"""Drawing the report's figures: each figure drawn once, every format saved from that one
drawing, figures drawn in parallel worker processes.

Why processes: matplotlib is not thread-safe (its text and font caches, the rc parameters
:func:`~cartscope.report.figures.style.figure_style` sets), so figures are never drawn in
threads. Workers are started with the ``spawn`` method (a fork of a process that holds
threads, e.g. a web server, can deadlock), each draws the :class:`FigureRecipe` it gets,
writes the requested files and returns the inline SVG for the HTML page. With one worker, or
few figures, everything runs in the calling process, which is faster than starting
processes.

The SVG is written once with the figure's own id salt (its file stem), so the inline copy in
the HTML and ``figures/<stem>.svg`` are the same drawing; PDF, PNG and PPTX come from the
same figure object. Output stays byte-identical run to run.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cartscope.report.items import FigureItem

FORMATS: tuple[str, ...] = ("svg",)
"""Files written per figure by default: the SVG, the editable vector figure (text kept as
text) that the HTML page shows inline, so it costs nothing extra. "png" (300 dpi), "pdf"
(vector) and "pptx" (a slide) are written on request (``formats``, or the environment
variable ``CARTSCOPE_FIGURE_FORMATS=svg,png,pdf,pptx``): a 300-dpi PNG costs more than
drawing the figure, and matplotlib subsets the embedded TrueType font anew for every PDF
(about 0.5 s per figure); the report's own PDF holds every figure as vector graphics."""


def requested_formats() -> tuple[str, ...]:
    """The figure formats of ``$CARTSCOPE_FIGURE_FORMATS`` (comma-separated), else :data:`FORMATS`."""
    env = os.environ.get("CARTSCOPE_FIGURE_FORMATS", "").strip()
    if not env:
        return FORMATS
    formats = tuple(f.strip().lower() for f in env.split(",") if f.strip())
    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise ValueError(f"CARTSCOPE_FIGURE_FORMATS: unknown format(s) {unknown}; choose from {', '.join(ALL_FORMATS)}")
    return formats


ALL_FORMATS: tuple[str, ...] = ("svg", "pdf", "png", "pptx")

MIN_PARALLEL = 4
"""Fewer figures than this are drawn in the calling process (starting workers costs more)."""


@dataclass(frozen=True)
class RenderedFigure:
    """One drawn figure: its inline SVG (for the HTML page) and the files written."""

    stem: str
    svg: str
    files: tuple[Path, ...]
    size_inches: tuple[float, float]


def default_workers() -> int:
    """Worker processes: ``$CARTSCOPE_REPORT_WORKERS`` or the CPUs this process may use (at most 4)."""
    env = os.environ.get("CARTSCOPE_REPORT_WORKERS")
    if env:
        return max(1, int(env))
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


def draw_and_save(stem: str, recipe: Any, out_dir: str | None, formats: Sequence[str], dpi: float) -> RenderedFigure:
    """Draw ``recipe`` once and save it in every format of ``formats`` (under
    ``out_dir/<stem>.<fmt>`` when ``out_dir`` is given); returns the inline SVG."""
    from cartscope.report.figures.export import _METADATA, _write, svg_element
    from cartscope.report.items import FigureRecipe

    fig = recipe.draw() if isinstance(recipe, FigureRecipe) else recipe
    buf = io.StringIO()
    _write(fig, buf, "svg", 72, stem)
    svg_file = buf.getvalue()
    files: list[Path] = []
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            path = out / f"{stem}.{fmt}"
            if fmt == "svg":
                path.write_text(svg_file, encoding="utf-8", newline="\n")
            elif fmt == "pptx":
                from cartscope.report.pptx import figure_pptx

                figure_pptx(fig, path, title=stem)
            elif fmt in _METADATA:
                _write(fig, path, fmt, dpi, stem)
            else:
                raise ValueError(f"unknown figure format {fmt!r}; choose from svg, pdf, png, pptx")
            files.append(path)
    size = tuple(float(v) for v in fig.get_size_inches())
    return RenderedFigure(stem, svg_element(svg_file), tuple(files), (size[0], size[1]))


def _job(args: tuple[str, Any, str | None, tuple[str, ...], float]) -> RenderedFigure:
    return draw_and_save(*args)


class FigurePool:
    """Worker processes for drawing figures, started early so that their start-up (importing
    matplotlib and cartscope, about a second each) overlaps the caller's work; with one worker
    it draws in the calling process. Use as a context manager."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(1, int(workers))
        if multiprocessing.current_process().daemon:  # a daemonic process may not start children
            self.workers = 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> FigurePool:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_warm)
            for _ in range(self.workers):  # start every worker now
                self._pool.submit(_noop)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, figures: Sequence[FigureItem], out_dir: Path | str | None = None, *,
               formats: Sequence[str] = FORMATS, dpi: float = 300) -> PendingFigures:
        """Start drawing ``figures``; :meth:`PendingFigures.collect` waits for them."""
        jobs = [(f.stem, f.recipe, None if out_dir is None else str(out_dir), tuple(formats), float(dpi))
                for f in figures]
        if self._pool is None or len(jobs) < MIN_PARALLEL:
            return PendingFigures(jobs, None)
        # largest figures first, so that no worker is left with a long one at the end
        order = sorted(range(len(jobs)), key=lambda i: _weight(figures[i]), reverse=True)
        return PendingFigures(jobs, [(jobs[i][0], self._pool.submit(_job, jobs[i])) for i in order])


@dataclass
class PendingFigures:
    """Figures being drawn (``futures`` None: drawn in this process on :meth:`collect`)."""

    jobs: list[tuple[str, Any, str | None, tuple[str, ...], float]]
    futures: list[tuple[str, Any]] | None

    def collect(self, progress: Callable[[int, int, str], None] | None = None) -> dict[str, RenderedFigure]:
        """stem -> drawn figure, in the figures' order; ``progress(done, total, stem)``."""
        out: dict[str, RenderedFigure] = {}
        total = len(self.jobs)
        if self.futures is None:
            for k, job in enumerate(self.jobs, 1):
                out[job[0]] = _job(job)
                if progress is not None:
                    progress(k, total, job[0])
        else:
            from concurrent.futures import as_completed

            for k, fut in enumerate(as_completed([f for _, f in self.futures]), 1):
                res = fut.result()
                out[res.stem] = res
                if progress is not None:
                    progress(k, total, res.stem)
        return {j[0]: out[j[0]] for j in self.jobs}


def render_figures(figures: Sequence[FigureItem], out_dir: Path | str | None = None, *,
                   formats: Sequence[str] = FORMATS, dpi: float = 300, workers: int | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> dict[str, RenderedFigure]:
    """Draw every figure once (in parallel when it pays) and save its files; stem -> result.

    ``out_dir``: folder of the figure files (None: only the inline SVG). ``progress(done,
    total, stem)`` is called after each figure, in completion order.
    """
    n = default_workers() if workers is None else max(1, int(workers))
    with FigurePool(n if len(figures) >= MIN_PARALLEL else 1) as pool:
        return pool.submit(figures, out_dir, formats=formats, dpi=dpi).collect(progress)


def _noop() -> None:
    return None


def _weight(item: FigureItem) -> int:
    key = item.key
    return 3 if key in ("swimmer", "heatmap") else 2 if key.startswith(("km_", "cytokine", "car_")) else 1


def _warm() -> None:
    """Worker start-up: import matplotlib and the figure modules once."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import cartscope.report.figures.km  # noqa: F401


__all__ = ["ALL_FORMATS", "FORMATS", "requested_formats", "FigurePool", "PendingFigures", "RenderedFigure", "default_workers", "draw_and_save", "render_figures"]
