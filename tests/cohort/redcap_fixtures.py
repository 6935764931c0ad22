"""A REDCap project equivalent to the ``good/dates`` cohort: data dictionary, flat and EAV
records (longitudinal: a baseline event and a follow-up event with repeating instruments), and
the mapping back to cohort tables. Used by the REDCap tests and the export-shape corpus."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import yaml

GOOD_DATES = Path(__file__).resolve().parent / "good" / "dates"
REPEATING = ("infusions", "assessments", "events", "labs", "kinetics", "toxicity_daily")
FORM = {"infusions": "infusion", "assessments": "response", "events": "followup", "labs": "labs",
        "kinetics": "kinetics", "toxicity_daily": "daily_tox"}
SEX = {"F": "1", "M": "2"}
DISEASE = {"B-ALL": "1", "DLBCL": "2"}
YESNO = {"yes": "1", "no": "0"}
DICT_HEADER = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
               "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
               "Text Validation Min", "Text Validation Max", "Identifier?"]


def twin_frames() -> dict[str, pd.DataFrame]:
    """The good/dates tables without the healthy-donor labs row (a donor is no REDCap record)."""
    frames = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(GOOD_DATES.glob("*.csv"))}
    frames["labs"] = frames["labs"][frames["labs"]["role"] != "healthy_donor"].reset_index(drop=True)
    return frames


def write_twin(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in twin_frames().items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _field(table: str, col: str) -> str:
    return col if table == "patients" else f"{FORM[table]}_{col}"


def dictionary_rows(frames: dict[str, pd.DataFrame]) -> list[list[str]]:
    rows = [["record_id", "baseline", "", "text", "Record ID", "", "", "", "", "", ""]]
    for table, frame in frames.items():
        form = "baseline" if table == "patients" else FORM[table]
        for col in frame.columns:
            if col == "patient_id":
                continue
            kind, choices, validation, note = "text", "", "", ""
            if table == "patients" and col == "sex":
                kind, choices = "radio", "1, Female | 2, Male"
            elif table == "patients" and col == "disease":
                kind, choices = "dropdown", "1, B-ALL | 2, DLBCL"
            elif table == "patients" and col in ("cns_involvement", "tp53"):
                kind = "yesno"
            elif col == "date":
                validation = "date_ymd"
            rows.append([_field(table, col), form, "", kind, col.replace("_", " ").title(), choices, note,
                         validation, "", "", ""])
    return rows


def flat_records(frames: dict[str, pd.DataFrame]) -> tuple[list[str], list[list[str]]]:
    fields = [r[0] for r in dictionary_rows(frames)]
    header = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", *fields[1:]]
    out = []
    for pid in frames["patients"]["patient_id"]:
        base = frames["patients"][frames["patients"]["patient_id"] == pid].iloc[0]
        row = dict.fromkeys(header, "")
        row.update(record_id=pid, redcap_event_name="baseline_arm_1")
        for col, value in base.items():
            if col == "patient_id":
                continue
            if col == "sex":
                value = SEX[value]
            elif col == "disease":
                value = DISEASE[value]
            elif col in ("cns_involvement", "tp53"):
                value = YESNO[value]
            row[col] = value
        out.append([row[h] for h in header])
        for table in REPEATING:
            frame = frames[table]
            for k, (_, rec) in enumerate(frame[frame["patient_id"] == pid].iterrows(), start=1):
                row = dict.fromkeys(header, "")
                row.update(record_id=pid, redcap_event_name="followup_arm_1", redcap_repeat_instrument=FORM[table],
                           redcap_repeat_instance=str(k))
                for col, value in rec.items():
                    if col != "patient_id":
                        row[_field(table, col)] = value
                out.append([row[h] for h in header])
    return header, out


def eav_records(frames: dict[str, pd.DataFrame]) -> tuple[list[str], list[list[str]]]:
    header, rows = flat_records(frames)
    out = []
    for row in rows:
        rec = dict(zip(header, row))
        for name in header[4:]:
            if rec[name] != "":
                out.append([rec["record_id"], rec["redcap_event_name"], rec["redcap_repeat_instrument"],
                            rec["redcap_repeat_instance"], name, rec[name]])
    return ["record", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "field_name",
            "value"], out


def mapping(frames: dict[str, pd.DataFrame]) -> dict:
    tables: dict[str, dict] = {}
    for table, frame in frames.items():
        columns = {"patient_id": "record_id"}
        columns.update({c: _field(table, c) for c in frame.columns if c != "patient_id"})
        block = {"form": "baseline" if table == "patients" else FORM[table], "columns": columns}
        if table == "patients":
            block["event"] = "baseline_arm_1"
        tables[table] = block
    return {"record_id": "record_id", "tables": tables}


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_project(folder: Path, *, eav: bool = False) -> Path:
    """records.csv, dictionary.csv, redcap.yaml and a cohort.yaml pointing at them."""
    frames = twin_frames()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dictionary.csv").write_bytes(_csv(DICT_HEADER, dictionary_rows(frames)))
    header, rows = eav_records(frames) if eav else flat_records(frames)
    (folder / "records.csv").write_bytes(_csv(header, rows))
    (folder / "redcap.yaml").write_text(yaml.safe_dump(mapping(frames), sort_keys=False), encoding="utf-8")
    (folder / "cohort.yaml").write_text(
        "redcap: {records: records.csv, dictionary: dictionary.csv, mapping: redcap.yaml}\n", encoding="utf-8")
    return folder
