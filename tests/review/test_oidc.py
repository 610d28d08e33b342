"""Council sign-in with OpenID Connect against a real provider on loopback (oidc-provider-mock):
authorization code with PKCE, ID token checked, roles from groups, refusals."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from frontdoor.review import auth, oidc
from frontdoor.review.schema import audit_log, users
from tests.support import make_settings

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")


@pytest.fixture(scope="module")
def provider():
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def app(tmp_path, provider):
    from frontdoor.review.app import create_app

    oidc._metadata.clear()
    settings = make_settings(
        tmp_path,
        review={
            "password_time_cost": 1,
            "password_memory_kib": 8192,
            "oidc_issuer": provider,
            "oidc_client_id": "frontdoor-review",
            "oidc_client_secret": "a-client-secret",
            "oidc_roles": {"mash-managers": "reviewer", "it-service": "admin"},
        },
    )
    return create_app(settings)


def _person(provider: str, sub: str, **claims) -> None:
    response = httpx.put(
        f"{provider}/users/{sub}", json={"email": f"{sub}@council.example", **claims}
    )
    assert response.status_code == 204


def _sign_in(client: TestClient, sub: str, tamper: bool = False):
    start = client.get("/login/oidc?next=/queue")
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    flow = json.loads(base64.urlsafe_b64decode(client.cookies.get("fd_oidc").rpartition(".")[0]))
    answer = httpx.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:300]
    back = urlparse(answer.headers["location"])
    assert back.path == "/login/oidc/callback"
    url = f"{back.path}?{back.query}"
    if tamper:
        url = url.replace("state=", "state=x")
    return client.get(url), query, flow


def test_sign_in_with_the_council_account(app, provider):
    _person(provider, "alice", preferred_username="alice.smith", groups=["mash-managers"])
    client = TestClient(app, follow_redirects=False)
    page, query, flow = _sign_in(client, "alice")
    # PKCE: the challenge sent is the S256 of the verifier kept for the token request
    digest = hashlib.sha256(flow["verifier"].encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] == [expected]
    assert query["nonce"] == [flow["nonce"]] and query["response_type"] == ["code"]
    assert page.status_code == 200 and 'content="0;url=/queue"' in page.text
    assert client.get("/queue").status_code == 200
    with app.state.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.oidc_subject.is_not(None))).one()
        detail = conn.execute(
            sa.select(audit_log.c.detail).where(audit_log.c.action == "login")
        ).scalar_one()
    assert (row.username, row.role, row.oidc_subject) == (
        "alice.smith",
        "reviewer",
        f"{provider}|alice",
    )
    assert detail == "oidc" and row.password_hash == "!oidc"
    # a password sign-in cannot use the account
    assert auth.authenticate(app.state.settings, app.state.engine, "alice.smith", "!oidc") is None


def test_roles_follow_the_groups_and_strangers_are_refused(app, provider):
    _person(provider, "bob", groups=["it-service", "mash-managers"])
    client = TestClient(app, follow_redirects=False)
    page, _q, _f = _sign_in(client, "bob")
    assert page.status_code == 200 and client.get("/admin/users").status_code == 200
    _person(provider, "bob", groups=["mash-managers"])  # moved out of IT at the provider
    client = TestClient(app, follow_redirects=False)
    _sign_in(client, "bob")
    assert client.get("/admin/users").status_code == 403 and client.get("/queue").status_code == 200
    _person(provider, "eve", groups=["finance"])
    stranger = TestClient(app, follow_redirects=False)
    page, _q, _f = _sign_in(stranger, "eve")
    assert page.status_code == 401 and "not in a group that may use frontdoor" in page.text
    assert stranger.get("/queue").status_code == 303


def test_a_tampered_answer_or_a_disabled_account_is_refused(app, provider):
    _person(provider, "carol", preferred_username="carol", groups=["mash-managers"])
    client = TestClient(app, follow_redirects=False)
    page, _q, _f = _sign_in(client, "carol", tamper=True)
    assert page.status_code == 401 and client.get("/queue").status_code == 303
    page, _q, _f = _sign_in(client, "carol")
    assert page.status_code == 200
    auth.change_user(app.state.settings, app.state.engine, "carol", "disable", by="test")
    assert client.get("/queue").status_code == 303  # the session ended at once
    again = TestClient(app, follow_redirects=False)
    page, _q, _f = _sign_in(again, "carol")
    assert page.status_code == 401 and "disabled" in page.text
