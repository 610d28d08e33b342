"""Signing in to the review app in tests: users per role, login and CSRF tokens from pages."""

from __future__ import annotations

import re

from frontdoor.review import store

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
