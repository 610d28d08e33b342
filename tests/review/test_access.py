"""Deny by default: every route of the app, for every role and for anonymous visitors.

The expected table below is written by hand, independently of ``review.auth.PERMISSIONS``;
a new route without a row here fails ``test_every_route_is_in_the_table``.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

ANON = None
EVERYONE = "everyone"  # public: anonymous included
SIGNED_IN = {"reviewer", "team_manager", "data_scientist", "governance", "admin"}
REVIEWING = {"reviewer", "team_manager"}
EXPECTED: dict[tuple[str, str], object] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("GET", "/login/oidc"): EVERYONE,  # 404 unless OpenID Connect is configured
    ("GET", "/login/oidc/callback"): EVERYONE,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/queue"): REVIEWING | {"admin"},
    ("GET", "/cases/{decision_id}"): REVIEWING | {"admin"},
    ("POST", "/cases/{decision_id}/decisions"): REVIEWING,
    ("POST", "/cases/{decision_id}/reidentify"): REVIEWING,  # administrators (IT) never
    ("POST", "/cases/{decision_id}/allocation"): REVIEWING,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/admin/users/{username}/{what}"): {"admin"},
    ("GET", "/reports"): {"data_scientist", "governance", "admin"},
    ("GET", "/reports/files/{relative:path}"): {"data_scientist", "governance", "admin"},
    ("GET", "/restricted"): {"governance", "admin"},
    ("GET", "/restricted/files/{relative:path}"): {"governance", "admin"},
    ("GET", "/summary"): {"data_scientist", "governance", "admin"},
    ("GET", "/admin/users"): {"admin"},
    ("GET", "/admin/audit"): {"admin"},
}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route, walking included routers (FastAPI includes them lazily)."""
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.update((m, prefix + route.path) for m in route.methods)
            elif isinstance(route, Mount):
                assert route.path == "/static", f"unexpected mount {route.path}"
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            else:
                raise AssertionError(f"unexpected route {route!r}")

    walk(app.routes, "")
    return found


def test_every_route_is_in_the_table(app):
    assert app_routes(app) == set(EXPECTED)


def _request(client, app, method: str, path: str, case_id: str, score_id: int):
    url = (
        path.replace("{decision_id}", case_id)
        .replace("{relative:path}", "model-1/report.html")
        .replace("{username}/{what}", "governance/unlock")
    )
    if method == "GET":
        return client.get(url)
    data = {}
    if "/cases/" in path or path in ("/logout", "/account/password") or "/admin/" in path:
        # a valid CSRF token if the client has a session, so only the role is being tested
        page = client.get("/login")
        token = None
        if page.status_code == 303:  # signed in: take the token from a page this role can see
            landing = client.get(page.headers["location"])
            token = re.search(r'name="csrf_token" value="([^"]+)"', landing.text).group(1)
        data["csrf_token"] = token or ""
    if path.endswith("/decisions"):
        data.update(
            score_id=str(score_id),
            agrees="yes",
            action="assessment",
            rationale="Repeated police notifications.",
            form_token=f"tok-{id(client)}",
        )
    if path.endswith("/reidentify"):
        data["purpose"] = "strategy_discussion"
    if path.endswith("/allocation"):
        data["do"] = "claim"
    if path == "/login":
        data.update(username="nobody", password="x", login_token="")
    return client.post(url, data=data)


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_gets_exactly_what_the_table_says(app, client_for, review_settings, h, route):
    (method, path) = route
    reports = review_settings.resolve(review_settings.paths.reports) / "model-1"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "report.html").write_text("<h1>Model card</h1>", encoding="utf-8")
    item = h.flagged(review_settings, app.state.engine)[0]
    allowed = EXPECTED[route]
    for role in (ANON, *sorted(SIGNED_IN)):
        client = client_for(role)
        response = _request(client, app, method, path, item.decision_id, item.score_id)
        may = allowed == EVERYONE or (role is not None and role in allowed)
        where = f"{method} {path} as {role or 'anonymous'}: {response.status_code}"
        if may:
            assert response.status_code in (200, 303, 400, 401, 404, 422), where
            if response.status_code == 303:
                assert not response.headers["location"].startswith("/login?next"), where
            if path == "/login" and method == "POST":
                assert response.status_code == 400, where  # no login token: refused as CSRF
        elif role is None:
            if method == "GET":
                assert response.status_code == 303, where
                assert response.headers["location"].startswith("/login?next="), where
            else:
                assert response.status_code == 401, where
        else:
            assert response.status_code == 403, where
            assert item.child_id not in response.text, where


def test_a_route_that_declares_nothing_is_refused_even_to_admin(app, client_for):
    @app.get("/undeclared")
    def undeclared():
        return {"secret": "case data"}

    for role in (None, "admin", "reviewer"):
        response = client_for(role).get("/undeclared")
        assert "case data" not in response.text
        assert response.status_code in (303, 403)
    assert client_for("admin").get("/undeclared").status_code == 403


def test_governance_and_data_scientists_see_no_case_data(app, client_for, review_settings, h):
    items = h.flagged(review_settings, app.state.engine)
    for role in ("governance", "data_scientist"):
        client = client_for(role)
        for url in ("/reports", "/summary"):
            page = client.get(url)
            assert page.status_code == 200
            assert not any(i.child_id in page.text or i.decision_id in page.text for i in items)
        assert 'href="/queue"' not in client.get("/reports").text
