"""Fixtures for the flows: one real (temporary) Prefect server per test session, and the
scale-out components on loopback: a throwaway PostgreSQL behind a real `mlflow server`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.support.postgres import postgres_bin, postgres_cluster
from tests.support.servers import mlflow_server
from tests.support.settings import small_settings


@pytest.fixture(scope="session")
def prefect_harness():
    """Flows in tests run against a temporary Prefect database and server, never a shared one."""
    from prefect.testing.utilities import prefect_test_harness

    # a cold start takes minutes on a busy 2-core machine
    with prefect_test_harness(server_startup_timeout=300):
        yield


@pytest.fixture(scope="session")
def postgres_uri():
    if postgres_bin() is None:
        pytest.fail("PostgreSQL is not installed: run scripts/system-packages (as root)")
    with postgres_cluster("mlflow") as uri:
        yield uri


@pytest.fixture(scope="session")
def mlflow_server_url(postgres_uri):
    """`mlflow server` with the PostgreSQL backend store and a shared artifact folder."""
    base = Path(tempfile.mkdtemp(prefix="frontdoor-mlflow-"))
    with mlflow_server(postgres_uri, base / "artifacts") as url:
        yield url, base / "artifacts"


@pytest.fixture
def small():
    """Settings for a small synthetic council in a folder (tmp), with fewer bootstrap samples:
    ``small(root, **more_sections)``."""
    return small_settings
