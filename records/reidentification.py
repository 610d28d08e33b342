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
from dataclasses import dataclass
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


# Why a MASH manager may need the council's own id; "other" needs words of its own.
PURPOSES = {
    "strategy_discussion": "Strategy discussion",
    "partner_agency": "Contacting a partner agency",
    "safeguarding_check": "Safeguarding check",
    "other": "Other (say why)",
}
# The one role that may re-identify: a MASH manager working the queue. Never IT (admin).
ROLES_ALLOWED = frozenset({"reviewer", "team_manager"})
MIN_OTHER_CHARS = 10
MAX_OTHER_CHARS = 300


class Refused(Exception):
    """A re-identification that the policy does not allow; ``status`` is the HTTP answer."""

    def __init__(self, reason: str, status: int = 403, field: str | None = None):
        super().__init__(reason)
        self.reason, self.status, self.field = reason, status, field


@dataclass(frozen=True)
class Request:
    """What the policy weighs: who asks, why, about which referral, and what they did today."""

    role: str
    purpose: str
    other_text: str
    in_queue: bool  # the referral's current score is in a flagged band
    used_today: int  # look-ups this user made today (Europe/London), refused ones excluded
    daily_cap: int


def authorise(req: Request) -> str:
    """The purpose as it will be logged, or Refused: only a reviewer, only for a referral in the
    queue, only with a purpose from the list, and at most ``daily_cap`` a day per person."""
    if req.role not in ROLES_ALLOWED:
        raise Refused("Only MASH reviewers can see the council's child id.")
    if not req.in_queue:
        raise Refused(
            "The council's child id is shown only for a referral in the review queue "
            "(flagged by the current score)."
        )
    if req.purpose not in PURPOSES:
        raise Refused("Choose why you need the council's child id.", 422, "purpose")
    text = " ".join(req.other_text.split())
    if req.purpose == "other" and not MIN_OTHER_CHARS <= len(text) <= MAX_OTHER_CHARS:
        raise Refused(
            f"Say why you need the council's child id ({MIN_OTHER_CHARS} to "
            f"{MAX_OTHER_CHARS} characters).",
            422,
            "purpose-other",
        )
    if req.used_today >= req.daily_cap:
        raise Refused(
            f"You have reached today's limit of {req.daily_cap} look-ups. An administrator "
            "has been alerted; ask your team manager if you need more today.",
            429,
        )
    return PURPOSES[req.purpose] + (f": {text}" if req.purpose == "other" else "")


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
