"""Append-only for real: REPLACE and re-used ids refused, hash chains that show any edit,
deletion or reordering (``frontdoor decisions verify``), decisions judged on the current score."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from frontdoor.review import chain, store
from frontdoor.review.schema import audit_log, decisions, scored_referrals


def _decide(app, item, user, token: str, agrees: bool = True) -> int:
    entry, _ = store.record_decision(
        app.state.engine,
        decision_id=item.decision_id,
        label=app.state.settings.models.primary_label,
        user_id=user["id"],
        username=user["username"],
        role="reviewer",
        agrees=agrees,
        action="assessment",
        rationale="Repeated police notifications and a recent assessment.",
        form_token=token,
    )
    return entry


def _reviewer(app) -> dict:
    with app.state.engine.connect() as conn:
        row = conn.execute(sa.text("select id, username from users where role='reviewer'")).first()
    return {"id": row.id, "username": row.username}


def _db_file(settings) -> str:
    return settings.review.database_url.get_secret_value().removeprefix("sqlite:///")


def test_insert_or_replace_cannot_rewrite_a_decision_or_an_audit_entry(app, review_settings, h):
    items = h.flagged(review_settings, app.state.engine)
    user = _reviewer(app)
    _decide(app, items[0], user, "tok-a")
    store.audit(
        app.state.engine,
        user_id=user["id"],
        username="reviewer",
        role="reviewer",
        action="reidentify",
        target=items[0].decision_id,
        detail="found=yes",
    )
    raw = sqlite3.connect(_db_file(review_settings))  # an attacker with the file, no pragmas
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute(
            "INSERT OR REPLACE INTO decisions (id, decision_id, score_id, label, model_name, "
            "model_version, band, probability, agrees, action, rationale, user_id, decided_at, "
            "form_token) SELECT 1, decision_id, score_id, label, model_name, model_version, 'low', "
            "0.01, 0, 'other', 'rewritten', user_id, decided_at, 'new-token' FROM decisions"
        )
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # same token, new id
        raw.execute(
            "INSERT OR REPLACE INTO decisions (id, decision_id, score_id, label, model_name, "
            "model_version, band, probability, agrees, action, rationale, user_id, decided_at, "
            "form_token) SELECT 99, decision_id, score_id, label, model_name, model_version, "
            "band, probability, agrees, action, 'x', user_id, decided_at, form_token FROM decisions"
        )
    last = raw.execute("select max(id) from audit_log").fetchone()[0]
    for sql in (
        f"INSERT OR REPLACE INTO audit_log (id, at, action) VALUES ({last}, '2026-01-01', 'case_view')",
        "REPLACE INTO audit_log (id, at, action) VALUES (1, '2026-01-01', 'case_view')",
        "INSERT INTO audit_log (id, at, action) VALUES (1, '2026-01-01', 'case_view')",
    ):
        with pytest.raises(sqlite3.DatabaseError):
            raw.execute(sql)
    raw.rollback()
    actions = [r[0] for r in raw.execute("select action from audit_log order by id")]
    assert "reidentify" in actions
    assert raw.execute("select rationale, band from decisions").fetchall() == [
        ("Repeated police notifications and a recent assessment.", items[0].band)
    ]
    assert all(chain.verify(app.state.engine, t).ok for t in (decisions, audit_log))


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
def test_verify_detects_edits_deletions_and_reordering(app, review_settings, h, tmp_path, tamper):
    from frontdoor.cli import app as cli

    items = h.flagged(review_settings, app.state.engine)
    user = _reviewer(app)
    for i in range(3):
        _decide(app, items[i], user, f"tok-{i}", agrees=i != 1)
    config = _config(tmp_path, review_settings)
    ok = CliRunner().invoke(cli, ["--config", config, "decisions", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "decisions: 3 rows, intact" in ok.output
    raw = sqlite3.connect(_db_file(review_settings))
    raw.execute("DROP TRIGGER decisions_no_update")  # the file's owner can; the chain still shows
    raw.execute("DROP TRIGGER decisions_no_delete")
    if tamper == "edit":
        raw.execute("UPDATE decisions SET agrees = 1 WHERE id = 2")
    elif tamper == "delete":
        raw.execute("DELETE FROM decisions WHERE id = 2")
    else:  # swap the content of rows 1 and 2, hashes and all
        rows = raw.execute("SELECT * FROM decisions WHERE id IN (1, 2) ORDER BY id").fetchall()
        cols = [d[0] for d in raw.execute("SELECT * FROM decisions").description]
        raw.execute("UPDATE decisions SET form_token = 'tmp' || id")
        for target, row in ((1, rows[1]), (2, rows[0])):
            values = dict(zip(cols, row, strict=True))
            values.pop("id")
            sets = ", ".join(f"{c} = ?" for c in values)
            raw.execute(f"UPDATE decisions SET {sets} WHERE id = ?", [*values.values(), target])
    raw.commit()
    raw.close()
    report = chain.verify(app.state.engine, decisions)
    assert not report.ok
    bad = CliRunner().invoke(cli, ["--config", config, "decisions", "verify"])
    assert bad.exit_code == 1
    assert "decisions" in bad.output and "problem" in bad.output


def test_verify_with_a_recorded_head_shows_rows_cut_from_the_end(app, review_settings, h, tmp_path):
    from frontdoor.cli import app as cli

    items = h.flagged(review_settings, app.state.engine)
    user = _reviewer(app)
    for i in range(2):
        _decide(app, items[i], user, f"tok-{i}")
    head = chain.verify(app.state.engine, decisions)
    raw = sqlite3.connect(_db_file(review_settings))
    raw.execute("DROP TRIGGER decisions_no_delete")
    raw.execute("DELETE FROM decisions WHERE id = 2")
    raw.commit()
    assert chain.verify(app.state.engine, decisions).ok  # a cut end alone is invisible ...
    config = _config(tmp_path, review_settings)
    result = CliRunner().invoke(
        cli,
        ["--config", config, "decisions", "verify", "--expect-head", f"decisions:2:{head.head}"],
    )
    assert result.exit_code == 1 and "missing from the end" in result.output  # ... not with a head


def test_concurrent_writers_keep_one_chain(app, review_settings, h):
    from concurrent.futures import ThreadPoolExecutor

    user = _reviewer(app)
    engine = app.state.engine

    def write(i: int) -> None:
        store.audit(
            engine,
            user_id=user["id"],
            username="reviewer",
            role="reviewer",
            action="case_view",
            target=f"d{i}",
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(80)))
    report = chain.verify(engine, audit_log)
    assert report.ok, report.problems
    assert report.rows >= 80


def test_a_decision_is_judged_against_the_current_score_not_a_posted_one(
    app, review_settings, client_for, h
):
    """A stale low-band score posted with the form is ignored: the case is very high now."""
    engine = app.state.engine
    tables_item = h.flagged(review_settings, engine)[0]
    with engine.connect() as conn:
        current = conn.execute(
            sa.select(scored_referrals).where(
                scored_referrals.c.decision_id == tables_item.decision_id
            )
        ).all()
    old = current[0]
    stale = store.band_ranks(review_settings)
    low = [
        b
        for b in review_settings.models.band_names
        if b not in review_settings.review.flagged_bands
    ][0]
    with engine.begin() as conn:  # an older scoring of the same referral in a low band
        stale_id = conn.execute(
            sa.insert(scored_referrals).values(
                **{c: getattr(old, c) for c in old._fields if c not in ("id",)}
                | {
                    "model_version": "0",
                    "band": low,
                    "band_rank": stale[low],
                    "probability": 0.01,
                    "is_current": False,
                    "scored_at": datetime(2025, 1, 1),
                }
            )
        ).inserted_primary_key[0]
    client = client_for("reviewer")
    page = client.get(f"/cases/{tables_item.decision_id}")
    response = client.post(
        f"/cases/{tables_item.decision_id}/decisions",
        data={
            "csrf_token": h.csrf_of(page.text),
            "score_id": str(stale_id),
            "agrees": "no",
            "action": "no_further_action",
            "rationale": "Not needed: support is in place.",
            "form_token": "stale-1",
        },
    )
    assert response.status_code == 303
    with engine.connect() as conn:
        stored = conn.execute(sa.select(decisions)).one()
    assert stored.score_id == old.id and stored.band == old.band != low
    summary = store.decision_summary(review_settings, engine)
    low_row = next(r for r in summary["by_band"] if r["band"] == low)
    assert low_row["total"] == "0"


def _config(tmp_path, settings) -> str:
    import yaml

    path = tmp_path / "frontdoor.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "paths": {"root": str(settings.paths.root)},
                "privacy": {"pseudonym_key": settings.privacy.pseudonym_key.get_secret_value()},
                "review": {"database_url": settings.review.database_url.get_secret_value()},
            }
        )
    )
    return str(path)


def test_the_chain_hash_is_the_same_whatever_the_database_returns():
    row = {
        "id": 1,
        "at": datetime(2026, 3, 1, 12, 0, 0, 5),
        "user_id": None,
        "username": "a",
        "role": None,
        "action": "login",
        "target": None,
        "detail": None,
    }
    assert chain.row_hash(audit_log, chain.GENESIS, row) == chain.row_hash(
        audit_log, chain.GENESIS, {**row, "prev_hash": "x", "row_hash": "y", "extra": 1}
    )
