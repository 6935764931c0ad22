"""Settings of one web application instance (paths, secrets and limits), fixed at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WebConfig:
    """Where the application keeps its data and how strict it is.

    - ``store``: the DuckDB study store (cohort snapshots, :mod:`cartscope.cohort.store`);
    - ``accounts_db``: the SQLite file of users, sessions, studies, jobs and the audit log;
    - ``data_dir``: result folders of finished analyses and temporary upload folders;
    - ``secret_key``: keys the session-token digests and the CSRF tokens (keep it private);
    - ``secure_cookies``: send the session cookie only over HTTPS (on behind a TLS proxy);
    - ``max_upload_bytes``: the largest request body accepted for an upload;
    - ``login_max_failures`` failed sign-ins per user name (four times as many per client address) within
      ``login_window_s`` seconds make each further attempt wait, longer after every failure
      (:mod:`cartscope.web.ratelimit`);
    - ``job_workers`` analyses run at once, each in a worker process with at most
      ``job_time_s`` seconds and ``job_memory_mb`` MB of address space; ``figure_workers``
      processes draw patient-page figures, ``figure_time_s`` seconds each;
    - ``trusted_proxies``: addresses (or networks, ``10.0.0.0/8``) of reverse proxies whose
      ``X-Forwarded-For`` names the client; from anyone else the header is ignored.
    """

    store: Path
    accounts_db: Path
    data_dir: Path
    secret_key: str
    secure_cookies: bool = False
    max_upload_bytes: int = 50 * 1024 * 1024
    max_unzipped_bytes: int = 200 * 1024 * 1024
    session_hours: float = 8.0
    login_max_failures: int = 5
    login_window_s: float = 900.0
    job_workers: int = 2
    job_time_s: float = 1800.0
    job_memory_mb: int = 4096
    figure_workers: int = 1
    figure_time_s: float = 60.0
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def beside(cls, store: Path | str, *, secret_key: str, **options: object) -> "WebConfig":
        """Accounts database and data folder next to the study store (``study.duckdb`` ->
        ``study.web.sqlite`` and ``study-web/``) unless given in ``options``."""
        store = Path(store)
        accounts = Path(options.pop("accounts_db", default_accounts_db(store)))  # type: ignore[arg-type]
        data_dir = Path(options.pop("data_dir", store.with_name(store.stem + "-web")))  # type: ignore[arg-type]
        return cls(store=store, accounts_db=accounts, data_dir=data_dir, secret_key=secret_key, **options)  # type: ignore[arg-type]


def default_accounts_db(store: Path | str) -> Path:
    """``study.duckdb`` -> ``study.web.sqlite`` beside it."""
    store = Path(store)
    return store.with_name(store.stem + ".web.sqlite")


def load_or_create_secret(path: Path | str) -> str:
    """The secret key kept in ``path``; a new random one (readable by the owner only) if missing."""
    import os
    import secrets

    path = Path(path)
    if path.is_file():
        key = path.read_text("utf-8").strip()
        if len(key) >= 16:
            return key
        raise ValueError(f"{path}: the secret key file holds fewer than 16 characters")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key
