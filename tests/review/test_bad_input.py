"""Bad input gets the app's own page with the right status, never a 500 or framework JSON."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from frontdoor.review.schema import decisions


@pytest.mark.parametrize(
    ("role", "method", "url", "status"),
    [
        ("reviewer", "GET", "/queue?page=" + "1" + "0" * 22, 422),
        ("reviewer", "GET", "/queue?page=-3", 422),
        ("reviewer", "GET", "/queue?page=abc", 422),
        ("reviewer", "GET", "/queue?family=" + "x" * 60_000, 422),
        ("reviewer", "GET", "/queue?band=purple", 422),
        ("reviewer", "GET", "/queue?from-day=31&from-month=2&from-year=2026", 422),
        ("reviewer", "GET", "/queue?from-day=3&from-year=2026", 422),
        ("reviewer", "GET", "/queue?search=%00%01", 422),
        ("reviewer", "GET", "/queue?sort=random", 422),
        ("admin", "GET", "/admin/audit?page=" + "1" + "0" * 20, 422),
        ("admin", "GET", "/admin/audit?action=drop", 422),
        ("admin", "GET", "/reports/files/a%00b.html", 404),
        ("reviewer", "GET", "/cases/" + "x" * 300, 404),
        ("reviewer", "GET", "/no-such-page", 404),
        ("reviewer", "POST", "/queue", 405),
        (None, "GET", "/no-such-page", 404),
    ],
)
def test_bad_requests_get_the_apps_own_page(client_for, role, method, url, status):
    client = client_for(role)
    response = client.request(method, url)
    if role is None and status == 404:
        assert response.status_code in (404, 303)
        return
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in response.text and "Traceback" not in response.text
    if status == 422 and url.startswith("/queue"):
        assert "<title>Error:" in response.text and 'class="error-summary"' in response.text


def test_valid_filters_still_work(client_for):
    client = client_for("reviewer")
    ok = client.get("/queue?band=high&from-day=1&from-month=1&from-year=2020&sort=waited&page=1")
    assert ok.status_code == 200 and "Error:" not in ok.text


def test_head_is_answered_like_get(client_for):
    client = client_for("reviewer")
    for url in ("/queue", "/login", "/healthz"):
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code and head.content == b""
    assert client_for(None).head("/queue").status_code == 303


def test_a_form_posted_score_id_that_is_huge_is_harmless(client_for, app, review_settings, h):
    client = client_for("reviewer")
    item = h.flagged(review_settings, app.state.engine)[0]
    page = client.get(f"/cases/{item.decision_id}")
    response = client.post(
        f"/cases/{item.decision_id}/decisions",
        data={
            "csrf_token": h.csrf_of(page.text),
            "score_id": str(2**70),
            "agrees": "yes",
            "action": "assessment",
            "rationale": "Enough words here.",
            "form_token": "big-1",
        },
    )
    assert response.status_code == 303


def test_rationale_is_capped_and_cleaned(client_for, app, review_settings, h):
    client = client_for("reviewer")
    item = h.flagged(review_settings, app.state.engine)[0]
    url = f"/cases/{item.decision_id}/decisions"
    page = client.get(f"/cases/{item.decision_id}")
    assert "up to 5,000 characters" in page.text and 'maxlength="5000"' in page.text
    base = {"csrf_token": h.csrf_of(page.text), "agrees": "yes", "action": "assessment"}
    too_long = client.post(url, data={**base, "rationale": "a" * 5001, "form_token": "r-1"})
    assert too_long.status_code == 422 and "5,000 characters or fewer" in too_long.text
    huge = client.post(url, data={**base, "rationale": "a" * 1_000_000, "form_token": "r-2"})
    assert huge.status_code in (413, 422)
    tricky = "Safe\u202e txt.exe\u2066 plan\x00 agreed\x07 with school."
    assert (
        client.post(url, data={**base, "rationale": tricky, "form_token": "r-3"}).status_code == 303
    )
    with app.state.engine.connect() as conn:
        stored = conn.execute(sa.select(decisions.c.rationale)).scalars().all()
    assert stored == ["Safe txt.exe plan agreed with school."]


def test_all_decision_errors_are_shown_at_once(client_for, app, review_settings, h):
    client = client_for("reviewer")
    item = h.flagged(review_settings, app.state.engine)[0]
    page = client.get(f"/cases/{item.decision_id}")
    response = client.post(
        f"/cases/{item.decision_id}/decisions",
        data={"csrf_token": h.csrf_of(page.text), "form_token": "e-1"},
    )
    assert response.status_code == 422
    assert response.text.count('<li><a href="#') >= 3
    for anchor in ('href="#agrees-yes"', 'href="#action-strategy_discussion"', 'href="#rationale"'):
        assert anchor in response.text
