"""Shared synthetic councils for the synth tests (generated once per session, kept small).

Also makes this folder's helpers (``synth_helpers.py``) importable by its tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from frontdoor.synth.council import generate

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # after tests/, so `conftest` stays the shared one

from synth_helpers import MID, SMALL, council_settings  # noqa: E402


@pytest.fixture(scope="session")
def small_council(tmp_path_factory):
    return generate(council_settings(tmp_path_factory.mktemp("small"), SMALL))


@pytest.fixture(scope="session")
def mid_council(tmp_path_factory):
    return generate(council_settings(tmp_path_factory.mktemp("mid"), MID), keep_latent=True)
