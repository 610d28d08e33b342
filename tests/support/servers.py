"""A real `mlflow server` on a free loopback port, for the scale-out tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.postgres import free_port


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
def mlflow_server(backend_uri: str, artifacts: Path, timeout: float = 120) -> Iterator[str]:
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
