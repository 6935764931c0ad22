"""What the PDF tests need on the machine: Chromium to print and poppler-utils to read the
PDF. Without them a test is skipped, except in CI (``CARTSCOPE_REQUIRE_BROWSER``), where it
fails: CI installs both."""

from __future__ import annotations

import os
import shutil

import pytest

from cartscope.report.pdf import find_browser


def needs_poppler() -> None:
    """Skip (fail in CI) the calling test unless poppler-utils (pdftoppm, pdftotext) is installed."""
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        message = "needs the Debian package poppler-utils to read the PDF"
        if os.environ.get("CARTSCOPE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


def needs_printing() -> None:
    """Skip (fail in CI) the calling test unless Chromium and poppler-utils are installed."""
    missing = [what for what, found in (("chromium", find_browser()), ("poppler-utils", shutil.which("pdftoppm")))
               if found is None]
    if missing:
        message = f"needs the Debian package(s) {', '.join(missing)} to print and read the PDF"
        if os.environ.get("CARTSCOPE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
