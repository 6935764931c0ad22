"""Accounts and requests that must be refused with a message: password policy, change and
reset, atomic sign-in limits with backoff, trusted proxies, name leaks and the former 500s."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from fastapi.testclient import TestClient

from conftest import LIGHT_HASHER, PASSWORD, SECRET, sign_in, token_from


def csrf_of(client: TestClient) -> str:
    return token_from(client.get("/studies").text)


@pytest.mark.parametrize("bad", ["aaaaaaaaaa", "password12", "Password123!", "1234567890", "qwertyuiop",
                                 "abcabcabcabc", "Welcome1!!!", "short", "ana-and-her-cells", "my cartscope pw"])
def test_password_policy_refuses(bad):
    from cartscope.web.accounts import password_problem

    assert password_problem(bad, "ana") is not None


@pytest.mark.parametrize("good", ["correct-horse-battery", "tr0ub4dor&3xyz", "Lymphocytes at dawn", "ëéè-unicode-ok"])
def test_password_policy_accepts(good):
    from cartscope.web.accounts import common_passwords, password_problem

    assert password_problem(good, "ana") is None
    assert len(common_passwords()) >= 300 and "password" in common_passwords()


def test_weak_password_cannot_be_set_by_admin(web, login):
    admin = login("admin")
    resp = admin.post("/admin/users", data={"csrf_token": csrf_of(admin), "username": "newbie",
                                            "password": "password12", "role": "viewer"})
    assert resp.status_code == 422 and "too common" in resp.text


def test_password_change_by_user_and_reset_by_admin_are_audited(web, login):
    app, accounts = web
    ana = login("ana")
    bad = ana.post("/account/password", data={"csrf_token": csrf_of(ana), "current": "wrong-one-xyz",
                                              "new": "a-new-long-phrase", "again": "a-new-long-phrase"})
    assert bad.status_code == 422 and "current password is not right" in bad.text
    weak = ana.post("/account/password", data={"csrf_token": csrf_of(ana), "current": PASSWORD,
                                               "new": "qwerty123!!", "again": "qwerty123!!"})
    assert weak.status_code == 422 and "common" in weak.text
    done = ana.post("/account/password", data={"csrf_token": csrf_of(ana), "current": PASSWORD,
                                               "new": "a-new-long-phrase", "again": "a-new-long-phrase"},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert ana.get("/studies", follow_redirects=False).status_code == 303  # the session has ended
    with TestClient(app) as fresh:
        assert sign_in(fresh, "ana").status_code == 401
        assert sign_in(fresh, "ana", "a-new-long-phrase").status_code == 303
    vic = login("vic")
    admin = login("admin")
    reset = admin.post("/admin/users/vic/password", data={"csrf_token": csrf_of(admin), "new": "a-fresh-one-for-you"},
                       follow_redirects=False)
    assert reset.status_code == 303
    assert vic.get("/studies", follow_redirects=False).status_code == 303  # vic's sessions ended
    assert accounts.authenticate("vic", "a-fresh-one-for-you") is not None
    seen = {(e["username"], e["action"], e["outcome"], e["target"]) for e in app.state.web.audit.entries()}
    assert ("ana", "password_change", "ok", None) in seen and ("ana", "password_change", "rejected", None) in seen
    assert ("admin", "password_reset", "ok", "vic") in seen


def test_parallel_wrong_guesses_are_all_counted(web):
    from cartscope.web.ratelimit import LoginLimiter

    app, _ = web
    app.state.web.limiter = LoginLimiter(3, 900.0, clock=lambda: 50.0)
    page = TestClient(app).get("/login")
    token, cookie = token_from(page.text), page.cookies.get("cartscope_login")
    statuses: list[int] = []

    def guess(i: int) -> None:
        with TestClient(app, cookies={"cartscope_login": cookie}) as client:
            resp = client.post("/login", data={"username": "ana", "password": f"wrong-guess-{i}",
                                               "csrf_token": token}, follow_redirects=False)
            statuses.append(resp.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(401) == 3 and statuses.count(429) == 21


def test_limiter_is_atomic_and_backs_off_without_locking_out():
    from cartscope.web.ratelimit import LoginLimiter

    now = [0.0]
    limiter = LoginLimiter(5, 900.0, clock=lambda: now[0], account_cap_s=60.0)
    got = []
    threads = [threading.Thread(target=lambda: got.append(limiter.begin("ana", "10.0.0.1")[0])) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a is not None for a in got) == 5
    # an attacker failing from many addresses delays the account by at most the cap
    for i in range(200):
        now[0] += 61.0
        attempt, _ = limiter.begin("ana", f"10.1.{i // 250}.{i % 250}")
        assert attempt is not None
    assert limiter.retry_after("ana", "192.0.2.9") <= 60.0
    attempt, _ = limiter.begin("ana", "192.0.2.9")
    assert attempt is None
    now[0] += 60.0
    attempt, _ = limiter.begin("ana", "192.0.2.9")
    assert attempt is not None
    limiter.succeeded("ana", attempt)
    assert limiter.retry_after("ana", "192.0.2.10") == 0.0


def _request(peer: str, forwarded: str | None, proxies: tuple[str, ...]):
    from types import SimpleNamespace

    from starlette.requests import Request

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    app = SimpleNamespace(state=SimpleNamespace(web=SimpleNamespace(config=SimpleNamespace(trusted_proxies=proxies))))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234),
                    "app": app, "query_string": b""})


def test_forwarded_for_is_trusted_only_from_configured_proxies():
    from cartscope.web.access import client_of

    assert client_of(_request("203.0.113.7", "1.2.3.4", ())) == "203.0.113.7"
    assert client_of(_request("203.0.113.7", "1.2.3.4", ("10.0.0.0/8",))) == "203.0.113.7"
    assert client_of(_request("10.0.0.2", "1.2.3.4", ("10.0.0.0/8",))) == "1.2.3.4"
    # a client cannot prepend its own claim: the right-most untrusted address counts
    assert client_of(_request("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.9", ("10.0.0.0/8",))) == "1.2.3.4"
    assert client_of(_request("10.0.0.2", "not-an-ip", ("10.0.0.0/8",))) == "10.0.0.2"


def test_creating_a_study_leaks_no_other_study_name(web, login):
    out = login("out")  # not a member of s1
    taken = out.post("/studies", data={"csrf_token": csrf_of(out), "name": "s1", "title": "x"})
    assert taken.status_code == 422
    assert "cannot be used" in taken.text and "exists" not in taken.text


def test_former_500s_are_4xx_with_a_message(web, login, cohort_files):
    ana = login("ana")
    csrf = csrf_of(ana)
    assert ana.get(f"/api/studies/s1/jobs/{2**63}").status_code == 404
    assert ana.get(f"/studies/s1/jobs/{2**64 + 5}").status_code == 404
    assert ana.post("/studies/s1/upload", data={"csrf_token": csrf},
                    files={"cohort": ("li.zip", cohort_files["zip"].read_bytes())}, follow_redirects=False).status_code == 303
    bad = ana.post("/studies/s1/analyses", data={"csrf_token": csrf, "preset": "li2023", "snapshot": "abc"})
    assert bad.status_code == 422 and "snapshot number" in bad.text
    assert ana.post("/studies/s1/analyses", data={"csrf_token": csrf, "preset": "li2023", "snapshot": "7"}).status_code == 422
    deep = ana.post("/studies/s1/analyses", data={"csrf_token": csrf},
                    files={"protocol_file": ("p.yaml", b"[" * 50_000 + b"]" * 50_000)})
    assert deep.status_code == 422 and "nested more than" in deep.text
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
    resp = ana.post("/studies/s1/analyses", data={"csrf_token": csrf}, files={"protocol_file": ("p.yaml", bomb.encode())})
    assert resp.status_code == 422 and "alias bomb" in resp.text and len(resp.text) < 100_000
    latin = ana.post("/studies/s1/analyses", data={"csrf_token": csrf}, files={"protocol_file": ("p.yaml", b"a: \xe9\n")})
    assert latin.status_code == 422 and "not UTF-8" in latin.text
    # a zip whose member fails its CRC
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("patients.csv", "patient_id,disease\n" + "p1,B-ALL\n" * 50)
    data = bytearray(buf.getvalue())
    data[data.index(b"p1,B-ALL") + 3] ^= 0x20
    damaged = ana.post("/studies/s1/upload", data={"csrf_token": csrf}, files={"cohort": ("c.zip", bytes(data))})
    assert damaged.status_code == 415 and "damaged" in damaged.text


def test_killed_first_import_leaves_studies_page_working(tmp_path):
    """A store file whose first transaction never committed lists no snapshots (not a 500)."""
    import duckdb

    from cartscope.web import create_app
    from cartscope.web.accounts import Accounts
    from cartscope.web.db import Database

    store = tmp_path / "study.duckdb"
    duckdb.connect(str(store)).close()  # what a killed first import leaves: a store without tables
    app = create_app(store, secret_key=SECRET, report_writer=None, password_hasher=LIGHT_HASHER)
    accounts = Accounts(Database(tmp_path / "study.web.sqlite"), LIGHT_HASHER)
    user = accounts.add_user("ana", PASSWORD, "analyst")
    accounts.add_study("s1", "t", user)
    with TestClient(app) as client:
        assert sign_in(client, "ana").status_code == 303
        assert client.get("/studies").status_code == 200
        assert client.get("/studies/s1").status_code == 200
