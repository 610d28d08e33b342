"""Re-identification: only reviewers, only for a referral in the queue, a purpose from the list,
a daily cap per person with an alert for administrators."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from frontdoor.records import reidentification
from frontdoor.review import auth, store
from frontdoor.review.schema import audit_log, scored_referrals
from tests.support import make_settings


def _record_ids(settings, pseudonyms) -> None:
    reidentification.record(
        settings,
        pd.DataFrame(
            {
                "pseudonym": list(pseudonyms),
                "la_child_id": [f"LA-{i:06d}" for i in range(len(pseudonyms))],
            }
        ),
    )


def _low_band_case(settings, engine) -> str:
    flagged = store.flagged_ranks(settings)
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(scored_referrals.c.decision_id).where(
                    scored_referrals.c.is_current.is_(True),
                    scored_referrals.c.label == settings.models.primary_label,
                    scored_referrals.c.band_rank.not_in(flagged),
                )
            )
            .scalars()
            .first()
        )


def _ask(client, h, decision_id, purpose="strategy_discussion", other=""):
    page = client.get(f"/cases/{decision_id}")
    return client.post(
        f"/cases/{decision_id}/reidentify",
        data={"csrf_token": h.csrf_of(page.text), "purpose": purpose, "purpose_other": other},
    )


def _actions(app) -> list[str]:
    with app.state.engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def test_a_referral_outside_the_queue_is_never_reidentified(app, client_for, review_settings, h):
    engine = app.state.engine
    low = _low_band_case(review_settings, engine)
    assert low is not None
    with engine.connect() as conn:
        child = conn.execute(
            sa.select(scored_referrals.c.child_id).where(scored_referrals.c.decision_id == low)
        ).scalar()
    _record_ids(review_settings, [child])
    client = client_for("reviewer")
    page = client.get(f"/cases/{low}")
    assert page.status_code == 200 and "Show the council's child id" not in page.text
    refused = client.post(
        f"/cases/{low}/reidentify",
        data={"csrf_token": h.csrf_of(page.text), "purpose": "strategy_discussion"},
    )
    assert refused.status_code == 403 and "LA-000000" not in refused.text
    assert "reidentify_refused" in _actions(app)
    assert reidentification.lookup_log(review_settings).empty  # the lookup file was never read


def test_administrators_never_reidentify(app, client_for, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    _record_ids(review_settings, [item.child_id])
    client = client_for("admin")
    page = client.get(f"/cases/{item.decision_id}")
    assert page.status_code == 200 and "Show the council's child id" not in page.text
    response = client.post(
        f"/cases/{item.decision_id}/reidentify",
        data={"csrf_token": h.csrf_of(page.text), "purpose": "strategy_discussion"},
    )
    assert response.status_code == 403 and "LA-000000" not in response.text


@pytest.mark.parametrize(
    ("purpose", "other", "status"),
    [
        ("To open the child's record in the case system.", "", 422),  # free text: not on the list
        ("", "", 422),
        ("other", "short", 422),
        ("other", "Checking with the school nurse", 200),
        ("partner_agency", "", 200),
    ],
)
def test_the_purpose_comes_from_the_list(
    app, client_for, review_settings, h, purpose, other, status
):
    item = h.flagged(review_settings, app.state.engine)[0]
    _record_ids(review_settings, [item.child_id])
    response = _ask(client_for("reviewer"), h, item.decision_id, purpose, other)
    assert response.status_code == status
    assert ("LA-000000" in response.text) == (status == 200)
    if status == 422:
        assert "<title>Error:" in response.text and 'class="error-summary"' in response.text
    else:
        with app.state.engine.connect() as conn:
            detail = conn.execute(
                sa.select(audit_log.c.detail).where(audit_log.c.action == "reidentify")
            ).scalar_one()
        label = reidentification.PURPOSES[purpose].split(" (")[0]
        assert f"purpose={label}" in detail


def test_the_daily_cap_refuses_and_alerts_administrators(tmp_path, h):
    from fastapi.testclient import TestClient

    from frontdoor.pipelines import review_sample
    from frontdoor.records.store import write_tables
    from frontdoor.review.app import create_app

    settings = make_settings(
        tmp_path,
        review={"password_time_cost": 1, "password_memory_kib": 8192, "reidentify_daily_cap": 3},
    )
    tables = review_sample.canonical_tables(children=400, seed=3)
    write_tables(
        settings.resolve(settings.paths.canonical), tables, {"reference_date": "2026-03-31"}
    )
    store.load_scored_referrals(
        settings, review_sample.scored_referrals(tables, scored_at=pd.Timestamp("2026-03-31 02:00"))
    )
    app = create_app(settings)
    for name, role in (("rita", "reviewer"), ("ada", "admin")):
        auth.add_user(settings, app.state.engine, name, role, h.password)
    items = h.flagged(settings, app.state.engine)
    _record_ids(settings, [i.child_id for i in items])
    with TestClient(app, follow_redirects=False) as rita:
        assert h.login(rita, "rita").status_code == 303
        answers = [_ask(rita, h, items[i].decision_id).status_code for i in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    actions = _actions(app)
    assert actions.count("reidentify") == 3 and actions.count("reidentify_refused") == 2
    assert actions.count("reidentify_cap") == 1
    with TestClient(app, follow_redirects=False) as ada:
        assert h.login(ada, "ada").status_code == 303
        for url in ("/admin/users", "/admin/audit"):
            page = ada.get(url).text
            assert "Alerts in the last 7 days" in page and "rita" in page
            assert "reached the daily cap of 3 look-ups" in page


def test_the_policy_as_a_plain_function():
    base = dict(
        role="reviewer",
        purpose="safeguarding_check",
        other_text="",
        in_queue=True,
        used_today=0,
        daily_cap=10,
    )
    assert reidentification.authorise(reidentification.Request(**base)) == "Safeguarding check"
    for change, status in (
        ({"role": "admin"}, 403),
        ({"in_queue": False}, 403),
        ({"purpose": "because"}, 422),
        ({"used_today": 10}, 429),
    ):
        with pytest.raises(reidentification.Refused) as refused:
            reidentification.authorise(reidentification.Request(**{**base, **change}))
        assert refused.value.status == status
