"""Fixtures for the flows: one real (temporary) Prefect server per test session, and the
scale-out components on loopback: a throwaway PostgreSQL behind a real `mlflow server`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import make_settings
from postgres_cluster import free_port, postgres_bin, postgres_cluster  # noqa: F401


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s:\n{log.read_text()[-3000:]}")


@contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, timeout: float = 120):
    """Run `mlflow server` on a free loopback port over the given backend store; yield its URL."""
    port = free_port()
    artifacts.mkdir(parents=True, exist_ok=True)
    log = artifacts.parent / "mlflow-server.log"
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(mlflow_cli),
                "server",
                "--backend-store-uri",
                backend_uri,
                "--artifacts-destination",
                str(artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/health", timeout, proc, log)
        yield url
    finally:
        # The server's own process group (uvicorn workers included), started above.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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


SMALL = {
    "synth": {"children": 2500},
    "models": {"bootstrap_samples": 20},
    "fairness": {"bootstrap_samples": 20},
}


@pytest.fixture
def small():
    """Settings for a small synthetic council in a folder (tmp), with fewer bootstrap samples."""

    def make(root, **more):
        sections = {k: dict(v) for k, v in SMALL.items()}
        for k, v in more.items():
            sections[k] = {**sections.get(k, {}), **v}
        return make_settings(root, **sections)

    return make
