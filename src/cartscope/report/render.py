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

FORMATS: tuple[str, ...] = ("svg", "png")
"""Files written per figure by default: the SVG is the editable vector figure (text kept as
text), the PNG the 300-dpi raster. "pdf" adds a vector PDF per figure and "pptx" a slide per
figure. PDF is not a default because matplotlib subsets the embedded TrueType font anew for
every file (about 0.5 s per figure, more than drawing it); the report's own PDF holds every
figure as vector graphics already."""
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


def render_figures(figures: Sequence[FigureItem], out_dir: Path | str | None = None, *,
                   formats: Sequence[str] = FORMATS, dpi: float = 300, workers: int | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> dict[str, RenderedFigure]:
    """Draw every figure once (in parallel when it pays) and save its files; stem -> result.

    ``out_dir``: folder of the figure files (None: only the inline SVG). ``progress(done,
    total, stem)`` is called after each figure, in completion order.
    """
    jobs = [(f.stem, f.recipe, None if out_dir is None else str(out_dir), tuple(formats), float(dpi))
            for f in figures]
    n_workers = default_workers() if workers is None else max(1, int(workers))
    out: dict[str, RenderedFigure] = {}
    total = len(jobs)
    if n_workers == 1 or total < MIN_PARALLEL:
        for k, job in enumerate(jobs, 1):
            out[job[0]] = _job(job)
            if progress is not None:
                progress(k, total, job[0])
        return out
    ctx = multiprocessing.get_context("spawn")
    # largest figures first, so that no worker is left with a long one at the end
    order = sorted(range(total), key=lambda i: _weight(figures[i]), reverse=True)
    with ProcessPoolExecutor(max_workers=min(n_workers, total), mp_context=ctx,
                             initializer=_warm) as pool:
        futures = {pool.submit(_job, jobs[i]): jobs[i][0] for i in order}
        from concurrent.futures import as_completed

        for k, fut in enumerate(as_completed(futures), 1):
            res = fut.result()
            out[res.stem] = res
            if progress is not None:
                progress(k, total, res.stem)
    return {j[0]: out[j[0]] for j in jobs}


def _weight(item: FigureItem) -> int:
    key = item.key
    return 3 if key in ("swimmer", "heatmap") else 2 if key.startswith(("km_", "cytokine", "car_")) else 1


def _warm() -> None:
    """Worker start-up: import matplotlib and the figure modules once."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import cartscope.report.figures.km  # noqa: F401


__all__ = ["ALL_FORMATS", "FORMATS", "RenderedFigure", "default_workers", "draw_and_save", "render_figures"]
