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
    poppler = shutil.which("pdftoppm") and shutil.which("pdftotext")
    _require([("poppler-utils", poppler)], "to read the PDF")


def needs_printing() -> None:
    """Skip (fail in CI) the calling test unless Chromium and poppler-utils are installed."""
    _require([("chromium", find_browser()), ("poppler-utils", shutil.which("pdftoppm"))], "to print and read the PDF")


def _require(found: list[tuple[str, str | None]], why: str) -> None:
    missing = [what for what, path in found if not path]
    if missing:
        message = f"needs the Debian package(s) {', '.join(missing)} {why}"
        if os.environ.get("CARTSCOPE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
