"""Pages and API routes. Every route but sign-in depends on :func:`cartscope.web.access.require`."""

from __future__ import annotations

import io
import json
import math
import secrets
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd
from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from cartscope.cohort.safe_yaml import YamlError, YamlLimits, excerpt, load_yaml
from cartscope.web.access import NotFound, Principal, client_of, require
from cartscope.web.accounts import ROLES, AccountError
from cartscope.web.sessions import COOKIE
from cartscope.web.uploads import UploadRejected, receive_cohort, safe_filename

if TYPE_CHECKING:
    from cartscope.web.app import WebState

LOGIN_COOKIE = "cartscope_login"
DOWNLOAD_SUFFIXES = (".csv", ".parquet", ".json", ".yaml")
MAX_PROTOCOL_BYTES = 256 * 1024
MAX_TABLE_ROWS = 2000


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/studies"


def _frame_html(frame: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS) -> Markup:
    from cartscope.web.patient import show

    shown = frame.head(max_rows)
    html = shown.to_html(index=False, na_rep="", border=0, classes="data", escape=True,
                         formatters={c: show for c in shown.columns})
    return Markup(html)


def register(app: FastAPI, web: "WebState") -> None:
    cfg = web.config
    tpl = web.templates

    def page(request: Request, who: Principal | None, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        flash = web.sessions.pop_flash(who.session) if who else None
        base = {"user": who.user if who else None, "csrf": who.session.csrf if who else None, "flash": flash}
        return tpl.TemplateResponse(request, template, {**base, **ctx}, status_code=status)

    def audit(who: Principal, action: str, *, target: str | None = None, outcome: str = "ok") -> None:
        web.audit.record(action, username=who.user.username, study=who.study, target=target,
                         outcome=outcome, client=who.client)

    def job_of(who: Principal, job_id: int) -> dict:
        job = web.jobs.job(job_id)
        if job is None or job["study"] != who.study:
            raise NotFound(f"There is no analysis {job_id} in this study.")
        return job

    def done_folder(who: Principal, job_id: int) -> tuple[dict, Path]:
        job = job_of(who, job_id)
        if job["status"] != "done":
            raise NotFound("This analysis has no results yet.")
        return job, web.jobs.folder(job_id)

    # --- sign in / out ----------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/studies", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        token = secrets.token_urlsafe(24)
        resp = tpl.TemplateResponse(request, "login.html.j2", {"user": None, "csrf": None, "flash": None,
                                                            "login_token": token, "next": _safe_next(next),
                                                            "error": None})
        resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies,
                        max_age=3600, path="/login")
        return resp

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf_token: str = Form(""), next: str = Form("/studies")) -> Response:
        client = client_of(request)
        expected = request.cookies.get(LOGIN_COOKIE)

        def again(status: int, error: str) -> Response:
            token = secrets.token_urlsafe(24)
            resp = tpl.TemplateResponse(request, "login.html.j2", {"user": None, "csrf": None, "flash": None,
                                                                "login_token": token, "next": _safe_next(next),
                                                                "error": error, "username": username},
                                        status_code=status)
            resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies,
                            max_age=3600, path="/login")
            return resp

        if not expected or not secrets.compare_digest(expected, csrf_token or ""):
            return again(403, "The sign-in form was out of date. Please try again.")
        attempt, wait = web.limiter.begin(username, client)  # counted before the password is checked
        if attempt is None:
            web.audit.record("login", username=username or None, outcome="rate_limited", client=client)
            return again(429, f"Too many failed sign-ins. Try again in {math.ceil(wait)} s.")
        user = web.accounts.authenticate(username, password)
        if user is None:
            web.audit.record("login", username=username or None, outcome="failed", client=client)
            return again(401, "Unknown user name or wrong password.")
        web.limiter.succeeded(username, attempt)
        web.audit.record("login", username=user.username, client=client)
        resp = RedirectResponse(_safe_next(next), status_code=303)
        resp.set_cookie(COOKIE, web.sessions.start(user), httponly=True, samesite="strict",
                        secure=cfg.secure_cookies, max_age=int(cfg.session_hours * 3600), path="/")
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    @app.post("/logout")
    def logout(who: Principal = Depends(require("signed_in"))) -> Response:
        web.sessions.end(who.session)
        audit(who, "logout")
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    # --- studies ----------------------------------------------------------------------------

    @app.get("/studies", response_class=HTMLResponse)
    def studies(request: Request, who: Principal = Depends(require("signed_in"))) -> Response:
        rows = web.accounts.studies_for(who.user)
        for row in rows:
            row["snapshot"] = web.store.latest(row["name"])
        return page(request, who, "studies.html.j2", studies=rows)

    @app.get("/studies/new", response_class=HTMLResponse)
    def new_study_form(request: Request, who: Principal = Depends(require("create"))) -> Response:
        return page(request, who, "study_new.html.j2", error=None, name="", title="")

    @app.post("/studies")
    def create_study(request: Request, name: str = Form(""), title: str = Form(""),
                     who: Principal = Depends(require("create"))) -> Response:
        name = name.strip()
        try:
            web.accounts.add_study(name, title, who.user)
        except AccountError as exc:
            return page(request, who, "study_new.html.j2", status=422, error=str(exc), name=name, title=title)
        web.audit.record("study_create", username=who.user.username, study=name, client=who.client)
        web.sessions.flash(who.session, f"Study {name} created. Next: upload its cohort.")
        return RedirectResponse(f"/studies/{quote(name)}", status_code=303)

    def study_page(request: Request, who: Principal, status: int = 200, **extra: Any) -> Response:
        snaps = web.store.snapshots(who.study)
        from cartscope.analysis.presets import PRESETS

        return page(request, who, "study.html.j2", status=status, study=web.accounts.study(who.study),
                    snapshots=snaps.to_dict("records"), jobs=web.jobs.jobs(who.study), presets=PRESETS,
                    members=web.accounts.members(who.study), can_write=who.user.can_write,
                    max_mb=cfg.max_upload_bytes / 2**20, **extra)

    @app.get("/studies/{study}", response_class=HTMLResponse)
    def study(request: Request, who: Principal = Depends(require("view"))) -> Response:
        audit(who, "view_study")
        return study_page(request, who)

    @app.post("/studies/{study}/upload")
    def upload(request: Request, cohort: UploadFile | None = File(None), date_order: str = Form(""),
               who: Principal = Depends(require("write"))) -> Response:
        if cohort is None or not cohort.filename:
            return study_page(request, who, status=422, upload_error="Choose a file to upload first.")
        work = cfg.data_dir / "uploads"
        work.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="recv-", dir=work)
        tmp = Path(tmp_name)
        try:
            size = 0
            with open(fd, "wb") as out:
                while chunk := cohort.file.read(1 << 16):
                    size += len(chunk)
                    if size > cfg.max_upload_bytes:
                        audit(who, "upload", target=None, outcome="rejected: too large")
                        mb = cfg.max_upload_bytes / 2**20
                        return study_page(request, who, status=413,
                                          upload_error=f"The file is larger than the {mb:g} MB limit.")
                    out.write(chunk)
            try:
                outcome = receive_cohort(tmp, cohort.filename, study=who.study, store=web.store,
                                         work_dir=work, max_unzipped_bytes=cfg.max_unzipped_bytes,
                                         date_order=date_order.strip() or None)
            except UploadRejected as exc:
                audit(who, "upload", outcome="rejected: file type or layout")
                return study_page(request, who, status=415, upload_error=str(exc))
        finally:
            tmp.unlink(missing_ok=True)
        if not outcome.stored:
            audit(who, "upload", target=outcome.filename, outcome=f"rejected: {len(outcome.errors)} error(s)")
            return page(request, who, "upload_problems.html.j2", status=422, study=web.accounts.study(who.study),
                        outcome=outcome)
        report = outcome.report
        audit(who, "upload", target=f"{outcome.filename} -> snapshot {report.snapshot} ({report.status})")
        if report.status == "unchanged":
            message = f"{outcome.filename}: identical data is already stored as snapshot {report.snapshot}; nothing changed."
        else:
            message = (f"{outcome.filename} stored as snapshot {report.snapshot} "
                       f"({report.rows.get('patients', 0)} patients). Next: run an analysis.")
        if outcome.warnings:
            message += f" {len(outcome.warnings)} warning(s) were noted."
        web.sessions.flash(who.session, message)
        return RedirectResponse(f"/studies/{quote(who.study)}", status_code=303)

    @app.post("/studies/{study}/analyses")
    def analyse(request: Request, preset: str = Form(""), snapshot: str = Form(""),
                protocol_file: UploadFile | None = File(None),
                who: Principal = Depends(require("write"))) -> Response:
        from cartscope.analysis.protocol import PRESET_PROTOCOLS, ProtocolError, load_protocol

        latest = web.store.latest(who.study)
        if latest is None:
            return study_page(request, who, status=409, analysis_errors=["Upload a cohort before running an analysis."])
        snapshot = snapshot.strip()
        if snapshot and not (snapshot.isascii() and snapshot.isdigit() and len(snapshot) <= 9):
            audit(who, "analyse", outcome="rejected: snapshot")
            return study_page(request, who, status=422,
                              analysis_errors=[f"The snapshot must be a snapshot number, not {excerpt(snapshot)}."])
        snap = int(snapshot) if snapshot else latest
        try:
            if protocol_file is not None and protocol_file.filename:
                raw = protocol_file.file.read(MAX_PROTOCOL_BYTES + 1)
                source = safe_filename(protocol_file.filename)
                if len(raw) > MAX_PROTOCOL_BYTES:
                    raise ProtocolError(source, ["the protocol file is larger than 256 KB"])
                if Path(source).suffix.lower() not in (".yaml", ".yml"):
                    raise ProtocolError(source, ["upload a protocol as a .yaml file"])
                try:
                    data = load_yaml(raw, source, YamlLimits(max_bytes=MAX_PROTOCOL_BYTES))
                except YamlError as exc:
                    where = "" if exc.problem.row is None else f"line {exc.problem.row}: "
                    raise ProtocolError(source, [f"{where}{exc.problem.message}"]) from None
                # checked below with the snapshot: schema and name problems in one round
                protocol, plan_data, name = None, data, source
            elif preset in PRESET_PROTOCOLS:
                protocol, plan_data, name = load_protocol(preset), None, preset
            else:
                raise ProtocolError("protocol", ["choose a preset or upload a protocol file"])
        except ProtocolError as exc:
            audit(who, "analyse", outcome="rejected: protocol")
            return study_page(request, who, status=422,
                              analysis_errors=[f"{exc.source}: {p}" for p in exc.problems])
        if web.store.snapshots(who.study).query("snapshot == @snap").empty:
            return study_page(request, who, status=422, analysis_errors=[f"There is no snapshot {snap}."])
        from cartscope.analysis.plan.check import PlanError, check_plan, load_and_check  # as the command line

        cohort = web.store.load(who.study, snap)
        try:  # an upload's schema and name problems together; a preset's names against this cohort
            if plan_data is None:
                findings = check_plan(protocol, cohort, name)
                if any(f.is_error for f in findings):
                    raise PlanError(findings)
            else:
                protocol, _ = load_and_check(plan_data, cohort, name)
        except ProtocolError as exc:
            audit(who, "analyse", outcome="rejected: protocol")
            return study_page(request, who, status=422,
                              analysis_errors=[f"{exc.source}: {p}" for p in exc.problems])
        job_id = web.jobs.submit(study=who.study, snapshot=snap, protocol=protocol, protocol_name=name,
                                 username=who.user.username)
        audit(who, "analyse", target=f"job {job_id}: {name} on snapshot {snap}")
        return RedirectResponse(f"/studies/{quote(who.study)}/jobs/{job_id}", status_code=303)

    # --- jobs and results -------------------------------------------------------------------

    @app.get("/api/studies/{study}/jobs/{job_id}")
    def job_status(job_id: int, who: Principal = Depends(require("view"))) -> JSONResponse:
        job = job_of(who, job_id)
        keys = ("id", "study", "snapshot", "protocol", "status", "progress", "step", "error", "report",
                "created_by", "created_at", "finished_at")
        return JSONResponse({k: job[k] for k in keys})

    @app.get("/api/studies")
    def api_studies(who: Principal = Depends(require("signed_in"))) -> JSONResponse:
        return JSONResponse([{"name": s["name"], "title": s["title"]} for s in web.accounts.studies_for(who.user)])

    @app.get("/studies/{study}/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: int, who: Principal = Depends(require("view"))) -> Response:
        job = job_of(who, job_id)
        ctx: dict[str, Any] = {"study": web.accounts.study(who.study), "job": job}
        if job["status"] == "done":
            folder = web.jobs.folder(job_id)
            doc = json.loads((folder / "results.json").read_text("utf-8"))
            ep = pd.read_parquet(folder / "endpoints.parquet")
            cols = [c for c in ("patient_id", "disease_group", "cohort_role", "bor", "outcome_class") if c in ep]
            ctx.update(report_pdf=(folder / "report" / "report.pdf").is_file(), tables=doc["tables"], sections=doc["sections"], skipped=doc["skipped"],
                       exclusions=doc["exclusions"], patients=ep[cols].to_dict("records"))
            audit(who, "view_results", target=f"job {job_id}")
        return page(request, who, "job.html.j2", **ctx)

    @app.get("/studies/{study}/jobs/{job_id}/tables/{name}", response_class=HTMLResponse)
    def table_page(request: Request, job_id: int, name: str, who: Principal = Depends(require("view"))) -> Response:
        job, folder = done_folder(who, job_id)
        path = folder / "tables" / f"{name}.parquet"
        if name == "endpoints":
            path = folder / "endpoints.parquet"
        if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
            raise NotFound(f"There is no result table {name!r}.")
        frame = pd.read_parquet(path)
        audit(who, "view_table", target=f"job {job_id}: {name}")
        return page(request, who, "table.html.j2", study=web.accounts.study(who.study), job=job, name=name,
                    table=_frame_html(frame), rows=len(frame), truncated=len(frame) > MAX_TABLE_ROWS)

    @app.get("/studies/{study}/jobs/{job_id}/files/{path:path}")
    def download(job_id: int, path: str, who: Principal = Depends(require("view"))) -> Response:
        _, folder = done_folder(who, job_id)
        target = (folder / path).resolve()
        if (not target.is_relative_to(folder.resolve()) or not target.is_file()
                or target.suffix.lower() not in DOWNLOAD_SUFFIXES or "report" in target.relative_to(folder.resolve()).parts[:1]):
            raise NotFound("There is no such result file.")
        audit(who, "download", target=f"job {job_id}: {path}")
        return FileResponse(target, filename=f"{who.study}-job{job_id}-{target.name}")

    @app.get("/studies/{study}/jobs/{job_id}/results.zip")
    def download_all(job_id: int, who: Principal = Depends(require("view"))) -> Response:
        _, folder = done_folder(who, job_id)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    zf.write(file, file.relative_to(folder).as_posix())
        audit(who, "download", target=f"job {job_id}: results.zip")
        name = f"{who.study}-job{job_id}-results.zip"
        return Response(buf.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/studies/{study}/jobs/{job_id}/report", response_class=HTMLResponse)
    def report(request: Request, job_id: int, who: Principal = Depends(require("view"))) -> Response:
        job, folder = done_folder(who, job_id)
        if not job["report"]:
            return page(request, who, "report_pending.html.j2", study=web.accounts.study(who.study), job=job)
        audit(who, "view_report", target=f"job {job_id}")
        return RedirectResponse(f"/studies/{quote(who.study)}/jobs/{job_id}/report/{job['report']}", status_code=303)

    @app.get("/studies/{study}/jobs/{job_id}/report/{path:path}")
    def report_file(job_id: int, path: str, who: Principal = Depends(require("view"))) -> Response:
        job, folder = done_folder(who, job_id)
        root = (folder / "report").resolve()
        target = (root / path).resolve()
        if not job["report"] or not target.is_relative_to(root) or not target.is_file():
            raise NotFound("There is no such report file.")
        if path == job["report"]:
            audit(who, "view_report", target=f"job {job_id}")
            if target.suffix.lower() == ".html":  # the report page keeps the application's navigation
                import html as _html

                study = quote(who.study)
                nav = (f'<nav class="app-nav" style="font: 14px sans-serif; padding: .5rem 1rem; background: #1f3a5f;">'
                       f'<a style="color:#fff" href="/studies">cartscope · Studies</a> › '
                       f'<a style="color:#fff" href="/studies/{study}">{_html.escape(who.study)}</a> › '
                       f'<a style="color:#fff" href="/studies/{study}/jobs/{job_id}">Analysis {job_id}</a> › '
                       f'<span style="color:#fff">Report</span></nav>')
                page_text = target.read_text("utf-8")
                head, sep, rest = page_text.partition("<body>")
                return HTMLResponse(head + sep + nav + rest if sep else nav + page_text)
        return FileResponse(target)

    @app.get("/studies/{study}/jobs/{job_id}/patients/{patient_id:path}", response_class=HTMLResponse)
    def patient(request: Request, job_id: int, patient_id: str, who: Principal = Depends(require("view"))) -> Response:
        from cartscope.analysis.protocol import parse_protocol
        from cartscope.web.patient import patient_view

        job, folder = done_folder(who, job_id)
        cohort = web.store.load(who.study, job["snapshot"])
        protocol = parse_protocol(load_yaml(job["protocol_yaml"], job["protocol"]), job["protocol"])

        def renderer(task, *args):
            return web.figures.run(task, *args, wait_s=cfg.figure_time_s)

        try:
            view = patient_view(cohort, protocol, folder, patient_id, renderer=renderer)
        except KeyError:
            raise NotFound("There is no such patient in this analysis.") from None
        audit(who, "view_patient", target=f"job {job_id}: patient {patient_id}")
        return page(request, who, "patient.html.j2", study=web.accounts.study(who.study), job=job, view=view,
                    figures={k: Markup(v) for k, v in view.figures.items()},
                    kinetics=_frame_html(view.kinetics) if not view.kinetics.empty else None,
                    labs=_frame_html(view.labs) if not view.labs.empty else None)

    # --- membership and administration --------------------------------------------------------

    @app.post("/studies/{study}/members")
    def add_member(username: str = Form(""), action: str = Form("add"),
                   who: Principal = Depends(require("admin"))) -> Response:
        if web.accounts.study(who.study) is None:
            raise NotFound(f"There is no study {who.study!r}.")
        try:
            if action == "remove":
                web.accounts.remove_member(who.study, username)
            else:
                web.accounts.add_member(who.study, username)
            audit(who, f"member_{'remove' if action == 'remove' else 'add'}", target=username)
            web.sessions.flash(who.session, f"{username} {'removed from' if action == 'remove' else 'added to'} the study.")
        except AccountError as exc:
            web.sessions.flash(who.session, str(exc))
        return RedirectResponse(f"/studies/{quote(who.study)}", status_code=303)

    @app.get("/admin/users", response_class=HTMLResponse)
    def users(request: Request, who: Principal = Depends(require("admin"))) -> Response:
        return page(request, who, "users.html.j2", users=web.accounts.users(), roles=ROLES, error=None)

    @app.post("/admin/users")
    def add_user(request: Request, username: str = Form(""), password: str = Form(""), role: str = Form("viewer"),
                 who: Principal = Depends(require("admin"))) -> Response:
        try:
            web.accounts.add_user(username.strip(), password, role)  # type: ignore[arg-type]
        except AccountError as exc:
            return page(request, who, "users.html.j2", status=422, users=web.accounts.users(), roles=ROLES, error=str(exc))
        audit(who, "user_create", target=f"{username} ({role})")
        web.sessions.flash(who.session, f"Account {username} ({role}) created. Add it to studies from each study's page.")
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/users/{username}")
    def change_user(username: str, role: str = Form(""), active: str = Form(""),
                    who: Principal = Depends(require("admin"))) -> Response:
        try:
            if role:
                web.accounts.set_role(username, role)  # type: ignore[arg-type]
                audit(who, "user_role", target=f"{username} -> {role}")
            if active in ("0", "1"):
                if username == who.user.username and active == "0":
                    raise AccountError("you cannot deactivate your own account")
                web.accounts.set_active(username, active == "1")
                audit(who, "user_active", target=f"{username} -> {'active' if active == '1' else 'inactive'}")
            web.sessions.flash(who.session, f"Account {username} updated.")
        except AccountError as exc:
            web.sessions.flash(who.session, str(exc))
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/account/password", response_class=HTMLResponse)
    def password_form(request: Request, who: Principal = Depends(require("signed_in"))) -> Response:
        return page(request, who, "password.html.j2", error=None)

    @app.post("/account/password")
    def change_password(request: Request, current: str = Form(""), new: str = Form(""), again: str = Form(""),
                        who: Principal = Depends(require("signed_in"))) -> Response:
        try:
            if new != again:
                raise AccountError("the two new passwords differ")
            web.accounts.change_password(who.user.username, current, new)
        except AccountError as exc:
            audit(who, "password_change", outcome="rejected")
            return page(request, who, "password.html.j2", status=422, error=str(exc))
        audit(who, "password_change")
        resp = RedirectResponse("/login", status_code=303)  # every session of the account has ended
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.post("/admin/users/{username}/password")
    def reset_password(username: str, new: str = Form(""), who: Principal = Depends(require("admin"))) -> Response:
        try:
            web.accounts.reset_password(username, new)
            audit(who, "password_reset", target=username)
            web.sessions.flash(who.session, f"The password of {username} was reset; their sessions have ended.")
        except AccountError as exc:
            audit(who, "password_reset", target=username, outcome="rejected")
            web.sessions.flash(who.session, str(exc))
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse)
    def audit_page(request: Request, username: str = "", study: str = "", action: str = "",
                   who: Principal = Depends(require("admin"))) -> Response:
        entries = web.audit.entries(username=username or None, study=study or None, action=action or None)
        audit(who, "view_audit")
        return page(request, who, "audit.html.j2", entries=entries, filters={"username": username, "study": study,
                                                                          "action": action})

    @app.get("/api/audit")
    def api_audit(limit: int = 500, who: Principal = Depends(require("admin"))) -> JSONResponse:
        return JSONResponse(web.audit.entries(limit=min(max(limit, 1), 5000)))
