"""The hostile-input corpus, generated on the fly: each case is a cohort source or a protocol
file built to exhaust memory or time, hang a reader or crash a parser, with the one problem
code it must produce.

Run as a script (``python hostile.py WORKDIR``) it builds every case, checks it the way the
CLI does (:func:`cartscope.cohort.validate.check_cohort`, :func:`cartscope.analysis.protocol.load_protocol`)
and prints one JSON line per case: the error codes, the seconds taken and the process's peak
resident memory after the case. ``test_hostile_inputs.py`` runs it in a subprocess so a case
that blows up the memory cannot take the test process with it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "cohort" or "protocol"
    code: str
    build: Callable[[Path, "Base"], Path]


@dataclass(frozen=True)
class Base:
    csv: Path
    xlsx: Path
    parquet: Path


def make_base(root: Path) -> Base:
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort

    cohort = synthesize("li2023", seed=5)
    csv = write_cohort(cohort, root / "base_csv", fmt="csv")
    xlsx = write_cohort(cohort, root / "base.xlsx", fmt="xlsx")
    parquet = write_cohort(cohort, root / "base_parquet", fmt="parquet")
    return Base(Path(csv), Path(xlsx), Path(parquet))


# --- helpers -------------------------------------------------------------------------------


def _csv_copy(base: Base, at: Path) -> Path:
    shutil.copytree(base.csv, at)
    return at


def _csv_with(table: str, data: bytes | None = None, *, link: str | None = None, fifo: bool = False,
              folder: bool = False, sparse: int | None = None) -> Callable[[Path, Base], Path]:
    def build(at: Path, base: Base) -> Path:
        root = _csv_copy(base, at)
        target = root / f"{table}.csv"
        target.unlink()
        if link is not None:
            os.symlink(link if link != "self" else target, target)
        elif fifo:
            os.mkfifo(target)
        elif folder:
            target.mkdir()
        elif sparse is not None:
            with open(target, "wb") as fh:
                fh.write(b"patient_id\n")
                fh.truncate(sparse)
        else:
            target.write_bytes(data or b"")
        return root

    return build


def _sheet_members(path: Path) -> dict[str, str]:
    """Sheet name -> worksheet member of a workbook written by openpyxl."""
    import openpyxl

    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    return {name: f"xl/worksheets/sheet{i}.xml" for i, name in enumerate(names, start=1)}


def _rewrite(base: Path, at: Path, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(at, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return at


def _xlsx_sheet(sheet: str, edit: Callable[[bytes], bytes]) -> Callable[[Path, Base], Path]:
    def build(at: Path, base: Base) -> Path:
        member = _sheet_members(base.xlsx)[sheet]
        at.mkdir()
        return _rewrite(base.xlsx, at / "cohort.xlsx", lambda n, d: edit(d) if n == member else d)

    return build


def _raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """A zip written by hand: (name, deflated bytes, crc32, unpacked size) per member."""
    out = bytearray()
    central = bytearray()
    for name, deflated, crc, size in members:
        offset = len(out)
        encoded = name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(deflated), size, len(encoded), 0)
        out += encoded + deflated
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(deflated), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))


def _bomb_stream(prefix: bytes, unit: bytes, repeats: int, suffix: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of prefix + unit * repeats + suffix, built from one compressed unit (fast)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.compress(suffix) + comp.flush()
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(suffix, crc)
    return head + block * repeats + tail, crc, len(prefix) + len(unit) * repeats + len(suffix)


def _workbook_with_member(name: str, prefix: bytes, unit: bytes, repeats: int, suffix: bytes) -> Callable[[Path, Base], Path]:
    """The base workbook with ``name`` replaced (or added) by a deflate bomb."""

    def build(at: Path, base: Base) -> Path:
        at.mkdir()
        members = []
        with zipfile.ZipFile(base.xlsx) as zin:
            for info in zin.infolist():
                if info.filename == name:
                    continue
                data = zin.read(info)
                comp = zlib.compressobj(6, zlib.DEFLATED, -15)
                members.append((info.filename, comp.compress(data) + comp.flush(), zlib.crc32(data), len(data)))
        deflated, crc, size = _bomb_stream(prefix, unit, repeats, suffix)
        members.append((name, deflated, crc, size))
        _raw_zip(at / "cohort.xlsx", members)
        return at / "cohort.xlsx"

    return build


def _bad_crc(at: Path, base: Base) -> Path:
    at.mkdir()
    target = at / "cohort.xlsx"
    shutil.copyfile(base.xlsx, target)
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(base.xlsx) as zf:
        info = zf.getinfo(_sheet_members(base.xlsx)["events"])
    # flip one byte of the member's compressed data (its local header is 30 bytes + name)
    start = info.header_offset + 30 + len(info.filename.encode()) + 5
    data[start] ^= 0x55
    target.write_bytes(bytes(data))
    return target


def _truncated(at: Path, base: Base) -> Path:
    at.mkdir()
    data = base.xlsx.read_bytes()
    (at / "cohort.xlsx").write_bytes(data[: len(data) // 2])
    return at / "cohort.xlsx"


def _file(name: str, data: bytes) -> Callable[[Path, Base], Path]:
    def build(at: Path, base: Base) -> Path:
        at.mkdir()
        (at / name).write_bytes(data)
        return at / name

    return build


def _special(name: str, how: str) -> Callable[[Path, Base], Path]:
    def build(at: Path, base: Base) -> Path:
        at.mkdir()
        target = at / name
        if how == "fifo":
            os.mkfifo(target)
        elif how == "zero":
            os.symlink("/dev/zero", target)
        elif how == "loop":
            os.symlink(target, target)
        elif how == "sparse":
            with open(target, "wb") as fh:
                fh.truncate(300 * 2**20)
        return target

    return build


def _many_parts(at: Path, base: Base) -> Path:
    at.mkdir()
    return _rewrite(base.xlsx, at / "cohort.xlsx", lambda n, d: d,
                    {f"xl/media/part{i}.bin": b"x" for i in range(1100)})


def _parquet_wide(at: Path, base: Base) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(base.parquet, at)
    table = pa.table({f"c{i}": [1] for i in range(1500)} | {"patient_id": ["p"]})
    pq.write_table(table, at / "labs.parquet")
    return at


def _parquet_with(data: bytes | None = None, fifo: bool = False) -> Callable[[Path, Base], Path]:
    def build(at: Path, base: Base) -> Path:
        shutil.copytree(base.parquet, at)
        target = at / "patients.parquet"
        target.unlink()
        if fifo:
            os.mkfifo(target)
        else:
            target.write_bytes(data or b"")
        return at

    return build


def _bomb_yaml(levels: int = 12) -> bytes:
    names = [f"l{i}" for i in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]" for a, b in zip(names, names[1:])]
    return ("\n".join(lines) + "\n").encode()


def _protocol(data: bytes | None = None, how: str | None = None) -> Callable[[Path, Base], Path]:
    def build(at: Path, base: Base) -> Path:
        at.mkdir()
        target = at / "protocol.yaml"
        if how:
            return _make_special(target, how)
        target.write_bytes(data or b"")
        return target

    return build


def _make_special(target: Path, how: str) -> Path:
    if how == "fifo":
        os.mkfifo(target)
    elif how == "zero":
        os.symlink("/dev/zero", target)
    elif how == "sparse":
        with open(target, "wb") as fh:
            fh.truncate(2 * 2**30)
    return target


_GIB = 2**30
_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10)) + b"]>")
_SST_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')


def _rows_xml(n: int) -> bytes:
    return _SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c></row>' + \
        b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(2, n + 2)) + \
        b"</sheetData></worksheet>"


CASES: list[Case] = [
    # CSV folders
    Case("csv_sparse_300mb", "cohort", "file-too-large", _csv_with("labs", sparse=300 * 2**20)),
    Case("csv_one_long_line", "cohort", "line-too-long", _csv_with("events", b"patient_id," + b"x" * (3 * 2**20))),
    Case("csv_million_columns", "cohort", "too-many-columns",
         _csv_with("labs", ",".join(f"c{i}" for i in range(10**6)).encode() + b"\n")),
    Case("csv_too_many_rows", "cohort", "too-many-rows", _csv_with("labs", b"patient_id\n" + b"x\n" * 1_000_001)),
    Case("csv_fifo", "cohort", "not-a-file", _csv_with("patients", fifo=True)),
    Case("csv_symlink_dev_zero", "cohort", "not-a-file", _csv_with("patients", link="/dev/zero")),
    Case("csv_symlink_loop", "cohort", "not-a-file", _csv_with("events", link="self")),
    Case("csv_is_a_folder", "cohort", "not-a-file", _csv_with("events", folder=True)),
    Case("csv_latin1", "cohort", "not-utf8", _csv_with("patients", "patient_id,disease\npt1,Lymphome non hodgkinien é\n".encode("latin-1"))),
    Case("csv_binary_garbage", "cohort", "not-utf8", _csv_with("patients", bytes(range(256)) * 64)),
    Case("csv_zip_renamed", "cohort", "not-utf8", _csv_with("patients", zlib.compress(b"0" * 10**6))),
    Case("csv_empty_required", "cohort", "empty-file", _csv_with("patients", b"")),
    Case("csv_whitespace_only", "cohort", "empty-file", _csv_with("patients", b" \n\n\t\n" * 1000)),
    # the source path itself
    Case("source_fifo", "cohort", "not-a-file", _special("cohort.xlsx", "fifo")),
    Case("source_symlink_dev_zero", "cohort", "not-a-file", _special("cohort.xlsx", "zero")),
    Case("source_symlink_loop", "cohort", "not-a-file", _special("cohort.xlsx", "loop")),
    Case("source_xlsx_sparse_300mb", "cohort", "file-too-large", _special("cohort.xlsx", "sparse")),
    Case("source_xls", "cohort", "unsupported-format", _file("cohort.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 512)),
    # XLSX
    Case("xlsx_shared_string_1gib", "cohort", "unpacked-too-large",
         _workbook_with_member("xl/sharedStrings.xml", _SST_HEAD, b"A" * 2**20, 1024, b"</t></si></sst>")),
    Case("xlsx_shared_string_100mb", "cohort", "shared-strings-too-large",
         _workbook_with_member("xl/sharedStrings.xml", _SST_HEAD, b"A" * 2**20, 100, b"</t></si></sst>")),
    Case("xlsx_zip_bomb_part", "cohort", "unpacked-too-large",
         _workbook_with_member("xl/media/image1.png", b"", b"\0" * 2**20, 700, b"")),
    Case("xlsx_sheet_bomb", "cohort", "sheet-too-large",
         _workbook_with_member("xl/worksheets/sheet4.xml", _SHEET_HEAD, b"<row/>" * 2**16, 700, b"</sheetData></worksheet>")),
    Case("xlsx_column_xfd", "cohort", "too-many-columns",
         _xlsx_sheet("labs", lambda d: d.replace(b"</sheetData>", b'<row r="9999"><c r="XFD9999"><v>1</v></c></row></sheetData>'))),
    Case("xlsx_row_two_million", "cohort", "too-many-rows",
         _xlsx_sheet("labs", lambda d: d.replace(b"</sheetData>", b'<row r="2000000"><c r="A2000000"><v>1</v></c></row></sheetData>'))),
    Case("xlsx_rows_beyond_limit_small_xml", "cohort", "too-many-rows",
         _workbook_with_member("xl/worksheets/sheet5.xml", _SHEET_HEAD, b"<row/>" * 4096, 260, b"</sheetData></worksheet>")),
    Case("xlsx_formula_without_value", "cohort", "formula-without-value", lambda at, base: _xlsx_sheet(
        "patients", _formula_without_value)(at, base)),
    Case("xlsx_bad_crc", "cohort", "damaged-file", _bad_crc),
    Case("xlsx_truncated", "cohort", "unreadable", _truncated),
    Case("xlsx_not_a_zip", "cohort", "unreadable", _file("cohort.xlsx", b"patient_id,disease\npt1,B-ALL\n")),
    Case("xlsx_billion_laughs_xml", "cohort", "xml-entities",
         _xlsx_sheet("events", lambda d: _LAUGHS + d.split(b"?>", 1)[-1] if d.startswith(b"<?xml") else _LAUGHS + d)),
    Case("xlsx_malformed_sheet_xml", "cohort", "damaged-file", _xlsx_sheet("events", lambda d: d[: len(d) // 2])),
    Case("xlsx_too_many_parts", "cohort", "too-many-parts", _many_parts),
    # Parquet
    Case("parquet_1500_columns", "cohort", "too-many-columns", _parquet_wide),
    Case("parquet_damaged", "cohort", "unreadable", _parquet_with(b"PAR1" + b"\0" * 100 + b"PAR1")),
    Case("parquet_fifo", "cohort", "not-a-file", _parquet_with(fifo=True)),
    # protocols
    Case("yaml_alias_bomb", "protocol", "yaml-alias-expansion", _protocol(_bomb_yaml())),
    Case("yaml_deep_flow_nesting", "protocol", "yaml-too-deep", _protocol(b"[" * 200_000 + b"]" * 200_000)),
    Case("yaml_deep_block_nesting", "protocol", "yaml-too-deep",
         _protocol(b"".join(b" " * i + b"k:\n" for i in range(500)))),
    Case("yaml_not_utf8", "protocol", "not-utf8", _protocol("study: Étude\n".encode("latin-1"))),
    Case("yaml_huge_scalar", "protocol", "file-too-large", _protocol(b"study: " + b"x" * (5 * 2**20))),
    Case("yaml_sparse_2gib", "protocol", "file-too-large", _protocol(how="sparse")),
    Case("yaml_fifo", "protocol", "not-a-file", _protocol(how="fifo")),
    Case("yaml_dev_zero", "protocol", "not-a-file", _protocol(how="zero")),
    Case("yaml_recursive_alias", "protocol", "yaml-recursive-alias", _protocol(b"a: &x [*x]\n")),
    Case("yaml_python_object", "protocol", "yaml-syntax", _protocol(b"a: !!python/object/apply:os.system [ls]\n")),
    Case("yaml_many_documents", "protocol", "yaml-many-documents", _protocol(b"a: 1\n---\nb: 2\n" * 1000)),
    Case("yaml_nul_bytes", "protocol", "not-text", _protocol(b"study: a\x00b\n")),
]


def _formula_without_value(sheet_xml: bytes) -> bytes:
    """The first numeric cell of the second row becomes ``=50+4`` with no saved value."""
    import re

    found = re.search(rb'<c r="([A-Z]+2)"( t="n")?><v>[^<]*</v></c>', sheet_xml)
    assert found, "no numeric cell in row 2"
    return sheet_xml[: found.start()] + b'<c r="' + found.group(1) + b'"><f>50+4</f></c>' + sheet_xml[found.end():]


def check(case: Case, path: Path) -> list[str]:
    """Error codes of ``path`` checked as the CLI does."""
    if case.kind == "protocol":
        from cartscope.analysis.protocol import ProtocolError, load_protocol

        try:
            load_protocol(path)
        except ProtocolError as exc:
            return [getattr(exc, "code", None) or "protocol"]
        return []
    from cartscope.cohort.validate import check_cohort

    checked = check_cohort(path)
    return [p.code for p in checked.problems if p.is_error]


def main(workdir: str, names: list[str]) -> None:
    root = Path(workdir)
    resource.setrlimit(resource.RLIMIT_AS, (6 * _GIB, 6 * _GIB))  # a runaway case fails here, not the machine
    base = make_base(root)
    import cartscope.analysis.protocol  # noqa: F401  (imports outside the timed checks)
    import cartscope.cohort.validate  # noqa: F401

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"baseline_rss": baseline}), flush=True)
    for case in CASES:
        if names and case.name not in names:
            continue
        path = case.build(root / case.name, base)
        started = time.perf_counter()
        try:
            codes = check(case, path)
            crashed = None
        except BaseException as exc:  # the corpus reports a crash as a finding, it does not stop
            codes, crashed = [], f"{type(exc).__name__}: {str(exc)[:200]}"
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"name": case.name, "codes": codes, "seconds": seconds, "peak_rss": peak,
                          "crashed": crashed}), flush=True)
        if case.kind == "cohort" and (root / case.name).is_dir():
            shutil.rmtree(root / case.name, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
