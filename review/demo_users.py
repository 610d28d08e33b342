"""Demo mode only: one user per role of the review app, with generated passwords kept in a
local file readable only by its owner (never printed to logs or artifacts)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from frontdoor.review.auth import add_user, list_users
from frontdoor.review.store import ready_engine
from frontdoor.settings import Settings

DEMO_USERS = (
    ("manager.a", "reviewer"),
    ("team.manager", "team_manager"),  # claims, releases and reassigns cases (allocation)
    ("datascientist", "data_scientist"),
    ("governance", "governance"),
    ("admin", "admin"),
)


@dataclass(frozen=True)
class DemoUsers:
    users_file: Path
    created: list[str]
    roles: dict[str, str]  # username -> role, for every demo user in the file


def create_demo_users(settings: Settings) -> DemoUsers:
    """Add the demo users missing from the review store (idempotent)."""
    if not settings.demo_mode:
        raise ValueError("demo users are created in demo mode only (settings.demo_mode)")
    engine = ready_engine(settings)
    path = settings.resolve(settings.paths.keys) / "demo-users.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    existing = {u["username"] for u in list_users(engine)}
    created = []
    for username, role in DEMO_USERS:
        if username in existing:
            continue
        password = secrets.token_urlsafe(12)
        add_user(settings, engine, username, role, password, by="frontdoor demo")
        saved[username] = {"role": role, "password": password}
        created.append(username)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    roles = {u: saved[u]["role"] for u, _ in DEMO_USERS if u in saved}
    return DemoUsers(path, created, roles)


def saved_demo_users(path: Path) -> dict[str, dict]:
    """The demo users' roles and passwords, for the person who ran the demo."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
