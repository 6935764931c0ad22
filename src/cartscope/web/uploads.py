"""Cohort uploads: an XLSX workbook (one sheet per table) or a zip of ``<table>.csv`` files.

An upload is checked in a private temporary folder and stored only when the whole cohort is
free of errors (:func:`cartscope.cohort.load.load_cohort_with_problems`, then one store
transaction): there is no partial import. Files that are not what they claim, archives with
unsafe member names, too many members or too much unpacked data are refused before the
cohort checks run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cartscope.cohort.load import load_cohort_with_problems
from cartscope.cohort.problems import CohortError, Problem
from cartscope.cohort.store import ImportReport
from cartscope.web.store import StudyStore

ALLOWED_SUFFIXES = (".xlsx", ".zip")
MAX_MEMBERS = 64
_ZIP_MAGIC = b"PK\x03\x04"


class UploadRejected(ValueError):
    """The file itself is unacceptable (type, size, archive layout); message is for the user."""


@dataclass(frozen=True)
class UploadOutcome:
    """``report`` when stored; otherwise None and the problems that stopped it."""

    filename: str
    problems: list[Problem] = field(default_factory=list)
    report: ImportReport | None = None

    @property
    def stored(self) -> bool:
        return self.report is not None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def safe_filename(name: str) -> str:
    """The base name of an uploaded file with anything but letters, digits, ``._-`` replaced."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return cleaned[:100] or "upload"


def _check_type(path: Path, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRejected(
            f"{filename}: unsupported file type {suffix or '(none)'}; upload an .xlsx workbook "
            "(one sheet per table) or a .zip of <table>.csv files"
        )
    with path.open("rb") as fh:
        if fh.read(4) != _ZIP_MAGIC or not zipfile.is_zipfile(path):
            kind = "an Excel workbook" if suffix == ".xlsx" else "a zip archive"
            raise UploadRejected(f"{filename}: the file is not {kind} (its contents do not match its name)")
    return suffix


def _unpack_csvs(archive: Path, into: Path, max_bytes: int) -> None:
    """Extract the ``.csv`` members (flattened to their base names) after checking the archive."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise UploadRejected(f"{archive.name}: the archive is damaged ({str(exc)[:80]})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise UploadRejected(f"{archive.name}: the archive has {len(infos)} files; at most {MAX_MEMBERS} are accepted")
        csvs = []
        for info in infos:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts:
                raise UploadRejected(f"{archive.name}: unsafe file name {info.filename!r} in the archive")
            if name.parts[0] == "__MACOSX" or name.name.startswith("."):
                continue
            if name.suffix.lower() == ".csv":
                csvs.append((info, name.name))
        if not csvs:
            raise UploadRejected(f"{archive.name}: the archive holds no .csv files (expected patients.csv, infusions.csv, ...)")
        names = [n.lower() for _, n in csvs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise UploadRejected(f"{archive.name}: the archive has more than one {dup[0]}")
        if sum(i.file_size for i, _ in csvs) > max_bytes:
            raise UploadRejected(f"{archive.name}: the unpacked CSV files exceed {max_bytes // 2**20} MB")
        into.mkdir(mode=0o700)
        written = 0
        for info, base in csvs:
            try:
                with zf.open(info) as src, (into / base).open("wb") as dst:
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UploadRejected(f"{archive.name}: the unpacked CSV files exceed {max_bytes // 2**20} MB")
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise UploadRejected(f"{archive.name}: the archive is damaged ({base} fails to unpack: "
                                     f"{str(exc)[:80]}); create it again") from None
            except (NotImplementedError, RuntimeError) as exc:  # an unknown compression, or encryption
                raise UploadRejected(f"{archive.name}: {base} cannot be unpacked ({str(exc)[:80]}); "
                                     "use a plain zip without a password") from None


def receive_cohort(
    data_path: Path, filename: str, *, study: str, store: StudyStore, work_dir: Path, max_unzipped_bytes: int,
    date_order: str | None = None,
) -> UploadOutcome:
    """Check the uploaded file at ``data_path`` and store it as a new snapshot of ``study`` if clean.

    Raises :class:`UploadRejected` for a file of the wrong type or layout; returns the
    problems (and stores nothing) for a cohort with errors.
    """
    name = safe_filename(filename)
    suffix = _check_type(data_path, name)
    work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="upload-", dir=work_dir))
    try:
        if suffix == ".xlsx":
            source = tmp / name
            shutil.copyfile(data_path, source)
        else:
            source = tmp / Path(name).stem
            _unpack_csvs(data_path, source, max_unzipped_bytes)
        try:
            cohort, warnings = load_cohort_with_problems(source, date_order=date_order or None)
        except CohortError as exc:
            return UploadOutcome(name, problems=list(exc.problems))
        report = store.save(cohort, study, source=name)
        return UploadOutcome(name, problems=list(warnings), report=report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
