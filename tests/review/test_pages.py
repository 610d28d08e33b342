"""The pages through the real app (FastAPI TestClient): queue, case, decision, re-identification."""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa

from frontdoor import REVIEW_NOTICE
from frontdoor.review import store
from frontdoor.review.schema import audit_log, decisions


def _audit(app):
    with app.state.engine.connect() as conn:
        return [
            dict(r._mapping) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))
        ]


def test_queue_shows_flags_in_order_with_the_notice(app, client_for, review_settings, h):
    client = client_for("reviewer")
    page = client.get("/queue")
    assert page.status_code == 200
    html = page.text
    assert REVIEW_NOTICE in html and "The model does not decide" in html
    items = h.flagged(review_settings, app.state.engine)
    positions = [html.index(i.decision_id) for i in items[:5]]
    assert positions == sorted(positions)  # band then date, as the store orders them
    assert f"of {review_settings.review.daily_capacity} (daily review capacity)" in html
    assert items[0].top_reasons[0].sentence in html
    very_high = client.get("/queue?band=very+high").text
    assert "High</span>" not in very_high and "Very high</span>" in very_high
    team = review_settings.review.teams[1]
    teamed = client.get(f"/queue?team={team.replace(' ', '+')}").text
    expected = sum(1 for i in items if i.team == team)
    assert f"{expected} flagged referral" in teamed


def test_case_page_has_band_reasons_chronology_household_and_limits(
    app, client_for, review_settings, h
):
    items = h.flagged(review_settings, app.state.engine)
    # a child with siblings in the sample data, so the household section has content
    tables = app.state.history.index()
    item = next(i for i in items if len(tables.members[tables.household[i.child_id]]) > 1)
    client = client_for("reviewer")
    html = client.get(f"/cases/{item.decision_id}").text
    assert REVIEW_NOTICE in html
    assert "What the band means" in html and "when the model was trained" in html
    case = store.get_case(review_settings, app.state.engine, item.decision_id)
    for reason in case.reasons:
        assert reason.sentence in html
    assert "What raises the score" in html and "What lowers the score" in html
    assert "What the model cannot see" in html and "case notes" in html
    assert "The child&#39;s chronology" in html or "The child's chronology" in html
    history = app.state.history.history(item.child_id, item.referral_date)
    assert history.events and html.count('<li class="event') >= len(history.events)
    assert "This referral" in html
    factors = [e for e in history.events if e.kind == "assessment" and "Factors:" in e.detail]
    for e in factors:
        assert e.detail.split("Factors: ")[1].split(";")[0] in html  # factors in words
    assert history.siblings and all(s.child_id in html for s in history.siblings)
    assert 'name="rationale"' in html and 'for="rationale"' in html
    # the case view is audited
    views = [a for a in _audit(app) if a["action"] == "case_view"]
    assert views[-1]["target"] == item.decision_id and views[-1]["username"] == "reviewer"


def test_case_page_says_what_happened_to_past_referrals_in_the_band(
    app, client_for, review_settings, h
):
    """Issue 15: beside the estimate, the backtest's figures for the score's band in its own
    model version, in plain English; the notice stays."""
    from frontdoor.review.band_outcomes import band_outcome
    from frontdoor.review.present import label_meaning

    item = h.flagged(review_settings, app.state.engine)[0]
    score = store.get_case(review_settings, app.state.engine, item.decision_id).score
    figures = band_outcome(app.state.engine, score)
    html = client_for("reviewer").get(f"/cases/{item.decision_id}").text
    sentence = (
        f"In the backtest, of {figures['test_referrals']:,} past referrals in this band, "
        f"{100 * figures['observed_rate']:.0f}% ({100 * figures['observed_low']:.0f}% to "
        f"{100 * figures['observed_high']:.0f}%) went on to {label_meaning(score['label'])}; "
        "the model&#39;s estimates for them "
        f"averaged {100 * figures['mean_probability']:.0f}%."
    )
    assert sentence in html
    assert html.index("What the band means") < html.index(sentence)
    assert REVIEW_NOTICE in html and "The model does not decide; you do." in html


def test_case_page_says_too_few_when_the_band_had_few_test_referrals(review_settings, h):
    """Below review.min_band_referrals test referrals, no rate: "too few to say"."""
    from fastapi.testclient import TestClient

    from frontdoor.review import auth
    from frontdoor.review.app import create_app
    from tests.support.review import PASSWORD, login

    strict = review_settings.model_copy(
        update={"review": review_settings.review.model_copy(update={"min_band_referrals": 5000})}
    )
    app = create_app(strict)
    auth.add_user(strict, app.state.engine, "reviewer", "reviewer", PASSWORD)
    item = h.flagged(strict, app.state.engine)[0]
    with TestClient(app, follow_redirects=False) as client:
        assert login(client, "reviewer").status_code == 303
        html = client.get(f"/cases/{item.decision_id}").text
    assert "past referrals were in this band: too few to say how often" in html
    assert "In the backtest, of " not in html
    assert REVIEW_NOTICE in html


def test_the_backtest_sentence_never_gives_a_small_count_back():
    """A rate times the referrals gives the count back: 5% of 40 is 2 children, so the page
    says "up to 5" rather than the rate (and "all but up to 5" for 95%)."""
    from frontdoor.review.present import backtest_text

    def figures(n: int, rate: float) -> dict:
        return {
            "test_referrals": n,
            "observed_rate": rate,
            "observed_low": rate - 0.02,
            "observed_high": rate + 0.02,
            "mean_probability": 0.3,
        }

    label = "rereferral_12m"
    low = backtest_text(figures(40, 0.05), label, 20, 5)
    assert low == (
        "In the backtest, of 40 past referrals in this band, up to 5 went on to a new referral "
        "within 12 months."
    )
    assert "all but up to 5" in backtest_text(figures(40, 0.95), label, 20, 5)
    plain = backtest_text(figures(40, 0.5), label, 20, 5)
    assert plain.startswith("In the backtest, of 40 past referrals in this band, 50% (48% to 52%)")
    assert "too few to say" in backtest_text(figures(19, 0.5), label, 20, 5)
    assert "No backtest figures" in backtest_text(None, label, 20, 5)


def test_chronology_shows_only_what_was_known_by_the_referral_date(app, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    history = app.state.history.history(item.child_id, item.referral_date)
    assert all(e.when <= item.referral_date for e in history.events)
    later = app.state.history.index().child_events(item.child_id, pd.Timestamp("2030-01-01").date())
    assert len(later) >= len(history.events)


def test_recording_a_decision_and_changing_it(app, client_for, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    client = client_for("reviewer")
    page = client.get(f"/cases/{item.decision_id}").text
    form = {
        "csrf_token": h.csrf_of(page),
        "form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1),
        "score_id": str(item.score_id),
    }
    missing = client.post(
        f"/cases/{item.decision_id}/decisions",
        data={**form, "agrees": "yes", "action": "assessment"},
    )
    assert missing.status_code == 422 and "rationale" in missing.text
    assert 'value="yes" checked' in missing.text  # what was entered is kept
    done = client.post(
        f"/cases/{item.decision_id}/decisions",
        data={
            **form,
            "agrees": "yes",
            "action": "assessment",
            "rationale": "Third DA notification this year.",
        },
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?recorded=1")
    again = client.post(  # the same form sent twice (double click): stored once
        f"/cases/{item.decision_id}/decisions",
        data={
            **form,
            "agrees": "yes",
            "action": "assessment",
            "rationale": "Third DA notification this year.",
        },
    )
    assert again.status_code == 303
    shown = client.get(done.headers["location"]).text
    assert "Decision recorded" in shown and "Third DA notification this year." in shown
    page = client.get(f"/cases/{item.decision_id}").text
    form["form_token"] = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    client.post(
        f"/cases/{item.decision_id}/decisions",
        data={
            **form,
            "agrees": "no",
            "action": "early_help",
            "rationale": "School confirmed support in place.",
        },
    )
    with app.state.engine.connect() as conn:
        rows = conn.execute(sa.select(decisions).order_by(decisions.c.id)).all()
    assert [(r.agrees, r.action, r.supersedes) for r in rows] == [
        (True, "assessment", None),
        (False, "early_help", rows[0].id),
    ]
    assert rows[0].user_id == rows[1].user_id and rows[0].decided_at <= rows[1].decided_at
    logged = [a for a in _audit(app) if a["action"] == "decision"]
    assert len(logged) == 2 and all(a["target"] == item.decision_id for a in logged)
    assert logged[0]["username"] == "reviewer"
    assert "Decided today" in client.get("/queue").text
    assert store.day_count(review_settings, app.state.engine).decided_today == 1


def test_admin_views_but_does_not_decide(app, client_for, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    html = client_for("admin").get(f"/cases/{item.decision_id}").text
    assert item.child_id in html and 'name="rationale"' not in html


def test_reidentification_is_explicit_and_audited(app, client_for, review_settings, h):
    from frontdoor.records import reidentification

    item = h.flagged(review_settings, app.state.engine)[0]
    reidentification.record(
        review_settings, pd.DataFrame({"pseudonym": [item.child_id], "la_child_id": ["LA-000123"]})
    )
    client = client_for("reviewer")
    page = client.get(f"/cases/{item.decision_id}").text
    assert "LA-000123" not in page
    url = f"/cases/{item.decision_id}/reidentify"
    refused = client.post(url, data={"csrf_token": h.csrf_of(page), "purpose": "x"})
    assert refused.status_code == 422 and "LA-000123" not in refused.text
    shown = client.post(
        url,
        data={
            "csrf_token": h.csrf_of(page),
            "purpose": "other",
            "purpose_other": "Open the record in LCS",
        },
    )
    assert shown.status_code == 200 and "LA-000123" in shown.text
    entry = [a for a in _audit(app) if a["action"] == "reidentify"][-1]
    assert entry["username"] == "reviewer"
    assert "purpose=Other (say why): Open the record in LCS" in entry["detail"]
    assert "LA-000123" not in entry["detail"]


def test_csrf_and_login_protections(app, client_for, review_settings, h):
    item = h.flagged(review_settings, app.state.engine)[0]
    client = client_for("reviewer")
    data = {
        "score_id": str(item.score_id),
        "agrees": "yes",
        "action": "other",
        "rationale": "long enough text",
        "form_token": "f1",
    }
    for token in (None, "forged-token"):
        sent = {**data, **({"csrf_token": token} if token else {})}
        response = client.post(f"/cases/{item.decision_id}/decisions", data=sent)
        assert response.status_code == 403
    assert store.export_decisions(review_settings).empty
    # the login form needs its own token, bound to a cookie
    anon = client_for(None)
    anon.get("/login")
    forged = anon.post(
        "/login", data={"username": "reviewer", "password": h.password, "login_token": "abc"}
    )
    assert forged.status_code == 400 and "fd_session" not in forged.cookies
    # open redirects are refused
    page = anon.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    response = anon.post(
        "/login",
        data={
            "username": "reviewer",
            "password": h.password,
            "login_token": token,
            "next": "//evil.example",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/queue"


def test_wrong_password_and_logout(app, client_for, h):
    anon = client_for(None)
    assert h.login(anon, "reviewer", "not the password").status_code == 401
    client = client_for("reviewer")
    page = client.get("/queue")
    out = client.post("/logout", data={"csrf_token": h.csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login?out=1"
    assert client.get("/queue").headers["location"].startswith("/login")
    assert [a["action"] for a in _audit(app)].count("logout") == 1


def test_security_headers_everywhere(app, client_for):
    client = client_for("reviewer")
    for url in ("/login", "/queue", "/static/review.css", "/nope"):
        headers = client.get(url).headers
        assert "default-src 'none'" in headers["content-security-policy"], url
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert client.get("/queue").headers["cache-control"] == "no-store"


def test_session_cookie_flags(app, client_for, h):
    anon = client_for(None)
    response = h.login(anon, "reviewer")
    set_cookie = response.headers["set-cookie"].lower()
    assert (
        "fd_session=" in set_cookie and "httponly" in set_cookie and "samesite=strict" in set_cookie
    )


def test_reports_listing_and_path_traversal(app, client_for, review_settings):
    root = review_settings.resolve(review_settings.paths.reports)
    (root / "escalation-v1").mkdir(parents=True)
    (root / "escalation-v1" / "governance.html").write_text(
        "<h1>Model card</h1><script>x()</script>"
    )
    (root / ".hidden.html").write_text("secret")
    (review_settings.resolve("outside.html")).write_text("outside")
    client = client_for("governance")
    listing = client.get("/reports").text
    assert "escalation-v1/governance.html" in listing and ".hidden" not in listing
    report = client.get("/reports/files/escalation-v1/governance.html")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    for bad in (
        "../outside.html",
        "%2e%2e/outside.html",
        ".hidden.html",
        "escalation-v1/../../outside.html",
    ):
        response = client.get(f"/reports/files/{bad}")
        assert response.status_code == 404, bad
        assert "outside" not in response.text.replace("outside.html", "")


def test_a_timed_out_session_sends_the_user_back_to_sign_in(app, client_for, review_settings):
    from datetime import timedelta

    from frontdoor.review.schema import sessions

    client = client_for("reviewer")
    assert client.get("/queue").status_code == 200
    idle = timedelta(minutes=review_settings.review.session_minutes, seconds=5)
    with app.state.engine.begin() as conn:
        conn.execute(sa.update(sessions).values(last_seen=store.utcnow() - idle))
    response = client.get("/queue")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue&expired=1"
    assert "timed out" in client.get(response.headers["location"]).text


def test_a_posted_score_of_another_referral_is_ignored(app, client_for, review_settings, h):
    """The decision is about the page's referral and its current score, whatever score_id says."""
    first, second = h.flagged(review_settings, app.state.engine)[:2]
    client = client_for("reviewer")
    page = client.get(f"/cases/{first.decision_id}").text
    data = {
        "csrf_token": h.csrf_of(page),
        "form_token": "mismatch",
        "score_id": str(second.score_id),
        "agrees": "yes",
        "action": "assessment",
        "rationale": "A long enough rationale.",
    }
    assert client.post(f"/cases/{first.decision_id}/decisions", data=data).status_code == 303
    stored = store.export_decisions(review_settings)
    assert list(stored["decision_id"]) == [first.decision_id]
    assert list(stored["band"]) == [first.band]


def test_restricted_board_audits_only_for_governance_and_admin(app, client_for, review_settings):
    from frontdoor.records.disclosure import RESTRICTED, restricted_dir

    root = restricted_dir(review_settings)
    (root / "escalation-v1").mkdir(parents=True)
    (root / "escalation-v1" / "restricted-audit.html").write_text("<p>sex Not known n=2</p>")
    for role in ("governance", "admin"):
        client = client_for(role)
        listing = client.get("/restricted")
        assert listing.status_code == 200 and RESTRICTED in listing.text
        assert "escalation-v1/restricted-audit.html" in listing.text
        assert "n=2" in client.get("/restricted/files/escalation-v1/restricted-audit.html").text
        assert client.get("/restricted/files/../reports").status_code == 404
    for role in ("data_scientist", "reviewer"):
        client = client_for(role)
        assert client.get("/restricted").status_code == 403, role
        page = client.get("/restricted/files/escalation-v1/restricted-audit.html")
        assert page.status_code == 403 and "n=2" not in page.text, role
    # and the public reports listing never shows it
    assert "restricted-audit" not in client_for("data_scientist").get("/reports").text
