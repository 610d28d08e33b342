"""Alembic owns the schema: upgrade creates it, it matches the declared tables, downgrade works."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from frontdoor.review import db
from frontdoor.review.schema import metadata


def test_upgrade_creates_the_declared_schema(settings):
    assert db.current_revision(settings) is None
    db.upgrade(settings)
    assert db.current_revision(settings) == "0002"
    with db.engine_for(settings).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        names = set(sa.inspect(conn).get_table_names())
    assert {
        "scored_referrals",
        "users",
        "sessions",
        "decisions",
        "audit_log",
        "alembic_version",
    } <= names


def test_step_by_step_upgrade_and_downgrade(settings):
    db.upgrade(settings, "0001")
    engine = db.engine_for(settings)
    with engine.connect() as conn:
        triggers = conn.exec_driver_sql("select name from sqlite_master where type='trigger'").all()
    assert triggers == []
    db.upgrade(settings)
    with engine.connect() as conn:
        triggers = {
            r[0]
            for r in conn.exec_driver_sql("select name from sqlite_master where type='trigger'")
        }
    assert triggers == {
        "decisions_no_update",
        "decisions_no_delete",
        "audit_log_no_update",
        "audit_log_no_delete",
    }
    db.downgrade(settings, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    db.upgrade(settings)
    assert db.current_revision(settings) == "0002"


def test_the_app_creates_its_schema(settings):
    from frontdoor.review.app import create_app

    create_app(settings)
    assert db.current_revision(settings) == "0002"
