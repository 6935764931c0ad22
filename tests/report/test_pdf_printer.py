"""The early-started PDF printer gives the file ``chromium --print-to-pdf`` gives, and falls
back to the one-shot printer when its browser is gone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cartscope.report.pdf import FIXED_DATE, find_browser, html_to_pdf
from cartscope.report.pdf_printer import ChromiumPrinter

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>@page { size: A4; margin: 18mm }
body { font-family: sans-serif }</style></head><body><h1>Table 1 \u2264 0.05</h1>
<svg width="120" height="40"><rect width="100" height="30" fill="#0072B2"/></svg></body></html>"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    if find_browser() is None:
        message = "needs the Debian package chromium to print the PDF"
        if os.environ.get("CARTSCOPE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_early_printer_prints_the_one_shot_file(page: Path, tmp_path: Path) -> None:
    with ChromiumPrinter() as printer:
        outcome = printer.submit(page, tmp_path / "early.pdf").wait()
    assert outcome.path == tmp_path / "early.pdf" and outcome.reason == ""
    one_shot = html_to_pdf(page, tmp_path / "one_shot.pdf")
    assert one_shot.path is not None, one_shot.reason
    early = outcome.path.read_bytes()
    assert early.startswith(b"%PDF") and early.count(FIXED_DATE) == 2
    assert early == one_shot.path.read_bytes()


def test_the_browser_quits_after_its_print_and_a_second_print_is_a_one_shot(page: Path, tmp_path: Path) -> None:
    printer = ChromiumPrinter().start()
    try:
        first = printer.print_pdf(page, tmp_path / "first.pdf")
        proc = printer._proc
        assert proc is not None and printer._quitting  # asked to quit, not waited for
        second = printer.print_pdf(page, tmp_path / "second.pdf")  # not in the quitting browser
    finally:
        printer.close()
    assert proc.poll() is not None and printer._proc is None and printer._tmp is None
    assert first.path is not None and second.path is not None
    assert first.path.read_bytes() == second.path.read_bytes()


def test_a_dead_printer_falls_back_to_the_one_shot_process(page: Path, tmp_path: Path) -> None:
    printer = ChromiumPrinter().start()
    assert printer._proc is not None
    printer._proc.kill()
    printer._proc.wait()
    outcome = printer.print_pdf(page, tmp_path / "out.pdf")
    assert outcome.path is not None and outcome.path.read_bytes().startswith(b"%PDF"), outcome.reason
    assert printer._proc is None and printer._tmp is None  # ended and cleaned up
    printer.close()


def test_no_browser_gives_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTSCOPE_CHROMIUM", str(tmp_path / "no-such-browser"))
    (tmp_path / "p.html").write_text(PAGE, encoding="utf-8")
    with ChromiumPrinter() as printer:
        outcome = printer.submit(tmp_path / "p.html", tmp_path / "p.pdf").wait()
    assert outcome.path is None and "no Chromium found" in outcome.reason
