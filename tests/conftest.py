"""Shared test helpers.

``r_reference`` runs an R script that sits beside a test module and returns the JSON it wrote.
R is the reference for every number: in CI (``CARTSCOPE_REQUIRE_R=1``) a missing Rscript is a
failure, elsewhere the R-backed tests are skipped with a reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

_R_CACHE: dict[Path, Any] = {}

# Child processes (the command line, spawned report and web workers) use and write compiled
# bytecode even where the build machine sets PYTHONDONTWRITEBYTECODE: otherwise every child
# recompiles cartscope's ~250 modules (about 1.3 s each) and the suite pays it hundreds of times.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def _run_r(script: Path, tmp_dir: Path) -> Any:
    script = script.resolve()
    if script in _R_CACHE:
        return _R_CACHE[script]
    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CARTSCOPE_REQUIRE_R"):
            pytest.fail("Rscript is required (CARTSCOPE_REQUIRE_R=1) but not installed")
        pytest.skip("Rscript not installed; R reference tests run in CI")
    out = tmp_dir / (script.stem + ".json")
    proc = subprocess.run(
        [rscript, "--vanilla", str(script), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"R script {script.name} failed:\n{proc.stderr[-4000:]}")
    data = json.loads(out.read_text())
    _R_CACHE[script] = data
    return data


@pytest.fixture(scope="session")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path | str], Any]:
    """Return a function that runs ``Rscript script out.json`` once per session and loads it."""
    tmp_dir = tmp_path_factory.mktemp("r_reference")

    def run(script: Path | str) -> Any:
        return _run_r(Path(script), tmp_dir)

    return run


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder beside the project root (docs and seed papers)."""
    return Path(__file__).resolve().parents[1].parent / "shared"
