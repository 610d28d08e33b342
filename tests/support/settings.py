"""Isolated settings for tests: own folder, fixed test key, own MLflow store and review database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontdoor.settings import Settings

# A proper key (32 random bytes as hex, as `frontdoor keys new` writes), fixed for tests.
TEST_KEY = "5f0c7a4e9b21d3f86a0e4c7b9d2f1a3856c4e0b7a9d3f2e1c8b7a6d5e4f3a2b1"

# A small synthetic council with fewer bootstrap samples: the flows' and notebooks' test size.
SMALL: dict[str, dict[str, Any]] = {
    "synth": {"children": 2500},
    "models": {"bootstrap_samples": 20},
    "fairness": {"bootstrap_samples": 20},
}


def make_settings(root: Path, **overrides: Any) -> Settings:
    """Settings rooted in a temporary folder, with a fixed test key and a local MLflow store."""
    base: dict[str, Any] = {
        # The suite runs the demo's configuration (demo users, the demo override) with a
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


def small_settings(root: Path, **more: dict[str, Any]) -> Settings:
    """``make_settings`` for the small council (``SMALL``), with more sections merged in."""
    sections = {k: dict(v) for k, v in SMALL.items()}
    for k, v in more.items():
        sections[k] = {**sections.get(k, {}), **v}
    return make_settings(root, **sections)
