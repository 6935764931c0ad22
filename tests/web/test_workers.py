"""Worker processes: a task that fails, crashes, runs too long or allocates too much fails
alone with its reason; the pool and the server process go on."""

from __future__ import annotations

import os
import threading
import time

import pytest

import _worker_tasks as tasks
from cartscope.web.workers import ProcessPool, WorkerFailed, WorkerLimits, death_reason


@pytest.fixture(scope="module")
def pool():
    pool = ProcessPool(2, WorkerLimits(time_s=20, memory_bytes=1 * 2**30), name="test-pool")
    yield pool
    pool.shutdown()


def _reason(pool, fn, *args, **kwargs) -> str:
    with pytest.raises(WorkerFailed) as info:
        pool.run(fn, *args, **kwargs)
    return info.value.reason


def test_result_progress_and_private_umask(pool):
    assert pool.run(tasks.add, 2, 3) == 5
    seen = []
    assert pool.run(tasks.with_progress, 3, on_progress=lambda label, f: seen.append((label, f))) == 3
    assert seen == [("step 0", 0.0), ("step 1", 1 / 3), ("step 2", 2 / 3)]
    assert pool.run(tasks.umask) == 0o077
    assert pool.run(tasks.pid) != os.getpid()


def test_task_error_keeps_the_worker(pool):
    before = pool.run(tasks.pid)
    assert _reason(pool, tasks.fail) == "ValueError: a task error with a reason"
    assert pool.run(tasks.pid) in (before, *pool.pids())


@pytest.mark.parametrize(("task", "words"), [(tasks.segfault, "segmentation fault"),
                                             (tasks.abort, "abort (heap corruption")])
def test_crash_fails_the_task_alone(pool, task, words):
    assert words in _reason(pool, task)
    assert pool.run(tasks.add, 1, 1) == 2


def test_memory_limit(pool):
    assert _reason(pool, tasks.hog, 2.0) == "the task ran out of memory (limit of 1 GB)"
    assert pool.run(tasks.add, 1, 2) == 3


def test_time_limit(pool):
    assert _reason(pool, tasks.sleep, 30, time_limit=0.5) == "stopped after the time limit of 0.5 s"
    assert pool.run(tasks.sleep, 0.01) == 0.01


def test_bounded_wait_for_a_free_worker():
    small = ProcessPool(1, WorkerLimits(time_s=10, memory_bytes=None))
    results = []
    try:
        thread = threading.Thread(target=lambda: results.append(small.run(tasks.sleep, 1.5)))
        thread.start()
        time.sleep(0.3)
        assert "busy" in _reason(small, tasks.add, 1, 1, wait_s=0.1)
        thread.join()
        assert results == [1.5]
        assert small.run(tasks.add, 1, 1) == 2
        assert small.started == 1 and small.failures == 0  # the same worker, alive after its thread ended
    finally:
        small.shutdown()


def test_worker_outlives_the_thread_that_started_it():
    """PR_SET_PDEATHSIG fires when the creating *thread* ends: workers are started by the
    pool's long-lived spawner thread, so a request thread that ends kills nothing."""
    small = ProcessPool(1, WorkerLimits(time_s=10, memory_bytes=None))
    pids = []
    try:
        thread = threading.Thread(target=lambda: pids.append(small.run(tasks.pid)))
        thread.start()
        thread.join()
        time.sleep(0.3)  # the kernel's signal, were it sent, has landed by now
        assert small.pids() == pids
        assert small.run(tasks.pid) == pids[0]
        assert small.started == 1 and small.failures == 0
    finally:
        small.shutdown()


def test_death_reasons_name_the_signal():
    limits = WorkerLimits(memory_bytes=2 * 2**30)
    assert "SIGKILL (out of memory" in death_reason(-9, limits) and "2 GB" in death_reason(-9, limits)
    assert death_reason(3, limits) == "the worker process exited with status 3"
    assert "signal 10" in death_reason(-10, limits)
