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


def database_url(settings: Settings) -> str:
    """The configured URL; a relative SQLite path is made absolute against the project root."""
    url = make_url(settings.review.database_url.get_secret_value())
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
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=20,
            max_overflow=40,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def engine_for(settings: Settings) -> Engine:
    """The shared engine for the configured database (created once per process)."""
    url = database_url(settings)
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
    """Create or upgrade the review schema to ``revision`` with alembic."""
    command.upgrade(alembic_config(engine_for(settings)), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(engine_for(settings)), revision)


def current_revision(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(settings).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
