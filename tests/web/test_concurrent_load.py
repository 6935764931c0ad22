"""A bounded load test on loopback: 4 analysts upload 2 cohorts each and analyse every stored
one, at the same time, through a real uvicorn server. Every upload must be either fully stored
or fully rejected, every job must finish, nothing may be lost; the throughput is printed."""

from __future__ import annotations

import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import LIGHT_HASHER, PASSWORD, zip_folder

USERS = 4
UPLOADS_PER_USER = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def loaded_server(tmp_path, cohort_files):
    import uvicorn

    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort
    from cartscope.web import create_app
    from cartscope.web.accounts import Accounts
    from cartscope.web.db import Database

    app = create_app(tmp_path / "study.duckdb", secret_key="load-test-secret-0123456789",
                     report_writer=None, job_workers=2, password_hasher=LIGHT_HASHER)
    accounts = Accounts(Database(tmp_path / "study.web.sqlite"), LIGHT_HASHER)
    files: dict[str, list[tuple[str, Path, bool]]] = {}
    for i in range(USERS):
        user = accounts.add_user(f"user{i}", PASSWORD, "analyst")
        accounts.add_study(f"load{i}", f"load study {i}", user)
        plan = []
        for j in range(UPLOADS_PER_USER):
            if (i + j) % 3 == 2:  # every third upload is the broken cohort
                plan.append(("broken.zip", cohort_files["broken"], False))
            else:
                folder = write_cohort(synthesize("li2023", seed=100 * i + j), tmp_path / f"c{i}{j}", fmt="csv")
                plan.append((f"li2023-{i}{j}.zip", zip_folder(folder, tmp_path / f"c{i}{j}.zip"), True))
        files[f"user{i}"] = plan
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app, files
    srv.should_exit = True
    thread.join(timeout=10)


def _session(base: str, username: str, counter: list[int]) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=60.0)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 303
    studies = client.get("/studies")
    counter[0] += 3
    return client, re.search(r'name="csrf_token" value="([^"]+)"', studies.text).group(1)


def _user_run(base: str, username: str, study: str, plan, counter: list[int]) -> dict:
    client, csrf = _session(base, username, counter)
    stored, rejected, jobs = 0, 0, []
    try:
        for filename, path, valid in plan:
            resp = client.post(f"/studies/{study}/upload", data={"csrf_token": csrf},
                               files={"cohort": (filename, path.read_bytes(), "application/zip")})
            counter[0] += 1
            if resp.status_code == 303:
                assert valid, f"{filename} should have been rejected"
                stored += 1
                run = client.post(f"/studies/{study}/analyses", data={"csrf_token": csrf, "preset": "li2023"})
                counter[0] += 1
                assert run.status_code == 303, run.text[:300]
                jobs.append(int(run.headers["location"].rsplit("/", 1)[1]))
            else:
                assert resp.status_code == 422 and not valid, (filename, resp.status_code)
                rejected += 1
        finished = {}
        deadline = time.monotonic() + 120
        while len(finished) < len(jobs):
            assert time.monotonic() < deadline, "jobs did not finish within 120 s"
            for job in jobs:
                if job not in finished:
                    status = client.get(f"/api/studies/{study}/jobs/{job}").json()["status"]
                    counter[0] += 1
                    if status in ("done", "failed"):
                        finished[job] = status
            time.sleep(0.2)
    finally:
        client.close()
    return {"stored": stored, "rejected": rejected, "jobs": finished, "done_at": time.monotonic()}


def test_concurrent_uploads_and_analyses(loaded_server, capsys):
    base, app, files = loaded_server
    counter = [0]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        futures = {u: pool.submit(_user_run, base, u, f"load{u[4:]}", plan, counter) for u, plan in files.items()}
        outcomes = {u: f.result(timeout=180) for u, f in futures.items()}
    elapsed = time.monotonic() - started
    total_jobs = 0
    for user, out in outcomes.items():
        study = f"load{user[4:]}"
        plan = files[user]
        expected_valid = sum(valid for _, _, valid in plan)
        assert out["stored"] == expected_valid and out["rejected"] == len(plan) - expected_valid
        snaps = app.state.web.store.snapshots(study)
        assert sorted(snaps["snapshot"].tolist()) == list(range(1, expected_valid + 1))  # nothing partial, nothing lost
        assert set(snaps["n_patients"]) <= {5}
        assert all(status == "done" for status in out["jobs"].values()), out["jobs"]
        for job in out["jobs"]:
            assert (app.state.web.jobs.folder(job) / "results.json").is_file()
        total_jobs += len(out["jobs"])
        uploads = app.state.web.audit.entries(username=user, action="upload")
        assert len(uploads) == len(plan)
    assert total_jobs == sum(sum(v for _, _, v in plan) for plan in files.values())
    with capsys.disabled():
        print(f"\nload test: {USERS} users x {UPLOADS_PER_USER} uploads, {counter[0]} requests in {elapsed:.1f} s "
              f"= {counter[0] / elapsed:.1f} requests/s; {total_jobs} analyses (li2023) in {elapsed:.1f} s "
              f"= {60 * total_jobs / elapsed:.1f} jobs/min")
