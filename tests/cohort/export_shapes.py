"""Real-world export shapes of one cohort (the ``good/dates`` fixture): each builder writes the
cohort the way some hospital system, spreadsheet or statistics package exports it, small and
fast, and names the clean cohort it must load as. ``tests/cohort/test_export_shapes.py`` checks
each one; docs/import.md lists them."""

from __future__ import annotations

import codecs
import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat

import redcap_fixtures

GOOD_DATES = Path(__file__).resolve().parent / "good" / "dates"


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    build: Callable[[Path], Path]
    expected: str = "dates"
    """``dates``: the good/dates cohort; ``twin``: the same without the healthy-donor lab row."""
    warnings: frozenset[str] = frozenset()
    """Warning codes the shape may give (never errors)."""


def frames() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(GOOD_DATES.glob("*.csv"))}


def _dates(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    frame = frame.copy()
    if "date" in frame:
        frame["date"] = [dt.date.fromisoformat(v).strftime(fmt) if v else "" for v in frame["date"]]
    return frame


def _csvs(folder: Path, tables: dict[str, pd.DataFrame], **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, **kw)
    return folder


def _book(path: Path, tables: dict[str, pd.DataFrame], *, serial: bool = False, epoch_1904: bool = False,
          fmt: str = "%d/%m/%Y", group_header: bool = False) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    epoch = dt.date(1904, 1, 1) if epoch_1904 else dt.date(1899, 12, 30)
    if epoch_1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for name, frame in tables.items():
        ws = wb.create_sheet(name)
        if group_header:  # a merged group row above the real header, as clinical CRFs lay sheets out
            ws.append(["Identification"] + [None] * (len(frame.columns) - 2) + ["Data"])
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(frame.columns) - 1, 1))
        ws.append(list(frame.columns))
        for rec in frame.itertuples(index=False):
            row = []
            for col, value in zip(frame.columns, rec):
                if col == "date" and value:
                    day = dt.date.fromisoformat(value)
                    row.append((day - epoch).days if serial else day.strftime(fmt))
                else:
                    row.append(value if value != "" else None)
            ws.append(row)
    wb.save(path)
    return path


def day_first_xlsx(at: Path) -> Path:
    return _book(at / "hospital.xlsx", frames())


def serial_dates_xlsx(at: Path) -> Path:
    return _book(at / "serials.xlsx", frames(), serial=True)


def epoch_1904_xlsx(at: Path) -> Path:
    return _book(at / "mac.xlsx", frames(), serial=True, epoch_1904=True)


def merged_header_xlsx(at: Path) -> Path:
    return _book(at / "crf.xlsx", frames(), fmt="%Y-%m-%d", group_header=True)


def month_first_csv(at: Path) -> Path:
    return _csvs(at / "us", {k: _dates(v, "%m/%d/%Y") for k, v in frames().items()})


def month_names_csv(at: Path) -> Path:
    return _csvs(at / "names", {k: _dates(v, "%d-%b-%Y") for k, v in frames().items()})


def semicolon_decimal_comma(at: Path) -> Path:
    tables = frames()
    for name in ("patients", "infusions", "labs", "toxicity_daily"):
        tables[name] = tables[name].apply(lambda col: col.str.replace(r"^(\d+)\.(\d+)$", r"\1,\2", regex=True))
    return _csvs(at / "semicolon", tables, sep=";")


def utf8_bom(at: Path) -> Path:
    return _csvs(at / "bom", frames(), encoding="utf-8-sig")


def utf16_tab(at: Path) -> Path:
    folder = at / "utf16"
    folder.mkdir(parents=True)
    for name, frame in frames().items():
        text = frame.to_csv(index=False, sep="\t")
        (folder / f"{name}.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return folder


def title_lines_csv(at: Path) -> Path:
    folder = _csvs(at / "titled", frames())
    for path in folder.glob("*.csv"):
        path.write_text("Export of the CAR-T registry\nprinted 2024-02-02\n\n" + path.read_text(encoding="utf-8"),
                        encoding="utf-8")
    return folder


def assay_limit_strings(at: Path) -> Path:
    folder = _csvs(at / "limits", frames())
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    labs.loc[len(labs)] = ["P02", "2023-02-03", "ctDNA", "BLQ", "hGE/mL", "", "plasma", "patient"]
    labs.loc[len(labs)] = ["P02", "2023-02-04", "CRP", ">ULOQ", "mg/L", "", "serum", "patient"]
    labs.to_csv(folder / "labs.csv", index=False)
    (folder / "analytes.csv").write_text("analyte,unit,lloq,uloq\nctdna,,10,\ncrp,,,300\n", encoding="utf-8")
    return folder


def sav_value_labels(at: Path) -> Path:
    folder = at / "spss"
    shutil.copytree(GOOD_DATES, folder)
    p = frames()["patients"]
    (folder / "patients.csv").unlink()
    out = p.copy()
    out["sex"] = out["sex"].map({"F": 1.0, "M": 2.0})
    out["disease"] = out["disease"].map({"B-ALL": 1.0, "DLBCL": 2.0})
    for col in ("age", "prior_lines", "ecog", "ldh", "ldh_uln", "cd19_pct"):
        out[col] = pd.to_numeric(out[col])
    pyreadstat.write_sav(out, str(folder / "patients.sav"), variable_value_labels={
        "sex": {1.0: "Female", 2.0: "Male"}, "disease": {1.0: "B-ALL", 2.0: "DLBCL"}})
    events = frames()["events"]
    (folder / "events.csv").unlink()
    pyreadstat.write_sav(events.assign(date=pd.to_datetime(events["date"])), str(folder / "events.sav"))
    return folder


def stata_dta(at: Path) -> Path:
    folder = at / "stata"
    shutil.copytree(GOOD_DATES, folder)
    inf = frames()["infusions"]
    (folder / "infusions.csv").unlink()
    inf = inf.assign(date=pd.to_datetime(inf["date"]), infusion_no=pd.to_numeric(inf["infusion_no"]),
                     dose_per_kg=pd.to_numeric(inf["dose_per_kg"]))
    pyreadstat.write_dta(inf, str(folder / "infusions.dta"))
    return folder


def sas_xpt(at: Path) -> Path:
    folder = at / "sas"
    shutil.copytree(GOOD_DATES, folder)
    ass = frames()["assessments"]
    (folder / "assessments.csv").unlink()
    pyreadstat.write_xport(ass.assign(date=pd.to_datetime(ass["date"])), str(folder / "assessments.xpt"),
                           table_name="ASSESS")
    return folder


def manifest_renamed(at: Path) -> Path:
    folder = at / "manifest"
    folder.mkdir(parents=True)
    tables = frames()
    with pd.ExcelWriter(folder / "study.xlsx", engine="openpyxl") as writer:
        tables["patients"].rename(columns={"patient_id": "MRN", "disease": "Diagnosis"}).to_excel(
            writer, sheet_name="Baseline", index=False)
        _dates(tables["infusions"], "%d.%m.%Y").rename(columns={"date": "Datum"}).to_excel(
            writer, sheet_name="CAR-T", index=False)
    for name in ("assessments", "events", "labs", "kinetics", "toxicity_daily"):
        tables[name].to_csv(folder / f"{name}.csv", index=False)
    (folder / "cohort.yaml").write_text(
        "tables:\n"
        "  patients: {file: study.xlsx, sheet: Baseline, columns: {MRN: patient_id, Diagnosis: disease}}\n"
        "  infusions: {file: study.xlsx, sheet: CAR-T, columns: {Datum: date}}\n", encoding="utf-8")
    return folder


def redcap_flat(at: Path) -> Path:
    return redcap_fixtures.write_project(at / "redcap")


def redcap_eav(at: Path) -> Path:
    return redcap_fixtures.write_project(at / "redcap_eav", eav=True)


SHAPES: tuple[Shape, ...] = (
    Shape("day_first_xlsx", "workbook with day-first text dates (31/07/2023)", day_first_xlsx,
          warnings=frozenset({"date-order-detected"})),
    Shape("serial_dates_xlsx", "workbook with dates as plain serial numbers (1900 system)", serial_dates_xlsx,
          warnings=frozenset({"date-serial"})),
    Shape("epoch_1904_xlsx", "Mac workbook in the 1904 date system, serial numbers", epoch_1904_xlsx,
          warnings=frozenset({"date-serial"})),
    Shape("merged_header_xlsx", "workbook with a merged group-header row above the header", merged_header_xlsx,
          warnings=frozenset({"rows-above-header"})),
    Shape("month_first_csv", "CSV with US month-first dates (07/31/2023)", month_first_csv,
          warnings=frozenset({"date-order-detected"})),
    Shape("month_names_csv", "CSV with month-name dates (31-Jul-2023)", month_names_csv),
    Shape("semicolon_decimal_comma", "';'-separated CSV with decimal commas (European Excel)",
          semicolon_decimal_comma, warnings=frozenset({"csv-dialect"})),
    Shape("utf8_bom", "CSV UTF-8 with a byte-order mark (Excel 'CSV UTF-8')", utf8_bom, warnings=frozenset({"csv-dialect"})),
    Shape("utf16_tab", "UTF-16 tab-separated text (Excel 'Unicode text')", utf16_tab, warnings=frozenset({"csv-dialect"})),
    Shape("title_lines_csv", "CSV with title lines above the header", title_lines_csv,
          warnings=frozenset({"rows-above-header"})),
    Shape("assay_limit_strings", "labs with <5, >5000, BLQ and >ULOQ cells and an analytes sheet", assay_limit_strings,
          expected="limits"),
    Shape("sav_value_labels", "SPSS .sav tables with value labels (sex, disease) and date formats", sav_value_labels),
    Shape("stata_dta", "Stata .dta infusions table", stata_dta),
    Shape("sas_xpt", "SAS transport .xpt assessments table", sas_xpt),
    Shape("manifest_renamed", "cohort.yaml: sheets with other names, renamed headers, dd.mm.yyyy dates",
          manifest_renamed, warnings=frozenset({"date-order-detected"})),
    Shape("redcap_flat", "REDCap flat export, longitudinal, repeating instruments, coded choices", redcap_flat,
          expected="twin"),
    Shape("redcap_eav", "REDCap EAV export of the same project", redcap_eav, expected="twin"),
)
