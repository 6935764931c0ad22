"""``cohort.yaml``: where each table of a cohort is and how to read it.

A folder holding ``cohort.yaml`` (or the path of the YAML file itself) is read through it::

    date_order: DMY                 # dates whose values do not decide their order
    data_cutoff: 2023-08-01         # leave out later records, censor follow-up there
    csv: {separator: ";", decimal: ",", encoding: cp1252}   # defaults for every CSV below
    tables:
      patients: {file: baseline.sav, columns: {PatID: patient_id, Dx: disease}}
      infusions: {file: hospital.xlsx, sheet: "CAR-T", date_order: DMY}
      labs: {file: cytokines.csv, separator: ";"}
    units:
      patients: {ldh: ukat/L, weight_kg: lb}   # the unit the file uses; converted on load
    analytes:
      - {name: sil6r, unit: ng/mL, aliases: [sIL-6R], lloq: 2}
    redcap: {records: export.csv, dictionary: dictionary.csv, mapping: redcap.yaml}

``tables`` may name any cohort table (and the ``toxicity`` / ``analytes`` source tables);
a table not listed is still looked for as ``<table>.csv`` / ``.parquet`` / ``.sav`` / ``.dta``
/ ``.sas7bdat`` / ``.xpt`` beside the manifest. ``columns`` renames the file's headers to cohort
columns; problems keep citing the header the file has. Every name is checked: an unknown key,
table or column is an error with a did-you-mean; a file, sheet or header that is not there is
an error naming it.
"""

from __future__ import annotations

import difflib
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cartscope.cohort import input_limits
from cartscope.cohort.csvtext import normalise_csv_bytes
from cartscope.cohort.dates import DATE_ORDERS, normalise_order
from cartscope.cohort.model import UnitConversion
from cartscope.cohort.problems import Problem, Severity
from cartscope.cohort.readers import RawSource, RawTable, read_csv_text, workbook_epoch
from cartscope.cohort.schema import SOURCE_TABLES, TABLES
from cartscope.cohort.statfiles import STAT_SUFFIXES, read_stat_table

MANIFEST_NAMES = ("cohort.yaml", "cohort.yml")
TOP_KEYS = ("version", "date_order", "data_cutoff", "csv", "tables", "units", "analytes", "redcap")
TABLE_KEYS = ("file", "sheet", "columns", "date_order", "encoding", "separator", "decimal")
CSV_KEYS = ("encoding", "separator", "decimal")
TABLE_SUFFIXES = (".csv", ".parquet", *STAT_SUFFIXES)
ALL_TABLES = {**TABLES, **SOURCE_TABLES}


@dataclass
class Manifest:
    """A parsed manifest (structure checked; files are opened by :func:`read_manifest_source`)."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def file(self) -> str:
        return self.path.name


def find_manifest(path: Path) -> Path | None:
    """The manifest of ``path``: the file itself (``.yaml``/``.yml``) or ``cohort.yaml`` in a folder."""
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        return path
    if path.is_dir():
        for name in MANIFEST_NAMES:
            if (path / name).is_file():
                return path / name
    return None


def load_yaml_text(data: bytes, source: str) -> object:
    """The manifest's YAML through the bounded loader (:mod:`cartscope.cohort.safe_yaml`)."""
    from cartscope.cohort.safe_yaml import load_yaml

    return load_yaml(data, source)


def _unknown(keys: object, allowed: tuple[str, ...], file: str, where: str, out: list[Problem]) -> None:
    if not isinstance(keys, dict):
        return
    for key in keys:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(Problem(file, None, f"{where}{key}", "manifest-unknown-key",
                               f"unknown key {str(key)!r} in {where.rstrip('.') or 'the manifest'} "
                               f"(keys: {', '.join(allowed)}){hint}"))


def _table_name(name: object, file: str, where: str, out: list[Problem]) -> str | None:
    key = str(name).strip().lower()
    if key in ALL_TABLES:
        return key
    close = difflib.get_close_matches(key, list(ALL_TABLES), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    out.append(Problem(file, None, f"{where}{name}", "manifest-unknown-table",
                       f"{str(name)!r} is not a cohort table (tables: {', '.join(ALL_TABLES)}){hint}"))
    return None


def parse_manifest(path: Path, out: list[Problem]) -> Manifest | None:
    """Read and check the structure of the manifest at ``path``; ``None`` when unusable."""
    from cartscope.cohort.safe_yaml import YamlError

    try:
        data = load_yaml_text(path.read_bytes(), path.name)
    except YamlError as exc:
        out.append(exc.problem)
        return None
    except OSError as exc:
        out.append(Problem(path.name, None, None, "unreadable", f"cannot read the manifest: {exc}"))
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        out.append(Problem(path.name, None, None, "manifest-not-mapping",
                           "the manifest must be a mapping of keys (date_order, tables, units, ...)"))
        return None
    before = len(out)
    _unknown(data, TOP_KEYS, path.name, "", out)
    if data.get("date_order") is not None and normalise_order(data["date_order"]) is None:
        out.append(Problem(path.name, None, "date_order", "bad-option",
                           f"date_order {data['date_order']!r} is not one of {', '.join(DATE_ORDERS)}"))
    for section in ("tables", "units", "csv", "redcap"):
        if data.get(section) is not None and not isinstance(data[section], dict):
            out.append(Problem(path.name, None, section, "manifest-not-mapping", f"{section} must be a mapping"))
    _unknown(data.get("csv"), CSV_KEYS, path.name, "csv.", out)
    for name, spec in (data.get("tables") or {}).items() if isinstance(data.get("tables"), dict) else ():
        table = _table_name(name, path.name, "tables.", out)
        if table is None:
            continue
        if isinstance(spec, str):
            continue
        if not isinstance(spec, dict):
            out.append(Problem(path.name, None, f"tables.{name}", "manifest-not-mapping",
                               f"tables.{name} must be a file name or a mapping with file, sheet, columns"))
            continue
        _unknown(spec, TABLE_KEYS, path.name, f"tables.{name}.", out)
        if spec.get("date_order") is not None and normalise_order(spec["date_order"]) is None:
            out.append(Problem(path.name, None, f"tables.{name}.date_order", "bad-option",
                               f"date_order {spec['date_order']!r} is not one of {', '.join(DATE_ORDERS)}"))
        columns = spec.get("columns") or {}
        if not isinstance(columns, dict):
            out.append(Problem(path.name, None, f"tables.{name}.columns", "manifest-not-mapping",
                               "columns must map the file's header names to cohort column names"))
            continue
        schema = ALL_TABLES[table]
        for header, target in columns.items():
            if str(target) not in schema.names and not schema.keep_extra_columns:
                close = difflib.get_close_matches(str(target), schema.names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                out.append(Problem(path.name, None, f"tables.{name}.columns.{header}", "manifest-unknown-column",
                                   f"{str(target)!r} is not a column of {table}{hint}"))
    units = data.get("units") if isinstance(data.get("units"), dict) else {}
    for name, cols in units.items():
        table = _table_name(name, path.name, "units.", out)
        if table is None or not isinstance(cols, dict):
            continue
        for col in cols:
            if str(col) not in ALL_TABLES[table].names:
                close = difflib.get_close_matches(str(col), ALL_TABLES[table].names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                out.append(Problem(path.name, None, f"units.{name}.{col}", "manifest-unknown-column",
                                   f"{str(col)!r} is not a column of {table}{hint}"))
    analytes = data.get("analytes")
    if analytes is not None and not isinstance(analytes, list | dict):
        out.append(Problem(path.name, None, "analytes", "manifest-not-mapping",
                           "analytes must be a list of entries or a mapping name -> entry"))
    if any(p.is_error for p in out[before:]):
        return None
    return Manifest(path, data)


def analyte_entries(manifest: Manifest) -> list[tuple[str, dict]]:
    """The manifest's analyte entries as ``(where, entry)`` for :meth:`AnalyteDictionary.extend`."""
    raw = manifest.data.get("analytes") or []
    if isinstance(raw, dict):
        return [(f"{manifest.file}: analytes.{k}", {"name": k, **(v or {})}) for k, v in raw.items()]
    return [(f"{manifest.file}: analytes[{i}]", dict(e) if isinstance(e, dict) else {"name": e})
            for i, e in enumerate(raw)]


# --- reading ---------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Workbooks:
    """Workbooks opened once however many tables they hold."""

    def __init__(self) -> None:
        self.open: dict[Path, object] = {}

    def get(self, path: Path, src: RawSource) -> object:
        import openpyxl

        if path not in self.open:
            data, refused = input_limits.read_bounded(path, path.name, input_limits.limits().max_workbook_bytes)
            if data is None:
                raise ValueError(refused.message)
            src.file_hashes[path.name] = _sha256(data)
            self.open[path] = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return self.open[path]

    def close(self) -> None:
        for wb in self.open.values():
            wb.close()  # type: ignore[attr-defined]


def read_table_file(
    name: str, path: Path, src: RawSource, *, sheet: str | None = None, csv_options: dict | None = None,
    workbooks: _Workbooks | None = None, where: str = "",
) -> RawTable | None:
    """One table from a CSV, XLSX sheet, Parquet or statistics-package file (problems into ``src``)."""
    from cartscope.cohort.readers import _read_sheet

    suffix = path.suffix.lower()
    if not path.exists():
        src.problems.append(Problem(where or path.name, None, None, "missing-file",
                                    f"{path.name} (table {name}) does not exist"))
        return None
    limit = input_limits.limits().max_workbook_bytes if suffix == ".xlsx" else input_limits.limits().max_table_bytes
    checked, refused = input_limits.read_bounded(path, path.name, limit)  # regular files of bounded size only
    if checked is None:
        src.problems.append(refused)
        return None
    if suffix in (".csv", ".txt", ".tsv"):
        data = checked
        src.file_hashes[path.name] = _sha256(data)
        opts = csv_options or {}
        if suffix == ".tsv" and not opts.get("separator"):
            opts = {**opts, "separator": "\t"}
        data = normalise_csv_bytes(data, path.name, src.problems, encoding=opts.get("encoding"),
                                   separator=opts.get("separator"), decimal=opts.get("decimal"))
        return read_csv_text(name, path.name, data, src.problems)
    if suffix == ".xlsx":
        books = workbooks or _Workbooks()
        try:
            wb = books.get(path, src)
        except Exception as exc:  # zipfile / xml errors for a damaged workbook
            src.problems.append(Problem(path.name, None, None, "unreadable", f"cannot read the workbook: {exc}"))
            return None
        names = list(wb.sheetnames)  # type: ignore[attr-defined]
        wanted = sheet if sheet is not None else next((s for s in names if s.strip().lower() == name), None)
        if wanted is None and len(names) == 1:
            wanted = names[0]
        if wanted not in names:
            close = difflib.get_close_matches(str(wanted or name), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            src.problems.append(Problem(where or path.name, None, None, "missing-sheet",
                                        f"{path.name} has no sheet {str(wanted or name)!r} for table {name} "
                                        f"(sheets: {', '.join(names)}){hint}"))
            return None
        table = _read_sheet(wb[wanted], name, f"{path.name}[{wanted}]", src.problems)  # type: ignore[index]
        if table is not None:
            table.epoch = workbook_epoch(wb)
        if workbooks is None:
            books.close()
        return table
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        data = checked
        src.file_hashes[path.name] = _sha256(data)
        try:
            frame = pq.read_table(io.BytesIO(data)).to_pandas()
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            src.problems.append(Problem(path.name, None, None, "unreadable", f"cannot read Parquet file: {exc}"))
            return None
        frame.columns = [str(c).strip() for c in frame.columns]
        return RawTable(name, path.name, frame.reset_index(drop=True), np.arange(2, len(frame) + 2, dtype=np.int64))
    if suffix in STAT_SUFFIXES:
        src.file_hashes[path.name] = _sha256(checked)
        return read_stat_table(path, name, path.name, src.problems)
    src.problems.append(Problem(where or path.name, None, None, "unsupported-format",
                                f"{path.name}: tables are read from .csv, .xlsx, .parquet, .sav, .dta, "
                                ".sas7bdat or .xpt files"))
    return None


def _apply_renames(table: RawTable, columns: dict, manifest: Manifest, name: str, src: RawSource) -> None:
    headers = {str(c).strip().lower(): str(c) for c in table.frame.columns}
    for header, target in columns.items():
        found = headers.get(str(header).strip().lower())
        if found is None:
            close = difflib.get_close_matches(str(header), list(table.frame.columns), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            src.problems.append(Problem(manifest.file, None, f"tables.{name}.columns.{header}", "manifest-no-header",
                                        f"{table.file} has no column {str(header)!r}{hint}"))
            continue
        table.renames[found] = str(target)


def _unit_factor(given: str, column_unit: str | None) -> tuple[float, float] | str:
    """``(scale, offset)`` turning a value in ``given`` into ``column_unit``, or why not."""
    from cartscope.cohort.units import DIMENSIONS, UnitError, conversion_factor, normalise_unit

    special = {("lb", "kg"): (0.45359237, 0.0), ("f", "C"): (1 / 1.8, -32 / 1.8),
               ("°f", "C"): (1 / 1.8, -32 / 1.8), ("months", "years"): (1 / 12, 0.0)}
    key = (given.strip().lower(), column_unit)
    if key in special:
        return special[key]
    if column_unit is None:
        return "the column has no unit"
    norm, target = normalise_unit(given), normalise_unit(column_unit) or column_unit
    if norm is None:
        return f"unknown unit {given!r}"
    if norm == target:
        return (1.0, 0.0)
    if norm not in DIMENSIONS or target not in DIMENSIONS:
        return f"{given} cannot be converted to {column_unit}"
    try:
        return (conversion_factor(norm, target), 0.0)
    except UnitError as exc:
        return str(exc)


def _apply_units(table: RawTable, units: dict, manifest: Manifest, name: str, src: RawSource) -> None:
    schema = ALL_TABLES[name]
    by_target = {str(t).lower(): h for h, t in table.renames.items()}
    headers = {str(c).strip().lower(): str(c) for c in table.frame.columns}
    for col, unit in units.items():
        header = by_target.get(str(col).lower()) or headers.get(str(col).lower())
        if header is None:
            continue
        column = schema.column(str(col))
        factor = _unit_factor(str(unit), column.unit)
        if isinstance(factor, str):
            src.problems.append(Problem(manifest.file, None, f"units.{name}.{col}", "manifest-bad-unit",
                                        f"{factor} ({col} is in {column.unit or 'no unit'})"))
            continue
        scale, offset = factor
        if scale == 1.0 and offset == 0.0:
            continue
        cells = table.frame[header].tolist()
        converted = 0
        for i, cell in enumerate(cells):
            try:
                value = float(str(cell).strip()) if cell is not None and not isinstance(cell, bool) else None
            except ValueError:
                value = None
            if value is not None and np.isfinite(value):
                cells[i] = value * scale + offset
                converted += 1
        table.frame[header] = cells
        if converted:
            src.conversions.append(UnitConversion(name, str(col), str(unit), str(column.unit), scale, converted))


def _discover(root: Path, name: str) -> Path | None:
    for suffix in TABLE_SUFFIXES:
        for candidate in (root / f"{name}{suffix}",):
            if candidate.is_file():
                return candidate
    return None


def read_manifest_source(manifest_path: Path) -> RawSource:
    """Every table the manifest at ``manifest_path`` names (and the default files beside it)."""
    src = RawSource(fmt="manifest", source=str(manifest_path.parent))
    data = manifest_path.read_bytes() if manifest_path.is_file() else b""
    src.file_hashes[manifest_path.name] = _sha256(data)
    manifest = parse_manifest(manifest_path, src.problems)
    if manifest is None:
        src.unreadable.update(TABLES)
        return src
    read_into(manifest, src)
    return src


def read_into(manifest: Manifest, src: RawSource) -> None:
    """Fill ``src`` with the manifest's tables, options and analyte entries."""
    data = manifest.data
    src.options.update({k: data[k] for k in ("date_order", "data_cutoff") if data.get(k) is not None})
    src.analyte_entries.extend(analyte_entries(manifest))
    csv_defaults = dict(data.get("csv") or {})
    books = _Workbooks()
    try:
        if data.get("redcap"):
            from cartscope.cohort.redcap import read_redcap_into

            read_redcap_into(manifest, data["redcap"], src)
        specs = {str(k).strip().lower(): v for k, v in (data.get("tables") or {}).items()}
        for name in ALL_TABLES:
            if name in src.tables:
                continue
            spec = specs.get(name)
            if spec is None:
                path = _discover(manifest.root, name)
                if path is None:
                    continue
                spec = {"file": path.name}
            if isinstance(spec, str):
                spec = {"file": spec}
            if not spec.get("file"):
                src.problems.append(Problem(manifest.file, None, f"tables.{name}", "manifest-no-file",
                                            f"tables.{name} names no file"))
                src.unreadable.add(name)
                continue
            options = {**csv_defaults, **{k: spec[k] for k in CSV_KEYS if k in spec}}
            table = read_table_file(name, manifest.root / str(spec["file"]), src, sheet=spec.get("sheet"),
                                    csv_options=options, workbooks=books, where=manifest.file)
            if table is None:
                src.unreadable.add(name)
                continue
            if spec.get("date_order"):
                table.date_order = normalise_order(spec["date_order"])
            _apply_renames(table, spec.get("columns") or {}, manifest, name, src)
            units = (data.get("units") or {}).get(name) or {}
            _apply_units(table, units, manifest, name, src)
            src.tables[name] = table
    finally:
        books.close()
    if src.problems and any(p.code.startswith("manifest-") and p.is_error for p in src.problems):
        return
    for path in sorted(manifest.root.iterdir()):
        if path.suffix.lower() in TABLE_SUFFIXES and path.name not in src.file_hashes and \
                path.stem.lower() not in ALL_TABLES:
            src.problems.append(Problem(path.name, None, None, "unknown-table",
                                        f"{path.name} is neither named in {manifest.file} nor a cohort table; "
                                        "ignored", Severity.WARNING))


def read_stat_folder(root: Path) -> RawSource:
    """A folder whose tables are (some of them) statistics-package files, without a manifest."""
    src = RawSource(fmt="files", source=str(root))
    read_into(Manifest(root / "cohort.yaml", {}), src)
    return src


def has_stat_tables(root: Path) -> bool:
    return root.is_dir() and any(p.suffix.lower() in STAT_SUFFIXES and p.stem.lower() in ALL_TABLES
                                 for p in root.iterdir())
