"""The review store on PostgreSQL: a throwaway cluster (initdb/pg_ctl) on a free loopback port.

Skips only when no PostgreSQL server binaries are installed (scripts/test installs them).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import make_settings

from review import auth, db, sample, store
from review.schema import metadata

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("review-postgres")]


def _bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: drop to the postgres system user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    base = Path(tempfile.mkdtemp(prefix="review-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (base, sockets):
            shutil.chown(path, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "review", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "review",
                    "review",
                ]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://review@127.0.0.1:{port}/review"
    finally:
        subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


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
    assert db.current_revision(pg_settings) == "0002"
    with db.engine_for(pg_settings).connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_scores_queue_decisions_and_append_only_on_postgresql(pg_settings):
    tables = sample.canonical_tables(children=30)
    frame = sample.scored_referrals(tables)
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
