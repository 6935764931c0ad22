"""cohort.yaml manifests and SPSS/Stata/SAS tables: the same cohort however the files are laid out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from typer.testing import CliRunner

from cartscope.cli import app
from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.schema import TABLE_ORDER
from cartscope.cohort.statfiles import labels_of
from cartscope.cohort.validate import validate

HERE = Path(__file__).resolve().parent
GOOD_DATES = HERE / "good" / "dates"


def _frames() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(GOOD_DATES.glob("*.csv"))}


def _same(a, b) -> None:
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), obj=name)


def write_sav_patients(frame: pd.DataFrame, path: Path) -> None:
    """patients as SPSS would hold them: sex and disease coded with value labels, numbers as doubles."""
    sex = {"F": 1, "M": 2}
    disease = {"B-ALL": 1, "DLBCL": 2}
    out = frame.copy()
    out["sex"] = out["sex"].map(sex).astype(float)
    out["disease"] = out["disease"].map(disease).astype(float)
    for col in ("age", "prior_lines", "ecog", "ldh", "ldh_uln", "cd19_pct"):
        out[col] = pd.to_numeric(out[col])
    pyreadstat.write_sav(out, str(path), variable_value_labels={
        "sex": {1.0: "Female", 2.0: "Male"}, "disease": {1.0: "B-ALL", 2.0: "DLBCL"}})


def test_sav_patients_import_with_labels(tmp_path: Path) -> None:
    folder = tmp_path / "spss"
    shutil.copytree(GOOD_DATES, folder)
    frames = _frames()
    (folder / "patients.csv").unlink()
    write_sav_patients(frames["patients"], folder / "patients.sav")
    assert labels_of(folder / "patients.sav")["sex"] == {1.0: "Female", 2.0: "Male"}
    cohort, problems = load_cohort_with_problems(folder)
    assert problems == []
    assert cohort.patients["sex"].tolist() == ["F", "M", "M", "F"]
    assert cohort.patients["disease"].tolist() == ["B-ALL", "B-ALL", "DLBCL", "B-ALL"]
    _same(load_cohort(GOOD_DATES), cohort)


@pytest.mark.parametrize("suffix", [".dta", ".xpt"])
def test_stata_and_sas_tables(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "stat"
    shutil.copytree(GOOD_DATES, folder)
    frame = _frames()["events"]
    (folder / "events.csv").unlink()
    frame = frame.assign(date=pd.to_datetime(frame["date"]))
    if suffix == ".dta":
        pyreadstat.write_dta(frame, str(folder / "events.dta"))
    else:
        pyreadstat.write_xport(frame, str(folder / "events.xpt"), table_name="EVENTS")
    _same(load_cohort(GOOD_DATES), load_cohort(folder))


def test_manifest_renames_sheets_units_and_dialects(tmp_path: Path) -> None:
    frames = _frames()
    folder = tmp_path / "hospital"
    folder.mkdir()
    write_sav_patients(frames["patients"].rename(columns={"patient_id": "PatID"}), folder / "baseline.sav")
    with pd.ExcelWriter(folder / "hospital.xlsx", engine="openpyxl") as writer:
        inf = frames["infusions"].copy()
        inf["date"] = pd.to_datetime(inf["date"]).dt.strftime("%d/%m/%Y")
        inf.rename(columns={"date": "Infusion date", "product": "Product"}).to_excel(writer, sheet_name="CAR-T",
                                                                                     index=False)
        frames["assessments"].to_excel(writer, sheet_name="Response", index=False)
    labs = frames["labs"].copy()
    labs.to_csv(folder / "cytokines.csv", index=False, sep=";")
    for name in ("events", "kinetics", "toxicity_daily"):
        frames[name].to_csv(folder / f"{name}.csv", index=False)
    (folder / "cohort.yaml").write_text(
        "date_order: DMY\n"
        "tables:\n"
        "  patients: {file: baseline.sav, columns: {PatID: patient_id}}\n"
        "  infusions: {file: hospital.xlsx, sheet: CAR-T, columns: {Infusion date: date, Product: product}}\n"
        "  assessments: {file: hospital.xlsx, sheet: Response}\n"
        "  labs: cytokines.csv\n", encoding="utf-8")
    cohort, problems = load_cohort_with_problems(folder)
    assert [p.code for p in problems] == ["csv-dialect"]
    _same(load_cohort(GOOD_DATES), cohort)
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


def test_manifest_units_per_column(tmp_path: Path) -> None:
    folder = tmp_path / "u"
    shutil.copytree(GOOD_DATES, folder)
    p = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    p["ldh"] = [f"{float(v) / 60:.6f}" for v in p["ldh"]]
    p.to_csv(folder / "patients.csv", index=False)
    (folder / "cohort.yaml").write_text("units:\n  patients: {ldh: ukat/L}\n", encoding="utf-8")
    cohort, problems = load_cohort_with_problems(folder)
    assert problems == []
    assert cohort.patients["ldh"].tolist() == pytest.approx(
        pd.read_csv(GOOD_DATES / "patients.csv")["ldh"].tolist(), rel=1e-6)
    assert [(c.table, c.column, c.from_unit, c.to_unit, c.factor, c.rows) for c in cohort.conversions][:1] == [
        ("patients", "ldh", "ukat/L", "U/L", 60.0, 4)]


def test_manifest_names_are_checked(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(GOOD_DATES, folder)
    (folder / "cohort.yaml").write_text(
        "date_ordr: DMY\n"
        "tables:\n"
        "  patient: {file: patients.csv}\n"
        "  labs: {file: labs.csv, columns: {analyte: analyt}}\n"
        "units:\n  patients: {ldhh: ukat/L}\n", encoding="utf-8")
    got = [(p.file, p.column, p.code) for p in validate(folder)]
    assert got == [
        ("cohort.yaml", "date_ordr", "manifest-unknown-key"),
        ("cohort.yaml", "tables.labs.columns.analyte", "manifest-unknown-column"),
        ("cohort.yaml", "tables.patient", "manifest-unknown-table"),
        ("cohort.yaml", "units.patients.ldhh", "manifest-unknown-column"),
    ]
    msgs = " ".join(p.message for p in validate(folder))
    assert "did you mean 'date_order'?" in msgs and "did you mean 'patients'?" in msgs
    assert "did you mean 'analyte'?" in msgs
    (folder / "cohort.yaml").write_text("tables:\n  infusions: {file: nope.xlsx}\n  events: {file: events.csv, "
                                        "columns: {Datum: date}}\n", encoding="utf-8")
    got = [(p.file, p.column, p.code) for p in validate(folder)]
    assert ("cohort.yaml", None, "missing-file") in got
    assert ("cohort.yaml", "tables.events.columns.Datum", "manifest-no-header") in got


def test_manifest_options_and_analytes(tmp_path: Path) -> None:
    folder = tmp_path / "opts"
    shutil.copytree(GOOD_DATES, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    labs.loc[len(labs)] = ["P01", "2023-01-20", "sIL-6R", "BLQ", "ng/mL", "", "serum", "patient"]
    labs.to_csv(folder / "labs.csv", index=False)
    (folder / "cohort.yaml").write_text(
        "data_cutoff: 2023-08-01\n"
        "analytes:\n  - {name: sil6r, unit: ng/mL, aliases: [sIL-6R], lloq: 2}\n", encoding="utf-8")
    cohort, problems = load_cohort_with_problems(folder)
    assert {p.code for p in problems} == {"after-data-cutoff"}
    row = cohort.labs[cohort.labs["analyte"] == "sil6r"]
    assert row[["value", "qualifier", "unit"]].values.tolist() == [[2.0, "<", "ng/mL"]]
    # an explicit option wins over the manifest's
    assert not [p for p in validate(folder, data_cutoff="2030-01-01") if p.code == "after-data-cutoff"]
    (folder / "cohort.yaml").write_text("analytes:\n  - {name: x, unit: AU, range: [5, 1]}\n", encoding="utf-8")
    got = [(p.file, p.code) for p in validate(folder) if p.is_error]
    assert ("cohort.yaml", "bad-analyte") in got
