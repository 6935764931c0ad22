"""Fixtures of the web tests: an application over a fresh store, accounts of each role, and
synthetic cohort files (li2023 is the small one, jin2023 the full one)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

from argon2 import PasswordHasher  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from cartscope.web.accounts import Accounts  # noqa: E402
from cartscope.web.db import Database  # noqa: E402

PASSWORD = "correct-horse-battery"
# argon2 at minimal cost keeps the many sign-ins of the tests fast; the browser test keeps the defaults
LIGHT_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
SECRET = "test-secret-key-0123456789abcdef"


def token_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    page = client.get("/login")
    assert page.status_code == 200
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token_from(page.text), "next": "/studies"},
                       follow_redirects=False)


def zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for csv in sorted(folder.glob("*.csv")):
            zf.write(csv, f"cohort/{csv.name}")
    return out


@pytest.fixture(scope="session")
def cohort_files(tmp_path_factory) -> dict[str, Path]:
    """li2023 as XLSX and as a zip of CSVs; a broken copy of the li2023 CSVs as a zip."""
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort

    root = tmp_path_factory.mktemp("cohorts")
    cohort = synthesize("li2023", seed=2023)
    xlsx = write_cohort(cohort, root / "li2023.xlsx", fmt="xlsx")
    csv_dir = write_cohort(cohort, root / "li2023_csv", fmt="csv")
    good_zip = zip_folder(csv_dir, root / "li2023.zip")
    broken_dir = root / "broken"
    broken_dir.mkdir()
    for csv in csv_dir.glob("*.csv"):
        text = csv.read_text()
        if csv.name == "patients.csv":
            lines = text.splitlines()
            header = lines[0].split(",")
            cells = lines[2].split(",")
            cells[header.index("age")] = "not-a-number"
            lines[2] = ",".join(cells)
            text = "\n".join(lines) + "\n"
        (broken_dir / csv.name).write_text(text)
    broken_zip = zip_folder(broken_dir, root / "broken.zip")
    return {"xlsx": Path(xlsx), "zip": good_zip, "broken": broken_zip}


@pytest.fixture()
def web(tmp_path):
    """(app, accounts) with users admin, ana (analyst, study s1), vic (viewer, s1), out (analyst, s2)."""
    from cartscope.web import create_app

    app = create_app(tmp_path / "study.duckdb", secret_key=SECRET, login_max_failures=3,
                     max_upload_bytes=2 * 1024 * 1024, report_writer=None, job_workers=2, password_hasher=LIGHT_HASHER)
    accounts = Accounts(Database(tmp_path / "study.web.sqlite"), LIGHT_HASHER)
    admin = accounts.add_user("admin", PASSWORD, "admin")
    ana = accounts.add_user("ana", PASSWORD, "analyst")
    accounts.add_user("vic", PASSWORD, "viewer")
    out = accounts.add_user("out", PASSWORD, "analyst")
    accounts.add_study("s1", "Study one", ana)
    accounts.add_member("s1", "vic")
    accounts.add_study("s2", "Study two", out)
    assert admin.is_admin
    with TestClient(app, base_url="http://testserver") as client:
        app.state.test_client = client
        yield app, accounts


@pytest.fixture()
def login(web):
    """login(username) -> a TestClient signed in as that user (own cookie jar)."""
    from cartscope.web.app import create_app  # noqa: F401

    app, _ = web
    clients = []

    def make(username: str) -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        clients.append(client)
        resp = sign_in(client, username)
        assert resp.status_code == 303, resp.text
        return client

    yield make
    for c in clients:
        c.close()
