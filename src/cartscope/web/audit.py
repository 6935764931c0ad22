"""The audit log: who signed in, viewed, uploaded, analysed or downloaded what, and when.

Records go to the application database only (never to the process log), so that the names of
patients' pages stay with the data they describe; admins read them on the audit page.

The log is **tamper-evident** (21 CFR Part 11 §11.10(e): secure, computer-generated,
time-stamped audit trails): each entry stores the SHA-256 of its own content together with
the hash of the entry before it, so changing, deleting or reordering any entry breaks the
chain from that point on. :func:`verify_chain` (``cartscope audit verify``) recomputes it and
names the first entry that does not match, and prints the hash of the last entry: recording
that head hash elsewhere (a ticket, a signed e-mail) makes even a rewrite of the whole chain
evident. Entries are appended inside one ``BEGIN IMMEDIATE`` transaction, so concurrent
writers (request threads, job threads) never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cartscope.web.accounts import now_iso
from cartscope.web.db import Database

GENESIS = "0" * 64
"""The ``prev_hash`` of the first chained entry."""

FIELDS = ("id", "at", "username", "action", "study", "target", "outcome", "client")


def entry_hash(entry: dict, prev_hash: str) -> str:
    """SHA-256 of the entry's fields (canonical JSON, id included) and the previous hash."""
    payload = json.dumps([entry.get(f) for f in FIELDS] + [prev_hash], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
            con.execute("BEGIN IMMEDIATE")  # one writer at a time: the chain never forks
            last = con.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            prev = (last["hash"] or GENESIS) if last is not None else GENESIS
            entry = {"id": (int(last["id"]) + 1) if last is not None else 1, "at": now_iso(), "username": username,
                     "action": action, "study": study, "target": target, "outcome": outcome, "client": client}
            con.execute(
                "INSERT INTO audit (id, at, username, action, study, target, outcome, client, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*(entry[f] for f in FIELDS), prev, entry_hash(entry, prev)],
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


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: ``ok``, entries checked, the head hash, the first break."""

    ok: bool
    entries: int
    unchained: int
    head: str
    problem: str | None = None
    broken_at: int | None = None

    def describe(self) -> str:
        if self.ok:
            before = f" ({self.unchained} older entries predate the chain)" if self.unchained else ""
            return f"audit log intact: {self.entries} entries chained{before}; head hash {self.head}"
        return f"audit log NOT intact at entry {self.broken_at}: {self.problem}"


def verify_chain(db: Database) -> ChainReport:
    """Recompute the hash chain of the audit log; the first entry that breaks it, if any."""
    prev, count, unchained, expected_id = GENESIS, 0, 0, None
    with db.connect() as con:
        cursor = con.execute("SELECT * FROM audit ORDER BY id")
        for row in cursor:
            entry = dict(row)
            if entry.get("hash") is None:
                if count:
                    return ChainReport(False, count, unchained, prev, "an entry without a hash inside the chain",
                                       entry["id"])
                unchained += 1
                continue
            if expected_id is not None and entry["id"] != expected_id:
                return ChainReport(False, count, unchained, prev,
                                   f"entries {expected_id} to {entry['id'] - 1} are missing", expected_id)
            if entry["prev_hash"] != prev:
                return ChainReport(False, count, unchained, prev,
                                   "it does not follow the entry before it (deleted, inserted or reordered)",
                                   entry["id"])
            if entry_hash(entry, prev) != entry["hash"]:
                return ChainReport(False, count, unchained, prev, "its content was changed after it was written",
                                   entry["id"])
            prev, count, expected_id = entry["hash"], count + 1, entry["id"] + 1
    return ChainReport(True, count, unchained, prev)
