"""Server-side sessions and their CSRF tokens.

The browser holds only a random 256-bit token (cookie ``cartscope_session``: HttpOnly,
SameSite=Strict, Secure when configured). The database keeps an HMAC-SHA256 digest of it
under the application's secret key, so a copy of the database cannot be replayed as a
session. Each session has its own random CSRF token, which every form repeats in a hidden
field and every state-changing request must carry (synchroniser-token pattern, OWASP CSRF
Prevention Cheat Sheet). Signing out deletes the session row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from cartscope.web.accounts import Accounts, User
from cartscope.web.db import Database

COOKIE = "cartscope_session"


@dataclass(frozen=True)
class Session:
    token_digest: str
    user: User
    csrf: str


class Sessions:
    def __init__(self, db: Database, accounts: Accounts, secret_key: str, hours: float):
        if len(secret_key) < 16:
            raise ValueError("the secret key must have at least 16 characters")
        self.db = db
        self.accounts = accounts
        self._key = secret_key.encode()
        self.lifetime = hours * 3600.0

    def _digest(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def start(self, user: User) -> str:
        """A new session for ``user``; returns the cookie token."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE expires_at < ?", [now])
            con.execute(
                "INSERT INTO sessions (token_digest, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                [self._digest(token), user.id, secrets.token_urlsafe(32), now, now + self.lifetime],
            )
        return token

    def get(self, token: str | None) -> Session | None:
        """The live session of a cookie token, or None (unknown, expired or deactivated user)."""
        if not token or len(token) > 200:
            return None
        digest = self._digest(token)
        with self.db.connect() as con:
            row = con.execute(
                "SELECT s.csrf, s.expires_at, u.id, u.username, u.role, u.active FROM sessions s "
                "JOIN users u ON u.id = s.user_id WHERE s.token_digest = ?", [digest]
            ).fetchone()
        if row is None or row["expires_at"] < time.time() or not row["active"]:
            return None
        return Session(digest, User(int(row["id"]), row["username"], row["role"], True), row["csrf"])

    def end(self, session: Session) -> None:
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE token_digest = ?", [session.token_digest])

    def flash(self, session: Session, message: str) -> None:
        """A one-time message shown on the next page of this session."""
        with self.db.connect() as con:
            con.execute("UPDATE sessions SET flash = ? WHERE token_digest = ?", [message, session.token_digest])

    def pop_flash(self, session: Session) -> str | None:
        with self.db.connect() as con:
            row = con.execute("SELECT flash FROM sessions WHERE token_digest = ?", [session.token_digest]).fetchone()
            if row is None or row["flash"] is None:
                return None
            con.execute("UPDATE sessions SET flash = NULL WHERE token_digest = ?", [session.token_digest])
            return row["flash"]


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())
