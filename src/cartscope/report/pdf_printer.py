"""A Chromium started before the report is ready, which prints it when it is.

Why: a headless Chromium takes one to two seconds to start; started as a one-shot
``--print-to-pdf`` process after the page is written, that start is on the report's critical
path. :class:`ChromiumPrinter` starts the browser early (the command line starts it with the
figure workers, before the analyses run) and drives it over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: messages are JSON terminated by a NUL byte, read from fd 4 and
written to fd 3 of the browser), with the parameters ``--print-to-pdf`` uses, so the PDF is
the same file, byte for byte (``tests/report/test_pdf_printer.py``).

:meth:`ChromiumPrinter.submit` loads the page and prints it in a background thread while the
caller goes on (writing the results files); :meth:`PendingPrint.wait` gives the
:class:`~cartscope.report.pdf.PdfOutcome`. Whatever goes wrong with the early browser (it is
missing, died, or answers with an error) the PDF is printed by the one-shot process instead,
so the outcome is the same as :func:`~cartscope.report.pdf.html_to_pdf`'s.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cartscope.report.pdf import TIMEOUT_SECONDS, PdfOutcome, browser_command, find_browser, fix_dates, html_to_pdf

PRINT_PARAMS: dict[str, Any] = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
                                "generateTaggedPDF": True}
"""``Page.printToPDF`` parameters giving the file ``chromium --print-to-pdf
--no-pdf-header-footer`` writes (A4 from the page's ``@page`` rule, a tagged PDF)."""


class ProtocolError(RuntimeError):
    """The browser closed the pipe, answered with an error or did not answer in time."""


class ChromiumPrinter:
    """A headless Chromium waiting to print (see the module docstring); :meth:`close` ends it."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self.browser = find_browser()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._buf = b""
        self._id = 0
        self._session = ""
        self._pending: list[int] = []
        self._quitting = False

    def start(self) -> ChromiumPrinter:
        """Start the browser and ask for a page; returns at once (no-op without Chromium)."""
        if self.browser is None or self._proc is not None:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix="cartscope-pdf-")
        self._quitting, self._session, self._pending, self._buf = False, "", [], b""
        to_browser, self._write_fd = os.pipe()
        self._read_fd, from_browser = os.pipe()

        def fds() -> None:  # the browser reads commands on fd 3 and writes answers on fd 4
            high_in, high_out = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser))
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        cmd = browser_command(self.browser, Path(self._tmp.name) / "profile", "--remote-debugging-pipe")
        cmd.append("about:blank")
        try:
            self._proc = subprocess.Popen(cmd, pass_fds=(3, 4), preexec_fn=fds, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            self._proc = None
        finally:
            os.close(to_browser)
            os.close(from_browser)
        if self._proc is not None:
            self._pending.append(self._send("Target.createTarget", {"url": "about:blank"}))
        return self

    # --- the protocol ---------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any] | None = None, session: bool = False) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self._session
        data = json.dumps(msg).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._write_fd, data):]
        return self._id

    def _next(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read_fd], [], [], left)[0]:
                raise ProtocolError("no answer in time")
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise ProtocolError("the browser closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _answer(self, msg_id: int, deadline: float) -> dict[str, Any]:
        while True:
            msg = self._next(deadline)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise ProtocolError(str(msg["error"].get("message", msg["error"])))
                return msg.get("result", {})

    def _event(self, method: str, deadline: float) -> None:
        while self._next(deadline).get("method") != method:
            pass

    def _print(self, html_path: Path, deadline: float) -> bytes:
        if self._proc is None or self._proc.poll() is not None:
            raise ProtocolError("the browser is not running")
        if not self._session:
            target = self._answer(self._pending.pop(0), deadline)["targetId"]
            attached = self._answer(self._send("Target.attachToTarget", {"targetId": target, "flatten": True}),
                                    deadline)
            self._session = attached["sessionId"]
            self._answer(self._send("Page.enable", session=True), deadline)
        nav = self._answer(self._send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=True), deadline)
        if nav.get("errorText"):
            raise ProtocolError(nav["errorText"])
        self._event("Page.loadEventFired", deadline)
        result = self._answer(self._send("Page.printToPDF", PRINT_PARAMS, session=True), deadline)
        return base64.b64decode(result["data"])

    # --- printing ---------------------------------------------------------------------------

    def submit(self, html_path: Path | str, pdf_path: Path | str) -> PendingPrint:
        """Start printing ``html_path`` to ``pdf_path`` in a background thread."""
        return PendingPrint(self, Path(html_path), Path(pdf_path))

    def print_pdf(self, html_path: Path, pdf_path: Path) -> PdfOutcome:
        """Print now, once (the browser ends after it; the one-shot printer when the early
        browser is gone or fails); see the module docstring."""
        if self.browser is None or self._proc is None or self._quitting:
            return html_to_pdf(html_path, pdf_path, timeout=self.timeout)
        try:
            data = self._print(html_path, time.monotonic() + self.timeout)
        except (ProtocolError, OSError, KeyError, ValueError):
            self.close()
            return html_to_pdf(html_path, pdf_path, timeout=self.timeout)
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        pdf_path.write_bytes(fix_dates(data))
        # one print per browser (a second page printed in it differs in its object numbering):
        # it is asked to quit now, and close() waits for its exit, which takes a third of a
        # second that the caller spends placing the figures instead of waiting here
        self._quit()
        return PdfOutcome(pdf_path, "", self.browser)

    def _quit(self) -> None:
        """Ask the browser to quit (once); :meth:`close` waits for it."""
        if self._proc is not None and not self._quitting:
            self._quitting = True
            try:
                self._send("Browser.close")
            except OSError:
                pass

    def close(self) -> None:
        """End the browser (asked to quit, killed after 5 s) and remove its profile."""
        self._quit()
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for fd in (self._write_fd, self._read_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ChromiumPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class PendingPrint:
    """A print running in a background thread; :meth:`wait` returns its outcome."""

    def __init__(self, printer: ChromiumPrinter, html_path: Path, pdf_path: Path) -> None:
        self._outcome: PdfOutcome | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._outcome = printer.print_pdf(html_path, pdf_path)
            except BaseException as exc:  # re-raised in wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="cartscope-pdf", daemon=True)
        self._thread.start()

    def wait(self) -> PdfOutcome:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome


__all__ = ["PRINT_PARAMS", "ChromiumPrinter", "PendingPrint", "ProtocolError"]
