"""Demo users: one per role of the review app, including the team manager the allocation
workflow needs; demo mode only; generated passwords that really sign in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontdoor.pipelines import tasks as t
from frontdoor.review import auth
from frontdoor.review.schema import ROLES
from frontdoor.review.store import ready_engine
from tests.support.review import FAST_HASHING
from tests.support.settings import make_settings


def test_one_demo_user_per_role_and_the_team_manager_can_allocate(tmp_path):
    settings = make_settings(tmp_path, review=FAST_HASHING)
    first = t.demo_users_step.fn(settings)
    assert sorted(first.users.values()) == sorted(ROLES)
    assert t.demo_users_step.fn(settings).created == []  # a second run keeps them
    saved = json.loads(Path(first.users_file).read_text(encoding="utf-8"))
    (manager,) = [u for u, info in saved.items() if info["role"] == "team_manager"]
    user = auth.authenticate(settings, ready_engine(settings), manager, saved[manager]["password"])
    assert user is not None and user.may("allocate")


def test_no_demo_users_outside_demo_mode(tmp_path):
    settings = make_settings(tmp_path, demo_mode=False, review=FAST_HASHING)
    with pytest.raises(ValueError, match="demo mode only"):
        t.demo_users_step.fn(settings)
