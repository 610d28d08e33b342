"""The review store on PostgreSQL: a throwaway cluster (initdb/pg_ctl) on a free loopback port.

Skips only when no PostgreSQL server binaries are installed (scripts/test installs them).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from frontdoor.pipelines import review_sample
from frontdoor.review import auth, db, store
from frontdoor.review.schema import metadata
from tests.support import make_settings
from tests.support.postgres import postgres_bin, postgres_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("review-postgres")]


@pytest.fixture(scope="module")
def postgres_url():
    if postgres_bin() is None:
        pytest.skip(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    with postgres_cluster(database="review", user="review") as url:
        yield url


@pytest.fixture
def pg_settings(tmp_path, postgres_url):
    settings = make_settings(
        tmp_path,
        review={"database_url": postgres_url, "password_time_cost": 1, "password_memory_kib": 8192},
    )
    yield settings
    db.downgrade(settings, "base")  # leave the database empty for the next test


def test_migrations_build_the_declared_schema_on_postgresql(pg_settings):
    db.upgrade(pg_settings)
    assert db.current_revision(pg_settings) == "0004"
    with db.engine_for(pg_settings).connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_scores_queue_decisions_and_append_only_on_postgresql(pg_settings):
    tables = review_sample.canonical_tables(children=300)
    frame = review_sample.scored_referrals(tables)
    assert store.load_scored_referrals(pg_settings, frame) == len(frame)
    assert store.load_scored_referrals(pg_settings, frame) == 0
    engine = store.ready_engine(pg_settings)
    items, total = store.queue(pg_settings, engine, store.QueueFilters())
    assert total == int(frame["band"].isin(["high", "very high"]).sum()) > 0
    uid = auth.add_user(pg_settings, engine, "rita", "reviewer", "a-long-test-password-1")
    first, _ = store.record_decision(
        engine,
        score_id=items[0].score_id,
        user_id=uid,
        username="rita",
        role="reviewer",
        agrees=True,
        action="assessment",
        rationale="Pattern of DA notifications.",
        form_token="pg1",
    )
    assert store.record_decision(
        engine,
        score_id=items[0].score_id,
        user_id=uid,
        username="rita",
        role="reviewer",
        agrees=True,
        action="assessment",
        rationale="Pattern of DA notifications.",
        form_token="pg1",
    ) == (first, False)
    for sql in (
        "update decisions set action = 'other'",
        "delete from decisions",
        "truncate decisions cascade",
        "update audit_log set role = 'admin'",
        "delete from audit_log",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    out = store.export_decisions(pg_settings)
    assert (
        len(out) == 1
        and out["is_latest"].all()
        and out["decision_id"].iloc[0] == items[0].decision_id
    )
    assert store.queue(pg_settings, engine, store.QueueFilters(status="decided"))[1] == 1


@pytest.fixture
def split_roles(tmp_path, postgres_url):
    """A migration role that owns the schema and an app role with only what it needs."""
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        for role in ("fd_owner", "fd_app"):
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")  # left by the tests above
        conn.exec_driver_sql("CREATE ROLE fd_owner LOGIN")
        conn.exec_driver_sql("CREATE ROLE fd_app LOGIN")
        conn.exec_driver_sql("GRANT CREATE, USAGE ON SCHEMA public TO fd_owner")
    admin.dispose()
    base = postgres_url.rsplit("@", 1)[1]
    settings = make_settings(
        tmp_path,
        review={
            "database_url": f"postgresql+psycopg2://fd_app@{base}",
            "migration_database_url": f"postgresql+psycopg2://fd_owner@{base}",
            "password_time_cost": 1,
            "password_memory_kib": 8192,
        },
    )
    yield settings
    db.downgrade(settings, "base")
    db.engine_for(settings).dispose()
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP OWNED BY fd_app, fd_owner")
        conn.exec_driver_sql("DROP ROLE fd_app")
        conn.exec_driver_sql("DROP ROLE fd_owner")
    admin.dispose()


def test_the_app_role_may_only_insert_and_select_history(split_roles):
    """As the app's own role: decisions and audit can be added and read, never changed; the
    triggers cannot be dropped or disabled; a migration role owns the schema."""
    from frontdoor.review.band_outcomes import load_band_outcomes

    settings = split_roles
    tables = review_sample.canonical_tables(children=300)
    scores = review_sample.scored_referrals(tables)
    assert store.load_scored_referrals(settings, scores) > 0
    assert load_band_outcomes(settings, review_sample.band_outcomes(scores)) == 4
    engine = store.ready_engine(settings)
    assert engine.url.username == "fd_app"
    items, _ = store.queue(settings, engine, store.QueueFilters())
    uid = auth.add_user(settings, engine, "rita", "reviewer", "a-long-test-password-1")
    store.record_decision(
        engine,
        decision_id=items[0].decision_id,
        label=settings.models.primary_label,
        user_id=uid,
        username="rita",
        role="reviewer",
        agrees=True,
        action="assessment",
        rationale="Pattern of DA notifications.",
        form_token="pg-roles-1",
    )
    for sql in (
        "update decisions set action = 'other'",
        "delete from audit_log",
        "truncate decisions cascade",
        "drop trigger decisions_append_only on decisions",
        "alter table decisions disable trigger decisions_append_only",
        "alter table audit_log drop column row_hash",
        "drop table allocations",
        "update band_outcomes set observed_rate = 0",
        "delete from band_outcomes",
    ):
        refused = pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner")
        with refused, engine.begin() as conn:
            conn.execute(sa.text(sql))
    from frontdoor.review import chain
    from frontdoor.review.schema import audit_log, decisions

    assert chain.verify(engine, decisions).ok and chain.verify(engine, audit_log).ok
    with db.engine_for(settings, migrations=True).connect() as conn:
        owners = set(
            conn.execute(
                sa.text("select tableowner from pg_tables where schemaname = 'public'")
            ).scalars()
        )
    assert owners == {"fd_owner"}
