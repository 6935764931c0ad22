"""The PDF of the report: the same HTML printed by headless Chromium.

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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 180


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
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    browser = find_browser()
    if browser is None:
        return PdfOutcome(None, "no Chromium found for printing the PDF (install the Debian package "
                                "'chromium' or set CARTSCOPE_CHROMIUM); the HTML report is complete")
    with tempfile.TemporaryDirectory(prefix="cartscope-pdf-") as tmp:
        out = Path(tmp) / "report.pdf"
        cmd = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={Path(tmp) / 'profile'}",
               "--no-pdf-header-footer", "--print-to-pdf-no-header", f"--print-to-pdf={out}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
        cmd.append(html_path.as_uri())
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return PdfOutcome(None, f"{Path(browser).name} did not finish printing within {timeout:g} s", browser)
        except OSError as exc:
            return PdfOutcome(None, f"could not start {browser}: {exc}", browser)
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return PdfOutcome(None, f"{Path(browser).name} failed to print (exit {proc.returncode}): {tail[0]}",
                              browser)
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), pdf_path)
    return PdfOutcome(pdf_path, "", browser)
