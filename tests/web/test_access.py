"""Access control, CSRF, sign-in rate limiting, upload limits and the audit log of the web app."""

from __future__ import annotations

import io
import logging
import zipfile

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from conftest import PASSWORD, sign_in, token_from

# (method, path template, permission) for every route of the application.
ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/logout", "signed_in"),
    ("GET", "/studies", "signed_in"),
    ("GET", "/api/studies", "signed_in"),
    ("GET", "/studies/new", "create"),
    ("POST", "/studies", "create"),
    ("GET", "/studies/{study}", "view"),
    ("POST", "/studies/{study}/upload", "write"),
    ("POST", "/studies/{study}/analyses", "write"),
    ("GET", "/api/studies/{study}/jobs/{job_id}", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}/tables/{name}", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}/files/{path:path}", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}/results.zip", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}/report", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}/report/{path:path}", "view"),
    ("GET", "/studies/{study}/jobs/{job_id}/patients/{patient_id:path}", "view"),
    ("POST", "/studies/{study}/members", "admin"),
    ("GET", "/admin/users", "admin"),
    ("POST", "/admin/users", "admin"),
    ("POST", "/admin/users/{username}", "admin"),
    ("GET", "/admin/audit", "admin"),
    ("GET", "/account/password", "signed_in"),
    ("POST", "/account/password", "signed_in"),
    ("POST", "/admin/users/{username}/password", "admin"),
    ("GET", "/api/audit", "admin"),
]
PUBLIC = {("GET", "/"), ("GET", "/login"), ("POST", "/login")}


def concrete(template: str, job_id: int) -> str:
    return (template.replace("{study}", "s1").replace("{job_id}", str(job_id))
            .replace("{name}", "outcomes").replace("{path:path}", "results.json")
            .replace("{patient_id:path}", "pt01").replace("{patient_id}", "pt01").replace("{username}", "vic"))


def call(client: TestClient, method: str, path: str, csrf: str | None):
    if method == "GET":
        return client.get(path, follow_redirects=False)
    data = {"csrf_token": csrf} if csrf else {}
    return client.post(path, data=data, follow_redirects=False)


def csrf_of(client: TestClient) -> str:
    return token_from(client.get("/studies").text)


def run_job(client: TestClient, app, cohort_zip, study: str = "s1") -> int:
    csrf = csrf_of(client)
    up = client.post(f"/studies/{study}/upload", data={"csrf_token": csrf},
                     files={"cohort": ("li2023.zip", cohort_zip.read_bytes(), "application/zip")},
                     follow_redirects=False)
    assert up.status_code == 303, up.text
    resp = client.post(f"/studies/{study}/analyses", data={"csrf_token": csrf, "preset": "li2023"},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    job_id = int(resp.headers["location"].rsplit("/", 1)[1])
    app.state.web.jobs.wait(job_id, timeout=60)
    assert client.get(f"/api/studies/{study}/jobs/{job_id}").json()["status"] == "done"
    return job_id


def test_every_route_is_in_the_access_matrix(web):
    app, _ = web
    listed = {(m, p) for m, p, _ in ROUTES} | PUBLIC
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in route.methods - {"HEAD"}:
                assert (method, route.path) in listed, f"{method} {route.path} has no access test"


def test_each_route_as_anonymous_outsider_viewer_member_and_admin(web, login, cohort_files):
    app, _ = web
    ana = login("ana")
    job_id = run_job(ana, app, cohort_files["zip"])
    anonymous = TestClient(app, base_url="http://testserver")
    clients = {name: login(name) for name in ("out", "vic", "admin")}
    clients["ana"] = ana
    tokens = {name: csrf_of(c) for name, c in clients.items()}
    allowed = {
        "signed_in": {"out", "vic", "ana", "admin"},
        "create": {"out", "ana", "admin"},
        "view": {"vic", "ana", "admin"},
        "write": {"ana", "admin"},
        "admin": {"admin"},
    }
    for method, template, permission in ROUTES:
        if template == "/logout":
            continue  # signs the client out; tested below
        path = concrete(template, job_id)
        resp = call(anonymous, method, path, None)
        if method == "GET" and not path.startswith("/api/"):
            assert resp.status_code == 303 and resp.headers["location"].startswith("/login"), path
        else:
            assert resp.status_code == 401, (method, path, resp.status_code)
        for name, client in clients.items():
            resp = call(client, method, path, tokens[name])
            if name in allowed[permission]:
                assert resp.status_code not in (401, 403), (name, method, path, resp.status_code)
                if method == "GET" and "/report/" not in path:
                    assert resp.status_code == 200, (name, method, path, resp.status_code)
            else:
                assert resp.status_code == 403, (name, method, path, resp.status_code)
    # the outsider's own study is closed to members of s1 (viewer) and open to its analyst
    assert clients["vic"].get("/studies/s2").status_code == 403
    assert clients["out"].get("/studies/s2").status_code == 200
    # an unknown study gives 403 to non-admins (no probing of names) and 404 to admins
    assert clients["ana"].get("/studies/nope").status_code == 403
    assert clients["admin"].get("/studies/nope").status_code == 404
    # a job of s1 is not reachable through s2's path, even for a member of both
    assert clients["admin"].get(f"/studies/s2/jobs/{job_id}").status_code == 404
    # the studies list shows only the user's own studies
    assert "s1" not in clients["out"].get("/studies").text.replace("s2", "")
    anonymous.close()


def test_logout_ends_the_session(web, login):
    client = login("vic")
    assert client.get("/studies").status_code == 200
    resp = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert resp.status_code == 303
    assert client.get("/studies", follow_redirects=False).status_code == 303


def test_session_cookie_flags(web):
    app, _ = web
    with TestClient(app, base_url="http://testserver") as client:
        resp = sign_in(client, "ana")
        cookie = resp.headers["set-cookie"].lower()
        assert "cartscope_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert "secure" not in cookie.replace("samesite", "")  # off by default (plain http on loopback)


def test_secure_cookie_flag_when_configured(tmp_path):
    from cartscope.web import create_app
    from cartscope.web.accounts import Accounts
    from cartscope.web.db import Database

    app = create_app(tmp_path / "s.duckdb", secret_key="k" * 32, secure_cookies=True, report_writer=None)
    Accounts(Database(tmp_path / "s.web.sqlite")).add_user("ana", PASSWORD, "analyst")
    with TestClient(app, base_url="https://testserver") as client:
        resp = sign_in(client, "ana")
        assert resp.status_code == 303
        assert "; secure" in resp.headers["set-cookie"].lower()


def test_csrf_missing_wrong_or_foreign_token_is_rejected(web, login):
    app, _ = web
    ana, vic = login("ana"), login("vic")
    form = {"name": "s3", "title": "three"}
    assert ana.post("/studies", data=form, follow_redirects=False).status_code == 403
    assert ana.post("/studies", data={**form, "csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert ana.post("/studies", data={**form, "csrf_token": csrf_of(vic)}, follow_redirects=False).status_code == 403
    assert app.state.web.accounts.study("s3") is None
    resp = ana.post("/studies", data={**form, "csrf_token": csrf_of(ana)}, follow_redirects=False)
    assert resp.status_code == 303 and app.state.web.accounts.study("s3") is not None
    # the header form works for API clients
    assert ana.post("/logout", headers={"x-csrf-token": "bad"}, follow_redirects=False).status_code == 403
    # sign-in form: the token must match the cookie set with the form
    fresh = TestClient(app, base_url="http://testserver")
    fresh.get("/login")
    resp = fresh.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "x"},
                      follow_redirects=False)
    assert resp.status_code == 403 and "cartscope_session" not in resp.headers.get("set-cookie", "")
    fresh.close()


def test_login_rate_limit(web):
    from cartscope.web.ratelimit import LoginLimiter

    app, _ = web
    app.state.web.limiter = LoginLimiter(3, 900.0, clock=lambda: 100.0)  # time stands still: no backoff expires
    with TestClient(app, base_url="http://testserver") as client:
        for _ in range(3):  # the fixture allows 3 failures
            assert sign_in(client, "ana", "wrong-password-1").status_code == 401
        blocked = sign_in(client, "ana", PASSWORD)
        assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
        assert "cartscope_session" not in blocked.headers.get("set-cookie", "")
        # a colleague behind the same address is not slowed by ana's typos ...
        assert sign_in(client, "vic", PASSWORD).status_code == 303
        # ... but the address is limited too, at four times the per-account count (12)
        for i in range(9):
            assert sign_in(client, f"nobody{i}", "wrong-password-1").status_code == 401
        assert sign_in(client, "vic", PASSWORD).status_code == 429
    outcomes = [e["outcome"] for e in app.state.web.audit.entries(action="login")]
    assert outcomes.count("failed") == 12 and outcomes.count("rate_limited") == 2


def test_upload_too_large_or_wrong_type(web, login):
    app, _ = web
    ana = login("ana")
    csrf = csrf_of(ana)

    def upload(name: str, data: bytes):
        return ana.post("/studies/s1/upload", data={"csrf_token": csrf}, files={"cohort": (name, data)},
                        follow_redirects=False)

    assert upload("big.xlsx", b"PK\x03\x04" + b"0" * (3 * 1024 * 1024)).status_code == 413
    resp = upload("cohort.csv", b"patient_id\n1\n")
    assert resp.status_code == 415 and "unsupported file type .csv" in resp.text
    resp = upload("fake.xlsx", b"just some text pretending to be a workbook")
    assert resp.status_code == 415 and "not an Excel workbook" in resp.text
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../patients.csv", "patient_id\nx\n")
    resp = upload("evil.zip", evil.getvalue())
    assert resp.status_code == 415 and "unsafe file name" in resp.text
    assert app.state.web.store.snapshots("s1").empty
    assert not app.state.web.config.store.exists()


def test_broken_upload_shows_problems_and_stores_nothing(web, login, cohort_files):
    app, _ = web
    ana = login("ana")
    csrf = csrf_of(ana)
    resp = ana.post("/studies/s1/upload", data={"csrf_token": csrf},
                    files={"cohort": ("broken.zip", cohort_files["broken"].read_bytes())})
    assert resp.status_code == 422
    assert "broken.zip was not stored" in resp.text and "Nothing was stored" in resp.text
    # the bad cell is reported with its file, line (header = 1, so the second patient is line 3) and column
    # problems are grouped by table and kind, with counts; a single problem names its row and column
    assert '<h2>patients.csv <span class="muted">· 1 problem</span></h2>' in resp.text
    assert "(row 3, column age)" in resp.text
    assert app.state.web.store.snapshots("s1").empty
    good = ana.post("/studies/s1/upload", data={"csrf_token": csrf},
                    files={"cohort": ("li2023.xlsx", cohort_files["xlsx"].read_bytes())}, follow_redirects=True)
    assert good.status_code == 200 and "stored as snapshot 1 (5 patients)" in good.text
    again = ana.post("/studies/s1/upload", data={"csrf_token": csrf},
                     files={"cohort": ("li2023.xlsx", cohort_files["xlsx"].read_bytes())}, follow_redirects=True)
    assert "identical data is already stored as snapshot 1" in again.text
    snaps = app.state.web.store.snapshots("s1")
    assert snaps["snapshot"].tolist() == [1] and snaps["n_patients"].tolist() == [5]


def test_bad_protocol_file_is_explained(web, login, cohort_files):
    app, _ = web
    ana = login("ana")
    run_job(ana, app, cohort_files["zip"])
    resp = ana.post("/studies/s1/analyses", data={"csrf_token": csrf_of(ana), "preset": "li2023"},
                    files={"protocol_file": ("mine.yaml", b"name: x\nsections: [nonsense]\nbogus_key: 1\n")})
    assert resp.status_code == 422 and "The analysis could not start" in resp.text and "mine.yaml" in resp.text
    assert len(app.state.web.jobs.jobs("s1")) == 1


def test_uploaded_plan_gets_its_key_and_name_problems_in_one_round(web, login, cohort_files):
    app, _ = web
    ana = login("ana")
    run_job(ana, app, cohort_files["zip"])
    plan = (b"version: 1\nname: mine\nanalyses:\n"
            b"  - {id: os, kind: km, endpoints: [os], by: [disese_group]}\n"
            b"  - {id: t1, kind: describe, variables: [age], colour: red}\n")
    resp = ana.post("/studies/s1/analyses", data={"csrf_token": csrf_of(ana), "preset": "li2023"},
                    files={"protocol_file": ("mine.yaml", plan)})
    assert resp.status_code == 422
    assert "analyses[0].by" in resp.text and "disease_group" in resp.text  # the name, with its did-you-mean
    assert "analyses[1]" in resp.text and "colour" in resp.text  # and the key, in the same answer
    assert len(app.state.web.jobs.jobs("s1")) == 1


def test_audit_log_records_each_action_and_logs_hold_no_patient_ids(web, login, cohort_files, caplog):
    app, _ = web
    ana = login("ana")
    job_id = run_job(ana, app, cohort_files["zip"])
    assert ana.get("/studies/s1").status_code == 200
    with caplog.at_level(logging.INFO, logger="cartscope.web"):
        assert ana.get(f"/studies/s1/jobs/{job_id}").status_code == 200
        page = ana.get(f"/studies/s1/jobs/{job_id}/patients/pt02")
        assert page.status_code == 200
        assert ana.get(f"/studies/s1/jobs/{job_id}/files/endpoints.csv").status_code == 200
        assert ana.get(f"/studies/s1/jobs/{job_id}/tables/outcomes").status_code == 200
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "/studies/{study}/jobs/{job_id}/patients/{patient_id:path}" in messages
    assert "pt02" not in messages and "s1" not in messages
    ana.post("/logout", data={"csrf_token": csrf_of(ana)})
    admin = login("admin")
    audit_page = admin.get("/admin/audit")
    assert audit_page.status_code == 200
    entries = app.state.web.audit.entries()
    seen = {(e["username"], e["action"]) for e in entries}
    for action in ("login", "upload", "analyse", "analysis_finished", "view_study", "view_results",
                   "view_patient", "download", "view_table", "logout"):
        assert ("ana", action) in seen, action
    patient = [e for e in entries if e["action"] == "view_patient"]
    assert patient[0]["study"] == "s1" and patient[0]["target"] == f"job {job_id}: patient pt02"
    assert ("admin", "view_audit") in {(e["username"], e["action"]) for e in app.state.web.audit.entries()}
    assert "view_patient" in audit_page.text
    # admins only
    assert login("vic").get("/admin/audit").status_code == 403


def test_passwords_are_argon2id_hashes_and_limiter_window_slides(web):
    from cartscope.web.ratelimit import LoginLimiter

    app, _ = web
    with app.state.web.db.connect() as con:
        stored = con.execute("SELECT password_hash FROM users WHERE username = 'ana'").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    now = [0.0]
    limiter = LoginLimiter(2, 60.0, clock=lambda: now[0])
    limiter.failed("ana", "10.0.0.1")
    now[0] = 30.0
    limiter.failed("ana", "10.0.0.2")
    assert limiter.retry_after("ana", "10.0.0.3") == pytest.approx(1.0)  # backoff, not lockout
    now[0] = 31.5
    assert limiter.retry_after("ana", "10.0.0.3") == 0.0
    limiter.failed("ana", "10.0.0.3")
    assert limiter.retry_after("ana", "10.0.0.4") == pytest.approx(2.0)
    now[0] = 91.0  # every failure has left the window
    assert limiter.retry_after("ana", "10.0.0.3") == 0.0
