"""Shared synthetic councils for the synth tests (generated once per session, kept small)."""

from __future__ import annotations

import pytest

from frontdoor.synth.council import generate
from tests.support.synth import MID, SMALL, council_settings


@pytest.fixture(scope="session")
def small_council(tmp_path_factory):
    return generate(council_settings(tmp_path_factory.mktemp("small"), SMALL))


@pytest.fixture(scope="session")
def mid_council(tmp_path_factory):
    return generate(council_settings(tmp_path_factory.mktemp("mid"), MID), keep_latent=True)
