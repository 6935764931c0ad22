"""The service under load and under kill -9, through a real server process on loopback.

- soak: 8 analysts upload cohorts, run analyses with reports and open results, tables and
  patient pages at the same time for a bounded time; the server must stay up, every accepted
  upload must be a stored snapshot and every accepted analysis must end ``done``;
- kill -9 during an import: after a restart the studies pages answer, no temporary cohort
  copy is left, and the store holds whole snapshots only;
- kill -9 during an analysis: the worker processes die with the server, and after a restart
  the job is run again to the end.

Throughput and latency are printed (``-s`` shows them).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import LIGHT_HASHER, PASSWORD, zip_folder

HERE = Path(__file__).parent
SOAK_USERS = 8
SOAK_SECONDS = float(os.environ.get("CARTSCOPE_SOAK_SECONDS", "40"))
DRAIN_SECONDS = 600.0  # generous for a loaded machine; on an idle one the drain takes seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, store: Path, workers: int = 2):
        self.store, self.workers, self.port = store, workers, _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.log = self.store.with_name(f"server-{self.port}-{time.monotonic_ns()}.log")
        with open(self.log, "wb") as log:  # a file, not a pipe: nobody has to read it while the server runs
            self.proc = subprocess.Popen([sys.executable, str(HERE / "_soak_server.py"), str(self.store),
                                          str(self.port), str(self.workers)], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the server did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _client(server: Server, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=120, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token,
                                       "next": "/studies"})
    assert resp.status_code == 303, resp.text[:500]
    return client


def _csrf(client: httpx.Client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/studies").text).group(1)


def _accounts(store: Path, users: int) -> None:
    from cartscope.web.accounts import Accounts
    from cartscope.web.db import Database

    accounts = Accounts(Database(store.with_name(store.stem + ".web.sqlite")), LIGHT_HASHER)
    for i in range(users):
        user = accounts.add_user(f"user{i}", PASSWORD, "analyst")
        accounts.add_study(f"study{i}", f"study {i}", user)


def _cohort_zip(tmp: Path, seed: int) -> Path:
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort

    folder = write_cohort(synthesize("li2023", seed=seed), tmp / f"c{seed}", fmt="csv")
    return zip_folder(Path(folder), tmp / f"c{seed}.zip")


def _workers_of(pid: int) -> list[int]:
    """Live processes started by ``pid`` that run the analysis worker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"cartscope.web.workers" in cmd:
            found.append(int(entry.name))
    return found


def _orphan_workers(store: Path) -> list[int]:
    """Worker processes of no living server (parent 1) — there must be none after a kill -9."""
    return [p for p in _workers_of(1)]


@pytest.mark.slow
def test_soak_eight_analysts_server_stays_up_and_nothing_is_lost(tmp_path):
    store = tmp_path / "study.duckdb"
    _accounts(store, SOAK_USERS)
    zips = [_cohort_zip(tmp_path, 500 + i) for i in range(SOAK_USERS)]
    server = Server(store, workers=2).start()
    latencies: list[float] = []
    lock = threading.Lock()
    accepted_uploads: dict[str, int] = {}
    accepted_jobs: dict[int, str] = {}
    errors: list[str] = []
    deadline = time.monotonic() + SOAK_SECONDS

    def timed(fn, *args, **kwargs):
        started = time.perf_counter()
        resp = fn(*args, **kwargs)
        with lock:
            latencies.append(time.perf_counter() - started)
        if resp.status_code >= 500:
            with lock:
                errors.append(f"{resp.status_code} {resp.request.method} {resp.request.url.path}")
        return resp

    def analyst(i: int) -> None:
        study = f"study{i}"
        try:
            client = _client(server, f"user{i}")
            csrf = _csrf(client)
            rounds = 0
            while time.monotonic() < deadline:
                rounds += 1
                if rounds <= 2:
                    up = timed(client.post, f"/studies/{study}/upload", data={"csrf_token": csrf},
                               files={"cohort": (f"c{i}-{rounds}.zip", zips[(i + rounds) % SOAK_USERS].read_bytes())})
                    if up.status_code == 303:
                        with lock:
                            accepted_uploads[study] = accepted_uploads.get(study, 0) + 1
                    job = timed(client.post, f"/studies/{study}/analyses", data={"csrf_token": csrf, "preset": "li2023"}) \
                        if rounds == 1 else None
                    if job is not None and job.status_code == 303:
                        job_id = int(job.headers["location"].rsplit("/", 1)[1])
                        with lock:
                            accepted_jobs[job_id] = study
                jobs = [j for j, s in list(accepted_jobs.items()) if s == study]
                for job_id in jobs:
                    status = timed(client.get, f"/api/studies/{study}/jobs/{job_id}").json()["status"]
                    timed(client.get, f"/studies/{study}/jobs/{job_id}")
                    if status == "done":
                        timed(client.get, f"/studies/{study}/jobs/{job_id}/tables/outcomes")
                        page = timed(client.get, f"/studies/{study}/jobs/{job_id}/patients/pt02")
                        if page.status_code != 200:
                            with lock:
                                errors.append(f"patient page {page.status_code}")
                        timed(client.get, f"/studies/{study}/jobs/{job_id}/report", follow_redirects=True)
                timed(client.get, f"/studies/{study}")
                time.sleep(0.5)
        except Exception as exc:  # noqa: BLE001 - every failure of a simulated user is a finding
            with lock:
                errors.append(f"user{i}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    threads = [threading.Thread(target=analyst, args=(i,)) for i in range(SOAK_USERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    try:
        assert server.proc.poll() is None, "the server died"
        # drain: every accepted analysis ends, and ends done
        client = _client(server, "user0")
        drain = time.monotonic() + DRAIN_SECONDS
        states: dict[int, str] = {}
        reasons: dict[int, str | None] = {}
        owners = {"study0": client}
        while time.monotonic() < drain:
            states, reasons = {}, {}
            for job_id, study in accepted_jobs.items():
                owner = owners.setdefault(study, _client(server, f"user{study[5:]}"))
                job = owner.get(f"/api/studies/{study}/jobs/{job_id}").json()
                states[job_id], reasons[job_id] = job["status"], job["error"]
            if all(s in ("done", "failed") for s in states.values()):
                break
            time.sleep(2)
        assert server.proc.poll() is None, "the server died"
        jobs_done = sum(s == "done" for s in states.values())
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
        print(f"\nsoak: {SOAK_USERS} users, {len(latencies)} requests in {elapsed:.1f} s "
              f"({len(latencies) / elapsed:.1f} requests/s), p95 {1000 * p95:.0f} ms, "
              f"{sum(accepted_uploads.values())} uploads stored, {jobs_done}/{len(accepted_jobs)} analyses done, "
              f"server deaths 0")
        assert not errors, errors[:10]
        assert accepted_jobs and jobs_done == len(accepted_jobs), {j: (states[j], reasons[j]) for j in states}
        from cartscope.cohort.store import list_snapshots

        snapshots = list_snapshots(store)
        for study, n in accepted_uploads.items():
            assert (snapshots["study"] == study).sum() >= 1, study
    finally:
        server.stop()


@pytest.mark.slow
def test_kill_during_import_leaves_no_copy_and_no_500(tmp_path):
    from cartscope.analysis.presets import synthesize
    from cartscope.cohort.write import write_cohort

    store = tmp_path / "study.duckdb"
    _accounts(store, 1)
    big = write_cohort(synthesize("jin2023", seed=9), tmp_path / "jin.xlsx", fmt="xlsx")
    server = Server(store).start()
    try:
        client = _client(server, "user0")
        csrf = _csrf(client)

        def upload() -> None:
            try:
                client.post("/studies/study0/upload", data={"csrf_token": csrf},
                            files={"cohort": ("jin.xlsx", Path(big).read_bytes())})
            except httpx.HTTPError:
                pass

        thread = threading.Thread(target=upload)
        thread.start()
        uploads = tmp_path / "study-web" / "uploads"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(p.name.startswith("upload-") for p in uploads.glob("*")):
            time.sleep(0.02)
        assert any(p.name.startswith("upload-") for p in uploads.glob("*")), "the import never started"
        server.kill9()
        thread.join()
        assert list(uploads.glob("*")), "the kill left the temporary copy (as it should, for the restart to clean)"
        server.start()
        client = _client(server, "user0")
        assert client.get("/studies").status_code == 200
        assert client.get("/studies/study0").status_code == 200
        assert not list(uploads.glob("*")), "a temporary cohort copy survived the restart"
        from cartscope.cohort.store import list_snapshots, load_snapshot

        if store.exists():
            for row in list_snapshots(store).itertuples():
                assert len(load_snapshot(store, row.study, row.snapshot).patients) == row.n_patients
    finally:
        server.stop()


@pytest.mark.slow
def test_kill_during_analysis_stops_workers_and_the_job_is_resumed(tmp_path):
    store = tmp_path / "study.duckdb"
    _accounts(store, 1)
    server = Server(store, workers=1).start()
    try:
        client = _client(server, "user0")
        csrf = _csrf(client)
        zipped = _cohort_zip(tmp_path, 77)
        assert client.post("/studies/study0/upload", data={"csrf_token": csrf},
                           files={"cohort": ("c.zip", zipped.read_bytes())}).status_code == 303
        resp = client.post("/studies/study0/analyses", data={"csrf_token": csrf, "preset": "li2023"})
        job_id = int(resp.headers["location"].rsplit("/", 1)[1])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if client.get(f"/api/studies/study0/jobs/{job_id}").json()["status"] == "running" and \
                    _workers_of(server.proc.pid):
                break
            time.sleep(0.05)
        workers = _workers_of(server.proc.pid)
        assert workers, "no worker process ran the analysis"
        server.kill9()
        time.sleep(1.0)
        assert not [w for w in workers if Path(f"/proc/{w}").exists() and
                    "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]], \
            "a worker outlived the killed server"
        server.start()
        client = _client(server, "user0")
        deadline = time.monotonic() + 120
        job = {}
        while time.monotonic() < deadline:
            job = client.get(f"/api/studies/study0/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        logs = "".join(p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("server-*.log"))
        assert job["status"] == "done", f"{job.get('error')}\n{logs}"
        page = client.get(f"/studies/study0/jobs/{job_id}")
        assert page.status_code == 200
    finally:
        server.stop()
