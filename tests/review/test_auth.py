"""Passwords (argon2), lock-out, sessions that time out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from frontdoor.review import auth, store
from frontdoor.review.schema import audit_log, sessions, sign_in_throttle, users

PASSWORD = "a-long-test-password-1"


@pytest.fixture
def engine(settings):
    return store.ready_engine(settings)


def test_passwords_are_argon2_hashes(settings, engine):
    auth.add_user(settings, engine, "Rita", "reviewer", PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.username, users.c.password_hash)).one()
    assert stored.username == "rita"
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


def test_users_are_validated(settings, engine):
    with pytest.raises(auth.UserError, match="role"):
        auth.add_user(settings, engine, "x1", "superuser", PASSWORD)
    with pytest.raises(auth.UserError, match="12 characters"):
        auth.add_user(settings, engine, "x1", "reviewer", "short")
    with pytest.raises(auth.UserError, match="Usernames"):
        auth.add_user(settings, engine, "bad name", "reviewer", PASSWORD)
    auth.add_user(settings, engine, "x1", "reviewer", PASSWORD)
    with pytest.raises(auth.UserError, match="already exists"):
        auth.add_user(settings, engine, "X1", "admin", PASSWORD)


def test_authenticate_and_lock_out(settings, engine):
    auth.add_user(settings, engine, "rita", "reviewer", PASSWORD)
    assert auth.authenticate(settings, engine, "rita", PASSWORD).role == "reviewer"
    assert auth.authenticate(settings, engine, "nobody", PASSWORD) is None
    for _ in range(settings.review.max_login_failures):
        assert auth.authenticate(settings, engine, "rita", "wrong password!") is None
    # locked now (from this address): even the right password is refused until the lock-out ends
    assert auth.authenticate(settings, engine, "rita", PASSWORD) is None
    with engine.begin() as conn:
        conn.execute(
            sa.update(sign_in_throttle).values(locked_until=store.utcnow() - timedelta(seconds=1))
        )
    assert auth.authenticate(settings, engine, "rita", PASSWORD) is not None
    with engine.connect() as conn:
        actions = [
            r[0] for r in conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id))
        ]
    assert actions.count("login") == 2 and actions.count("login_failed") == 7


def test_sessions_time_out_when_idle_and_after_their_lifetime(settings, engine):
    uid = auth.add_user(settings, engine, "rita", "reviewer", PASSWORD)
    user = auth.User(uid, "rita", "reviewer")
    token = auth.start_session(engine, user)
    session = auth.get_session(settings, engine, token)
    assert session.user == user and len(session.csrf_token) > 30
    with engine.connect() as conn:
        assert conn.execute(sa.select(sessions.c.token_hash)).scalar_one() != token  # only a hash
    idle = timedelta(minutes=settings.review.session_minutes, seconds=1)
    with engine.begin() as conn:
        conn.execute(sa.update(sessions).values(last_seen=store.utcnow() - idle))
    assert auth.get_session(settings, engine, token) is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one() == 0

    token = auth.start_session(engine, user)
    life = timedelta(hours=settings.review.session_max_hours, seconds=1)
    with engine.begin() as conn:
        conn.execute(sa.update(sessions).values(created_at=store.utcnow() - life))
    assert auth.get_session(settings, engine, token) is None

    token = auth.start_session(engine, user)
    auth.end_session(engine, token)
    assert auth.get_session(settings, engine, token) is None
    assert auth.get_session(settings, engine, "made-up-token") is None


def test_disabled_user_loses_their_session(settings, engine):
    uid = auth.add_user(settings, engine, "rita", "reviewer", PASSWORD)
    token = auth.start_session(engine, auth.User(uid, "rita", "reviewer"))
    with engine.begin() as conn:
        conn.execute(sa.update(users).values(active=False))
    assert auth.get_session(settings, engine, token) is None
    assert auth.authenticate(settings, engine, "rita", PASSWORD) is None


def test_hashes_made_at_another_cost_verify_and_are_upgraded(settings, engine):
    from tests.support import make_settings

    auth.add_user(settings, engine, "rita", "reviewer", PASSWORD)
    stronger = make_settings(
        settings.paths.root, review={"password_time_cost": 2, "password_memory_kib": 16384}
    )
    assert auth.authenticate(stronger, engine, "rita", PASSWORD) is not None
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert "m=16384,t=2" in stored


def test_default_cost_is_rfc_9106():
    from frontdoor.settings import Settings

    review = Settings().review
    assert (review.password_time_cost, review.password_memory_kib) == (3, 65536)
