"""The review database: one engine per URL, SQLite in WAL mode by default, PostgreSQL by URL.

The schema is created and upgraded only by alembic (``upgrade``), never by ``create_all``.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from frontdoor.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url(settings: Settings, *, migrations: bool = False) -> str:
    """The configured URL (the migration role's with ``migrations`` when one is set); a relative
    SQLite path is made absolute against the project root."""
    secret = settings.review.database_url
    if migrations and settings.review.migration_database_url is not None:
        secret = settings.review.migration_database_url
    url = make_url(secret.get_secret_value())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_absolute():
            path = settings.resolve(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    return url.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # the app's own writers queue on ``writing``'s lock, not here; this covers other processes
    # (the CLI, a migration, a backup) holding the write lock for a while; past 30 s the app answers 503
    cursor.execute("PRAGMA busy_timeout=30000")
    # REPLACE then fires DELETE triggers too (the insert guards of migration 0003 refuse it anyway)
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.close()


class _WriterLock:
    """One writer at a time for a SQLite database: a lock per process, then an exclusive
    ``flock`` on ``<database>-writer`` shared by every process using the same file.

    Why: SQLite's own busy handler makes a waiting writer sleep and retry (1, 2, 5 ... 100 ms
    steps), so with dozens of request threads queueing for the write lock a write waits in
    large steps and, on a starved machine, past the busy timeout ("database is locked").
    Queued on these locks, a writer is woken the moment the previous one commits, and only the
    thread holding them ever asks SQLite for its write lock.
    """

    def __init__(self, path: str | None):
        self.path = f"{path}-writer" if path else None
        self.thread_lock = threading.Lock()
        self.local = threading.local()

    @contextmanager
    def held(self) -> Iterator[None]:
        if getattr(self.local, "holding", False):
            # a second write transaction inside the first would wait for itself
            raise RuntimeError("a write transaction was opened inside another one")
        with self.thread_lock:
            self.local.holding = True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600) if self.path else None
            try:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
                yield
            finally:
                if fd is not None:
                    os.close(fd)
                self.local.holding = False


_writers: dict[str, _WriterLock] = {}


def _writer_for(engine: Engine) -> _WriterLock:
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        if key not in _writers:
            database = engine.url.database
            file_backed = database not in (None, "", ":memory:")
            _writers[key] = _WriterLock(database if file_backed else None)
        return _writers[key]


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A short write transaction, committed on leaving (rolled back on an exception).

    SQLite: taken behind the database's writer lock (``_WriterLock``) and opened with
    ``BEGIN IMMEDIATE``, so everything read inside it is read under the write lock (the hash
    chains' read-last-row-then-append cannot interleave) and no deferred transaction ever
    has to upgrade its lock. Do only database work inside: nothing slow (argon2, templates,
    network) may run while the lock is held. PostgreSQL: an ordinary transaction (the chains
    take their own advisory locks).
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with _writer_for(engine).held(), engine.begin() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def engine_for(settings: Settings, *, migrations: bool = False) -> Engine:
    """The shared engine for the configured database (created once per process)."""
    url = database_url(settings, migrations=migrations)
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Create or upgrade the review schema to ``revision`` with alembic (as the migration role
    when one is configured, then granting the app's role what it may do)."""
    command.upgrade(alembic_config(engine_for(settings, migrations=True)), revision)
    if settings.review.migration_database_url is not None:
        grant_app_role(settings)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(engine_for(settings, migrations=True)), revision)


# What the app's own role may do on PostgreSQL: decisions, the audit log and allocations are
# INSERT and SELECT only, so neither a bug nor a stolen app password can change history; the
# schema (and its triggers) belongs to the migration role, so the app cannot drop a trigger.
APP_GRANTS = {
    "SELECT, INSERT": ("decisions", "audit_log", "allocations", "band_outcomes"),
    "SELECT, INSERT, UPDATE": ("scored_referrals",),
    "SELECT, INSERT, UPDATE, DELETE": ("users", "sessions", "sign_in_throttle", "login_nonces"),
    "SELECT": ("alembic_version",),
}


def grant_app_role(settings: Settings) -> None:
    app_url = make_url(settings.review.database_url.get_secret_value())
    if app_url.get_backend_name() != "postgresql" or not app_url.username:
        return
    owner = engine_for(settings, migrations=True)
    role = owner.dialect.identifier_preparer.quote(app_url.username)
    with owner.begin() as conn:
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
        for privileges, tables in APP_GRANTS.items():
            conn.exec_driver_sql(f"GRANT {privileges} ON {', '.join(tables)} TO {role}")
        conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")


def current_revision(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(settings, migrations=True).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
