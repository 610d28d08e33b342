"""Signing in to the review app in tests: users per role, login and CSRF tokens from pages."""

from __future__ import annotations

import re

from frontdoor.review import store

PASSWORD = "a-long-test-password-1"
ROLES = ("reviewer", "data_scientist", "governance", "admin")
# A cheaper argon2 cost, so that tests which log in stay fast.
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 8192}


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


def flagged_items(settings, engine) -> list:
    items, _ = store.queue(settings, engine, store.QueueFilters())
    return items


class Helpers:
    """Plain helpers handed to tests as the ``h`` fixture."""

    login = staticmethod(login)
    csrf_of = staticmethod(csrf_of)
    flagged = staticmethod(flagged_items)
    password = PASSWORD
