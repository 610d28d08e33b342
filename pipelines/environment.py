"""Prefect's environment, from frontdoor's settings, set before Prefect is imported.

The CLI calls ``prefect_environment`` first thing, so every run (and every process a run
starts: Dask workers, the temporary server) uses the project's ``pipelines.prefect_home``
instead of ``~/.prefect``, keeps Prefect's telemetry off, and allows a cold start on a busy
machine. Nothing here imports Prefect.
"""

from __future__ import annotations

import os

from frontdoor.settings import Settings


def prefect_variables(settings: Settings) -> dict[str, str]:
    p = settings.pipelines
    return {
        "PREFECT_HOME": str(settings.resolve(p.prefect_home)),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(p.ephemeral_startup_seconds),
    }


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Export the variables (this process and its children); returns them."""
    variables = prefect_variables(settings)
    os.environ.update(variables)
    return variables
