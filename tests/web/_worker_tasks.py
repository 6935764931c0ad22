"""Module-level tasks for the worker-pool tests (a spawned worker imports them by name)."""

from __future__ import annotations

import os
import signal
import time


def add(a: int, b: int) -> int:
    return a + b


def with_progress(n: int) -> int:
    from cartscope.web.workers import progress

    for i in range(n):
        progress(f"step {i}", i / n)
    return n


def fail() -> None:
    raise ValueError("a task error with a reason")


def segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def abort() -> None:
    os.abort()


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def hog(gigabytes: float) -> int:
    block = bytearray(int(gigabytes * 2**30))
    return len(block)


def pid() -> int:
    return os.getpid()


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def crashing_report(results, out_dir, cohort=None):
    """A report writer that takes its worker down (as FreeType's heap corruption did)."""
    os.kill(os.getpid(), signal.SIGSEGV)
