"""Shared fixtures: isolated settings per test (own folder, own key, own MLflow store)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from frontdoor.settings import Settings  # noqa: E402

# A proper key (32 random bytes as hex, as `frontdoor keys new` writes), fixed for tests.
TEST_KEY = "5f0c7a4e9b21d3f86a0e4c7b9d2f1a3856c4e0b7a9d3f2e1c8b7a6d5e4f3a2b1"


def make_settings(root: Path, **overrides) -> Settings:
    """Settings rooted in a temporary folder, with a fixed test key and a local MLflow store."""
    base = {
        # The suite runs the demo's configuration (demo users, the demo override) but with a
        # configured pseudonymisation key: no test depends on a generated one by accident.
        "demo_mode": True,
        "paths": {"root": str(root)},
        "privacy": {"pseudonym_key": TEST_KEY},
        "tracking": {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
        "review": {"database_url": f"sqlite:///{root / 'review.db'}"},
    }
    for section, values in overrides.items():
        if isinstance(values, dict):
            base[section] = {**base.get(section, {}), **values}
        else:
            base[section] = values
    return Settings(**base)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)
