"""A starter REDCap mapping from a data dictionary (``cartscope redcap map --dictionary DICT.csv``).

Each form is matched to the cohort table whose column names its fields resemble most (a field
``inf_date`` in form ``infusion`` is ``date`` of ``infusions``); fields are matched to columns
by name without the form's prefix, then by label. What is matched is written as a mapping,
everything else as comments to fill in, so the user edits rather than writes from scratch. The
result passes :func:`cartscope.cohort.redcap.check_mapping` (it names only existing fields).
"""

from __future__ import annotations

import difflib
import re

import yaml

from cartscope.cohort.redcap import Field
from cartscope.cohort.schema import TABLES

FORM_HINTS = {
    "patients": ("baseline", "demograph", "enrol", "enroll", "patient", "registration"),
    "infusions": ("infusion", "cart", "car_t", "product"),
    "assessments": ("response", "assessment", "marrow", "pet", "mrd"),
    "events": ("follow", "event", "outcome", "death", "relapse", "survival"),
    "labs": ("lab", "cytokine", "chemistry", "blood", "biomarker"),
    "kinetics": ("kinetic", "expansion", "pcr", "flow_car", "persistence"),
    "toxicity_daily": ("daily", "toxicity", "crs", "icans", "vitals"),
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _column_for(field: Field, table: str) -> str | None:
    names = TABLES[table].names
    stem = _key(field.name)
    form = _key(field.form)
    candidates = [stem, re.sub(rf"^({form}|{form[:3]}|{form[:4]})_", "", stem), _key(field.label)]
    for c in candidates:
        if c in names:
            return c
    for c in candidates[:2]:
        close = difflib.get_close_matches(c, names, n=1, cutoff=0.85)
        if close:
            return close[0]
    if field.type == "text" and field.validation.startswith("date") and "date" in names:
        return "date"
    return None


def _table_for(form: str, fields: list[Field]) -> str | None:
    scores = {t: sum(_column_for(f, t) not in (None, "patient_id") for f in fields) for t in TABLES}
    for table, hints in FORM_HINTS.items():
        if any(h in _key(form) for h in hints):
            scores[table] += 2
    best = max(scores, key=lambda t: scores[t])
    return best if scores[best] > 0 else None


def starter_mapping(fields: dict[str, Field]) -> str:
    """YAML text of a first mapping for the dictionary ``fields`` (record id = first field)."""
    record_id = next(iter(fields))
    forms: dict[str, list[Field]] = {}
    for f in fields.values():
        if f.type not in ("descriptive", "calc"):
            forms.setdefault(f.form, []).append(f)
    tables: dict[str, list[dict]] = {}
    notes: list[str] = []
    for form, members in forms.items():
        table = _table_for(form, members)
        if table is None:
            notes.append(f"# form {form!r}: no cohort table recognised (fields: {', '.join(f.name for f in members)})")
            continue
        columns: dict[str, str] = {"patient_id": record_id}
        unmatched = []
        for f in members:
            if f.name == record_id:
                continue
            col = _column_for(f, table)
            if col and col not in columns:
                columns[col] = f.name
            else:
                unmatched.append(f.name)
        tables.setdefault(table, []).append({"form": form, "columns": columns})
        if unmatched:
            notes.append(f"# form {form!r} -> {table}: fields not mapped yet: {', '.join(unmatched)}")
    body = {"record_id": record_id,
            "tables": {t: (b[0] if len(b) == 1 else b) for t, b in tables.items()}}
    head = ("# Starter mapping written by `cartscope redcap map`: check every line.\n"
            "# A column is 'cohort column: REDCap field'; {value: X} is a constant; repeating forms give\n"
            "# one row per instance (infusion_no: redcap_repeat_instance); labs may melt fields with\n"
            "# analytes: {il6: il6_field}. See docs/import.md.\n")
    return head + yaml.safe_dump(body, sort_keys=False) + ("\n".join(notes) + "\n" if notes else "")


def redcap_map_command(dictionary: str, out: str | None) -> tuple[str, list]:
    """The mapping text and the problems of reading ``dictionary`` (the CLI prints them)."""
    from pathlib import Path

    from cartscope.cohort.redcap import read_dictionary

    problems: list = []
    path = Path(dictionary)
    if not path.is_file():
        from cartscope.cohort.problems import Problem

        return "", [Problem(path.name, None, None, "no-such-path", f"{path} does not exist")]
    fields = read_dictionary(path.read_bytes(), path.name, problems)
    if not fields:
        return "", problems
    text = starter_mapping(fields)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    return text, problems
