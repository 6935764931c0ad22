"""The application factory: ``create_app(store_path, secret_key=...)`` gives a FastAPI app.

Everything the app needs is embedded: the DuckDB study store, one SQLite file for accounts,
sessions, jobs and the audit log, and a data folder for result files. Pages are rendered on
the server (Jinja2, autoescaped); the only assets are local CSS. The process log records
method, route template (never the values in the path, which may name a patient), status and
duration.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from cartscope.safe_output import private_dir
from cartscope.web.access import Forbidden, NotFound, NotSignedIn
from cartscope.web.accounts import Accounts
from cartscope.web.audit import AuditLog
from cartscope.web.config import WebConfig
from cartscope.web.db import Database
from cartscope.web.jobs import JobRunner, ReportWriter
from cartscope.web.ratelimit import LoginLimiter
from cartscope.web.sessions import Sessions
from cartscope.web.store import StudyStore
from cartscope.web.workers import ProcessPool, WorkerLimits

HERE = Path(__file__).parent
log = logging.getLogger("cartscope.web")

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


@dataclass
class WebState:
    """The services of one application instance (kept on ``app.state.web``)."""

    config: WebConfig
    db: Database
    accounts: Accounts
    sessions: Sessions
    audit: AuditLog
    limiter: LoginLimiter
    store: StudyStore
    jobs: JobRunner
    figures: ProcessPool
    templates: Jinja2Templates


def _wants_html(request: Request) -> bool:
    """Pages answer in HTML, the ``/api/`` routes in JSON."""
    return not request.url.path.startswith("/api/")


def create_app(
    db_path: Path | str,
    *,
    secret_key: str,
    secure_cookies: bool = False,
    accounts_db: Path | str | None = None,
    data_dir: Path | str | None = None,
    max_upload_bytes: int = 50 * 1024 * 1024,
    login_max_failures: int = 5,
    login_window_s: float = 900.0,
    job_workers: int = 2,
    report_writer: ReportWriter | None | bool = True,
    password_hasher: PasswordHasher | None = None,
    **limits: Any,
) -> FastAPI:
    """The web application over the study store at ``db_path``.

    ``secret_key`` (>= 16 characters) keys session digests; ``secure_cookies`` marks the
    session cookie Secure (serve over HTTPS then). ``report_writer``: True finds the report
    package's ``write_report``; None switches reports off; a callable is used as given.
    ``password_hasher``: argon2 parameters (default: argon2-cffi's RFC 9106 profile).
    ``limits``: any other field of :class:`~cartscope.web.config.WebConfig` (job time and
    memory limits, figure workers, trusted proxies, unpacked-upload limit).
    """
    options: dict[str, Any] = dict(secure_cookies=secure_cookies, max_upload_bytes=max_upload_bytes,
                                   login_max_failures=login_max_failures, login_window_s=login_window_s,
                                   job_workers=job_workers, **limits)
    if accounts_db is not None:
        options["accounts_db"] = accounts_db
    if data_dir is not None:
        options["data_dir"] = data_dir
    config = WebConfig.beside(db_path, secret_key=secret_key, **options)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from cartscope.cohort import input_limits

    input_limits.configure(input_limits.limits_from_env())  # the same bounds as the command line
    private_dir(config.data_dir)
    _remove_leftover_uploads(config.data_dir / "uploads")
    db = Database(config.accounts_db)
    accounts = Accounts(db, password_hasher)
    audit = AuditLog(db)
    store = StudyStore(config.store)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True  # templates are *.html.j2: escape every one, whatever its suffix
    from cartscope.web.patient import show, when

    templates.env.filters["show"] = show
    templates.env.filters["urlpart"] = lambda value: quote(str(value), safe="")  # '/' too: one path segment
    templates.env.filters["when"] = when
    state = WebState(
        config=config, db=db, accounts=accounts,
        sessions=Sessions(db, accounts, secret_key, config.session_hours), audit=audit,
        limiter=LoginLimiter(config.login_max_failures, config.login_window_s), store=store,
        jobs=JobRunner(db, store, config.data_dir / "results", audit, config.job_workers, report_writer,
                       WorkerLimits(time_s=config.job_time_s, memory_bytes=config.job_memory_mb * 2**20)),
        figures=ProcessPool(config.figure_workers, WorkerLimits(time_s=config.figure_time_s,
                                                                memory_bytes=min(config.job_memory_mb, 2048) * 2**20,
                                                                max_tasks=200), name="cartscope-figures"),
        templates=templates,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        state.jobs.shutdown()
        state.figures.shutdown()

    app = FastAPI(title="cartscope", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.web = state
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def guard_and_log(request: Request, call_next):
        started = time.perf_counter()
        if request.method == "POST":
            length = request.headers.get("content-length")
            if length is None:
                return PlainError(411, "A request body needs a Content-Length.")
            if not length.isdigit() or int(length) > config.max_upload_bytes + 65536:
                mb = config.max_upload_bytes / 2**20
                return _error_page(state, request, 413, f"The upload is too large: the limit is {mb:g} MB.")
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or ("/static" if request.url.path.startswith("/static/") else "-")
        log.info("%s %s %s %.0fms", request.method, template, response.status_code,
                 1000 * (time.perf_counter() - started))
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.method == "GET" and _wants_html(request):
            from urllib.parse import quote

            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error_page(state, request, 403, exc.message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error_page(state, request, 404, exc.message)

    from cartscope.web.routes import register

    register(app, state)
    return app


def _remove_leftover_uploads(folder: Path) -> None:
    """Temporary copies of uploads a stopped server left behind (a cohort never outlives its request)."""
    import shutil

    if not folder.is_dir():
        return
    for leftover in folder.iterdir():
        if leftover.name.startswith(("recv-", "upload-")):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def PlainError(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status)


def _error_page(state: WebState, request: Request, status: int, message: str) -> Response:
    if not _wants_html(request):
        return JSONResponse({"detail": message}, status_code=status)
    titles = {403: "Not allowed", 404: "Not found", 413: "Upload too large", 429: "Too many attempts"}
    return state.templates.TemplateResponse(
        request, "error.html.j2", {"title": titles.get(status, "Error"), "message": message, "user": None,
                                "csrf": None, "flash": None}, status_code=status,
    )
