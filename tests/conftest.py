"""Shared fixtures: isolated settings per test (own folder, own key, own MLflow store)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from frontdoor.settings import Settings  # noqa: E402

TEST_KEY = "test-key-not-secret-0123456789abcdef"


def make_settings(root: Path, **overrides) -> Settings:
    """Settings rooted in a temporary folder, with a fixed test key and a local MLflow store."""
    base = {
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
