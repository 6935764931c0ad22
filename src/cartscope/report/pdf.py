"""The PDF of the report: the same HTML printed by headless Chromium (the report prints the
page with a placeholder in each figure's box and places the figures' own PDF files into
them, :mod:`cartscope.report.pdf_figures`).

Why Chromium: the report is one self-contained HTML page with inline SVG figures and CSS
print rules (``@page`` A4, repeated table headers, figures kept on one page). A browser
engine prints exactly what the HTML shows, so the PDF cannot drift from it. The options were:

- WeasyPrint: a PyPI package, but it needs the system Pango/Cairo libraries and does not
  support every CSS rule the page uses; a second renderer to keep in step.
- matplotlib ``PdfPages``: would lay out tables and text by hand, a second report layout.
- Chromium (``chromium --headless --print-to-pdf``): a Debian package (``apt-get install
  chromium``), which the web tests install anyway; no Python dependency.

The engine is found as ``$CARTSCOPE_CHROMIUM`` or ``chromium`` / ``chromium-browser`` /
``google-chrome`` on the PATH. When none is there, or printing fails, :func:`html_to_pdf`
returns the reason instead of raising, so the HTML report is always written.

:func:`start_pdf` starts the printer and returns at once, so the report writes its table
files while Chromium prints. The PDF's dates are fixed (:data:`FIXED_DATE`): the same HTML
gives a byte-identical PDF.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 180

UNUSED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")
"""Chromium features turned off for printing: recent Chromium (measured with 156) preloads
the address bar's drop-down, a WebUI page (``chrome://omnibox-popup.top-chrome/``) in a
renderer process of its own, even headless, where there is no address bar; that page costs
about 1.3 CPU-seconds at every start, half of the browser's start-up. A Chromium that does
not know a feature name ignores it."""


def browser_command(browser: str, profile: Path, *args: str) -> list[str]:
    """The command line of a headless Chromium printing the report: ``browser`` with the
    flags every print shares (no GPU, no first-run pages, no extensions, no scrollbars, a
    fresh ``profile`` folder, :data:`UNUSED_FEATURES` off; ``--no-sandbox`` as root, where
    Chromium refuses to start its sandbox), then ``args``."""
    cmd = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
           "--disable-extensions", "--hide-scrollbars", f"--disable-features={','.join(UNUSED_FEATURES)}",
           f"--user-data-dir={profile}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--no-sandbox")
    return cmd


@dataclass(frozen=True)
class PdfOutcome:
    """``path`` of the PDF written, or None with ``reason`` saying why it was not."""

    path: Path | None
    reason: str = ""
    engine: str = ""


def find_browser() -> str | None:
    """Path of the Chromium executable used to print, or None."""
    override = os.environ.get("CARTSCOPE_CHROMIUM")
    if override:
        return override if Path(override).is_file() or shutil.which(override) else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: Path | str, pdf_path: Path | str, *, timeout: float = TIMEOUT_SECONDS) -> PdfOutcome:
    """Print ``html_path`` to ``pdf_path`` (A4, the page's own print CSS, no browser header or
    footer); never raises for a missing or failing engine (see the module docstring)."""
    return start_pdf(html_path, pdf_path, timeout=timeout).wait()


FIXED_DATE = b"D:20000101000000+00'00'"
"""The PDF's CreationDate and ModDate: Chromium writes the time of printing, which would make
every report PDF differ; the report carries no timestamp (the HTML neither), so both dates
are set to 2000-01-01, a string of the same length (the PDF's byte offsets stay valid)."""

_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}(?:[+\-Z]\d{2}'\d{2}'|Z)?\)")


def fix_dates(data: bytes) -> bytes:
    """``data`` with every ``/CreationDate`` and ``/ModDate`` of the document information
    dictionary replaced by :data:`FIXED_DATE` where the lengths match (else left as it is)."""

    def repl(m: re.Match[bytes]) -> bytes:
        new = b"/" + m.group(1) + b" (" + FIXED_DATE + b")"
        return new if len(new) == len(m.group(0)) else m.group(0)

    return _PDF_DATE.sub(repl, data)


class PendingPdf:
    """A PDF being printed by a Chromium process started by :func:`start_pdf`; the caller
    goes on (writing the results files) and :meth:`wait` returns the outcome."""

    def __init__(self, html_path: Path, pdf_path: Path, timeout: float) -> None:
        self.pdf_path = pdf_path
        self.timeout = timeout
        self.browser = find_browser()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._start = time.monotonic()
        self._outcome: PdfOutcome | None = None
        if self.browser is None:
            self._outcome = PdfOutcome(None, "no Chromium found for printing the PDF (install the Debian package "
                                             "'chromium' or set CARTSCOPE_CHROMIUM); the HTML report is complete")
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="cartscope-pdf-")
        tmp = Path(self._tmp.name)
        self._out = tmp / "report.pdf"
        cmd = browser_command(self.browser, tmp / "profile", "--no-pdf-header-footer", "--print-to-pdf-no-header",
                              f"--print-to-pdf={self._out}")
        cmd.append(html_path.resolve().as_uri())
        try:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            self._finish(PdfOutcome(None, f"could not start {self.browser}: {exc}", self.browser))

    def _finish(self, outcome: PdfOutcome) -> PdfOutcome:
        self._outcome = outcome
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return outcome

    def wait(self) -> PdfOutcome:
        """Wait for the printer (at most ``timeout`` seconds from the start) and move the PDF
        into place; the outcome says why there is no PDF when there is none."""
        if self._outcome is not None:
            return self._outcome
        assert self._proc is not None and self.browser is not None
        name = Path(self.browser).name
        try:
            out, err = self._proc.communicate(timeout=max(0.0, self.timeout - (time.monotonic() - self._start)))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return self._finish(PdfOutcome(None, f"{name} did not finish printing within {self.timeout:g} s",
                                           self.browser))
        if self._proc.returncode != 0 or not self._out.is_file() or self._out.stat().st_size == 0:
            tail = (err or out).strip().splitlines()[-1:] or ["no output"]
            return self._finish(PdfOutcome(None, f"{name} failed to print (exit {self._proc.returncode}): {tail[0]}",
                                           self.browser))
        self.pdf_path.parent.mkdir(parents=True, exist_ok=True)
        self.pdf_path.write_bytes(fix_dates(self._out.read_bytes()))
        return self._finish(PdfOutcome(self.pdf_path, "", self.browser))


def start_pdf(html_path: Path | str, pdf_path: Path | str, *, timeout: float = TIMEOUT_SECONDS) -> PendingPdf:
    """Start printing ``html_path`` to ``pdf_path`` in a Chromium process and return at once;
    :meth:`PendingPdf.wait` gives the :class:`PdfOutcome`."""
    return PendingPdf(Path(html_path), Path(pdf_path), timeout)
