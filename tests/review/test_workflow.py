"""The MASH workflow: waited since referral and since flagged, allocation, search and sort,
Europe/London days and times, reasons and ages as people say them."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from frontdoor.records.scores import Reason
from frontdoor.review import present, store


def _user_id(app, name: str) -> int:
    with app.state.engine.connect() as conn:
        return conn.execute(sa.text("select id from users where username=:u"), {"u": name}).scalar()


def test_waited_counts_from_the_referral_and_from_the_flag(client_for, app, review_settings, h):
    """The sample was scored on 31 March 2026 at 02:00; referrals are older than that."""
    page = client_for("reviewer").get("/queue?sort=referral_date")
    assert "Waited since referral" in page.text and "Waited since flagged" in page.text
    item = h.flagged(review_settings, app.state.engine)[0]
    now = store.utcnow()
    assert present.waited(item.referral_date, now) in page.text
    assert present.waited(item.flagged_since, now) in page.text
    assert present.waited(item.referral_date, now) != present.waited(item.flagged_since, now)
    assert present.waited(date(2026, 3, 1), datetime(2026, 3, 31, 12)) == "30 days 12 hours"


def test_claim_release_and_reassign(client_for, app, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    url = f"/cases/{item.decision_id}"
    reviewer, manager = client_for("reviewer"), client_for("team_manager")

    def post(client, **data):
        token = h.csrf_of(client.get(url).text)
        return client.post(f"{url}/allocation", data={"csrf_token": token, **data})

    assert post(reviewer, do="claim").status_code == 303
    queue = reviewer.get("/queue?status=in+review").text
    assert item.decision_id in queue and ">reviewer</td>" in queue
    assert item.decision_id not in reviewer.get("/queue?status=new").text
    assert post(manager, do="assign", assignee="team-manager").status_code == 303
    assert ">team-manager</td>" in reviewer.get("/queue?status=in+review").text
    assert post(reviewer, do="claim").status_code == 403  # taken: only a manager moves it
    assert post(reviewer, do="release").status_code == 403  # not theirs any more
    assert post(reviewer, do="assign", assignee="reviewer").status_code == 400  # not a manager
    assert post(manager, do="release").status_code == 303
    assert item.decision_id in reviewer.get("/queue?status=new").text
    with app.state.engine.connect() as conn:
        moves = conn.execute(
            sa.text("select count(*) from audit_log where action='allocate'")
        ).scalar()
    assert moves == 3


def test_viewing_a_case_does_not_put_it_in_review(client_for, app, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    client = client_for("reviewer")
    client.get(f"/cases/{item.decision_id}")
    assert item.decision_id in client.get("/queue?status=new").text


def test_search_by_pseudonym_and_sort(client_for, app, review_settings, h):
    items = h.flagged(review_settings, app.state.engine)
    client = client_for("reviewer")
    target = items[-1]
    found = client.get(f"/queue?search={target.child_id[:8]}")
    assert found.status_code == 200 and target.decision_id in found.text
    assert all(
        i.decision_id not in found.text
        for i in items
        if not i.child_id.startswith(target.child_id[:8])
    )
    filters = store.QueueFilters(sort="referral_date")
    by_date, _ = store.queue(review_settings, app.state.engine, filters)
    assert [i.referral_date for i in by_date] == sorted(i.referral_date for i in by_date)
    by_band, _ = store.queue(review_settings, app.state.engine, store.QueueFilters())
    ranks = store.band_ranks(review_settings)
    assert [ranks[i.band] for i in by_band] == sorted(ranks[i.band] for i in by_band)
    waited, _ = store.queue(review_settings, app.state.engine, store.QueueFilters(sort="waited"))
    assert [i.flagged_since for i in waited] == sorted(i.flagged_since for i in waited)


def test_decided_today_follows_the_london_day(app, review_settings, h):
    """23:30 UTC on 1 July is 00:30 on 2 July in London (BST)."""
    item = h.flagged(review_settings, app.state.engine)[0]
    user = _user_id(app, "reviewer")
    store.record_decision(
        app.state.engine,
        decision_id=item.decision_id,
        label=review_settings.models.primary_label,
        user_id=user,
        username="reviewer",
        role="reviewer",
        agrees=True,
        action="assessment",
        rationale="A rationale long enough.",
        form_token="d-1",
    )
    with app.state.engine.connect() as conn:
        decided_at = conn.execute(sa.text("select decided_at from decisions")).scalar()
    assert decided_at is not None
    assert store.london_day_bounds(date(2026, 7, 2)) == (
        datetime(2026, 7, 1, 23),
        datetime(2026, 7, 2, 23),
    )
    assert store.london_day_bounds(date(2026, 1, 2)) == (datetime(2026, 1, 2), datetime(2026, 1, 3))
    assert store.london_today(datetime(2026, 7, 1, 23, 30)) == date(2026, 7, 2)
    assert present.london(datetime(2026, 7, 1, 23, 30)) == "02 Jul 2026 00:30"


@pytest.mark.parametrize(
    ("sentence", "direction", "said"),
    [
        (
            "0 earlier contacts in the 12 months before this referral: lowers",
            "lowers",
            "No earlier contacts in the 12 months before this referral",
        ),
        (
            "3 referrals in the 12 months before this referral: raises",
            "raises",
            "3 referrals in the 12 months before this referral",
        ),
        (
            "Child protection plan open at this referral: 1.0: raises",
            "raises",
            "Child protection plan open at this referral: yes",
        ),
        ("Earlier child protection plan: 0: lowers", "lowers", "Earlier child protection plan: no"),
    ],
)
def test_reasons_are_phrased_for_people(sentence, direction, said):
    reason = Reason("f", 0.0, 0.1, direction, sentence)
    assert present.reason_text(reason) == said
    assert present.effect_text(reason) == f"{direction} the score"


def test_ages_have_units():
    assert [present.age_text(a) for a in (None, 0, 1, 7)] == [
        "not known",
        "under 1 year",
        "1 year",
        "7 years",
    ]
