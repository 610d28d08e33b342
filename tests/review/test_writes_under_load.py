"""Writes under contention: many threads in two processes append decisions and audit entries
to one SQLite file at once; every one is stored once, the hash chains stay whole, nobody sees
"database is locked"; a write waits for another process's lock instead of failing."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from frontdoor.review import auth, chain, db, store
from frontdoor.review.schema import audit_log, decisions
from tests.support.review import FAST_HASHING
from tests.support.settings import make_settings

THREADS, PER_THREAD = 8, 6


def _decide(root: str, process: int, decision_ids: list[str], user_id: int) -> list[str]:
    """One process: THREADS threads, each recording PER_THREAD decisions and case views."""
    settings = make_settings(Path(root), review=FAST_HASHING)
    engine = store.ready_engine(settings)

    def one(thread: int) -> None:
        for i in range(PER_THREAD):
            target = decision_ids[(thread + i) % len(decision_ids)]
            store.audit(
                engine, user_id=user_id, username="rev", role="reviewer", action="case_view",
                target=target,
            )  # fmt: skip
            store.record_decision(
                engine,
                decision_id=target,
                label=settings.models.primary_label,
                user_id=user_id,
                username="rev",
                role="reviewer",
                agrees=bool(i % 2),
                action="assessment",
                rationale="Weighed the history under load.",
                form_token=f"p{process}-t{thread}-{i}",
            )

    with ThreadPoolExecutor(THREADS) as pool:
        errors = [f.exception() for f in [pool.submit(one, t) for t in range(THREADS)]]
    return [repr(e) for e in errors if e is not None]


def test_two_processes_of_writers_lose_nothing_and_keep_the_chains(review_settings):
    engine = store.ready_engine(review_settings)
    uid = auth.add_user(review_settings, engine, "rev", "reviewer", "a-long-test-password-1")
    items, _ = store.queue(review_settings, engine, store.QueueFilters())
    ids = [item.decision_id for item in items[:5]]
    with engine.connect() as conn:
        audit_before = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar()
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(2) as pool:
        results = pool.starmap(
            _decide, [(str(review_settings.paths.root), p, ids, uid) for p in range(2)]
        )
    assert results == [[], []]  # no "database is locked", no other error, in any thread
    expected = 2 * THREADS * PER_THREAD
    with engine.connect() as conn:
        tokens = [r[0] for r in conn.execute(sa.select(decisions.c.form_token))]
        audits = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar()
    assert len(tokens) == len(set(tokens)) == expected
    assert audits - audit_before == 2 * expected  # a case view and a decision entry each
    for table in (decisions, audit_log):
        report = chain.verify(engine, table)
        assert report.ok, report.problems[:3]


def test_a_write_waits_for_another_program_holding_the_write_lock(settings):
    """Something outside the app (a backup, the CLI) holds SQLite's write lock for a while:
    the app's write waits and succeeds; it does not fail with "database is locked"."""
    engine = store.ready_engine(settings)
    path = engine.url.database
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Timer(1.5, other.execute, args=("COMMIT",))
    started = time.perf_counter()
    released.start()
    try:
        store.audit(engine, user_id=None, username=None, role=None, action="case_view")
    finally:
        released.join()
        other.close()
    assert time.perf_counter() - started >= 1.4  # it really waited for the lock
    assert chain.verify(engine, audit_log).rows == 1


def test_a_write_inside_a_write_is_refused_not_deadlocked(settings):
    engine = store.ready_engine(settings)
    refused = pytest.raises(RuntimeError, match="inside another")
    with db.writing(engine), refused, db.writing(engine):
        pass
    store.audit(engine, user_id=None, username=None, role=None, action="case_view")  # lock freed
