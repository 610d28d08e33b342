"""Hash chains over the decisions and the audit log: an edit, a deletion or a reordering shows.

Each row carries ``prev_hash`` (the ``row_hash`` of the row before it, by id) and ``row_hash``
(SHA-256 of ``prev_hash`` and the row's own content, id included). Rows are appended with the
next id under a write lock, so two writers never chain onto the same row. ``verify`` walks a
table and reports every row whose content or link does not match, and every gap in the ids.

A chain cannot show that rows were cut from its end; ``verify`` prints the head (count and last
hash) so that it can be kept elsewhere and compared (``--expect-head``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, Table, insert, select, text

GENESIS = "0" * 64
# The columns each row's hash covers, fixed here so that a later column leaves old hashes valid.
HASHED_COLUMNS = {
    "decisions": (
        "id",
        "decision_id",
        "score_id",
        "label",
        "model_name",
        "model_version",
        "band",
        "probability",
        "agrees",
        "action",
        "rationale",
        "user_id",
        "decided_at",
        "supersedes",
        "form_token",
    ),
    "audit_log": ("id", "at", "user_id", "username", "role", "action", "target", "detail"),
}
_LOCK_KEYS = {"decisions": 740_001, "audit_log": 740_002}


def canonical(value) -> object:
    """A value as the hash sees it: the same on SQLite and PostgreSQL."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def row_hash(table: Table, prev_hash: str, row: dict) -> str:
    content = {name: canonical(row.get(name)) for name in HASHED_COLUMNS[table.name]}
    payload = json.dumps([table.name, prev_hash, content], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def lock_for_append(conn: Connection, table: Table) -> None:
    """Hold the table's write lock before reading its last row.

    SQLite: the pysqlite driver opens a transaction only at the first write, so a connection
    that has not written yet starts one with BEGIN IMMEDIATE (waits for other writers).
    PostgreSQL: a transaction-scoped advisory lock, which needs no privilege beyond connecting.
    """
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEYS[table.name]})


def append(conn: Connection, table: Table, values: dict) -> int:
    """Insert one row at the chain's end (next id, hash of the previous); returns its id."""
    lock_for_append(conn, table)
    last = conn.execute(
        select(table.c.id, table.c.row_hash).order_by(table.c.id.desc()).limit(1)
    ).first()
    new_id = (last.id + 1) if last else 1
    prev = (last.row_hash or GENESIS) if last else GENESIS
    row = {**values, "id": new_id}
    conn.execute(insert(table).values(**row, prev_hash=prev, row_hash=row_hash(table, prev, row)))
    return new_id


@dataclass(frozen=True)
class ChainReport:
    table: str
    rows: int
    head: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(engine: Engine, table: Table, *, batch: int = 5000) -> ChainReport:
    """Recompute the chain of ``table`` in id order; every mismatch and id gap is a problem."""
    problems: list[str] = []
    prev, expected_id, rows, last_id = GENESIS, 1, 0, 0
    with engine.connect() as conn:
        while True:
            chunk = conn.execute(
                select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
            ).all()
            if not chunk:
                break
            for r in chunk:
                row = dict(r._mapping)
                if row["id"] != expected_id:
                    problems.append(
                        f"{table.name}: ids {expected_id} to {row['id'] - 1} are missing "
                        "(rows deleted or ids re-used)"
                    )
                if row["prev_hash"] != prev:
                    problems.append(
                        f"{table.name} row {row['id']}: does not follow the row before it "
                        "(a row was removed, inserted or moved)"
                    )
                if row["row_hash"] != row_hash(table, row["prev_hash"] or "", row):
                    problems.append(f"{table.name} row {row['id']}: its content was changed")
                prev, expected_id, last_id = row["row_hash"], row["id"] + 1, row["id"]
                rows += 1
    return ChainReport(table.name, rows, prev, problems)


def hash_at(engine: Engine, table: Table, rows: int) -> str | None:
    """The row_hash of the ``rows``-th row (by id), to compare with a recorded head."""
    with engine.connect() as conn:
        return conn.execute(
            select(table.c.row_hash).order_by(table.c.id).offset(rows - 1).limit(1)
        ).scalar_one_or_none()
