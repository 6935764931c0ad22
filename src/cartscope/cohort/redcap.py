"""REDCap exports: records (flat or EAV, longitudinal, repeating instruments) + data dictionary
+ a mapping to cohort tables.

REDCap (https://projectredcap.org) exports a project as a *records* CSV and a *data dictionary*
CSV (or the same through its API, ``content=record`` / ``content=metadata``):

- **flat** records: one row per record x event x repeat instance, one column per field, plus
  ``redcap_event_name`` (longitudinal projects), ``redcap_repeat_instrument`` and
  ``redcap_repeat_instance`` (repeating instruments); checkbox fields as ``field___code``;
- **EAV** records: one row per value, columns ``record``, ``redcap_event_name``,
  ``redcap_repeat_instrument``, ``redcap_repeat_instance``, ``field_name``, ``value``;
- the **dictionary** gives each field its form, type, label, choices (``1, Female | 2, Male``)
  and text validation (``date_ymd``, ``date_dmy``, ``integer``, ``number``); ``Field Note`` or a
  label ending in ``(pg/mL)`` may state a unit.

Coded values of radio / dropdown / yesno / truefalse fields are decoded to their labels; a
date field's validation (``date_dmy`` ...) gives its date order. The **mapping** (YAML, the
``mapping:`` of ``redcap:`` in ``cohort.yaml``; :func:`cartscope.cohort.redcap_map.starter_mapping`
writes a first one) says which form feeds which table::

    record_id: record_id
    tables:
      patients: {form: baseline, columns: {patient_id: record_id, disease: dx, sex: sex}}
      infusions: {form: infusion, columns: {patient_id: record_id, infusion_no: redcap_repeat_instance,
                                            date: inf_date, product: product}}
      events:
        - {form: followup, when: death_date, columns: {patient_id: record_id, date: death_date,
                                                       type: {value: death}}}
      labs: {form: cytokines, columns: {patient_id: record_id, date: lab_date},
             analytes: {il6: il6, ferritin: {field: ferr, unit: ng/mL}}}

A block takes the rows of its form (the rows of that repeating instrument, or the
non-repeating rows, of the ``event`` when one is given) that have a value in any mapped field
(or in ``when``); ``{value: X}`` is a constant; ``analytes`` turns one row into one labs row per
analyte with a value. Every problem cites the records file, its line, the REDCap field, and
the record, event and instance in the message.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cartscope.cohort.csvtext import decode_bytes
from cartscope.cohort.problems import Problem
from cartscope.cohort.readers import RawSource, RawTable
from cartscope.cohort.schema import SOURCE_TABLES, TABLES
from cartscope.cohort.units import normalise_unit

SPECIAL = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group")
EAV_COLUMNS = {"record", "field_name", "value"}
_DICT_HEADERS = {
    "variable / field name": "field_name", "field_name": "field_name",
    "form name": "form_name", "form_name": "form_name",
    "field type": "field_type", "field_type": "field_type",
    "field label": "field_label", "field_label": "field_label",
    "choices, calculations, or slider labels": "choices", "select_choices_or_calculations": "choices",
    "field note": "field_note", "field_note": "field_note",
    "text validation type or show slider number": "validation",
    "text_validation_type_or_show_slider_number": "validation",
}
MAPPING_KEYS = ("record_id", "tables")
BLOCK_KEYS = ("form", "event", "when", "columns", "analytes")
ALL_TABLES = {**TABLES, **SOURCE_TABLES}


@dataclass(frozen=True)
class Field:
    """One field of the data dictionary."""

    name: str
    form: str
    type: str
    label: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    validation: str = ""
    note: str = ""

    @property
    def unit(self) -> str | None:
        """The unit the note or the label's trailing parentheses state, when it is a known unit."""
        for text in (self.note, *re.findall(r"\(([^()]+)\)\s*$", self.label)):
            if text and normalise_unit(text.strip()):
                return normalise_unit(text.strip())
        return None

    @property
    def date_order(self) -> str | None:
        match = re.match(r"^(?:date|datetime(?:_seconds)?)_(dmy|mdy|ymd)$", self.validation.strip().lower())
        return match.group(1).upper() if match else None

    def decode(self, value: str) -> str:
        if self.type in ("radio", "dropdown") and value in self.choices:
            return self.choices[value]
        if self.type == "yesno":
            return {"1": "Yes", "0": "No"}.get(value, value)
        if self.type == "truefalse":
            return {"1": "True", "0": "False"}.get(value, value)
        return value


def parse_choices(text: str) -> dict[str, str]:
    """``"1, Female | 2, Male"`` -> ``{"1": "Female", "2": "Male"}``."""
    out: dict[str, str] = {}
    for part in str(text or "").split("|"):
        if "," in part:
            code, label = part.split(",", 1)
            out[code.strip()] = label.strip()
    return out


def _csv_rows(data: bytes, file: str, out: list[Problem]) -> tuple[list[str], list[tuple[int, list[str]]]] | None:
    text, _ = decode_bytes(data)
    if text is None:
        out.append(Problem(file, None, None, "not-utf8", f"{file} is not UTF-8 text"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    last = 0
    for record in reader:
        first, last = last + 1, reader.line_num
        if not any(c.strip() for c in record):
            continue
        if header is None:
            header = [c.strip() for c in record]
            continue
        rows.append((first, record))
    if header is None:
        out.append(Problem(file, None, None, "empty-file", f"{file} is empty"))
        return None
    return header, rows


def read_dictionary(data: bytes, file: str, out: list[Problem]) -> dict[str, Field]:
    """The data dictionary (CSV as REDCap downloads it, or API metadata) by field name."""
    parsed = _csv_rows(data, file, out)
    if parsed is None:
        return {}
    header, rows = parsed
    index = {_DICT_HEADERS[h.lower()]: i for i, h in enumerate(header) if h.lower() in _DICT_HEADERS}
    for need in ("field_name", "form_name", "field_type"):
        if need not in index:
            out.append(Problem(file, 1, need, "redcap-dictionary",
                               f"{file} is not a REDCap data dictionary: no {need.replace('_', ' ')} column"))
            return {}

    def cell(row: list[str], key: str) -> str:
        i = index.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    fields: dict[str, Field] = {}
    for _, row in rows:
        name = cell(row, "field_name")
        if name:
            fields[name] = Field(name, cell(row, "form_name"), cell(row, "field_type").lower(),
                                 cell(row, "field_label"), parse_choices(cell(row, "choices")),
                                 cell(row, "validation"), cell(row, "field_note"))
    return fields


@dataclass
class Row:
    """One record x event x repeat instance of the export, with the line it came from."""

    record: str
    event: str
    instrument: str
    instance: str
    line: int
    values: dict[str, str] = field(default_factory=dict)

    @property
    def context(self) -> str:
        parts = [f"record {self.record}"]
        if self.event:
            parts.append(f"event {self.event}")
        if self.instrument:
            parts.append(f"{self.instrument} instance {self.instance or 1}")
        return ", ".join(parts)


def read_records(data: bytes, file: str, record_id: str | None, out: list[Problem]) -> tuple[list[Row], str]:
    """The export's rows (flat or EAV) and the record-id field name."""
    parsed = _csv_rows(data, file, out)
    if parsed is None:
        return [], record_id or "record_id"
    header, lines = parsed
    lower = [h.lower() for h in header]
    if EAV_COLUMNS <= set(lower):
        pos = {h: lower.index(h) for h in lower}
        rid = record_id or "record_id"
        rows: dict[tuple[str, str, str, str], Row] = {}
        for line, rec in lines:
            def get(key: str) -> str:
                i = pos.get(key)
                return rec[i].strip() if i is not None and i < len(rec) else ""
            key = (get("record"), get("redcap_event_name"), get("redcap_repeat_instrument"),
                   get("redcap_repeat_instance"))
            row = rows.setdefault(key, Row(*key, line=line, values={
                rid: key[0], "redcap_event_name": key[1], "redcap_repeat_instrument": key[2],
                "redcap_repeat_instance": key[3]}))
            name = get("field_name")
            value = get("value")
            if name in row.values and row.values[name] and value:  # a checkbox exported as one row per choice
                row.values[f"{name}___{value}"] = "1"
                continue
            row.values[name] = value
        return list(rows.values()), rid
    rid = record_id or header[0]
    if rid not in header:
        out.append(Problem(file, 1, rid, "redcap-no-record-id", f"{file} has no record-id column {rid!r}"))
        return [], rid
    rows_out = []
    for line, rec in lines:
        values = {h: (rec[i].strip() if i < len(rec) else "") for i, h in enumerate(header)}
        rows_out.append(Row(values[rid], values.get("redcap_event_name", ""),
                            values.get("redcap_repeat_instrument", ""), values.get("redcap_repeat_instance", ""),
                            line, values))
    return rows_out, rid


def _field_of(spec: object) -> tuple[str | None, str | None, str | None]:
    """(field, constant, unit) of a column spec: ``"field"``, ``{value: X}`` or ``{field: f, unit: u}``."""
    if isinstance(spec, dict):
        if "value" in spec:
            return None, str(spec["value"]), None
        return (str(spec["field"]) if spec.get("field") else None), None, (str(spec["unit"]) if spec.get("unit") else None)
    return str(spec), None, None


class MappingError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


def check_mapping(mapping: object, fields: dict[str, Field], file: str, record_id: str) -> list[Problem]:
    """Every name in the mapping resolved: tables, columns, forms and fields (did-you-mean)."""
    out: list[Problem] = []
    if not isinstance(mapping, dict):
        return [Problem(file, None, None, "redcap-mapping", "the mapping must be a mapping with tables:")]
    for key in mapping:
        if key not in MAPPING_KEYS:
            close = difflib.get_close_matches(str(key), MAPPING_KEYS, n=1)
            out.append(Problem(file, None, str(key), "redcap-mapping",
                               f"unknown key {str(key)!r}" + (f"; did you mean {close[0]!r}?" if close else "")))
    known = set(fields) | set(SPECIAL) | {record_id}
    forms = {f.form for f in fields.values()}

    def check_field(name: str, where: str) -> None:
        base = name.split("___")[0]
        if base not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            out.append(Problem(file, None, where, "redcap-unknown-field",
                               f"{name!r} is not a field of the data dictionary"
                               + (f"; did you mean {close[0]!r}?" if close else "")))

    for table, blocks in (mapping.get("tables") or {}).items():
        if table not in ALL_TABLES:
            close = difflib.get_close_matches(str(table), list(ALL_TABLES), n=1)
            out.append(Problem(file, None, f"tables.{table}", "redcap-mapping",
                               f"{str(table)!r} is not a cohort table" + (f"; did you mean {close[0]!r}?" if close else "")))
            continue
        schema = ALL_TABLES[table]
        for b, block in enumerate(blocks if isinstance(blocks, list) else [blocks]):
            where = f"tables.{table}" + (f"[{b}]" if isinstance(blocks, list) else "")
            if not isinstance(block, dict):
                out.append(Problem(file, None, where, "redcap-mapping", "a table block must be a mapping"))
                continue
            for key in block:
                if key not in BLOCK_KEYS:
                    close = difflib.get_close_matches(str(key), BLOCK_KEYS, n=1)
                    out.append(Problem(file, None, f"{where}.{key}", "redcap-mapping",
                                       f"unknown key {str(key)!r}" + (f"; did you mean {close[0]!r}?" if close else "")))
            form = block.get("form")
            if form is not None and form not in forms:
                close = difflib.get_close_matches(str(form), sorted(forms), n=1)
                out.append(Problem(file, None, f"{where}.form", "redcap-unknown-form",
                                   f"{str(form)!r} is not a form of the data dictionary"
                                   + (f"; did you mean {close[0]!r}?" if close else "")))
            if block.get("when"):
                check_field(str(block["when"]), f"{where}.when")
            for col, spec in (block.get("columns") or {}).items():
                if col not in schema.names and not schema.keep_extra_columns:
                    close = difflib.get_close_matches(str(col), schema.names, n=1)
                    out.append(Problem(file, None, f"{where}.columns.{col}", "redcap-mapping",
                                       f"{str(col)!r} is not a column of {table}"
                                       + (f"; did you mean {close[0]!r}?" if close else "")))
                name, _, _ = _field_of(spec)
                if name:
                    check_field(name, f"{where}.columns.{col}")
            if block.get("analytes") and table != "labs":
                out.append(Problem(file, None, f"{where}.analytes", "redcap-mapping", "analytes: belongs to labs"))
            for analyte, spec in (block.get("analytes") or {}).items():
                name, _, _ = _field_of(spec)
                if name:
                    check_field(name, f"{where}.analytes.{analyte}")
    return out


def _cell(row: Row, name: str, fields: dict[str, Field]) -> str:
    value = row.values.get(name, "")
    if name == "redcap_repeat_instance" and not value and row.instrument == "":
        return ""
    info = fields.get(name)
    return info.decode(value) if info is not None and value else value


def build_tables(
    rows: list[Row], fields: dict[str, Field], mapping: dict, file: str, record_id: str
) -> dict[str, RawTable]:
    """One :class:`RawTable` per mapped table (cells as text, rows at their export lines)."""
    repeating = {r.instrument for r in rows if r.instrument}
    tables: dict[str, RawTable] = {}
    for table, blocks in (mapping.get("tables") or {}).items():
        columns_out: dict[str, list[object]] = {}
        renames: dict[str, str] = {}
        lines: list[int] = []
        context: list[str] = []
        value_fields: list[str] = []
        unit_fields: list[str] = []
        date_order = None
        blocks = blocks if isinstance(blocks, list) else [blocks]
        n = 0
        for block in blocks:
            form = block.get("form")
            form_fields = {f for f, info in fields.items() if info.form == form}
            cols = {str(c): _field_of(s) for c, s in (block.get("columns") or {}).items()}
            analytes = {str(a): _field_of(s) for a, s in (block.get("analytes") or {}).items()}
            mapped = [f for f, _, _ in cols.values() if f and f in form_fields] + \
                     [f for f, _, _ in analytes.values() if f]
            for col, (name, _, _) in cols.items():
                if col == "date" and name in fields and fields[name].date_order:
                    date_order = fields[name].date_order
            for row in rows:
                if block.get("event") and row.event != block["event"]:
                    continue
                if form in repeating and row.instrument != form:
                    continue
                if form not in repeating and row.instrument:
                    continue
                if block.get("when"):
                    if not _cell(row, str(block["when"]), fields):
                        continue
                elif mapped and not any(row.values.get(f) for f in mapped):
                    continue
                items = [(None, None, None)] if not analytes else \
                    [(a, f, u) for a, (f, const, u) in analytes.items() if f and row.values.get(f)]
                for analyte, afield, aunit in items:
                    for col, (name, const, _) in cols.items():
                        header = name if name else f"={const}"
                        while header in columns_out and renames.get(header, col) != col:
                            header += "'"
                        renames[header] = col
                        columns_out.setdefault(header, [None] * n).append(const if name is None else _cell(row, name, fields))
                    if analyte is not None:
                        for col, value in (("analyte", analyte), ("value", _cell(row, afield, fields)),
                                           ("unit", aunit or (fields[afield].unit if afield in fields else None) or "")):
                            columns_out.setdefault(col, [None] * n).append(value)
                        value_fields.append(afield)
                        unit_fields.append(afield)
                    n += 1
                    for values in columns_out.values():
                        values.extend([None] * (n - len(values)))
                    lines.append(row.line)
                    context.append(row.context)
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns_out.items()}, dtype=object)
        frame = frame.where(frame.notna() & (frame != ""), None)
        raw = RawTable(str(table), file, frame.reset_index(drop=True), np.asarray(lines, dtype=np.int64), 1,
                       date_order=date_order, renames={k: v for k, v in renames.items() if k != v},
                       row_context=np.asarray(context, dtype=object))
        if value_fields:
            raw.column_fields = {"value": np.asarray(value_fields, dtype=object),
                                 "unit": np.asarray(unit_fields, dtype=object)}
        tables[str(table)] = raw
    return tables


def load_mapping(spec: Any, root: Path, out: list[Problem], where: str) -> tuple[dict | None, str]:
    """The mapping given inline or as a YAML file next to the manifest."""
    if isinstance(spec, dict):
        return spec, where
    from cartscope.cohort.safe_yaml import YamlError, load_yaml

    path = root / str(spec)
    try:
        data = load_yaml(path.read_bytes(), path.name)
    except YamlError as exc:
        out.append(exc.problem)
        return None, path.name
    except OSError:
        out.append(Problem(where, None, "redcap.mapping", "missing-file", f"{path.name} does not exist"))
        return None, path.name
    return data, path.name


def read_redcap_into(manifest: Any, spec: dict, src: RawSource) -> None:
    """Fill ``src`` from the ``redcap:`` section of a manifest (files or the API)."""
    import hashlib

    root, where = manifest.root, manifest.file
    if not isinstance(spec, dict):
        src.problems.append(Problem(where, None, "redcap", "manifest-not-mapping", "redcap must be a mapping"))
        return
    allowed = ("records", "dictionary", "mapping", "api_url", "token_env", "record_id")
    for key in spec:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            src.problems.append(Problem(where, None, f"redcap.{key}", "manifest-unknown-key",
                                        f"unknown key {str(key)!r} in redcap (keys: {', '.join(allowed)})"
                                        + (f"; did you mean {close[0]!r}?" if close else "")))
            return
    if spec.get("api_url"):
        from cartscope.cohort.redcap_api import ApiError, fetch_export

        try:
            records, dictionary = fetch_export(str(spec["api_url"]), str(spec.get("token_env") or "REDCAP_API_TOKEN"))
        except ApiError as exc:
            src.problems.append(Problem(where, None, "redcap.api_url", "redcap-api", str(exc)))
            return
        records_name, dict_name = "records.csv", "dictionary.csv"
    else:
        from cartscope.cohort import input_limits

        read: list[bytes] = []
        for key, default in (("records", "records.csv"), ("dictionary", "dictionary.csv")):
            path = root / str(spec.get(key, default))
            if not path.exists():
                src.problems.append(Problem(where, None, f"redcap.{key}", "missing-file", f"{path.name} does not exist"))
                return
            data, refused = input_limits.read_bounded(path, path.name, input_limits.limits().max_table_bytes)
            if data is None:
                src.problems.append(refused)
                return
            read.append(data)
        records, dictionary = read
        records_name = Path(str(spec.get("records", "records.csv"))).name
        dict_name = Path(str(spec.get("dictionary", "dictionary.csv"))).name
    src.file_hashes[records_name] = hashlib.sha256(records).hexdigest()
    src.file_hashes[dict_name] = hashlib.sha256(dictionary).hexdigest()
    fields = read_dictionary(dictionary, dict_name, src.problems)
    mapping, mapping_file = load_mapping(spec.get("mapping", "redcap.yaml"), root, src.problems, where)
    if not fields or mapping is None:
        src.unreadable.update(TABLES)
        return
    record_id = str(spec.get("record_id") or (mapping.get("record_id") if isinstance(mapping, dict) else None)
                    or next(iter(fields)))
    problems = check_mapping(mapping, fields, mapping_file, record_id)
    if problems:
        src.problems.extend(problems)
        src.unreadable.update(TABLES)
        return
    rows, record_id = read_records(records, records_name, record_id, src.problems)
    src.fmt = "redcap"
    src.tables.update(build_tables(rows, fields, mapping, records_name, record_id))
