"""Accounts, roles, studies and study membership.

Roles (fixed, ordered by power):

- ``viewer``: reads the studies they are a member of (results, patient pages, downloads);
- ``analyst``: as viewer, and creates studies, uploads cohorts and runs analyses in their studies;
- ``admin``: everything in every study, plus accounts, membership and the audit log.

Passwords follow NIST SP 800-63B 5.1.1.2: at least :data:`MIN_PASSWORD` characters (up to
:data:`MAX_PASSWORD`, any characters), no composition rules, and refused when they are on the
list of common passwords shipped with the package (``common_passwords.csv``), are such a word
with digits or symbols around it, repeat or run through one character pattern
(``aaaaaaaaaa``, ``1234567890``, ``qwertyuiop``), or contain the user name or the
application's name. Users change their own password; admins reset anyone's (their sessions
end); both are audited.

Passwords are stored as argon2id hashes (argon2-cffi defaults, RFC 9106 recommendations);
a hash made with other parameters is replaced on the next successful sign-in. (Tests pass a
cheaper :class:`argon2.PasswordHasher`; production keeps the defaults.)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cartscope.web.db import Database

Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "analyst", "viewer")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
STUDY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")



class AccountError(ValueError):
    """A request about accounts or studies that cannot be honoured (message is for the user)."""


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    text = resources.files("cartscope.web").joinpath("common_passwords.csv").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()[1:] if line.strip())


def _patterned(word: str) -> bool:
    """One short unit repeated, or a run along the alphabet, the digits or a keyboard row."""
    for unit in range(1, 5):
        if len(word) >= 2 * unit and word == (word[:unit] * (len(word) // unit + 1))[: len(word)]:
            return True
    for seq in _SEQUENCES:
        for line in (seq, seq[::-1]):
            if len(word) >= 6 and word in (line * 2):
                return True
    return False


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused (NIST SP 800-63B), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"passwords need at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"passwords have at most {MAX_PASSWORD} characters"
    low = password.lower()
    common = common_passwords()
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", low)
    if low in common or (core and core in common) or low.replace(" ", "") in common:
        return "this password is too common (it is on the list of passwords attackers try first); choose another"
    if _patterned(low) or (core and _patterned(core)) or len(set(low)) <= 2:
        return "this password is a simple pattern (repeated or sequential characters); choose another"
    name = (username or "").lower()
    if len(name) >= 3 and name in low:
        return "the password must not contain the user name"
    if "cartscope" in low:
        return "the password must not contain the application's name"
    return None


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_write(self) -> bool:
        """May create studies, upload cohorts and run analyses (in studies they belong to)."""
        return self.role in ("admin", "analyst")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(row) -> User:
    return User(int(row["id"]), row["username"], row["role"], bool(row["active"]))


class Accounts:
    """Users, studies and membership in the application database."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None):
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash("cartscope-timing-equaliser")

    # --- users ---------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: Role = "viewer") -> User:
        if not USERNAME_RE.match(username or ""):
            raise AccountError("user names are 2-64 letters, digits or . _ @ - (starting with a letter or digit)")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        problem = password_problem(password or "", username)
        if problem:
            raise AccountError(problem)
        with self.db.connect() as con:
            if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                raise AccountError(f"user {username!r} already exists")
            cur = con.execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                [username, self.hasher.hash(password), role, now_iso()],
            )
            return User(int(cur.lastrowid), username, role)

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this name and password, else None (same work either way)."""
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
        stored = row["password_hash"] if row is not None else self._dummy
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or not row["active"]:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self.db.connect() as con:
                con.execute("UPDATE users SET password_hash = ? WHERE id = ?", [self.hasher.hash(password), row["id"]])
        return _user(row)

    def change_password(self, username: str, current: str, new: str) -> None:
        """The user's own change: the current password must be right; other sessions end."""
        if self.authenticate(username, current) is None:
            raise AccountError("the current password is not right")
        self._set_password(username, new)

    def reset_password(self, username: str, new: str) -> None:
        """An admin's reset: the user's sessions end."""
        self._set_password(username, new)

    def _set_password(self, username: str, new: str) -> None:
        problem = password_problem(new or "", username)
        if problem:
            raise AccountError(problem)
        with self.db.connect() as con:
            found = con.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
            if found is None:
                raise AccountError(f"no user {username!r}")
            con.execute("UPDATE users SET password_hash = ? WHERE id = ?", [self.hasher.hash(new), found["id"]])
            con.execute("DELETE FROM sessions WHERE user_id = ?", [found["id"]])

    def user(self, user_id: int) -> User | None:
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM users WHERE id = ?", [user_id]).fetchone()
        return None if row is None else _user(row)

    def by_name(self, username: str) -> User | None:
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
        return None if row is None else _user(row)

    def users(self) -> list[dict]:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT u.id, u.username, u.role, u.active, u.created_at, "
                "group_concat(m.study, ', ') AS studies FROM users u "
                "LEFT JOIN members m ON m.user_id = u.id GROUP BY u.id ORDER BY u.username"
            ).fetchall()
        return [dict(r) for r in rows]

    def set_role(self, username: str, role: Role) -> None:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        with self.db.connect() as con:
            if con.execute("UPDATE users SET role = ? WHERE username = ?", [role, username]).rowcount == 0:
                raise AccountError(f"no user {username!r}")

    def set_active(self, username: str, active: bool) -> None:
        with self.db.connect() as con:
            found = con.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
            if found is None:
                raise AccountError(f"no user {username!r}")
            con.execute("UPDATE users SET active = ? WHERE id = ?", [int(active), found["id"]])
            if not active:
                con.execute("DELETE FROM sessions WHERE user_id = ?", [found["id"]])

    # --- studies and membership ------------------------------------------------------------

    def add_study(self, name: str, title: str, creator: User) -> None:
        if not STUDY_RE.match(name or ""):
            raise AccountError("study names are 1-64 letters, digits or . _ - (starting with a letter or digit)")
        with self.db.connect() as con:
            if con.execute("SELECT 1 FROM studies WHERE name = ?", [name]).fetchone():
                # the same words whether or not the caller may see that study: names do not leak
                raise AccountError("this study name cannot be used; choose another")
            con.execute("INSERT INTO studies VALUES (?, ?, ?, ?)", [name, title.strip() or name, creator.username, now_iso()])
            con.execute("INSERT INTO members VALUES (?, ?)", [name, creator.id])

    def study(self, name: str) -> dict | None:
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM studies WHERE name = ?", [name]).fetchone()
        return None if row is None else dict(row)

    def studies_for(self, user: User) -> list[dict]:
        """Studies ``user`` may see: all for an admin, else those they are a member of."""
        sql = "SELECT s.* FROM studies s"
        args: list[object] = []
        if not user.is_admin:
            sql += " JOIN members m ON m.study = s.name AND m.user_id = ?"
            args.append(user.id)
        with self.db.connect() as con:
            return [dict(r) for r in con.execute(sql + " ORDER BY s.name", args).fetchall()]

    def is_member(self, user: User, study: str) -> bool:
        with self.db.connect() as con:
            return con.execute(
                "SELECT 1 FROM members WHERE study = ? AND user_id = ?", [study, user.id]
            ).fetchone() is not None

    def add_member(self, study: str, username: str) -> None:
        user = self.by_name(username)
        if user is None:
            raise AccountError(f"no user {username!r}")
        if self.study(study) is None:
            raise AccountError(f"no study {study!r}")
        with self.db.connect() as con:
            con.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", [study, user.id])

    def remove_member(self, study: str, username: str) -> None:
        user = self.by_name(username)
        if user is None:
            raise AccountError(f"no user {username!r}")
        with self.db.connect() as con:
            con.execute("DELETE FROM members WHERE study = ? AND user_id = ?", [study, user.id])

    def members(self, study: str) -> list[dict]:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT u.username, u.role FROM members m JOIN users u ON u.id = m.user_id "
                "WHERE m.study = ? ORDER BY u.username", [study]
            ).fetchall()
        return [dict(r) for r in rows]
