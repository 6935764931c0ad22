"""Drawing the report's figures: each figure drawn once, every format saved from that one
drawing, figures drawn in parallel worker processes.

Why processes: matplotlib is not thread-safe (its text and font caches, the rc parameters
:func:`~cartscope.report.figures.style.figure_style` sets), so figures are never drawn in
threads. Workers are forked from a ``forkserver`` process, never from the caller (a fork of a
process that holds threads, e.g. a web server, can deadlock): the fork server is a fresh
interpreter that imports matplotlib and the figure modules and warms them once
(:mod:`cartscope.report._worker_preload`), so each worker forked from it starts warm in
milliseconds instead of paying about two seconds of imports and font loading itself, and
ends without tearing its interpreter down. Each worker draws the :class:`FigureRecipe` it
gets, writes the requested files and returns the inline SVG for the HTML page. With one
worker, or few figures, everything runs in the calling process, which is faster than
starting processes.

The SVG is written once with the figure's own id salt (its file stem), so the inline copy in
the HTML and ``figures/<stem>.svg`` are the same drawing; PDF, PNG and PPTX come from the
same figure object and the same layout (one PNG rendering serves both the PNG file and the
slide). Output stays byte-identical run to run.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the pool starts before the report modules are imported
    from cartscope.report.items import FigureItem

ALL_FORMATS: tuple[str, ...] = ("svg", "pdf", "png", "pptx")
"""Figure formats the report can write: SVG and PDF (vector, text kept as text, TrueType
fonts embedded: editable in Illustrator, Inkscape or Affinity), PNG (300 dpi) and PPTX (one
slide holding the 300-dpi picture at the figure's printed size)."""

FORMATS: tuple[str, ...] = ("svg", "pdf")
"""Files written per figure by default: what a journal asks for at submission is a vector
file per figure (PDF, or EPS/AI, which a PDF opens as), and SVG is the same drawing for the
web and for editors; the SVG is the page's inline figure, so it costs nothing extra, and the
PDF costs one rendering pass (the layout and the font subsets are shared). "png" (300 dpi,
for submission systems that want a raster) and "pptx" (slides) are written on request:
``--figure-formats svg,pdf,png,pptx`` on the command line, ``formats=`` of
:func:`~cartscope.report.html.write_report`, or ``CARTSCOPE_FIGURE_FORMATS``."""


def check_formats(formats: Sequence[str] | str, source: str = "figure formats") -> tuple[str, ...]:
    """``formats`` (a sequence, or one comma-separated string) lower-cased, each once, in the
    order given; an unknown name is an error naming it, the allowed names and the closest."""
    import difflib

    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = tuple(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in items if str(f).strip()))
    for f in out:
        if f not in ALL_FORMATS:
            close = difflib.get_close_matches(f, ALL_FORMATS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{source}: unknown format {f!r}{hint}; choose from {', '.join(ALL_FORMATS)}")
    if not out:
        raise ValueError(f"{source}: no format given; choose from {', '.join(ALL_FORMATS)}")
    return out


def requested_formats() -> tuple[str, ...]:
    """The figure formats of ``$CARTSCOPE_FIGURE_FORMATS`` (comma-separated), else :data:`FORMATS`."""
    env = os.environ.get("CARTSCOPE_FIGURE_FORMATS", "").strip()
    return check_formats(env, "CARTSCOPE_FIGURE_FORMATS") if env else FORMATS


START_ATTEMPTS = 2
"""Starts of the figure workers tried before the figures are drawn in the calling process (a
fork server that died during its start-up refuses the workers' connections; the next attempt
starts another)."""

MIN_PARALLEL = 4
"""Fewer figures than this are drawn in the calling process (starting workers costs more)."""


@dataclass(frozen=True)
class RenderedFigure:
    """One drawn figure: its inline SVG (for the HTML page) and the files written."""

    stem: str
    svg: str
    files: tuple[Path, ...]
    size_inches: tuple[float, float]
    pdf: Path | None = None
    """The figure's PDF, among ``files`` or in the folder of the report's print (``print_dir``
    of :func:`draw_and_save`); None when none is written."""


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


_HELD: dict[str, tuple[Any, Any, tuple[tuple[Path, str], ...], float]] = {}
"""Figures a worker drew whose formats other than SVG are still to be saved (see
:func:`_flush`): stem -> (saver, figure, (path, format) of each file, dpi)."""

_BARRIER: Any = None


def draw_and_save(stem: str, recipe: Any, out_dir: str | None, formats: Sequence[str], dpi: float,
                  defer: bool = False, print_dir: str | None = None) -> RenderedFigure:
    """Draw ``recipe`` once and save it in every format of ``formats`` (under
    ``out_dir/<stem>.<fmt>`` when ``out_dir`` is given) from that one drawing and layout
    (:class:`~cartscope.report.figures.export.FigureFiles`); returns the inline SVG.

    ``print_dir``: a folder for the figure's PDF when none is among the files, for the
    report's PDF (:mod:`cartscope.report.pdf_figures` places it in the printed page).
    The PDF is drawn with the SVG, in the same walk of the figure
    (:mod:`cartscope.report.figures.tee`). ``defer``: save the SVG and the PDF now and keep
    the drawn figure for :func:`_flush`, which saves the other formats later (a worker
    returns the page's SVG first; the PNG and PPTX files are written while the report's PDF
    is printed). The returned paths are the files to be."""
    from cartscope.report.figures.export import FigureFiles, shared_text_metrics, svg_element
    from cartscope.report.items import FigureRecipe

    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise ValueError(f"unknown figure format(s) {unknown}; choose from {', '.join(ALL_FORMATS)}")
    with shared_text_metrics():
        fig = recipe.draw() if isinstance(recipe, FigureRecipe) else recipe
        saver = FigureFiles(fig, stem)
        files: list[Path] = []
        targets: list[tuple[Path, str]] = []
        out = None if out_dir is None else Path(out_dir)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            files = [out / f"{stem}.{fmt}" for fmt in formats]
            targets = [(path, fmt) for path, fmt in zip(files, formats) if fmt not in ("svg", "pdf")]
        pdf = out / f"{stem}.pdf" if out is not None and "pdf" in formats else None
        if pdf is None and print_dir is not None:
            pdf = Path(print_dir) / f"{stem}.pdf"
        svg_file = saver.svg(pdf, dpi)  # the PDF from the SVG's drawing (cartscope.report.figures.tee)
        if out is not None and "svg" in formats:
            (out / f"{stem}.svg").write_text(svg_file, encoding="utf-8", newline="\n")
        if defer and targets:
            _HELD[stem] = (saver, fig, tuple(targets), dpi)
        else:
            _save_rest(saver, fig, tuple(targets), dpi, stem)
    size = tuple(float(v) for v in fig.get_size_inches())
    return RenderedFigure(stem, svg_element(svg_file), tuple(files), (size[0], size[1]), pdf)


def _save_rest(saver: Any, fig: Any, targets: tuple[tuple[Path, str], ...], dpi: float, stem: str) -> None:
    """Save the drawn ``fig`` at each (path, format) of ``targets`` (PNG, PPTX: the SVG and
    the PDF come from the drawing itself, :meth:`FigureFiles.svg`)."""
    for path, fmt in targets:
        if fmt == "pptx":
            from cartscope.report.pptx import figure_pptx

            figure_pptx(fig, path, title=stem, dpi=dpi, png=saver.png(dpi))
        else:
            saver.write(path, fmt, dpi)


Job = tuple[str, Any, "str | None", tuple[str, ...], float, "str | None"]
"""A figure to draw: (stem, recipe, files folder, formats, dpi, print folder); see :func:`draw_and_save`."""


def _job(args: Job) -> RenderedFigure:
    """Draw one figure (:func:`draw_and_save`). In a worker (``_BARRIER`` set by its start-up)
    the cyclic garbage collector is off while the figure is drawn, and the figure's garbage
    is collected once after it: a drawing allocates without pause, so the collector would
    otherwise run a dozen times per figure (every 700 container allocations), now and then
    through the older generations too; drawing the 32 jin2023 figures took 7.1-8.2 CPU-s so against
    8.8-9.9 (three interleaved pairs, the fork server's objects frozen in both). In the
    calling process, whose collector this must not touch, the figure is drawn as it is."""
    stem, recipe, out_dir, formats, dpi, print_dir = args
    if _BARRIER is None:
        return draw_and_save(stem, recipe, out_dir, formats, dpi, print_dir=print_dir)
    gc.disable()
    try:
        return draw_and_save(stem, recipe, out_dir, formats, dpi, defer=True, print_dir=print_dir)
    finally:
        gc.enable()
        gc.collect(0)  # everything the drawing allocated is in the youngest generation


FLUSH_TIMEOUT = 600.0
"""Seconds a worker waits for the others before saving its held figures (a worker that died
breaks the wait, and the report fails with the reason instead of hanging)."""


def _flush() -> list[str]:
    """Save the formats still due of every figure this worker holds. One flush job per worker:
    each waits at the barrier until every worker has taken one, so that every worker flushes
    its own figures (a pool hands jobs to whichever worker is free)."""
    if _BARRIER is not None:
        _BARRIER.wait(FLUSH_TIMEOUT)
    from cartscope.report.figures.export import shared_text_metrics

    done = []
    with shared_text_metrics():
        for stem in sorted(_HELD):
            _save_rest(*_HELD[stem], stem)
            done.append(stem)
    _HELD.clear()
    return done


class FigurePool:
    """Worker processes for drawing figures, started early so that their start-up (the fork
    server importing matplotlib and cartscope and loading the fonts once, about two seconds)
    overlaps the caller's work: :meth:`start` starts them in a background thread and returns
    at once (the command line does so before the cohort is loaded, when a report was asked
    for), :meth:`close` stops them. With one worker it draws in the calling process. Also a
    context manager. ``formats``: the formats the figures will be saved in, which the
    workers prepare for (the PDF font subsets)."""

    def __init__(self, workers: int | None = None, *, formats: Sequence[str] = FORMATS, pdf: bool = False) -> None:
        self.workers = default_workers() if workers is None else max(1, int(workers))
        if multiprocessing.current_process().daemon:  # a daemonic process may not start children
            self.workers = 1
        self.formats = tuple(formats)
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._lock = threading.Lock()
        self._when_up: list[Callable[[ProcessPoolExecutor], None]] = []
        self.printer: Any = None
        if pdf:  # the report's PDF printer starts with the workers (cartscope.report.pdf_printer)
            from cartscope.report.pdf_printer import ChromiumPrinter

            self.printer = ChromiumPrinter()

    def start(self) -> FigurePool:
        """Start every worker (and the PDF printer) now (no-op when started; no worker
        process with one worker); returns self."""
        if self.printer is not None:
            self.printer.start()
        if self.workers > 1 and self._pool is None and self._starting is None:
            # in a thread: a worker's start waits until the fork server has preloaded (seconds)
            self._starting = threading.Thread(target=self._start_workers, name="cartscope-figure-pool", daemon=True)
            self._starting.start()
        return self

    def _start_workers(self) -> None:
        try:
            ctx = _worker_context()
            for attempt in range(START_ATTEMPTS):
                pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                           initializer=_warm, initargs=(self.formats, ctx.Barrier(self.workers)))
                try:
                    for _ in range(self.workers):  # start every worker now
                        pool.submit(_noop)
                    break
                except OSError:  # the fork server died: the next attempt starts another
                    pool.shutdown(wait=False, cancel_futures=True)
                    if attempt + 1 == START_ATTEMPTS:
                        raise
            with self._lock:
                self._pool = pool
                waiting, self._when_up = self._when_up, []
            for callback in waiting:
                callback(pool)
        except BaseException as exc:  # raised by _ready() in the caller's thread
            self._start_error = exc

    def when_up(self, callback: Callable[[ProcessPoolExecutor], None]) -> None:
        """``callback(executor)`` as soon as the workers are up: now when they are, else in the
        thread that starts them (never when they fail to start: :meth:`_ready` raises why)."""
        with self._lock:
            pool = self._pool
            if pool is None:
                self._when_up.append(callback)
                return
        callback(pool)

    def _ready(self, wait: bool = True) -> ProcessPoolExecutor | None:
        """The started executor (waits for its start), None with one worker, or when the
        workers could not be started (then the figures are drawn in this process, and a
        warning says why); ``wait=False``: None while the workers are still starting."""
        if self._starting is not None:
            if not wait and self._starting.is_alive():
                return None
            self._starting.join()
            self._starting = None
            if self._start_error is not None:
                exc, self._start_error = self._start_error, None
                if not isinstance(exc, OSError):
                    raise exc
                import warnings

                warnings.warn(f"the figure workers did not start ({type(exc).__name__}: {exc}); "
                              "the figures are drawn in this process", RuntimeWarning, stacklevel=2)
                self.workers = 1
        return self._pool

    def close(self) -> None:
        """Stop the workers (waits for running figures) and the PDF printer."""
        if self.printer is not None:
            self.printer.close()
        if self._starting is not None:  # a start that failed was raised where the workers were used
            self._starting.join()
            self._starting, self._start_error = None, None
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FigurePool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, figures: Sequence[FigureItem], out_dir: Path | str | None = None, *,
               formats: Sequence[str] = FORMATS, dpi: float = 300) -> PendingFigures:
        """Start drawing ``figures``; :meth:`PendingFigures.collect` waits for them."""
        pending = self.stream(out_dir, formats=formats, dpi=dpi)
        pending.add(figures)
        return pending

    def stream(self, out_dir: Path | str | None = None, *, formats: Sequence[str] = FORMATS,
               dpi: float = 300, print_dir: Path | str | None = None) -> PendingFigures:
        """An empty :class:`PendingFigures`: figures given to its :meth:`~PendingFigures.add`
        start drawing at once (the report hands them over section by section, while it
        builds the next), :meth:`~PendingFigures.collect` waits for them all. ``print_dir``:
        see :func:`draw_and_save`."""
        deferred = out_dir is not None and any(f in ("png", "pptx") for f in formats)  # SVG and PDF come at once
        return PendingFigures(None if out_dir is None else str(out_dir), tuple(formats), float(dpi),
                              self if self.workers > 1 else None, self.workers, deferred,
                              None if print_dir is None else str(print_dir))


def start_figure_pool(formats: Sequence[str] | str | None = None, workers: int | None = None) -> FigurePool:
    """A started :class:`FigurePool` for a report to come, its figures saved in ``formats``
    (checked here, so that a wrong name fails before any analysis runs; default
    :func:`requested_formats`). The command line starts it before the analyses, whose one
    busy core leaves the other to the workers' start-up; pass it to ``write_report(pool=)``
    and close it after. It starts the report's PDF printer too (a headless Chromium, which
    then prints as soon as the page is written)."""
    fmts = check_formats(formats, "--figure-formats") if formats else requested_formats()
    return FigurePool(workers, formats=fmts, pdf=True).start()


class PendingFigures:
    """Figures being drawn: given by :meth:`add`, drawn by the workers of ``pool`` as soon as
    the workers are up (:meth:`add` never waits for their start: figures that come before
    wait in this process and go to the workers the moment they are up, or with
    :meth:`collect`, which waits for the workers when there are :data:`MIN_PARALLEL` figures
    or more), else in this process on :meth:`collect`."""

    def __init__(self, out_dir: str | None, formats: tuple[str, ...], dpi: float, pool: FigurePool | None = None,
                 workers: int = 1, deferred: bool = False, print_dir: str | None = None) -> None:
        self.out_dir, self.formats, self.dpi, self.print_dir = out_dir, formats, dpi, print_dir
        self.pool, self.workers, self.deferred = pool, workers, deferred
        self.executor: Any = None
        self.jobs: list[Job] = []
        self._waiting: list[tuple[FigureItem, Job]] = []
        self.futures: list[tuple[str, Any]] = []
        self._flushes: list[Any] | None = None
        self._lock = threading.RLock()  # the workers' start-up thread sends figures too
        self._armed = False
        self._here = False

    def add(self, figures: Sequence[FigureItem]) -> None:
        """Figures to draw, their stems unique among all added; a figure given again with the
        same recipe (the same object: a section built early, numbered again) is drawn once."""
        with self._lock:
            known = {job[0]: job[1] for job in self.jobs}
            for f in figures:
                if f.stem in known:
                    if known[f.stem] is f.recipe:
                        continue
                    raise ValueError(f"figure {f.stem} was given twice, with different recipes")
                job: Job = (f.stem, f.recipe, self.out_dir, self.formats, self.dpi, self.print_dir)
                self.jobs.append(job)
                self._waiting.append((f, job))
            self._send(wait=False)

    def _send(self, wait: bool, executor: Any = None) -> None:
        """Hand the waiting figures to the workers: at once when they are up (``executor``:
        they just came up), else as soon as they are; with ``wait`` (at :meth:`collect`),
        after their start when there are :data:`MIN_PARALLEL` figures."""
        if self.pool is None:
            return
        if executor is None and self.executor is None:
            # workers already up take every figure at once; only a batch is worth waiting for
            # their start (fewer than MIN_PARALLEL figures are drawn here). Not under the lock:
            # the thread that starts them sends the figures that wait, under it
            executor = self.pool._ready(wait=wait and len(self.jobs) >= MIN_PARALLEL)
        with self._lock:
            if self._here:  # collect() draws them in this process
                return
            if self.executor is None:
                self.executor = executor
                if executor is None:
                    if not self._armed and self._waiting:
                        self._armed = True
                        self.pool.when_up(lambda ex: self._send(False, ex))
                    return
            # largest figures first, so that no worker is left with a long one at the end
            for f, job in sorted(self._waiting, key=lambda fj: _weight(fj[0]), reverse=True):
                self.futures.append((job[0], self.executor.submit(_job, job)))
            self._waiting = []

    def call(self, fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """Run ``fn(*args)`` in a worker after every figure given so far, so that it fills the
        time a worker would otherwise wait for the last figures of the others (``fn`` and its
        arguments must pickle); returns a function that waits for the result (and raises
        what ``fn`` raised). With no worker up, ``fn`` runs in this process when the result
        is asked for."""
        with self._lock:
            if self.executor is not None and not self._waiting and not self._here:
                return self.executor.submit(fn, *args).result
        return lambda: fn(*args)

    def finish(self) -> None:
        """Wait until the files of every format are written (the workers save the formats
        other than SVG after :meth:`collect` returned; see :func:`draw_and_save`)."""
        for fut in self._flushes or []:
            fut.result()
        self._flushes = None

    def collect(self, progress: Callable[[int, int, str], None] | None = None) -> dict[str, RenderedFigure]:
        """stem -> drawn figure, in the figures' order; ``progress(done, total, stem)``. The
        workers then go on saving the other formats; :meth:`finish` waits for them."""
        out: dict[str, RenderedFigure] = {}
        total = len(self.jobs)
        self._send(wait=True)
        with self._lock:
            futures = [f for _, f in self.futures]
            here, self._waiting = self._waiting, []
            self._here = not futures
        if not futures:  # few figures, or no workers: drawn here
            for k, (_, job) in enumerate(here, 1):
                out[job[0]] = _job(job)
                if progress is not None:
                    progress(k, total, job[0])
        else:
            from concurrent.futures import as_completed

            for k, fut in enumerate(as_completed(futures), 1):
                res = fut.result()
                out[res.stem] = res
                if progress is not None:
                    progress(k, total, res.stem)
            if self.deferred:  # one flush per worker: the held figures' other formats
                self._flushes = [self.executor.submit(_flush) for _ in range(self.workers)]
        return {j[0]: out[j[0]] for j in self.jobs}


def render_figures(figures: Sequence[FigureItem], out_dir: Path | str | None = None, *,
                   formats: Sequence[str] = FORMATS, dpi: float = 300, workers: int | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> dict[str, RenderedFigure]:
    """Draw every figure once (in parallel when it pays) and save its files; stem -> result.

    ``out_dir``: folder of the figure files (None: only the inline SVG). ``progress(done,
    total, stem)`` is called after each figure, in completion order.
    """
    n = default_workers() if workers is None else max(1, int(workers))
    with FigurePool(n if len(figures) >= MIN_PARALLEL else 1, formats=formats) as pool:
        pending = pool.submit(figures, out_dir, formats=formats, dpi=dpi)
        drawn = pending.collect(progress)
        pending.finish()
        return drawn


PRELOAD = "cartscope.report._worker_preload"
"""The module the figure workers' fork server imports before forking any worker."""


def _worker_context() -> Any:
    """The ``forkserver`` multiprocessing context whose server preloads :data:`PRELOAD` (set
    before the server starts; a server started earlier by other code keeps its own preload,
    and its workers then warm up in :func:`_warm`). ``spawn`` where there is no fork server."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not POSIX
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", PRELOAD])  # "__main__" first, as multiprocessing's default
    return ctx


def _noop() -> None:
    return None


def _weight(item: FigureItem) -> int:
    key = item.key
    return 3 if key in ("swimmer", "heatmap") else 2 if key.startswith(("km_", "cytokine", "car_")) else 1


_WARMED: set[str] = set()
"""Formats this process has warmed up for (see :func:`warm`)."""


def _warm(formats: Sequence[str] = FORMATS, barrier: Any = None) -> None:
    """Worker start-up: :func:`warm` for ``formats`` (nothing left to do in a worker forked
    from a preloaded fork server). ``barrier``: the pool's, for :func:`_flush`."""
    global _BARRIER
    _BARRIER = barrier
    warm(formats)


def warm(formats: Sequence[str] = FORMATS) -> None:
    """Import matplotlib and the figure modules, and draw and save one small figure in the
    formats to come (font cache, text layout, PDF font subsets of the common glyphs), so that
    the first real figure pays none of it; formats warmed before are not warmed again."""
    import importlib

    if "svg" in _WARMED and set(formats) <= _WARMED:
        return
    import matplotlib

    matplotlib.use("Agg", force=True)
    for name in ("km", "cif", "swimmer", "consort", "forest", "heatmap", "kinetics", "markers", "predicted",
                 "relapse", "roc", "venn", "export"):
        try:
            importlib.import_module(f"cartscope.report.figures.{name}")
        except ImportError:  # pragma: no cover - a figure module being reworked
            pass
    from cartscope.report.figures.export import FigureFiles
    from cartscope.report.figures.style import figure_style, new_figure

    with figure_style():
        fig = new_figure(1.0, 1.0)
        ax = fig.add_subplot()
        ax.set_title("warm")
        ax.set_xlabel("Months")
        # a math-text marker (the swimmer's arrow): matplotlib builds its math-text grammar
        # once per process, about 0.2 s, at the first one
        ax.plot([0.5], [0.5], marker=r"$\rightarrow$")
    saver = FigureFiles(fig, "warm")
    saver.svg()
    if "pdf" in formats:
        import io

        from cartscope.report.figures.export import _write

        for weight in ("normal", "bold"):
            ax.set_title("Warm", fontweight=weight)
            _write(fig, io.BytesIO(), "pdf", 72, "warm")
    _WARMED.update({"svg", *formats})


__all__ = ["ALL_FORMATS", "FORMATS", "FigurePool", "PendingFigures", "RenderedFigure", "check_formats",
           "default_workers", "draw_and_save", "render_figures", "requested_formats", "start_figure_pool"]
