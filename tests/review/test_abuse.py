"""Abuse resistance, tried as an attacker would: floods, lockouts, replays, big bodies, other sites."""

from __future__ import annotations

import re
import socket
import statistics
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from frontdoor.review import auth, store
from frontdoor.review.schema import audit_log, sessions, sign_in_throttle
from tests.support import make_settings


def _client(app, ip: str = "198.51.100.7", **kw) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(ip, 50000), **kw)


def _form(client) -> dict:
    page = client.get("/login")
    return {"login_token": re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)}


def _sign_in(client, username, password) -> int:
    data = {**_form(client), "username": username, "password": password, "next": ""}
    return client.post("/login", data=data).status_code


def test_sign_in_is_rate_limited_per_address_with_retry_after(tmp_path, h):
    from frontdoor.review.app import create_app

    settings = make_settings(
        tmp_path, review={"password_time_cost": 1, "password_memory_kib": 8192}
    )
    app = create_app(settings)
    auth.add_user(settings, app.state.engine, "reviewer", "reviewer", h.password)
    limit = settings.review.sign_in_per_ip_per_minute
    assert limit == 10  # the default
    flood = _client(app, "203.0.113.9")
    codes = [_sign_in(flood, "nobody", "wrong-password-123") for _ in range(limit + 2)]
    assert codes[:limit] == [401] * limit and codes[limit:] == [429, 429]
    data = {**_form(flood), "username": "reviewer", "password": "x"}
    refused = flood.post("/login", data=data)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 61
    assert "<h1>Too many attempts</h1>" in refused.text
    assert _sign_in(_client(app, "203.0.113.10"), "reviewer", "a-long-test-password-1") == 303


def test_a_refused_sign_in_is_answered_after_a_pause_that_costs_no_cpu(tmp_path, h):
    """A flooding client waits for each refusal: the pause (review.refused_sign_in_delay_seconds)
    is an asyncio sleep, so it slows the flood without spending the CPU reviewers need
    (docs/performance.md: the flood benchmark went from 6,810 refusals a minute to 646)."""
    from frontdoor.review.app import create_app

    settings = make_settings(
        tmp_path,
        review={
            "password_time_cost": 1,
            "password_memory_kib": 8192,
            "sign_in_per_ip_per_minute": 1,
            "refused_sign_in_delay_seconds": 1.0,
        },
    )
    assert make_settings(tmp_path).review.refused_sign_in_delay_seconds == 5.0  # the default
    app = create_app(settings)
    flood = _client(app, "203.0.113.77")
    assert _sign_in(flood, "nobody", "wrong-password-123") == 401
    data = {**_form(flood), "username": "nobody", "password": "wrong-password-123"}
    wall, cpu = time.perf_counter(), time.process_time()
    refused = flood.post("/login", data=data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert refused.status_code == 429
    assert wall >= 1.0, wall
    assert cpu < 0.5, cpu  # the pause itself uses no CPU


def test_a_global_limit_holds_whatever_the_addresses(tmp_path, h):
    from frontdoor.review.app import create_app

    settings = make_settings(
        tmp_path,
        review={
            "password_time_cost": 1,
            "password_memory_kib": 8192,
            "sign_in_global_per_minute": 6,
        },
    )
    app = create_app(settings)
    codes = [_sign_in(_client(app, f"192.0.2.{i}"), "nobody", "wrong-password-1") for i in range(9)]
    assert codes.count(429) == 3 and codes.count(401) == 6


def test_a_stranger_cannot_lock_a_named_user_out(app, review_settings, h):
    """Five wrong guesses lock (that address, that account) only; each lockout lasts longer."""
    attacker, owner = _client(app, "203.0.113.66"), _client(app, "10.0.0.5")
    for _ in range(review_settings.review.max_login_failures):
        assert _sign_in(attacker, "reviewer", "guess-guess-guess") == 401
    # the right password from the attacker's address is refused now ...
    assert _sign_in(attacker, "reviewer", h.password) == 401
    # ... while the owner, elsewhere, signs in
    assert _sign_in(owner, "reviewer", h.password) == 303
    with app.state.engine.connect() as conn:
        rows = conn.execute(sa.select(sign_in_throttle)).all()
    pair = next(r for r in rows if r.key.startswith("acct-ip:"))
    first = pair.locked_until - pair.updated_at
    assert timedelta(minutes=14) < first <= timedelta(minutes=15)
    assert "reviewer" not in " ".join(r.key for r in rows)  # keys are hashes, not names


def test_lockouts_grow(tmp_path):
    settings = make_settings(tmp_path)
    waits = [auth._lock_minutes(settings, n) for n in (1, 2, 3, 4, 20)]
    assert waits == [15, 30, 60, 120, 24 * 60]


def test_unlock_clears_lockouts_from_every_address(app, review_settings, h):
    attacker = _client(app, "203.0.113.67")
    for _ in range(review_settings.review.max_login_failures):
        _sign_in(attacker, "reviewer", "guess-guess-guess")
    assert _sign_in(attacker, "reviewer", h.password) == 401
    auth.change_user(review_settings, app.state.engine, "reviewer", "unlock", by="cli")
    assert _sign_in(_client(app, "203.0.113.67"), "reviewer", h.password) == 303


def test_the_answer_takes_as_long_whatever_the_account_state(tmp_path, h):
    """Unknown, disabled, locked and existing names: one argon2 check each, so similar times."""
    from frontdoor.review.app import create_app

    settings = make_settings(
        tmp_path,
        review={"password_time_cost": 2, "password_memory_kib": 32768, "max_login_failures": 3},
    )
    app = create_app(settings)
    engine = app.state.engine
    for name in ("alice", "bob", "carol"):
        auth.add_user(settings, engine, name, "reviewer", h.password)
    auth.change_user(settings, engine, "bob", "disable", by="test")
    attempt = auth.Attempt(ip="192.0.2.1")
    for _ in range(3):
        auth.authenticate(
            settings, engine, "carol", "wrong-password-0", attempt
        )  # carol locked here

    # interleaved rounds, so that a burst of load from another process slows every name alike
    names = ("alice", "bob", "carol", "nobody-at-all")
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(9):
        for name in names:
            start = time.perf_counter()
            assert auth.authenticate(settings, engine, name, "wrong-password-1", attempt) is None
            times[name].append(time.perf_counter() - start)
    medians = {n: statistics.median(t) for n, t in times.items()}
    fastest, slowest = min(medians.values()), max(medians.values())
    assert slowest / fastest < 1.6, medians


def test_the_sign_in_token_expires_and_is_good_once(app, h):
    client = _client(app)
    data = {**_form(client), "username": "reviewer", "password": "wrong-password-1", "next": ""}
    assert client.post("/login", data=data).status_code == 401
    cookie = client.cookies.get("fd_login")
    replay = _client(app)
    replay.cookies.set("fd_login", cookie)
    assert replay.post("/login", data={**data, "password": h.password}).status_code == 400
    # an old token (issued 21 minutes ago) with a matching cookie is refused too
    from frontdoor.review.security import login_csrf_pair

    nonce, token = login_csrf_pair(app.state.secret, now=time.time() - 21 * 60)
    late = _client(app)
    late.cookies.set("fd_login", nonce)
    data = {"login_token": token, "username": "reviewer", "password": h.password, "next": ""}
    assert late.post("/login", data=data).status_code == 400


def test_expired_sessions_are_purged(app, review_settings, client_for):
    client_for("reviewer")
    client_for("admin")
    engine = app.state.engine
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 2
    later = store.utcnow() + timedelta(minutes=review_settings.review.session_minutes + 1)
    assert auth.expire_sessions(review_settings, engine, now=later) == 2
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 0


def test_the_app_purges_on_its_own(app, review_settings, client_for):
    engine = app.state.engine
    client_for("reviewer")
    with engine.begin() as conn:  # a session left idle long ago
        conn.execute(sa.update(sessions).values(last_seen=store.utcnow() - timedelta(days=2)))
    app.state.last_purge = -1e9
    client_for(None).get("/login")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "null"},
    ],
)
def test_posts_from_other_sites_are_refused(app, client_for, review_settings, h, headers):
    client = client_for("reviewer")
    item = h.flagged(review_settings, app.state.engine)[0]
    page = client.get(f"/cases/{item.decision_id}")
    response = client.post(
        f"/cases/{item.decision_id}/decisions",
        data={
            "csrf_token": h.csrf_of(page.text),
            "agrees": "yes",
            "action": "other",
            "rationale": "A rationale long enough.",
            "form_token": "t-x",
        },
        headers=headers,
    )
    assert response.status_code == 403
    anonymous = _client(app)
    assert anonymous.post("/login", data=_form(anonymous), headers=headers).status_code == 403
    same = client.post(
        f"/cases/{item.decision_id}/decisions",
        data={
            "csrf_token": h.csrf_of(page.text),
            "agrees": "yes",
            "action": "other",
            "rationale": "A rationale long enough.",
            "form_token": "t-y",
        },
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert same.status_code == 303


def test_over_https_the_cookie_is_host_prefixed_and_hsts_covers_subdomains(tmp_path, h):
    from frontdoor.review.app import create_app

    settings = make_settings(
        tmp_path,
        review={
            "password_time_cost": 1,
            "password_memory_kib": 8192,
            "secure_cookies": True,
            "secret_key": "x" * 40,
        },
    )
    app = create_app(settings)
    auth.add_user(settings, app.state.engine, "rita", "reviewer", h.password)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login")
    assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login", data={"login_token": token, "username": "rita", "password": h.password}
    )
    assert response.status_code == 303
    cookie = [c for c in response.headers.get_list("set-cookie") if "fd_session=" in c][0]
    assert cookie.startswith("__Host-fd_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert client.get("/queue").status_code == 200


def test_failed_sign_in_names_are_not_stored(app):
    client = _client(app)
    _sign_in(client, "my-secret-password!", "x")
    with app.state.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.username, audit_log.c.detail)).all()
    text = " ".join(f"{r.username} {r.detail}" for r in rows)
    assert "my-secret-password" not in text
    assert any(r.username.startswith("unknown#") for r in rows)


def _raw_post(url: str, head: str, body: bytes = b"", wait: float = 5.0) -> tuple[str, float]:
    host, port = url.removeprefix("http://").split(":")
    start = time.perf_counter()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head.encode() + body)
        answer = sock.recv(4096).decode("latin-1")
    return answer, time.perf_counter() - start


def test_a_huge_body_is_refused_before_it_is_read(live_app):
    """A 270 MB Content-Length is answered 413 at once: no byte of the body is sent or read."""
    url = live_app
    answer, seconds = _raw_post(
        url,
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 270000000\r\n\r\n",
    )
    assert answer.startswith("HTTP/1.1 413") and seconds < 2
    chunk = b"a" * 65536
    head = (
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    body = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(3))
    answer, _ = _raw_post(url, head, body)
    assert answer.startswith("HTTP/1.1 413")


@pytest.fixture
def live_app(app):
    from frontdoor.review.live import serve_in_thread

    server = serve_in_thread(app)
    yield server.url
    server.stop()
