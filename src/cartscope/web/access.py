"""The one access check every page and API route depends on.

``Depends(require(permission))`` signs the request in from its session cookie, checks the
role, checks membership of the study named in the path, and checks the CSRF token of every
request that changes state. Permissions:

- ``signed_in``: any active account;
- ``create``: admins and analysts (create a study);
- ``view``: members of the study and admins (pages, tables, patient pages, downloads);
- ``write``: analysts who are members of the study, and admins (upload, analyse);
- ``admin``: admins only (accounts, membership, audit log).

A non-member gets 403 whether or not the study exists, so names of other studies do not leak.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from cartscope.web.accounts import User
from cartscope.web.sessions import COOKIE, Session, csrf_ok

Permission = Literal["signed_in", "create", "view", "write", "admin"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in page, API calls get 401."""


class Forbidden(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, with their session and the study of the path (if any)."""

    user: User
    session: Session
    study: str | None
    client: str


def client_of(request: Request) -> str:
    """The client's address: the peer, or (only when the peer is a configured trusted proxy)
    the right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    web = getattr(request.app.state, "web", None)
    proxies = getattr(getattr(web, "config", None), "trusted_proxies", ()) or ()
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [a.strip() for a in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _valid(address):
            return peer  # a malformed header names nobody
        if not _trusted(address, proxies):
            return address
    return peer


def _valid(address: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    async def check(request: Request) -> Principal:
        web = request.app.state.web
        session = web.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            raise NotSignedIn()
        if request.method not in SAFE_METHODS:
            submitted = request.headers.get("x-csrf-token")
            if submitted is None:
                form = await request.form()
                value = form.get("csrf_token")
                submitted = value if isinstance(value, str) else None
            if not csrf_ok(session, submitted):
                raise Forbidden("The form was out of date or did not come from this site (missing or wrong "
                                "security token). Go back, reload the page and try again.")
        user = session.user
        study = request.path_params.get("study")
        if permission == "admin" and not user.is_admin:
            raise Forbidden("Only administrators may do this.")
        if permission == "create" and not user.can_write:
            raise Forbidden("Your role (viewer) may not create studies; ask an administrator.")
        if permission in ("view", "write"):
            if study is None:  # pragma: no cover - a route definition error
                raise RuntimeError("a study permission on a route without {study}")
            if not user.is_admin and not web.accounts.is_member(user, study):
                raise Forbidden("You are not a member of this study. Ask an administrator to add you.")
            if web.accounts.study(study) is None:
                raise NotFound(f"There is no study {study!r}.")
            if permission == "write" and not user.can_write:
                raise Forbidden("Your role (viewer) may read this study but not upload or analyse.")
        return Principal(user=user, session=session, study=study, client=client_of(request))

    return check
