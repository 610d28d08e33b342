"""Users, passwords (argon2), server-side sessions with idle and absolute time-outs, and roles.

Sessions live in the database, so logging out or a time-out ends them everywhere; the cookie
holds a random token and the database keeps only its SHA-256.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from frontdoor.review.schema import ROLES, sessions, users
from frontdoor.review.store import utcnow, write_audit
from frontdoor.settings import Settings

_hashers: dict[tuple[int, int], tuple[PasswordHasher, str]] = {}
# At most this many argon2 computations at once per process: each takes password_memory_kib of
# memory, so a burst of sign-ins (or an attacker) queues instead of exhausting memory and CPU.
HASH_SLOTS = threading.BoundedSemaphore(2)


def hasher(settings: Settings) -> tuple[PasswordHasher, str]:
    """The argon2id hasher for the configured cost, and a dummy hash made with it.

    The dummy is checked on unknown usernames, so a login takes as long whether or not the
    user exists. Hashes made with another cost still verify, and are re-hashed on login.
    """
    key = (settings.review.password_time_cost, settings.review.password_memory_kib)
    if key not in _hashers:
        h = PasswordHasher(time_cost=key[0], memory_cost=key[1])
        _hashers[key] = (h, h.hash("not-a-real-password-0"))
    return _hashers[key]


USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_CHARS = 12

ROLE_LABELS = {
    "reviewer": "Reviewer (MASH manager)",
    "data_scientist": "Data scientist",
    "governance": "Governance",
    "admin": "Administrator",
}

# What each role may do. Every route names one permission; a route naming none is refused.
# "session" (signing out) belongs to everyone signed in.
PERMISSIONS: dict[str, frozenset[str]] = {
    "reviewer": frozenset({"session", "queue", "case", "decide", "reidentify"}),
    "data_scientist": frozenset({"session", "reports", "summary"}),
    "governance": frozenset({"session", "reports", "summary"}),
    "admin": frozenset(
        {"session", "queue", "case", "reidentify", "reports", "summary", "users", "audit"}
    ),
}


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    token_hash: str


class UserError(ValueError):
    pass


def add_user(
    settings: Settings, engine: Engine, username: str, role: str, password: str, *, by: str = "cli"
) -> int:
    """Create a user; usernames are lower-case, passwords at least 12 characters."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserError(
            "Usernames are 2 to 64 lower-case letters, digits, dots, dashes or underscores."
        )
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"Passwords must be at least {MIN_PASSWORD_CHARS} characters long.")
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                insert(users).values(
                    username=username,
                    role=role,
                    password_hash=hasher(settings)[0].hash(password),
                    active=True,
                    created_at=utcnow(),
                    failed_logins=0,
                )
            ).inserted_primary_key[0]
            write_audit(
                conn,
                user_id=None,
                username=by,
                role=None,
                action="user_add",
                target=username,
                detail=f"role={role}",
            )
    except IntegrityError as err:
        raise UserError(f"A user called {username!r} already exists.") from err
    return int(user_id)


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    users.c.id,
                    users.c.username,
                    users.c.role,
                    users.c.active,
                    users.c.created_at,
                    users.c.locked_until,
                ).order_by(users.c.username)
            )
        ]


def authenticate(settings: Settings, engine: Engine, username: str, password: str) -> User | None:
    """The user if the password is right and the account is active and not locked; audited."""
    username = (username or "").strip().lower()
    now = utcnow()
    _hasher, dummy = hasher(settings)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not row.active:
        with contextlib.suppress(VerificationError), HASH_SLOTS:
            _hasher.verify(dummy, password or "")
        with engine.begin() as conn:
            write_audit(
                conn, user_id=None, username=username[:64], role=None, action="login_failed"
            )
        return None
    locked = row.locked_until is not None and row.locked_until > now
    try:
        with HASH_SLOTS:
            ok = not locked and _hasher.verify(row.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    with engine.begin() as conn:
        if ok:
            values: dict = {"failed_logins": 0, "locked_until": None}
            if _hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = _hasher.hash(password)
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
            write_audit(conn, user_id=row.id, username=row.username, role=row.role, action="login")
            return User(row.id, row.username, row.role)
        failures = 0 if locked else row.failed_logins + 1
        values = {"failed_logins": failures}
        if failures >= settings.review.max_login_failures:
            values = {
                "failed_logins": 0,
                "locked_until": now + timedelta(minutes=settings.review.lockout_minutes),
            }
        conn.execute(update(users).where(users.c.id == row.id).values(**values))
        write_audit(
            conn,
            user_id=row.id,
            username=row.username,
            role=row.role,
            action="login_failed",
            detail="locked" if locked or "locked_until" in values else None,
        )
    return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, user: User) -> str:
    """A new session for the user; returns the cookie token (kept nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(sessions).values(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen=now,
            )
        )
    return token


TOUCH_EVERY = timedelta(seconds=30)  # last_seen is refreshed at most this often (fewer writes)


def get_session(settings: Settings, engine: Engine, token: str | None) -> Session | None:
    """The live session for a cookie token, or None (unknown, timed out, or user disabled)."""
    if not token or len(token) > 128:
        return None
    digest = _token_hash(token)
    now = utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(sessions, users.c.username, users.c.role, users.c.active)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == digest)
        ).first()
    if row is None:
        return None
    idle = timedelta(minutes=settings.review.session_minutes)
    lifetime = timedelta(hours=settings.review.session_max_hours)
    if not row.active or now - row.last_seen > idle or now - row.created_at > lifetime:
        end_session(engine, token)
        return None
    if now - row.last_seen > TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.token_hash == digest).values(last_seen=now)
            )
    return Session(User(row.user_id, row.username, row.role), row.csrf_token, digest)


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


def expire_sessions(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Remove sessions past their idle time-out (housekeeping; get_session checks anyway)."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=settings.review.session_minutes)
    with engine.begin() as conn:
        return conn.execute(delete(sessions).where(sessions.c.last_seen < cutoff)).rowcount
