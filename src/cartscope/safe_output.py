"""Safe outputs: spreadsheet cells that cannot run, and files only their owner can read.

**Formula injection** (OWASP, "CSV Injection"): a spreadsheet opening a CSV, XLSX or pasted
DOCX table treats a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(...)``). Patient
ids, analyte names and free covariates come from the user's files, so every exported *text*
cell that begins with one of these characters is prefixed with a single quote, which every
spreadsheet shows as text. Numbers stay numbers, and a text cell that is just a number
(``-0.52``, ``+3``) is left alone: it cannot carry a formula, and report tables print
negative estimates as text.

**Owner-only files**: patient-level results and the study store must not be readable by
other local users whatever the umask: :func:`private_dir` creates folders ``0700`` (each
missing parent too), :func:`private_file` / :func:`make_private` set ``0600`` files and
``0700`` folders, and :func:`owner_only` runs a block with umask ``077`` for files other
libraries create (DuckDB's database and WAL, SQLite's journal).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")

FILE_MODE = 0o600
DIR_MODE = 0o700


def neutralise(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: text starting with a formula character gets a
    leading ``'``; anything that is not text, and text that is a plain number, is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def is_dangerous(value: Any) -> bool:
    """True for a text cell a spreadsheet would evaluate (what :func:`neutralise` changes)."""
    return neutralise(value) is not value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised (numbers untouched)."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        cells = series.astype(object).tolist()
        if not any(is_dangerous(v) for v in cells):
            continue
        inert = pd.Series([neutralise(v) for v in cells], index=series.index, dtype=object)
        keep = not isinstance(series.dtype, pd.CategoricalDtype)  # new labels are not categories
        out[col] = inert.astype(series.dtype) if keep else inert
    out.columns = [neutralise(c) for c in out.columns]
    return out


# --- owner-only files --------------------------------------------------------------------


def private_dir(path: Path | str) -> Path:
    """Create ``path`` and its missing parents as ``0700`` folders; an existing ``path`` is set ``0700``."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        os.chmod(folder, DIR_MODE)
    if not missing:
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path | str) -> Path:
    """Set ``path`` to ``0600`` (it must exist)."""
    os.chmod(path, FILE_MODE)
    return Path(path)


def create_private_file(path: Path | str) -> Path:
    """Create ``path`` empty as ``0600`` if it does not exist (never widening an existing file)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def make_private(root: Path | str) -> Path:
    """Every folder under ``root`` (itself included) ``0700``, every file ``0600``; symlinks untouched."""
    root = Path(root)
    if root.is_symlink():
        return root
    if root.is_file():
        return private_file(root)
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            p = os.path.join(folder, name)
            if not os.path.islink(p):
                os.chmod(p, DIR_MODE)
        for name in files:
            p = os.path.join(folder, name)
            if not os.path.islink(p):
                os.chmod(p, FILE_MODE)
    return root


_umask_lock = threading.Lock()
_umask_depth = 0
_umask_saved = 0


@contextmanager
def owner_only() -> Iterator[None]:
    """Run the block with umask ``077`` (nested and concurrent blocks share one change).

    The umask is per process: while any block runs, files other threads create are private
    too, which errs on the safe side.
    """
    global _umask_depth, _umask_saved
    with _umask_lock:
        if _umask_depth == 0:
            _umask_saved = os.umask(0o077)
        _umask_depth += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_depth -= 1
            if _umask_depth == 0:
                os.umask(_umask_saved)


__all__ = ["FORMULA_START", "create_private_file", "is_dangerous", "make_private", "neutralise",
           "neutralise_frame", "owner_only", "private_dir", "private_file"]
