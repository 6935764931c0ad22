"""Worker processes for everything heavy: analyses, reports and patient-page figures.

matplotlib, FreeType and the native code under pandas are not safe to drive from several
threads of one process (four concurrent reports corrupted the heap of the server). Here each
such task runs in a separate process started with ``spawn`` (a clean interpreter, no state
inherited from the server's threads):

- a :class:`ProcessPool` has at most ``size`` worker processes, each running one task at a
  time; a caller waits for a free worker (bounded by ``wait_s``), so the machine is never
  asked for more than ``size`` heavy tasks at once;
- each worker lowers its own limits at start: address space (``RLIMIT_AS``, so a runaway
  allocation is a ``MemoryError`` in the worker, not the server's memory), no core files,
  one BLAS/OpenMP thread, matplotlib's Agg backend, a private umask (results readable by the
  owner only) and fontTools' INFO chatter silenced;
- a task that exceeds its time limit is killed; a worker that dies (segfault, abort, killed
  by the kernel) fails only the task it was running, with the reason, and is replaced;
- a worker asks the kernel to kill it when the server dies (``PR_SET_PDEATHSIG``), so no
  orphan keeps writing after a ``kill -9`` of the server. The kernel sends that signal when
  the *thread* that forked the worker ends, not only the process (prctl(2): "the parent" is
  the creating thread), so every worker is started from one long-lived spawner thread of this
  module, never from the caller's thread: a request thread of the server (anyio retires idle
  ones) or a job thread that ends would otherwise take its worker down with SIGKILL.

A worker is a fresh interpreter (``python -m cartscope.web.workers``, the effect of the
``spawn`` start method without re-running the server's main module), talking to the server
over a socket pair. Tasks are module-level functions (pickled by reference) with picklable
arguments; a task reports progress with :func:`progress`.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger("cartscope.web.workers")

_conn: Any = None
"""In a worker: its end of the pipe to the server (for :func:`progress`)."""


@dataclass(frozen=True)
class WorkerLimits:
    """Limits of one worker process: seconds per task and bytes of address space."""

    time_s: float = 900.0
    memory_bytes: int | None = 4 * 2**30
    max_tasks: int = 20


class WorkerFailed(RuntimeError):
    """A task that did not finish: ``reason`` says why, in words for the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def progress(label: str, fraction: float) -> None:
    """Tell the server how far the running task is (a no-op outside a worker)."""
    if _conn is not None:
        _conn.send(("progress", str(label), float(fraction)))


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pipe's EOF still ends an idle worker
        pass


def _short(exc: BaseException, limit: int = 600) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _worker_main(conn: Any, memory_bytes: int | None, parent: int) -> None:
    """The loop of one worker: receive ``(fn, args, kwargs)``, send back the result or the error."""
    global _conn
    _die_with_parent()
    if os.getppid() != parent:  # the server died before the line above ran
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    os.umask(0o077)
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    for noisy in ("fontTools", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _conn = conn
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as exc:  # the task could not be unpickled here (a function of __main__?)
            conn.send(("error", f"the task could not be started in the worker ({_short(exc)})", False))
            continue
        if message is None:
            return
        fn, args, kwargs = message
        try:
            result = fn(*args, **kwargs)
        except MemoryError:
            limit = f" of {memory_bytes / 2**30:g} GB" if memory_bytes else ""
            conn.send(("error", f"the task ran out of memory (limit{limit})", True))
            return
        except BaseException as exc:  # everything a task raises is reported, the worker lives on
            conn.send(("error", _short(exc), False))
            continue
        try:
            conn.send(("ok", result))
        except Exception as exc:  # an unpicklable result
            conn.send(("error", f"the task's result could not be returned ({_short(exc)})", False))


def death_reason(exitcode: int | None, limits: WorkerLimits) -> str:
    """Words for a worker that died while running a task."""
    memory = f" (its memory limit is {limits.memory_bytes / 2**30:g} GB)" if limits.memory_bytes else ""
    if exitcode is None:
        return "the worker process stopped answering"
    if exitcode < 0:
        sig = -exitcode
        name = {signal.SIGSEGV: "a segmentation fault", signal.SIGABRT: "an abort (heap corruption or a failed check)",
                signal.SIGKILL: f"SIGKILL (out of memory, or stopped from outside){memory}",
                signal.SIGBUS: "a bus error", signal.SIGFPE: "a floating-point exception"}.get(sig)
        return f"the worker process crashed with {name or f'signal {sig}'}"
    return f"the worker process exited with status {exitcode}{memory if exitcode == 1 else ''}"


class _Spawner:
    """One daemon thread that starts every worker process and lives as long as the server.

    ``PR_SET_PDEATHSIG`` fires when the thread that created the child ends, so the creating
    thread must outlive every worker; callers hand it a start function and wait for the result.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[tuple[Callable[[], Any], queue.SimpleQueue[tuple[bool, Any]]]] = (
            queue.SimpleQueue())
        self._thread: threading.Thread | None = None

    def call(self, start: Callable[[], Any]) -> Any:
        """``start()`` run in the spawner thread; its result, or what it raised."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="cartscope-worker-spawner", daemon=True)
                self._thread.start()
        answer: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self._requests.put((start, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value

    def _loop(self) -> None:
        while True:
            start, answer = self._requests.get()
            try:
                answer.put((True, start()))
            except BaseException as exc:  # handed to the caller, the spawner lives on
                answer.put((False, exc))


_spawner = _Spawner()


class _Process:
    """A worker started as ``python -m cartscope.web.workers FD ...`` (a fresh interpreter: spawn)."""

    def __init__(self, memory_bytes: int | None, name: str):
        here, there = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env["PYTHONUNBUFFERED"] = "1"
        self.name = name
        with there:
            self.popen = _spawner.call(lambda: subprocess.Popen(
                [sys.executable, "-m", "cartscope.web.workers", str(there.fileno()), str(memory_bytes or 0),
                 str(os.getpid())],
                pass_fds=(there.fileno(),), stdin=subprocess.DEVNULL, env=env, close_fds=True,
            ))
        self.conn = Connection(here.detach())

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()


class _Worker:
    def __init__(self, limits: WorkerLimits, name: str):
        self.process = _Process(limits.memory_bytes, name)
        self.conn = self.process.conn
        self.tasks = 0

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.process.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class ProcessPool:
    """At most ``size`` worker processes (started on demand), one task each at a time."""

    def __init__(self, size: int, limits: WorkerLimits | None = None, name: str = "cartscope-worker"):
        self.size = max(1, int(size))
        self.limits = limits or WorkerLimits()
        self.name = name
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False
        self.started = 0
        self.failures = 0

    def run(self, fn: Callable[..., Any], *args: Any, on_progress: Callable[[str, float], None] | None = None,
            time_limit: float | None = None, wait_s: float | None = None, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a worker; its result, or :class:`WorkerFailed` with the reason."""
        if self._closed:
            raise WorkerFailed("the server is stopping")
        if not self._slots.acquire(timeout=-1 if wait_s is None else wait_s):
            raise WorkerFailed("every worker is busy; try again in a moment")
        worker: _Worker | None = None
        try:
            worker = self._take()
            limit = float(time_limit or self.limits.time_s)
            worker.conn.send((fn, args, kwargs))
            worker.tasks += 1
            deadline = time.monotonic() + limit
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._retire(worker, kill=True)
                    worker = None
                    self.failures += 1
                    raise WorkerFailed(f"stopped after the time limit of {limit:g} s")
                if self._closed:
                    self._retire(worker, kill=True)
                    worker = None
                    raise WorkerFailed("the server is stopping")
                if not worker.conn.poll(min(remaining, 0.25)):
                    if not worker.process.is_alive() and not worker.conn.poll(0):
                        raise self._died(worker)
                    continue
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    raise self._died(worker) from None
                if message[0] == "progress":
                    if on_progress is not None:
                        on_progress(message[1], message[2])
                    continue
                if message[0] == "ok":
                    return message[1]
                self.failures += 1
                if message[2]:  # the worker gave up (out of memory): do not reuse it
                    self._retire(worker, kill=True)
                    worker = None
                raise WorkerFailed(message[1])
        finally:
            if worker is not None:
                self._give_back(worker)
            self._slots.release()

    def _died(self, worker: _Worker) -> WorkerFailed:
        worker.process.join(timeout=5)
        reason = death_reason(worker.process.exitcode, self.limits)
        with self._lock:
            self._busy.discard(worker)
        worker.conn.close()
        self.failures += 1
        log.warning("%s: %s", self.name, reason)
        return _Dead(reason)

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    self._busy.add(worker)
                    return worker
                worker.conn.close()
            self.started += 1
            worker = _Worker(self.limits, f"{self.name}-{self.started}")
            self._busy.add(worker)
            return worker

    def _give_back(self, worker: _Worker) -> None:
        if isinstance(worker, _Worker) and worker.conn.closed:
            return
        with self._lock:
            self._busy.discard(worker)
            if not self._closed and worker.tasks < self.limits.max_tasks and worker.process.is_alive():
                self._idle.append(worker)
                return
        worker.stop()

    def _retire(self, worker: _Worker, kill: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.stop(kill=kill)

    def shutdown(self) -> None:
        """Stop every worker (running tasks fail with "the server is stopping")."""
        self._closed = True
        with self._lock:
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for worker in idle:
            worker.stop()
        for worker in busy:
            try:
                worker.process.kill()
            except (OSError, ValueError):
                pass

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return [w.process.pid for w in [*self._idle, *self._busy] if w.process.pid and w.process.is_alive()]


class _Dead(WorkerFailed):
    """The worker died; it is already closed (not given back)."""


if __name__ == "__main__":  # python -m cartscope.web.workers FD MEMORY PARENT_PID
    from cartscope.web import workers as _module  # the importable module, whose _conn progress() reads

    _module._worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]) or None, int(sys.argv[3]))
