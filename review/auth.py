"""Users, passwords (argon2), server-side sessions with idle and absolute time-outs, and roles.

Sessions live in the database, so logging out or a time-out ends them everywhere; the cookie
holds a random token and the database keeps only its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from frontdoor.review.db import writing
from frontdoor.review.schema import ROLES, login_nonces, sessions, sign_in_throttle, users
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
    "team_manager": "Team manager (MASH)",
    "data_scientist": "Data scientist",
    "governance": "Governance",
    "admin": "Administrator",
}

# What each role may do. Every route names one permission; a route naming none is refused.
# "session" (signing out) belongs to everyone signed in.
# Re-identification belongs to the reviewing roles only: administrators (IT) never have it.
_REVIEWING = {"session", "queue", "case", "decide", "reidentify", "claim"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "reviewer": frozenset(_REVIEWING),
    "team_manager": frozenset(_REVIEWING | {"allocate"}),
    "data_scientist": frozenset({"session", "reports", "summary"}),
    "governance": frozenset({"session", "reports", "summary", "restricted"}),
    "admin": frozenset(
        {"session", "queue", "case", "reports", "summary", "users", "audit", "restricted"}
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
    check_password(password)
    password_hash = hasher(settings)[0].hash(password)  # before the write lock: argon2 is slow
    try:
        with writing(engine) as conn:
            user_id = conn.execute(
                insert(users).values(
                    username=username,
                    role=role,
                    password_hash=password_hash,
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


MAX_PASSWORD_CHARS = 1024


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"Passwords must be at least {MIN_PASSWORD_CHARS} characters long.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError(f"Passwords must be at most {MAX_PASSWORD_CHARS} characters long.")


LIFECYCLE = ("disable", "enable", "unlock", "reset-password", "remove")


def change_user(
    settings: Settings,
    engine: Engine,
    username: str,
    what: str,
    *,
    by: str,
    by_id: int | None = None,
    password: str | None = None,
) -> str:
    """disable | enable | unlock | reset-password | remove one user; audited; returns a message.

    Disabling, removing and resetting a password end the user's sessions at once. A removed
    user (a leaver) keeps their row, because decisions and the audit log name them, but can
    never sign in again and is not listed. ``reset-password`` without a password generates one.
    """
    if what not in LIFECYCLE:
        raise UserError(f"Unknown change {what!r}; choose one of {', '.join(LIFECYCLE)}.")
    now = utcnow()
    new_hash = None
    if what == "reset-password":  # hashed before the write lock: argon2 is slow
        password = password or secrets.token_urlsafe(12)
        check_password(password)
        new_hash = hasher(settings)[0].hash(password)
    with writing(engine) as conn:
        row = conn.execute(
            select(users).where(users.c.username == username.strip().lower())
        ).first()
        if row is None or row.removed_at is not None:
            raise UserError(f"There is no user called {username!r}.")
        if by_id is not None and row.id == by_id and what in ("disable", "remove"):
            raise UserError("You cannot disable or remove your own account.")
        values: dict = {}
        message = ""
        if what == "disable":
            values, message = {"active": False}, f"Disabled {row.username}; their sessions ended."
        elif what == "enable":
            values, message = {"active": True}, f"Enabled {row.username}."
        elif what == "unlock":
            values, message = (
                {"failed_logins": 0, "locked_until": None},
                f"Unlocked {row.username}.",
            )
            conn.execute(
                delete(sign_in_throttle).where(
                    sign_in_throttle.c.key.like(f"acct-ip:{_short(row.username)}:%")
                )
            )
        elif what == "remove":
            values = {"active": False, "removed_at": now, "password_hash": "!removed"}
            message = f"Removed {row.username}; their sessions ended."
        else:
            values = {
                "password_hash": new_hash,
                "password_changed_at": now,
                "failed_logins": 0,
                "locked_until": None,
            }
            message = f"New password for {row.username}: {password}"
        conn.execute(update(users).where(users.c.id == row.id).values(**values))
        if what in ("disable", "remove", "reset-password"):
            conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
        write_audit(
            conn,
            user_id=by_id,
            username=by,
            role=None,
            action=f"user_{what.replace('-', '_')}",
            target=row.username,
        )
    return message


def change_own_password(
    settings: Settings,
    engine: Engine,
    user: User,
    current: str,
    new: str,
    confirm: str,
    keep_token_hash: str,
) -> dict[str, str]:
    """Errors by field (empty when changed). Other sessions of the user end; this one stays."""
    errors: dict[str, str] = {}
    _hasher, _dummy = hasher(settings)
    with engine.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.id == user.id)
        ).scalar_one()
    try:
        with HASH_SLOTS:
            _hasher.verify(stored, current or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        errors["current"] = "Your current password is not right."
    try:
        check_password(new or "")
    except UserError as err:
        errors["new"] = str(err)
    if not errors.get("new") and new != confirm:
        errors["confirm"] = "The two new passwords are not the same."
    if not errors.get("new") and new == current:
        errors["new"] = "Choose a password that is different from your current one."
    if errors:
        return errors
    new_hash = _hasher.hash(new)  # before the write lock: argon2 is slow
    with writing(engine) as conn:
        conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(password_hash=new_hash, password_changed_at=utcnow())
        )
        conn.execute(
            delete(sessions).where(
                sessions.c.user_id == user.id, sessions.c.token_hash != keep_token_hash
            )
        )
        write_audit(
            conn,
            user_id=user.id,
            username=user.username,
            role=user.role,
            action="password_change",
            target=user.username,
        )
    return {}


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
                    users.c.oidc_subject,
                )
                .where(users.c.removed_at.is_(None))
                .order_by(users.c.username)
            )
        ]


@dataclass(frozen=True)
class Attempt:
    """Where a sign-in comes from: the address, and a key for hashing unknown usernames."""

    ip: str = "unknown"
    key: bytes = b""


MAX_LOCK_MINUTES = 24 * 60
IP_FAILURES_BEFORE_THROTTLE = 30  # across all usernames from one address (password spraying)


def _lock_minutes(settings: Settings, lockouts: int) -> int:
    """Each further lockout doubles the wait (15, 30, 60 ... minutes), up to a day."""
    return min(settings.review.lockout_minutes * 2 ** max(0, lockouts - 1), MAX_LOCK_MINUTES)


def _short(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def _throttle_keys(username: str, ip: str) -> tuple[str, str]:
    """(account and address, address): hashed, so no typed name is stored here either."""
    return f"acct-ip:{_short(username)}:{_short(ip)}", f"ip:{_short(ip)}"


def _throttled(conn, keys: tuple[str, ...], now: datetime) -> bool:
    rows = conn.execute(select(sign_in_throttle).where(sign_in_throttle.c.key.in_(keys))).all()
    return any(r.locked_until is not None and r.locked_until > now for r in rows)


def _count_failure(conn, settings: Settings, key: str, limit: int, now: datetime) -> bool:
    """One more failure under ``key``; locks it (for longer each time) at ``limit``."""
    row = conn.execute(select(sign_in_throttle).where(sign_in_throttle.c.key == key)).first()
    failures = (row.failures if row else 0) + 1
    locked_until = None
    if failures % limit == 0:
        locked_until = now + timedelta(minutes=_lock_minutes(settings, failures // limit))
    values = {"failures": failures, "locked_until": locked_until, "updated_at": now}
    if row is None:
        conn.execute(insert(sign_in_throttle).values(key=key, **values))
    else:
        conn.execute(update(sign_in_throttle).where(sign_in_throttle.c.key == key).values(**values))
    return locked_until is not None


def unknown_name(username: str, key: bytes) -> str:
    """What the audit log keeps of a name that is no account: a keyed hash, never the text
    (people type passwords into the username box)."""
    mac = hmac.new(key or b"frontdoor", username.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"unknown#{mac[:12]}"


def authenticate(
    settings: Settings,
    engine: Engine,
    username: str,
    password: str,
    attempt: Attempt | None = None,
) -> User | None:
    """The user if the password is right and the account is active and not throttled; audited.

    Every path runs one argon2 verification (a dummy hash for unknown, disabled or removed
    accounts), so the answer takes as long whatever the account's state. Failures are counted
    per (account, address) and per address, never per account alone: a stranger elsewhere
    cannot lock a named user out. Each repeated lockout doubles the wait.
    """
    attempt = attempt or Attempt()
    username = (username or "").strip().lower()[:256]
    now = utcnow()
    _hasher, dummy = hasher(settings)
    pair_key, ip_key = _throttle_keys(username, attempt.ip)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        throttled = _throttled(conn, (pair_key, ip_key), now)
    usable = row is not None and row.active and row.removed_at is None
    try:
        with HASH_SLOTS:
            verified = _hasher.verify(row.password_hash if usable else dummy, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        verified = False
    ok = usable and verified and not throttled
    rehashed = None
    if ok and _hasher.check_needs_rehash(row.password_hash):
        rehashed = _hasher.hash(password)  # before the write lock: argon2 is slow
    with writing(engine) as conn:
        if ok:
            values: dict = {"failed_logins": 0, "locked_until": None}
            if rehashed is not None:
                values["password_hash"] = rehashed
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
            conn.execute(delete(sign_in_throttle).where(sign_in_throttle.c.key == pair_key))
            write_audit(conn, user_id=row.id, username=row.username, role=row.role, action="login")
            return User(row.id, row.username, row.role)
        locked_now = False
        if not throttled:
            locked_now = _count_failure(
                conn, settings, pair_key, settings.review.max_login_failures, now
            )
            _count_failure(conn, settings, ip_key, IP_FAILURES_BEFORE_THROTTLE, now)
        if row is not None:
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(failed_logins=users.c.failed_logins + 1)
            )
        write_audit(
            conn,
            user_id=row.id if row is not None else None,
            username=row.username if row is not None else unknown_name(username, attempt.key),
            role=row.role if row is not None else None,
            action="login_failed",
            detail="; ".join(
                part
                for part in (
                    f"from {attempt.ip}",
                    "throttled" if throttled or locked_now else "",
                    "" if row is None or usable else "account disabled",
                )
                if part
            ),
        )
    return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, user: User) -> str:
    """A new session for the user; returns the cookie token (kept nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with writing(engine) as conn:
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
        with writing(engine) as conn:
            conn.execute(
                update(sessions).where(sessions.c.token_hash == digest).values(last_seen=now)
            )
    return Session(User(row.user_id, row.username, row.role), row.csrf_token, digest)


def end_session(engine: Engine, token: str) -> None:
    with writing(engine) as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


def expire_sessions(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Remove sessions past their idle or absolute time-out, and spent sign-in tokens.

    Run by the app at most once a minute per process (``guard``) and at every sign-in."""
    now = now or utcnow()
    idle = now - timedelta(minutes=settings.review.session_minutes)
    born = now - timedelta(hours=settings.review.session_max_hours)
    spent = now - timedelta(minutes=settings.review.login_token_minutes + 1)
    with writing(engine) as conn:
        gone = conn.execute(
            delete(sessions).where(or_(sessions.c.last_seen < idle, sessions.c.created_at < born))
        ).rowcount
        conn.execute(delete(login_nonces).where(login_nonces.c.used_at < spent))
    return gone


def spend_login_nonce(engine: Engine, nonce: str) -> bool:
    """True the first time a sign-in form's nonce is used; False on a replay."""
    try:
        with writing(engine) as conn:
            conn.execute(
                insert(login_nonces).values(nonce_hash=_token_hash(nonce), used_at=utcnow())
            )
    except IntegrityError:
        return False
    return True
