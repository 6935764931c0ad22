"""The audit log: who signed in, viewed, uploaded, analysed or downloaded what, and when.

Records go to the application database only (never to the process log), so that the names of
patients' pages stay with the data they describe; admins read them on the audit page.
"""

from __future__ import annotations

from cartscope.web.accounts import now_iso
from cartscope.web.db import Database


class AuditLog:
    def __init__(self, db: Database):
        self.db = db

    def record(
        self,
        action: str,
        *,
        username: str | None,
        study: str | None = None,
        target: str | None = None,
        outcome: str = "ok",
        client: str | None = None,
    ) -> None:
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO audit (at, username, action, study, target, outcome, client) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [now_iso(), username, action, study, target, outcome, client],
            )

    def entries(self, *, limit: int = 500, username: str | None = None, study: str | None = None,
                action: str | None = None) -> list[dict]:
        """Newest first, optionally filtered by user, study or action."""
        where, args = [], []
        for col, value in (("username", username), ("study", study), ("action", action)):
            if value:
                where.append(f"{col} = ?")
                args.append(value)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
        with self.db.connect() as con:
            rows = con.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, int(limit)]).fetchall()
        return [dict(r) for r in rows]
