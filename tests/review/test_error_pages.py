"""The app's own error pages on a real server (uvicorn on loopback): a route that raises gets
the 500 page with no traceback; a locked database gets the 503 page with Retry-After; a full
password-hashing queue turns sign-ins away with 503 at once instead of an unbounded wait."""

from __future__ import annotations

import re
import sqlite3
import threading
import time

import httpx
import pytest

from frontdoor.review import auth
from frontdoor.review.guard import public
from frontdoor.review.live import serve_in_thread
from tests.support import make_settings

SECRET_DETAIL = "kaboom-9f2c: internal state"


@pytest.fixture
def failing_app(tmp_path):
    """The real app with two extra public routes: one raises, one meets a locked database."""
    from frontdoor.review.app import create_app

    app = create_app(make_settings(tmp_path))

    @app.get("/raises")
    @public
    def raises():
        raise RuntimeError(SECRET_DETAIL)

    @app.get("/locked")
    @public
    def locked():
        with app.state.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=100")  # not 30 s, for the test's sake
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        return {"status": "not locked"}

    server = serve_in_thread(app, log_level="critical")
    yield app, server.url
    server.stop()


def test_a_route_that_raises_gets_the_apps_500_page(failing_app):
    _app, url = failing_app
    page = httpx.get(f"{url}/raises")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Sorry, something went wrong" in page.text and "<main" in page.text
    for leak in ("Traceback", "RuntimeError", SECRET_DETAIL, 'File "'):
        assert leak not in page.text
    assert httpx.get(f"{url}/healthz").status_code == 200  # the server lives on


def test_a_locked_database_gets_the_apps_503_page_with_retry_after(failing_app):
    app, url = failing_app
    holder = sqlite3.connect(app.state.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
    try:
        page = httpx.get(f"{url}/locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status_code == 503 and page.headers["retry-after"].isdigit()
    assert page.headers["content-type"].startswith("text/html")
    assert "The service is busy" in page.text
    assert "locked" not in page.text.lower() and "Traceback" not in page.text
    assert httpx.get(f"{url}/locked").json() == {"status": "not locked"}


def test_a_full_hashing_queue_answers_503_at_once(tmp_path):
    """One hashing thread and one waiting place: of six sign-ins posted together, those beyond
    the two admitted get 503 with Retry-After straight away; afterwards sign-in works again."""
    from frontdoor.review.app import create_app

    slow = {
        "password_time_cost": 40,  # about a second per check: the first two are still running
        "password_memory_kib": 16384,
        "hash_workers": 1,
        "hash_queue": 1,
        "sign_in_per_ip_per_minute": 1000,
        "sign_in_global_per_minute": 1000,
    }
    settings = make_settings(tmp_path, review=slow)
    app = create_app(settings)
    auth.add_user(settings, app.state.engine, "rev", "reviewer", "a-long-test-password-1")
    server = serve_in_thread(app, log_level="critical")
    try:
        clients = [httpx.Client(base_url=server.url, timeout=120) for _ in range(6)]
        forms = []
        for client in clients:
            page = client.get("/login").text
            forms.append(re.search(r'name="login_token" value="([^"]+)"', page).group(1))
        start = threading.Barrier(len(clients))
        answers: list = [None] * len(clients)

        def post(i: int) -> None:
            data = {"username": "rev", "password": "wrong-password-1", "login_token": forms[i]}
            start.wait()
            began = time.perf_counter()
            response = clients[i].post("/login", data=data)
            answers[i] = (response, time.perf_counter() - began)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        busy = [(r, s) for r, s in answers if r.status_code == 503]
        checked = [(r, s) for r, s in answers if r.status_code == 401]
        assert len(busy) + len(checked) == len(clients)
        assert 1 <= len(checked) <= 2 and busy  # at most workers + queue admitted at once
        for response, _ in busy:
            assert response.headers["retry-after"] == "5"
            assert "Too many people are signing in" in response.text
        assert max(s for _, s in busy) < min(s for _, s in checked)  # turned away, not queued
        client = clients[0]
        page = client.get("/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
        data = {"username": "rev", "password": "a-long-test-password-1", "login_token": token}
        assert client.post("/login", data=data).status_code == 303  # slots were given back
    finally:
        for client in clients:
            client.close()
        server.stop()
