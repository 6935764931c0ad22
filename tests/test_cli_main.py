"""The ``cartscope`` command's process: ``cli.main`` ends it without the interpreter's
teardown, keeping what the teardown would do that matters (exit code, exit handlers,
temporary folders removed, output flushed), and its start-up loads no cohort code (pandas)
for a command that needs none.

Run in fresh interpreters: ``main`` ends the process it runs in.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env=full)


def test_main_runs_exit_handlers_flushes_and_keeps_the_exit_code(tmp_path):
    marker = tmp_path / "handler.txt"
    done = _run(f"""
        import atexit, sys, tempfile, threading, time
        from pathlib import Path
        import cartscope.cli as cli
        atexit.register(lambda: Path({str(marker)!r}).write_text("ran"))
        keep = tempfile.TemporaryDirectory(prefix="cartscope-main-")  # removed by its exit finalizer
        print(keep.name)
        def late():
            time.sleep(0.3)
            Path({str(marker)!r} + ".thread").write_text("joined")
        threading.Thread(target=late).start()  # not a daemon: joined before the end
        from concurrent.futures import ThreadPoolExecutor
        idle = ThreadPoolExecutor(2)  # never shut down: stopped by threading's exit hook, not waited on forever
        idle.submit(time.sleep, 0.01).result()
        sys.stdout.write("unflushed line")  # no newline: only a flush writes it
        sys.argv = ["cartscope", "--help"]
        cli.main()
        print("not reached")
    """)
    assert done.returncode == 0, done.stderr
    assert "unflushed line" in done.stdout and "not reached" not in done.stdout
    assert "analyze" in done.stdout  # the help text
    tmp_name = done.stdout.splitlines()[0]
    assert marker.read_text() == "ran"
    assert (tmp_path / "handler.txt.thread").read_text() == "joined"
    from pathlib import Path

    assert not Path(tmp_name).exists()


@pytest.mark.parametrize(("argv", "code"), [(["--bogus"], 2), (["analyze", "/no/such/cohort", "--protocol", "jin2023"], 1)])
def test_main_exit_codes(argv, code, tmp_path):
    done = _run(f"""
        import sys
        import cartscope.cli as cli
        sys.argv = ["cartscope", *{argv!r}, *(["--out", {str(tmp_path / 'out')!r}] if {argv!r}[0] == "analyze" else [])]
        cli.main()
    """)
    assert done.returncode == code, done.stderr
    if code == 1:
        assert "does not exist" in done.stderr


def test_start_up_without_input_limits_imports_no_cohort_code():
    done = _run("""
        import sys
        import cartscope.cli as cli
        from cartscope.web.audit_cli import configure_process
        configure_process()
        print("pandas" in sys.modules, "cartscope.cohort" in sys.modules)
    """)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_input_limits_from_the_environment_still_checked():
    done = _run("""
        import sys
        import cartscope.cli as cli
        sys.argv = ["cartscope", "analyze", "/no/such/cohort", "--protocol", "jin2023"]
        cli.main()
    """, env={"CARTSCOPE_INPUT_LIMITS": "max_rowz=10"})
    assert done.returncode == 2
    assert "unknown limit 'max_rowz'" in done.stderr and "did you mean" in done.stderr
