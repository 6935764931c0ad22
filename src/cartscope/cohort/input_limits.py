"""Bounded input: every cohort file is checked against size limits before it is parsed.

A hostile or broken file must cost a bounded amount of memory and time and give one clear
problem line, never a traceback, a hang or an echo of its contents. The checks here run
before the readers of :mod:`cartscope.cohort.readers` build anything:

- **only regular files** are read (:func:`read_bounded`): the file is opened without
  blocking and checked with ``fstat`` on the open descriptor, so a FIFO, a device
  (``/dev/zero`` behind a symlink), a socket or a symlink loop is refused, never read;
  a file larger than its limit is refused before a byte is read;
- **CSV** (:func:`check_csv`): bytes, physical line length, header columns and rows, all
  counted on the raw bytes in one pass without decoding or splitting the file;
- **XLSX** (:func:`check_xlsx`): the zip directory is read first: member count, the sum of
  the declared unpacked sizes, the unpacked size of the shared strings (the classic bomb:
  one 1 GiB string in a 1 MB file) and of each worksheet; then XML that declares a DOCTYPE
  or entities is refused; each worksheet's XML is streamed (bounded by its declared size,
  which ``zipfile`` enforces while inflating) to count its real rows and columns (the
  declared ``<dimension>`` is not trusted) and to find formula cells without a saved value;
  a damaged member (bad CRC) is a problem, not a traceback;
- **Parquet** (:func:`check_parquet`): rows and columns from the footer before reading.

The limits are an :class:`InputLimits`; :func:`configure` changes the defaults for the
process (the CLI and the web application take them from ``CARTSCOPE_INPUT_LIMITS``, e.g.
``max_rows=2000000,max_table_bytes=500000000``).
"""

from __future__ import annotations

import dataclasses
import errno
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from cartscope.cohort.problems import Problem


@dataclass(frozen=True)
class InputLimits:
    """Bounds of one cohort source (every one a clear problem when exceeded)."""

    max_table_bytes: int = 100 * 2**20
    """Bytes of one CSV or Parquet table file."""
    max_workbook_bytes: int = 100 * 2**20
    """Bytes of one XLSX file as stored (compressed)."""
    max_unpacked_bytes: int = 512 * 2**20
    """Sum of the unpacked sizes of a workbook's members."""
    max_shared_strings_bytes: int = 64 * 2**20
    """Unpacked bytes of a workbook's shared-strings part."""
    max_sheet_bytes: int = 256 * 2**20
    """Unpacked bytes of one worksheet's XML."""
    max_members: int = 1000
    """Members of a workbook's zip archive."""
    max_rows: int = 1_000_000
    """Rows of one table."""
    max_columns: int = 1000
    """Columns of one table."""
    max_line_bytes: int = 1 * 2**20
    """Bytes of one physical CSV line."""
    max_cells: int = 10_000_000
    """Cells of one worksheet."""


DEFAULT = InputLimits()
_current = DEFAULT


def configure(limits: InputLimits | None = None, **changes: int) -> InputLimits:
    """Set the process-wide limits (``None``: the defaults) with any field changed; returns them."""
    global _current
    _current = dataclasses.replace(limits or DEFAULT, **changes)
    return _current


def limits() -> InputLimits:
    """The limits in force (see :func:`configure`)."""
    return _current


def limits_from_env(value: str | None = None) -> InputLimits:
    """Limits from ``CARTSCOPE_INPUT_LIMITS`` (``name=int,...``); unknown names are an error."""
    text = os.environ.get("CARTSCOPE_INPUT_LIMITS", "") if value is None else value
    changes: dict[str, int] = {}
    names = {f.name for f in dataclasses.fields(InputLimits)}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, number = part.partition("=")
        key = key.strip()
        if key not in names:
            import difflib

            close = difflib.get_close_matches(key, sorted(names), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"CARTSCOPE_INPUT_LIMITS: unknown limit {key!r}{hint} (limits: {', '.join(sorted(names))})")
        try:
            changes[key] = int(number.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"CARTSCOPE_INPUT_LIMITS: {key} must be a whole number, got {number.strip()[:20]!r}") from None
        if changes[key] < 1:
            raise ValueError(f"CARTSCOPE_INPUT_LIMITS: {key} must be at least 1")
    return dataclasses.replace(DEFAULT, **changes)


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n} bytes"


def _problem(file: str, code: str, message: str, row: int | None = None, column: str | None = None) -> Problem:
    return Problem(file, row, column, code, message)


# --- regular files only ----------------------------------------------------------------

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_source_path(path: Path | str, file: str | None = None) -> Problem | None:
    """A problem when ``path`` is neither a regular file nor a folder (FIFO, device, loop)."""
    path = Path(path)
    file = file or path.name or str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _problem(file, "not-a-file", f"{file} is a symbolic link loop; give the file itself")
        return None  # absent: the reader reports it in its own words
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _problem(file, "not-a-file", f"{file} is {_kind(mode)}, not a file; only regular files are read")


def read_bounded(path: Path | str, file: str, max_bytes: int) -> tuple[bytes | None, Problem | None]:
    """The bytes of the regular file at ``path`` (at most ``max_bytes``), or a problem.

    Opened with ``O_NONBLOCK`` (a FIFO cannot hang the open) and checked with ``fstat`` on
    the descriptor itself, so what is read is what was checked.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, _problem(file, "not-a-file", f"{file} is a symbolic link loop; give the file itself")
        if exc.errno in (errno.ENXIO, errno.ENODEV):
            return None, _problem(file, "not-a-file", f"{file} is not a regular file; only regular files are read")
        return None, _problem(file, "unreadable", f"cannot open {file}: {exc.strerror}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, _problem(file, "not-a-file",
                                  f"{file} is {_kind(info.st_mode)}, not a file; only regular files are read")
        if info.st_size > max_bytes:
            return None, _problem(file, "file-too-large",
                                  f"{file} has {_mb(info.st_size)}; the limit is {_mb(max_bytes)} "
                                  "(raise it with CARTSCOPE_INPUT_LIMITS if the data is real)")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                return None, _problem(file, "file-too-large", f"{file} grew past the limit of {_mb(max_bytes)} while read")
        return b"".join(chunks), None
    except OSError as exc:
        return None, _problem(file, "unreadable", f"cannot read {file}: {exc.strerror}")
    finally:
        os.close(fd)


# --- CSV -----------------------------------------------------------------------------------


def check_csv(data: bytes, file: str, lim: InputLimits | None = None) -> Problem | None:
    """One problem when the CSV bytes break a limit (size, line length, header columns, rows)."""
    lim = lim or _current
    if len(data) > lim.max_table_bytes:
        return _problem(file, "file-too-large", f"{file} has {_mb(len(data))}; the limit is {_mb(lim.max_table_bytes)}")
    first = data.lstrip(b"\xef\xbb\xbf\r\n \t")
    header_end = first.find(b"\n")
    header = first if header_end < 0 else first[:header_end]
    if header.count(b",") + 1 > lim.max_columns:  # quoted commas only lower the real count
        import csv

        try:
            row = next(csv.reader(io.StringIO(header[: 64 * lim.max_columns].decode("utf-8", "replace"))), [])
        except csv.Error:
            row = [""] * (header.count(b",") + 1)
        if len(row) > lim.max_columns:
            return _problem(file, "too-many-columns",
                            f"the header has more than {lim.max_columns} columns "
                            f"({header.count(b',') + 1} fields); the limit is {lim.max_columns}", row=1)
    # physical lines: one pass over the bytes (find is C), no copy of the file
    pos, line, longest, longest_line = 0, 0, 0, 0
    size = len(data)
    while pos < size:
        end = data.find(b"\n", pos)
        end = size if end < 0 else end
        line += 1
        if end - pos > longest:
            longest, longest_line = end - pos, line
            if longest > lim.max_line_bytes:
                return _problem(file, "line-too-long",
                                f"line {line} has more than {_mb(lim.max_line_bytes)}; the limit is "
                                f"{_mb(lim.max_line_bytes)} per line (is this a CSV file?)", row=line)
        pos = end + 1
    if line - 1 > lim.max_rows:
        return _problem(file, "too-many-rows", f"{file} has {line - 1} rows; the limit is {lim.max_rows}")
    return None


# --- XLSX ----------------------------------------------------------------------------------

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")


def column_number(letters: str) -> int:
    """``A`` -> 1, ``Z`` -> 26, ``AA`` -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass(frozen=True)
class SheetScan:
    """What streaming a worksheet's XML found (real extent, not the declared one)."""

    name: str
    rows: int
    max_row: int
    max_column: int
    declared: str | None
    formulas_without_value: tuple[tuple[str, str], ...]
    """(cell reference, formula text) of each formula cell that has no saved value."""


@dataclass(frozen=True)
class WorkbookScan:
    problems: tuple[Problem, ...]
    sheets: dict[str, SheetScan]


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet member, from workbook.xml and its relationships."""
    try:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {}
    for rel in rels.iter(f"{_NS_PKG}Relationship"):
        target = rel.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = member
    out = {}
    for sheet in book.iter(f"{_NS_MAIN}sheet"):
        rid = sheet.get(f"{_NS_REL}id")
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
    return out


class _Stop(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def _scan_sheet(zf: zipfile.ZipFile, member: str, name: str, file: str, lim: InputLimits) -> tuple[SheetScan | None, Problem | None]:
    """Stream one worksheet's XML through expat (no tree is built): real rows and columns,
    the declared dimension, and formula cells without a saved value."""
    import pyexpat

    where = f"{file}[{name}]"
    state = {"rows": 0, "max_row": 0, "max_col": 0, "declared": None, "ref": None, "formula": None,
             "value": False, "in_f": False, "in_v": False}
    formulas: list[tuple[str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(" ")[2]
        if local == "c":
            ref = attrs.get("r")
            state["ref"], state["formula"], state["value"] = ref, None, False
            found = _CELL_REF.fullmatch(ref) if ref else None
            if found:
                col = column_number(found.group(1))
                if col > state["max_col"]:
                    state["max_col"] = col
                    if col > lim.max_columns:
                        raise _Stop(_problem(where, "too-many-columns",
                                             f"sheet {name!r} has a cell in column {found.group(1)} (column {col}); "
                                             f"the limit is {lim.max_columns} columns",
                                             row=int(found.group(2)), column=ref))
        elif local == "row":
            state["rows"] += 1
            r = attrs.get("r")
            state["max_row"] = int(r) if r and r.isdigit() and len(r) < 12 else state["max_row"] + 1
            if state["rows"] > lim.max_rows or state["max_row"] > lim.max_rows:
                raise _Stop(_problem(where, "too-many-rows", f"sheet {name!r} has more than {lim.max_rows} rows; "
                                                             f"the limit is {lim.max_rows}"))
        elif local == "f":
            state["in_f"], state["formula"] = True, state["formula"] or ""
        elif local == "v":
            state["in_v"] = True
        elif local == "is":
            state["value"] = True
        elif local == "dimension":
            state["declared"] = attrs.get("ref")

    def end(tag: str) -> None:
        local = tag.rpartition(" ")[2]
        if local == "c":
            if state["formula"] is not None and not state["value"]:
                formulas.append((state["ref"] or "?", (state["formula"] or "(shared formula)")[:40]))
        elif local == "f":
            state["in_f"] = False
        elif local == "v":
            state["in_v"] = False

    def text(data: str) -> None:
        if state["in_f"] and len(state["formula"]) < 40:
            state["formula"] += data
        elif state["in_v"] and data.strip():
            state["value"] = True

    counted = _count_tags(zf, member, where, name, lim)
    if counted is not None:
        return None, counted
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        with zf.open(member) as stream:
            while chunk := stream.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop as stop:
        return None, stop.problem
    except zipfile.BadZipFile as exc:
        return None, _problem(where, "damaged-file", f"the workbook is damaged ({_short(exc)}); save it again")
    except pyexpat.ExpatError as exc:
        return None, _problem(where, "damaged-file", f"the worksheet XML of sheet {name!r} is not well formed "
                                                     f"({_short(exc)})")
    except (EOFError, OSError, ValueError, zlib_error()) as exc:
        return None, _problem(where, "damaged-file", f"the workbook is damaged ({_short(exc)}); save it again")
    return SheetScan(name, state["rows"], state["max_row"], state["max_col"], state["declared"], tuple(formulas)), None


def _count_tags(zf: zipfile.ZipFile, member: str, where: str, name: str, lim: InputLimits) -> Problem | None:
    """Rows and cells counted on the raw XML at C speed, before anything is parsed."""
    rows = cells = 0
    tail = b""
    try:
        with zf.open(member) as stream:
            while chunk := stream.read(1 << 22):
                block = tail + chunk
                rows += block.count(b"<row") - tail.count(b"<row")
                cells += block.count(b"<c ") + block.count(b"<c>") - tail.count(b"<c ") - tail.count(b"<c>")
                tail = block[-8:]
                if rows > lim.max_rows:
                    return _problem(where, "too-many-rows", f"sheet {name!r} has more than {lim.max_rows} rows; "
                                                            f"the limit is {lim.max_rows}")
                if cells > lim.max_cells:
                    return _problem(where, "too-many-cells", f"sheet {name!r} has more than {lim.max_cells} cells; "
                                                             f"the limit is {lim.max_cells}")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib_error()) as exc:
        return _problem(where, "damaged-file", f"the workbook is damaged ({_short(exc)}); save it again")
    return None


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def _short(exc: BaseException, limit: int = 80) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_xlsx(data: bytes, file: str, lim: InputLimits | None = None) -> WorkbookScan:
    """Check a workbook's archive and stream its worksheets; problems stop the read (errors)."""
    lim = lim or _current
    if len(data) > lim.max_workbook_bytes:
        return WorkbookScan((_problem(file, "file-too-large", f"{file} has {_mb(len(data))}; "
                                                              f"the limit is {_mb(lim.max_workbook_bytes)}"),), {})
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        return WorkbookScan((_problem(file, "unreadable", f"cannot read the workbook: not an .xlsx file "
                                                          f"({_short(exc)})"),), {})
    with zf:
        infos = zf.infolist()
        if len(infos) > lim.max_members:
            return WorkbookScan((_problem(file, "too-many-parts", f"the workbook has {len(infos)} parts; "
                                                                  f"the limit is {lim.max_members}"),), {})
        unpacked = sum(i.file_size for i in infos)
        if unpacked > lim.max_unpacked_bytes:
            return WorkbookScan((_problem(file, "unpacked-too-large",
                                          f"the workbook unpacks to {_mb(unpacked)}; the limit is "
                                          f"{_mb(lim.max_unpacked_bytes)} (a zip bomb?)"),), {})
        for info in infos:
            if info.filename.lower() == "xl/sharedstrings.xml" and info.file_size > lim.max_shared_strings_bytes:
                return WorkbookScan((_problem(file, "shared-strings-too-large",
                                              f"the workbook's shared strings unpack to {_mb(info.file_size)}; "
                                              f"the limit is {_mb(lim.max_shared_strings_bytes)}"),), {})
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                try:
                    with zf.open(info) as stream:
                        head = stream.read(4096)
                except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib_error()) as exc:
                    return WorkbookScan((_problem(file, "damaged-file",
                                                  f"the workbook is damaged ({_short(exc)}); save it again"),), {})
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    return WorkbookScan((_problem(file, "xml-entities",
                                                  f"the workbook part {info.filename[:60]!r} declares XML entities "
                                                  "(not written by spreadsheet programs; refused)"),), {})
        sheets: dict[str, SheetScan] = {}
        for name, member in _sheet_paths(zf).items():
            try:
                info = zf.getinfo(member)
            except KeyError:
                continue
            if info.file_size > lim.max_sheet_bytes:
                return WorkbookScan((_problem(f"{file}[{name}]", "sheet-too-large",
                                              f"sheet {name!r} unpacks to {_mb(info.file_size)}; the limit is "
                                              f"{_mb(lim.max_sheet_bytes)}"),), sheets)
            scan, problem = _scan_sheet(zf, member, name, file, lim)
            if problem is not None:
                return WorkbookScan((problem,), sheets)
            sheets[name] = scan
        # every other member must inflate cleanly too (a bad CRC anywhere is a damaged file)
        bad = _first_bad_member(zf)
        if bad is not None:
            return WorkbookScan((_problem(file, "damaged-file", f"the workbook is damaged: part {bad[:60]!r} fails "
                                                                "its checksum; save it again"),), sheets)
    return WorkbookScan((), sheets)


def _first_bad_member(zf: zipfile.ZipFile) -> str | None:
    try:
        return zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, zlib_error()):
        return "(archive)"


def formula_problems(scan: SheetScan, file: str, table_severity: object = None) -> list[Problem]:
    """One error per formula cell without a saved value (its value would silently be missing)."""
    out = []
    for ref, formula in scan.formulas_without_value:
        found = _CELL_REF.fullmatch(ref)
        row = int(found.group(2)) if found else None
        out.append(Problem(file, row, ref, "formula-without-value",
                           f"cell {ref} holds a formula (={formula[:30]}) without a saved value; open the workbook "
                           "in a spreadsheet program and save it, or type the value"))
    return out


# --- Parquet -------------------------------------------------------------------------------


def check_parquet(data: bytes, file: str, lim: InputLimits | None = None) -> Problem | None:
    """Rows and columns from the Parquet footer, checked before the table is read."""
    lim = lim or _current
    if len(data) > lim.max_table_bytes:
        return _problem(file, "file-too-large", f"{file} has {_mb(len(data))}; the limit is {_mb(lim.max_table_bytes)}")
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        return _problem(file, "unreadable", f"cannot read Parquet file: {_short(exc)}")
    if meta.num_columns > lim.max_columns:
        return _problem(file, "too-many-columns", f"{file} has {meta.num_columns} columns; the limit is {lim.max_columns}")
    if meta.num_rows > lim.max_rows:
        return _problem(file, "too-many-rows", f"{file} has {meta.num_rows} rows; the limit is {lim.max_rows}")
    return None


__all__ = ["DEFAULT", "InputLimits", "SheetScan", "WorkbookScan", "check_csv", "check_parquet", "check_source_path",
           "check_xlsx", "column_number", "configure", "formula_problems", "limits", "limits_from_env", "read_bounded"]
