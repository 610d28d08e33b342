"""The review store: loading scores, the queue, append-only decisions, the export."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pandera.errors
import pytest
import sqlalchemy as sa

from frontdoor.pipelines import review_sample
from frontdoor.records.scores import SCORED_REFERRAL_COLUMNS, Reason, reasons_to_json
from frontdoor.review import auth, store
from frontdoor.review.schema import decisions
from tests.support import make_settings


def _frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "child_id": "pchild0000000000000000001",
        "referral_date": pd.Timestamp("2026-03-01"),
        "label": "escalation_12m",
        "probability": 0.9,
        "band": "very high",
        "model_name": "frontdoor-escalation_12m",
        "model_version": "1",
        "reasons_json": reasons_to_json(
            [
                Reason(
                    "referrals_365d",
                    4.0,
                    0.8,
                    "raises",
                    "4 referrals in the last year",
                    "repeat_referrals",
                ),
                Reason(
                    "early_help_open",
                    1.0,
                    -0.2,
                    "lowers",
                    "An open early help episode",
                    "early_help",
                ),
            ]
        ),
        "scored_at": pd.Timestamp("2026-03-02 02:00"),
    }
    frame = pd.DataFrame([{**base, **r} for r in rows], columns=SCORED_REFERRAL_COLUMNS)
    frame["referral_date"] = frame["referral_date"].astype("datetime64[ns]")
    frame["scored_at"] = frame["scored_at"].astype("datetime64[ns]")
    return frame


def _user(settings, engine, role="reviewer", name="rev"):
    return auth.add_user(settings, engine, name, role, "a-long-test-password-1")


def test_load_is_idempotent_and_latest_scoring_is_current(settings):
    first = _frame(
        [{"decision_id": "d1"}, {"decision_id": "d2", "band": "high", "probability": 0.7}]
    )
    assert store.load_scored_referrals(settings, first) == 2
    assert store.load_scored_referrals(settings, first) == 0  # same rows again: nothing new
    newer = _frame(
        [
            {
                "decision_id": "d1",
                "model_version": "2",
                "band": "high",
                "probability": 0.6,
                "scored_at": pd.Timestamp("2026-03-05"),
            }
        ]
    )
    assert store.load_scored_referrals(settings, newer) == 1
    engine = store.ready_engine(settings)
    items, total = store.queue(settings, engine, store.QueueFilters())
    assert total == 2
    by_id = {i.decision_id: i for i in items}
    assert by_id["d1"].band == "high"  # version 2 (scored later) is the one shown
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select count(*) from scored_referrals")).scalar_one()
    assert rows == 3  # the older scoring is kept, not overwritten


def test_load_rejects_bad_frames_with_clear_errors(settings):
    with pytest.raises(pandera.errors.SchemaErrors, match="reasons"):
        store.load_scored_referrals(settings, _frame([{"decision_id": "d1", "reasons_json": "[]"}]))
    with pytest.raises(ValueError, match="row 0, column band: unknown band 'urgent'"):
        store.load_scored_referrals(settings, _frame([{"decision_id": "d1", "band": "urgent"}]))


def test_queue_orders_by_band_then_date_and_filters(settings):
    frame = _frame(
        [
            {"decision_id": "a", "band": "high", "referral_date": pd.Timestamp("2026-01-01")},
            {"decision_id": "b", "band": "very high", "referral_date": pd.Timestamp("2026-02-01")},
            {"decision_id": "c", "band": "very high", "referral_date": pd.Timestamp("2026-01-15")},
            {"decision_id": "d", "band": "medium", "referral_date": pd.Timestamp("2026-01-01")},
        ]
    )
    store.load_scored_referrals(settings, frame)
    engine = store.ready_engine(settings)
    items, total = store.queue(settings, engine, store.QueueFilters())
    assert [i.decision_id for i in items] == ["c", "b", "a"]  # medium is not flagged
    assert total == 3
    assert [
        i.decision_id for i in store.queue(settings, engine, store.QueueFilters(band="high"))[0]
    ] == ["a"]
    assert [
        i.decision_id
        for i in store.queue(
            settings,
            engine,
            store.QueueFilters(date_from=date(2026, 1, 10), date_to=date(2026, 1, 31)),
        )[0]
    ] == ["c"]
    assert store.queue(settings, engine, store.QueueFilters(family="repeat_referrals"))[1] == 3
    assert (
        store.queue(settings, engine, store.QueueFilters(family="early_help"))[1] == 0
    )  # lowers only
    team = items[0].team
    teamed = store.queue(settings, engine, store.QueueFilters(team=team))[0]
    assert teamed and all(i.team == team for i in teamed)
    assert items[0].top_reasons[0].sentence == "4 referrals in the last year"
    assert store.reason_families(settings, engine) == ["repeat_referrals"]


def test_status_moves_from_new_to_in_review_to_decided(settings):
    store.load_scored_referrals(settings, _frame([{"decision_id": "d1"}]))
    engine = store.ready_engine(settings)
    uid = _user(settings, engine)
    assert store.queue(settings, engine, store.QueueFilters())[0][0].status == "new"
    store.audit(
        engine, user_id=uid, username="rev", role="reviewer", action="case_view", target="d1"
    )
    assert store.queue(settings, engine, store.QueueFilters())[0][0].status == "new"  # a look
    by = {"id": uid, "username": "rev", "role": "reviewer"}
    store.allocate(engine, decision_id="d1", assignee_id=uid, by=by, manager=False)
    assert store.queue(settings, engine, store.QueueFilters())[0][0].status == "in review"
    assert store.queue(settings, engine, store.QueueFilters(status="in review"))[1] == 1
    score_id = store.queue(settings, engine, store.QueueFilters())[0][0].score_id
    store.record_decision(
        engine,
        score_id=score_id,
        user_id=uid,
        username="rev",
        role="reviewer",
        agrees=True,
        action="assessment",
        rationale="History of neglect and DA.",
        form_token="t1",
    )
    assert store.queue(settings, engine, store.QueueFilters())[0][0].status == "decided"
    assert store.queue(settings, engine, store.QueueFilters(status="new"))[1] == 0
    count = store.day_count(settings, engine)
    assert (count.decided_today, count.awaiting, count.capacity) == (
        1,
        0,
        settings.review.daily_capacity,
    )


def test_decisions_are_append_only_in_the_database(settings):
    store.load_scored_referrals(settings, _frame([{"decision_id": "d1"}]))
    engine = store.ready_engine(settings)
    uid = _user(settings, engine)
    score_id = store.queue(settings, engine, store.QueueFilters())[0][0].score_id
    first, created = store.record_decision(
        engine,
        score_id=score_id,
        user_id=uid,
        username="rev",
        role="reviewer",
        agrees=True,
        action="assessment",
        rationale="Repeated police notifications.",
        form_token="t1",
    )
    assert created
    for sql in (
        "update decisions set action = 'no_further_action'",
        "delete from decisions",
        "update audit_log set username = 'someone else'",
        "delete from audit_log",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    # a change of mind is a new entry that names the one it supersedes
    second, _ = store.record_decision(
        engine,
        score_id=score_id,
        user_id=uid,
        username="rev",
        role="reviewer",
        agrees=False,
        action="early_help",
        rationale="Spoke to the school: support in place.",
        form_token="t2",
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(decisions).order_by(decisions.c.id)).all()
    assert [(r.id, r.action, r.supersedes) for r in rows] == [
        (first, "assessment", None),
        (second, "early_help", first),
    ]


def test_same_form_twice_is_stored_once_and_bad_input_refused(settings):
    store.load_scored_referrals(settings, _frame([{"decision_id": "d1"}]))
    engine = store.ready_engine(settings)
    uid = _user(settings, engine)
    score_id = store.queue(settings, engine, store.QueueFilters())[0][0].score_id
    kwargs = dict(score_id=score_id, user_id=uid, username="rev", role="reviewer")
    a = store.record_decision(
        engine,
        agrees=True,
        action="other",
        rationale="Checked with police.",
        form_token="same",
        **kwargs,
    )
    b = store.record_decision(
        engine,
        agrees=True,
        action="other",
        rationale="Checked with police.",
        form_token="same",
        **kwargs,
    )
    assert a == (a[0], True) and b == (a[0], False)
    for bad in (
        dict(agrees=None, action="other", rationale="long enough text"),
        dict(agrees=True, action="close the case", rationale="long enough text"),
        dict(agrees=True, action="other", rationale="   short  "),
    ):
        with pytest.raises(store.DecisionError):
            store.record_decision(engine, form_token="x", **kwargs, **bad)
    assert len(store.export_decisions(settings)) == 1


def test_export_for_monitoring_has_no_free_text(settings):
    store.load_scored_referrals(settings, _frame([{"decision_id": "d1"}, {"decision_id": "d2"}]))
    engine = store.ready_engine(settings)
    uid = _user(settings, engine)
    ids = {
        i.decision_id: i.score_id for i in store.queue(settings, engine, store.QueueFilters())[0]
    }
    for token, (did, action) in enumerate(
        [("d1", "assessment"), ("d2", "no_further_action"), ("d1", "strategy_discussion")]
    ):
        store.record_decision(
            engine,
            score_id=ids[did],
            user_id=uid,
            username="rev",
            role="reviewer",
            agrees=action != "no_further_action",
            action=action,
            rationale="Rationale with Name Smith",
            form_token=str(token),
        )
    out = store.export_decisions(settings)
    assert list(out.columns) == store.EXPORT_COLUMNS
    assert len(out) == 3
    assert not out.astype(str).apply(lambda c: c.str.contains("Smith")).any().any()
    latest = out[out["is_latest"]].set_index("decision_id")
    assert latest.loc["d1", "action"] == "strategy_discussion"
    assert latest.loc["d2", "agrees"] == False  # noqa: E712
    assert out["reviewer"].unique().tolist() == [f"u{uid}"]
    assert out["child_id"].iloc[0] == "pchild0000000000000000001"
    assert str(out["decided_at"].dtype) == "datetime64[ns]"


def test_export_when_empty_has_the_columns(settings):
    out = store.export_decisions(settings)
    assert out.empty and list(out.columns) == store.EXPORT_COLUMNS


def test_summary_suppresses_small_counts(settings):
    store.load_scored_referrals(settings, _frame([{"decision_id": f"d{i}"} for i in range(7)]))
    engine = store.ready_engine(settings)
    uid = _user(settings, engine)
    for n, item in enumerate(store.queue(settings, engine, store.QueueFilters())[0]):
        store.record_decision(
            engine,
            score_id=item.score_id,
            user_id=uid,
            username="rev",
            role="reviewer",
            agrees=n < 6,
            action="assessment",
            rationale="A considered rationale.",
            form_token=f"f{n}",
        )
    summary = store.decision_summary(settings, engine)
    very_high = next(r for r in summary["by_band"] if r["band"] == "very high")
    # 7 - 6 = 1 disagreement: showing 6 agreements beside the total of 7 would give it back
    assert very_high == {"band": "very high", "total": "7", "agree": "c", "disagree": "c"}
    assert summary["total"] == "7"


def test_summary_hides_counts_that_subtraction_gives_back(settings):
    rows = [{"decision_id": f"d{i}"} for i in range(12)]
    store.load_scored_referrals(settings, _frame(rows))
    engine = store.ready_engine(settings)
    uid = _user(settings, engine)
    for n, item in enumerate(store.queue(settings, engine, store.QueueFilters())[0]):
        store.record_decision(
            engine,
            score_id=item.score_id,
            user_id=uid,
            username="rev",
            role="reviewer",
            agrees=n >= 3,  # 3 disagree, 9 agree
            action="no_further_action" if n < 3 else "assessment",
            rationale="A considered rationale.",
            form_token=f"f{n}",
        )
    summary = store.decision_summary(settings, engine)
    assert summary["total"] == "12"
    very_high = next(r for r in summary["by_band"] if r["band"] == "very high")
    assert very_high["total"] == "12"
    assert very_high["agree"] == "c" and very_high["disagree"] == "c"
    actions = {r["action"]: r["count"] for r in summary["by_action"]}
    # 3 no-further-action beside a total of 12: the 9 assessments would give them back
    assert "9" not in actions.values() and "3" not in actions.values()
    assert sorted(actions.values()).count("c") == 2


def test_relative_sqlite_path_is_resolved_against_the_project_root(tmp_path):
    settings = make_settings(tmp_path, review={"database_url": "sqlite:///sub/review.db"})
    store.ready_engine(settings)
    assert (tmp_path / "sub" / "review.db").exists()
    from frontdoor.review.db import engine_for

    with engine_for(settings).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sample_scores_match_the_contract():
    tables = review_sample.canonical_tables(children=100)
    frame = review_sample.scored_referrals(tables)
    from frontdoor.records.scores import SCORED_REFERRAL_SCHEMA

    SCORED_REFERRAL_SCHEMA.validate(frame)
    assert set(frame["decision_id"]) == set(tables["referrals"]["referral_id"])
    assert isinstance(frame["scored_at"].iloc[0], pd.Timestamp) and frame["scored_at"].iloc[
        0
    ] <= datetime(2026, 3, 31, 2)


def _figures(version: str = "1", n: int = 812) -> pd.DataFrame:
    from frontdoor.records.scores import BAND_OUTCOME_COLUMNS

    return pd.DataFrame(
        [
            {
                "label": "escalation_12m",
                "model_name": "frontdoor-escalation_12m",
                "model_version": version,
                "band": band,
                "test_referrals": n,
                "observed_rate": 0.41,
                "observed_low": 0.38,
                "observed_high": 0.44,
                "mean_probability": 0.37,
            }
            for band in ("low", "medium", "high", "very high")
        ],
        columns=BAND_OUTCOME_COLUMNS,
    )


def test_band_figures_are_stored_once_per_version_and_never_changed(settings):
    """A version's backtest figures are facts of the version: loaded once, kept as they were
    (a second load with other numbers adds nothing), and the database refuses changing them."""
    from frontdoor.review.band_outcomes import band_outcome, load_band_outcomes

    assert load_band_outcomes(settings, _figures()) == 4
    assert load_band_outcomes(settings, _figures(n=5)) == 0
    assert load_band_outcomes(settings, _figures(version="2", n=30)) == 4
    engine = store.ready_engine(settings)
    score = {
        "label": "escalation_12m",
        "model_name": "frontdoor-escalation_12m",
        "model_version": "1",
        "band": "high",
    }
    got = band_outcome(engine, score)
    assert got["test_referrals"] == 812 and got["observed_rate"] == pytest.approx(0.41)
    assert band_outcome(engine, {**score, "model_version": "2"})["test_referrals"] == 30
    assert band_outcome(engine, {**score, "model_version": "3"}) is None
    for sql in ("update band_outcomes set observed_rate = 0.9", "delete from band_outcomes"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    with pytest.raises(pandera.errors.SchemaErrors):
        load_band_outcomes(settings, _figures(version="4").assign(observed_rate=1.5))
