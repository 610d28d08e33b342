"""Fixtures for the review app: a tmp store with sample records, one user per role, a client."""

from __future__ import annotations

import warnings
from datetime import datetime

import pytest

from frontdoor.pipelines import review_sample
from frontdoor.records.store import write_tables
from frontdoor.review import auth, store
from frontdoor.review.band_outcomes import load_band_outcomes
from tests.support.review import FAST_HASHING, PASSWORD, ROLES, Helpers, login
from tests.support.settings import make_settings

warnings.filterwarnings("ignore", message=".*httpx.*")


@pytest.fixture
def settings(tmp_path):
    """The shared settings, with a cheaper argon2 cost so that tests which log in stay fast."""
    return make_settings(tmp_path, review=FAST_HASHING)


@pytest.fixture
def review_settings(tmp_path):
    """Settings in a tmp folder holding sample canonical tables and their scores."""
    settings = make_settings(tmp_path, review=FAST_HASHING)
    tables = review_sample.canonical_tables(children=400, seed=3)
    write_tables(
        settings.resolve(settings.paths.canonical), tables, {"reference_date": "2026-03-31"}
    )
    scores = review_sample.scored_referrals(tables, scored_at=datetime(2026, 3, 31, 2, 0))
    store.load_scored_referrals(settings, scores)
    load_band_outcomes(settings, review_sample.band_outcomes(scores))
    return settings


@pytest.fixture
def app(review_settings):
    from frontdoor.review.app import create_app

    app = create_app(review_settings)
    for role in ROLES:
        auth.add_user(review_settings, app.state.engine, role.replace("_", "-"), role, PASSWORD)
    return app


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


@pytest.fixture
def h():
    return Helpers
