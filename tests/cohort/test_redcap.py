"""REDCap: flat and EAV exports with dictionary and mapping import as the equivalent CSV folder;
problems cite record, event and field; the starter mapping; the API against a local stub."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cartscope.cli import app
from cartscope.cohort.load import load_cohort, load_cohort_with_problems
from cartscope.cohort.redcap import Field, check_mapping, parse_choices, read_dictionary
from cartscope.cohort.redcap_api import ApiError, fetch_export
from cartscope.cohort.redcap_map import starter_mapping
from cartscope.cohort.schema import TABLE_ORDER
from cartscope.cohort.validate import validate

from redcap_fixtures import write_project, write_twin


def _same(a, b) -> None:
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), obj=name)


@pytest.mark.parametrize("eav", [False, True], ids=["flat", "eav"])
def test_export_imports_as_the_csv_folder(tmp_path: Path, eav: bool) -> None:
    twin = load_cohort(write_twin(tmp_path / "csv"))
    cohort, problems = load_cohort_with_problems(write_project(tmp_path / "redcap", eav=eav))
    assert problems == []
    _same(twin, cohort)
    assert cohort.patients["sex"].tolist() == ["F", "M", "M", "F"]


def test_import_into_the_store(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "redcap")
    result = CliRunner().invoke(app, ["import", str(folder), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output


def test_problems_cite_record_event_and_field(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "redcap")
    text = (folder / "records.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    line = next(i for i, t in enumerate(text) if ",followup_arm_1,labs,2," in t and t.startswith("P01,"))
    cells = text[line].split(",")
    cells[header.index("labs_value")] = "lots"
    text[line] = ",".join(cells)
    (folder / "records.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    errors = [p for p in validate(folder) if p.is_error]
    assert [(p.file, p.row, p.column, p.code) for p in errors] == [("records.csv", line + 1, "labs_value", "not-a-number")]
    assert errors[0].message.startswith("record P01, event followup_arm_1, labs instance 2: 'lots' is not a number")


def test_melted_analytes_and_constants(tmp_path: Path) -> None:
    folder = write_twin(tmp_path / "c")
    (folder / "labs.csv").unlink()
    (folder / "cohort.yaml").write_text(
        "redcap: {records: rc.csv, dictionary: dd.csv, mapping: {record_id: record_id, tables: {labs: {form: cyto,"
        " columns: {patient_id: record_id, date: cyto_date, sample: {value: serum}},"
        " analytes: {il6: cyto_il6, ferritin: {field: cyto_ferr, unit: ug/L}}}}}}\n", encoding="utf-8")
    (folder / "dd.csv").write_text(
        "Variable / Field Name,Form Name,Field Type,Field Label,Field Note,Text Validation Type OR Show Slider Number\n"
        "record_id,cyto,text,ID,,\ncyto_date,cyto,text,Date,,date_dmy\ncyto_il6,cyto,text,IL-6 (pg/mL),,number\n"
        "cyto_ferr,cyto,text,Ferritin,,number\n", encoding="utf-8")
    (folder / "rc.csv").write_text(
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,cyto_date,cyto_il6,cyto_ferr\n"
        "P01,cyto,1,13/01/2023,25,800\nP01,cyto,2,20/01/2023,,bad\nP02,cyto,1,03/02/2023,4,\n", encoding="utf-8")
    # P01 infusion 2023-01-10: labs days 3, 3 and 10; the DMY order comes from date_dmy
    problems = validate(folder)
    assert [(p.row, p.column, p.code) for p in problems if p.is_error] == [(3, "cyto_ferr", "not-a-number")]
    assert "record P01, cyto instance 2" in [p for p in problems if p.is_error][0].message
    text = (folder / "rc.csv").read_text().replace(",bad", ",900")
    (folder / "rc.csv").write_text(text)
    labs = load_cohort(folder).labs
    assert labs[["patient_id", "day", "analyte", "value", "unit", "sample"]].values.tolist() == [
        ["P01", 3.0, "il6", 25.0, "pg/mL", "serum"], ["P01", 3.0, "ferritin", 800.0, "ng/mL", "serum"],
        ["P01", 10.0, "ferritin", 900.0, "ng/mL", "serum"], ["P02", 2.0, "il6", 4.0, "pg/mL", "serum"]]


def test_mapping_names_are_checked() -> None:
    fields = {"record_id": Field("record_id", "base", "text"), "dx": Field("dx", "base", "dropdown")}
    got = check_mapping({"tables": {"patients": {"form": "bse", "columns": {"patient_id": "record_id",
                                                                            "disease": "dxx", "sexx": "dx"}},
                                    "infusions": {"form": "base", "columns": {"dose": "dx"}},
                                    "patient": {}}}, fields, "m.yaml", "record_id")
    msgs = [(p.column, p.code) for p in got]
    assert ("tables.patients.form", "redcap-unknown-form") in msgs
    assert ("tables.patients.columns.disease", "redcap-unknown-field") in msgs
    assert ("tables.infusions.columns.dose", "redcap-mapping") in msgs  # patients keep extra columns; infusions do not
    assert not any(c == "tables.patients.columns.sexx" for c, _ in msgs)
    assert ("tables.patient", "redcap-mapping") in msgs
    assert "did you mean 'dx'?" in " ".join(p.message for p in got)
    assert parse_choices("1, Female | 2, Male") == {"1": "Female", "2": "Male"}
    assert Field("x", "f", "text", "IL-6 (pg/mL)").unit == "pg/mL"
    assert Field("x", "f", "text", validation="date_dmy").date_order == "DMY"


def test_starter_mapping_from_dictionary(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "redcap")
    result = CliRunner().invoke(app, ["redcap", "map", "--dictionary", str(folder / "dictionary.csv"),
                                      "--out", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "m.yaml").read_text()
    mapping = yaml.safe_load(text)
    fields = read_dictionary((folder / "dictionary.csv").read_bytes(), "dictionary.csv", [])
    assert check_mapping(mapping, fields, "m.yaml", "record_id") == []
    assert mapping["tables"]["infusions"]["columns"]["date"] == "infusion_date"
    assert mapping["tables"]["patients"]["columns"]["disease"] == "disease"
    assert starter_mapping(fields) == text


class _Stub(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        form = {k: v[0] for k, v in body.items()}
        _Stub.calls.append(form)
        if form.get("token") != "secret-token":
            self.send_response(403)
            self.end_headers()
            return
        data = (self.server.records if form["content"] == "record" else self.server.dictionary)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def test_api_source_against_a_local_server(tmp_path: Path, monkeypatch) -> None:
    project = write_project(tmp_path / "files")
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    server.records = (project / "records.csv").read_bytes()  # type: ignore[attr-defined]
    server.dictionary = (project / "dictionary.csv").read_bytes()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    try:
        monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
        with pytest.raises(ApiError, match="set the environment variable REDCAP_API_TOKEN"):
            fetch_export(url)
        monkeypatch.setenv("REDCAP_API_TOKEN", "wrong")
        with pytest.raises(ApiError, match="HTTP 403"):
            fetch_export(url)
        monkeypatch.setenv("REDCAP_API_TOKEN", "secret-token")
        api = tmp_path / "api"
        write_twin(api)
        for name in list(api.glob("*.csv")):
            name.unlink()
        (api / "redcap.yaml").write_bytes((project / "redcap.yaml").read_bytes())
        (api / "cohort.yaml").write_text(f"redcap: {{api_url: '{url}', mapping: redcap.yaml}}\n", encoding="utf-8")
        _same(load_cohort(write_twin(tmp_path / "twin")), load_cohort(api))
        assert {c["content"] for c in _Stub.calls} >= {"record", "metadata"}
        result = CliRunner().invoke(app, ["redcap", "fetch", "--url", url, "--out", str(tmp_path / "dl")])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "dl" / "records.csv").read_bytes() == server.records  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ApiError, match="not an https"):
        fetch_export("http://example.org/api/")
