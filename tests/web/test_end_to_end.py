"""The web app's preset analysis of an upload equals the command line's analysis of the same
file, byte for byte; a patient id with '/' opens its page through the link the app writes."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from conftest import LIGHT_HASHER, PASSWORD, SECRET, sign_in, token_from


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["li2023"])
def test_web_analysis_of_an_upload_equals_cli_analysis_of_the_file(tmp_path, preset):
    from typer.testing import CliRunner

    from cartscope.analysis.presets import synthesize
    from cartscope.cli import app as cli
    from cartscope.cohort.write import write_cohort
    from cartscope.web import create_app
    from cartscope.web.accounts import Accounts
    from cartscope.web.db import Database

    cohort = synthesize(preset, seed=21)
    renamed = {name: (frame.assign(patient_id=frame["patient_id"].replace({"pt02": "pt/02 a"}))
                      if "patient_id" in frame.columns and not frame.empty else frame)
               for name, frame in cohort.tables().items()}
    book = Path(write_cohort(dataclasses.replace(cohort, **renamed), tmp_path / "cohort.xlsx", fmt="xlsx"))
    result = CliRunner().invoke(cli, ["analyze", str(book), "--protocol", preset, "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output

    web = create_app(tmp_path / "study.duckdb", secret_key=SECRET, report_writer=None, job_workers=1,
                     password_hasher=LIGHT_HASHER)
    accounts = Accounts(Database(tmp_path / "study.web.sqlite"), LIGHT_HASHER)
    accounts.add_study("s1", "t", accounts.add_user("ana", PASSWORD, "analyst"))
    with TestClient(web) as client:
        assert sign_in(client, "ana").status_code == 303
        csrf = token_from(client.get("/studies").text)
        up = client.post("/studies/s1/upload", data={"csrf_token": csrf},
                         files={"cohort": ("cohort.xlsx", book.read_bytes())}, follow_redirects=False)
        assert up.status_code == 303, up.text[:2000]
        resp = client.post("/studies/s1/analyses", data={"csrf_token": csrf, "preset": preset, "snapshot": "1"},
                           follow_redirects=False)
        job_id = int(resp.headers["location"].rsplit("/", 1)[1])
        web.state.web.jobs.wait(job_id, timeout=300)
        job = client.get(f"/api/studies/s1/jobs/{job_id}").json()
        assert job["status"] == "done", job["error"]
        folder = web.state.web.jobs.folder(job_id)
        a, b = tmp_path / "cli", folder
        names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
        assert names and set(names) <= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
        for name in names:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
        page = client.get(f"/studies/s1/jobs/{job_id}").text
        link = f"/studies/s1/jobs/{job_id}/patients/{quote('pt/02 a', safe='')}"
        assert link in page
        patient = client.get(link)
        assert patient.status_code == 200 and "pt/02 a" in patient.text
        assert re.search(r"<svg", patient.text), "the patient page has no figure"
