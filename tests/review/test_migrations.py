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
    assert db.current_revision(settings) == "0004"
    with db.engine_for(settings).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        names = set(sa.inspect(conn).get_table_names())
    assert {
        "scored_referrals",
        "users",
        "sessions",
        "decisions",
        "audit_log",
        "allocations",
        "sign_in_throttle",
        "login_nonces",
        "band_outcomes",
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
        "decisions_no_replace",
        "audit_log_no_update",
        "audit_log_no_delete",
        "audit_log_no_replace",
        "allocations_no_update",
        "allocations_no_delete",
        "allocations_no_replace",
        "band_outcomes_no_update",
        "band_outcomes_no_delete",
    }
    db.downgrade(settings, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    db.upgrade(settings)
    assert db.current_revision(settings) == "0004"


def test_the_app_creates_its_schema(settings):
    from frontdoor.review.app import create_app

    create_app(settings)
    assert db.current_revision(settings) == "0004"


def test_0003_chains_the_rows_already_there(settings):
    """Decisions and audit entries written under 0002 get their hashes on upgrade."""
    from frontdoor.review import chain
    from frontdoor.review.schema import audit_log

    db.upgrade(settings, "0002")
    engine = db.engine_for(settings)
    with engine.begin() as conn:
        for i in range(3):
            conn.exec_driver_sql(
                "insert into audit_log (at, action, target) values (?, 'case_view', ?)",
                ("2026-03-01 10:00:00.000000", f"d{i}"),
            )
    db.upgrade(settings)
    report = chain.verify(engine, audit_log)
    assert report.ok and report.rows == 3


def test_0003_backfill_does_not_follow_a_later_schema(settings, monkeypatch):
    """The backfill names the columns of its own revision: a column the app's schema gains
    later (here added to the declared tables before upgrading a 0002 database) must not be
    selected from a database that does not have it yet, and both chains come out valid."""
    from frontdoor.review import chain, schema

    db.upgrade(settings, "0002")
    engine = db.engine_for(settings)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a decision without its parents here
        conn.exec_driver_sql(
            "insert into decisions (decision_id, score_id, label, model_name, model_version, "
            "band, probability, agrees, action, rationale, user_id, decided_at, form_token) "
            "values ('d1', 1, 'escalation_12m', 'm', '1', 'High', 0.42, 1, 'assessment', "
            "'weighed the history', 1, '2026-03-02 09:30:00.000000', 'tok-1')"
        )
        for i in range(2):
            conn.exec_driver_sql(
                "insert into audit_log (at, action, target) values (?, 'case_view', ?)",
                ("2026-03-01 10:00:00.000000", f"d{i}"),
            )
        conn.commit()
    for name in ("decisions", "audit_log"):
        later = getattr(schema, name).to_metadata(sa.MetaData())
        later.append_column(sa.Column("added_in_a_later_revision", sa.Text))
        monkeypatch.setattr(schema, name, later)
    db.upgrade(settings)
    monkeypatch.undo()
    for table, rows in ((schema.decisions, 1), (schema.audit_log, 2)):
        report = chain.verify(engine, table)
        assert report.ok, report.problems
        assert report.rows == rows and report.head != chain.GENESIS
