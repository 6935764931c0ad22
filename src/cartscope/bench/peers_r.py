"""R peers: run a case script of ``cartscope/bench/r`` with ``Rscript`` on data passed in files.

The arrays go to a temporary folder as little-endian float64 files plus ``meta.json``; the
script times its own loop (so R's start-up and the file reading are not counted) and writes
its results and timings as JSON. A missing Rscript or R package is not an error: the peer is
skipped with a note that says how to install it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

R_INSTALL_HINT = (
    "install R and the peer packages with: apt-get install r-base-core r-cran-survival "
    "r-cran-proc r-cran-jsonlite"
)


@dataclass(frozen=True)
class RRun:
    """Outcome of one R peer script: its JSON output, or the reason it was skipped."""

    ok: bool
    output: dict[str, Any]
    note: str


def rscript_path() -> str | None:
    """Path of ``Rscript`` on PATH, or None."""
    return shutil.which("Rscript")


def script_path(name: str) -> Path:
    """The packaged R script ``r/<name>.R``."""
    path = Path(str(resources.files("cartscope.bench").joinpath("r", f"{name}.R")))
    if not path.is_file():
        raise FileNotFoundError(f"R peer script {path} is missing from the installed package")
    return path


def _write_arrays(folder: Path, arrays: dict[str, NDArray[Any]], meta: dict[str, Any]) -> None:
    for name, arr in arrays.items():
        values = np.asarray(arr, dtype="<f8")
        # matrices go column by column (R's storage order)
        np.asfortranarray(values).ravel(order="F").tofile(folder / f"{name}.bin")
    (folder / "meta.json").write_text(json.dumps(meta))


def run_r(name: str, arrays: dict[str, NDArray[Any]], meta: dict[str, Any], timeout: float = 1800.0) -> RRun:
    """Run the R peer ``name`` on ``arrays`` (written as ``<key>.bin``) and ``meta``."""
    rscript = rscript_path()
    if rscript is None:
        return RRun(False, {}, f"R peer skipped: Rscript not found; {R_INSTALL_HINT}")
    try:
        script = script_path(name)
    except FileNotFoundError as exc:
        return RRun(False, {}, f"R peer skipped: {exc}")
    with tempfile.TemporaryDirectory(prefix="cartscope-bench-") as tmp:
        folder = Path(tmp)
        _write_arrays(folder, arrays, meta)
        out = folder / "out.json"
        try:
            proc = subprocess.run(
                [rscript, "--vanilla", str(script), str(folder), str(out)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return RRun(False, {}, f"R peer skipped: {script.name} ran longer than {timeout:.0f} s")
        if proc.returncode != 0 or not out.is_file():
            tail = proc.stderr.strip().splitlines()[-3:]
            return RRun(False, {}, f"R peer failed ({script.name}): {' | '.join(tail)}")
        output = json.loads(out.read_text())
    if "missing" in output:
        missing = ", ".join(output["missing"])
        return RRun(False, {}, f"R peer skipped: R package(s) {missing} not installed; {R_INSTALL_HINT}")
    return RRun(True, output, "")


def r_versions() -> dict[str, str]:
    """R and peer package versions, or an empty dict when R is absent."""
    rscript = rscript_path()
    if rscript is None:
        return {}
    code = (
        "v <- c(R = paste(R.version$major, R.version$minor, sep = '.'));"
        "for (p in c('survival', 'pROC')) if (requireNamespace(p, quietly = TRUE))"
        " v[p] <- as.character(utils::packageVersion(p));"
        "cat(paste(names(v), v, sep = '=', collapse = ';'))"
    )
    try:
        proc = subprocess.run([rscript, "--vanilla", "-e", code], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {}
    if proc.returncode != 0:
        return {}
    pairs = (item.split("=", 1) for item in proc.stdout.strip().split(";") if "=" in item)
    return {k: v for k, v in pairs}
