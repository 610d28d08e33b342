"""Isolated settings for tests: own folder, fixed test key, own MLflow store and review database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontdoor.settings import Settings

TEST_KEY = "test-key-not-secret-0123456789abcdef"

# A small synthetic council with fewer bootstrap samples: the flows' and notebooks' test size.
SMALL: dict[str, dict[str, Any]] = {
    "synth": {"children": 2500},
    "models": {"bootstrap_samples": 20},
    "fairness": {"bootstrap_samples": 20},
}


def make_settings(root: Path, **overrides: Any) -> Settings:
    """Settings rooted in a temporary folder, with a fixed test key and a local MLflow store."""
    base: dict[str, Any] = {
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


def small_settings(root: Path, **more: dict[str, Any]) -> Settings:
    """``make_settings`` for the small council (``SMALL``), with more sections merged in."""
    sections = {k: dict(v) for k, v in SMALL.items()}
    for k, v in more.items():
        sections[k] = {**sections.get(k, {}), **v}
    return make_settings(root, **sections)
