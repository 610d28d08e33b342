"""Fixtures for the review app: a tmp store with sample records, one user per role, a client."""

from __future__ import annotations

import re
import warnings
from datetime import datetime

import pytest
from conftest import make_settings

from frontdoor.records.store import write_tables
from frontdoor.review import auth, sample, store

warnings.filterwarnings("ignore", message=".*httpx.*")

PASSWORD = "a-long-test-password-1"
ROLES = ("reviewer", "team_manager", "data_scientist", "governance", "admin")


# Cheap argon2 so that tests which sign in stay fast; sign-in rate limits out of the way (the
# tests of the limits build their own app with the defaults).
FAST_HASHING = {
    "password_time_cost": 1,
    "password_memory_kib": 8192,
    "sign_in_per_ip_per_minute": 100_000,
    "sign_in_global_per_minute": 100_000,
}


@pytest.fixture
def settings(tmp_path):
    """The shared settings, with a cheaper argon2 cost so that tests which log in stay fast."""
    return make_settings(tmp_path, review=FAST_HASHING)


@pytest.fixture
def review_settings(tmp_path):
    """Settings in a tmp folder holding sample canonical tables and their scores."""
    settings = make_settings(tmp_path, review=FAST_HASHING)
    tables = sample.canonical_tables(children=40, seed=3)
    write_tables(
        settings.resolve(settings.paths.canonical), tables, {"reference_date": "2026-03-31"}
    )
    scores = sample.scored_referrals(tables, scored_at=datetime(2026, 3, 31, 2, 0))
    store.load_scored_referrals(settings, scores)
    return settings


@pytest.fixture
def app(review_settings):
    from frontdoor.review.app import create_app

    app = create_app(review_settings)
    for role in ROLES:
        auth.add_user(review_settings, app.state.engine, role.replace("_", "-"), role, PASSWORD)
    return app


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token, "next": ""},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def client_for(app):
    """client_for(role) -> a TestClient signed in as that role (None: anonymous)."""
    from fastapi.testclient import TestClient

    clients = []

    def make(role: str | None):
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        if role is not None:
            response = login(client, role.replace("_", "-"))
            assert response.status_code == 303, response.text
        return client

    yield make
    for c in clients:
        c.close()


def flagged_items(settings, engine) -> list:
    items, _ = store.queue(settings, engine, store.QueueFilters())
    return items


class Helpers:
    """Plain helpers handed to tests as a fixture (test modules here are not importable)."""

    login = staticmethod(login)
    csrf_of = staticmethod(csrf_of)
    flagged = staticmethod(flagged_items)
    password = PASSWORD


@pytest.fixture
def h():
    return Helpers
