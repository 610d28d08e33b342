"""The review database: one engine per URL, SQLite in WAL mode by default, PostgreSQL by URL.

The schema is created and upgraded only by alembic (``upgrade``), never by ``create_all``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
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
    # writers queue for the lock (the hash chains serialise appends); a starved machine can
    # take seconds per request, so wait up to 30 s rather than fail the request
    cursor.execute("PRAGMA busy_timeout=30000")
    # REPLACE then fires DELETE triggers too (the insert guards of migration 0003 refuse it anyway)
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.close()


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
    "SELECT, INSERT": ("decisions", "audit_log", "allocations"),
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
