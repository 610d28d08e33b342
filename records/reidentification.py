"""The re-identification boundary: pseudonym -> the council's own child id, kept apart.

Canonical tables, features, models, scores and reports hold pseudonyms only. A MASH manager
working a flagged referral must still open the child's record in the council's own case
management system, so ingestion keeps one lookup, pseudonym -> LA child id, in a separate
SQLite file (``privacy.reidentification_db``, outside the canonical folder, file mode 0600,
folder 0700). Only the review app calls ``lookup``; it audits each call in its own log, and
this module also logs every look-up in the lookup file itself (when, which pseudonym, found or
not, and who, if the caller says). See docs/privacy.md.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from frontdoor.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    pseudonym TEXT PRIMARY KEY,
    la_child_id TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lookups (
    at TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    found INTEGER NOT NULL,
    who TEXT
);
"""


def db_path(settings: Settings) -> Path:
    return settings.resolve(settings.privacy.reidentification_db)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    return conn


def record(settings: Settings, identities: pd.DataFrame) -> int:
    """Add (pseudonym, la_child_id) pairs in one transaction; returns how many were new."""
    if identities is None or identities.empty:
        return 0
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [
        (str(p), str(i), now)
        for p, i in identities[["pseudonym", "la_child_id"]].itertuples(index=False)
    ]
    with closing(_connect(db_path(settings))) as conn, conn:
        before = conn.execute("SELECT COUNT(*) FROM identities").fetchone()[0]
        conn.executemany(
            "INSERT OR IGNORE INTO identities (pseudonym, la_child_id, first_seen) VALUES (?,?,?)",
            rows,
        )
        after = conn.execute("SELECT COUNT(*) FROM identities").fetchone()[0]
    return int(after) - int(before)


def lookup(settings: Settings, child_pseudonym: str, who: str | None = None) -> str | None:
    """The council's own child id for a pseudonym, or None; every call is logged."""
    path = db_path(settings)
    if not path.exists():
        return None
    with closing(_connect(path)) as conn, conn:
        row = conn.execute(
            "SELECT la_child_id FROM identities WHERE pseudonym = ?", (str(child_pseudonym),)
        ).fetchone()
        conn.execute(
            "INSERT INTO lookups (at, pseudonym, found, who) VALUES (?,?,?,?)",
            (
                datetime.now(UTC).isoformat(timespec="seconds"),
                str(child_pseudonym),
                int(row is not None),
                who,
            ),
        )
    return None if row is None else str(row[0])


def lookup_log(settings: Settings) -> pd.DataFrame:
    """Every look-up made so far (for audits)."""
    path = db_path(settings)
    if not path.exists():
        return pd.DataFrame(columns=["at", "pseudonym", "found", "who"])
    with closing(sqlite3.connect(path)) as conn:
        return pd.read_sql_query("SELECT at, pseudonym, found, who FROM lookups ORDER BY at", conn)
