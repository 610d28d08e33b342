"""Where a flow's tasks run: threads in the flow's process, or a Dask cluster (scale-out); and
the one temporary Prefect server a run uses when no Prefect server is configured."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from typing import Any

from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)
from prefect.task_runners import ThreadPoolTaskRunner

from frontdoor.logs import stderr_to_log
from frontdoor.pipelines.flows import FLOWS, FlowResult
from frontdoor.pipelines.steps import Result
from frontdoor.settings import Settings

log = logging.getLogger(__name__)


def task_runner(settings: Settings):
    """``pipelines.dask_address``: None -> threads; "local" -> a LocalCluster of
    ``dask_workers`` processes; otherwise the address of a running Dask scheduler."""
    address = settings.pipelines.dask_address
    if address is None:
        return ThreadPoolTaskRunner(max_workers=max(2, settings.pipelines.dask_workers))
    from prefect_dask import DaskTaskRunner  # (start-up time: dask loads only when asked for)

    if address == "local":
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": settings.pipelines.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
                "silence_logs": logging.WARNING,
            },
        )
    return DaskTaskRunner(address=address)


def produced(value: Any, found: dict[str, str] | None = None) -> dict[str, str]:
    """Every file a flow's result says its steps wrote (what, where), in order."""
    found = {} if found is None else found
    if isinstance(value, Result):
        for k, v in value.written().items():
            found.setdefault(k, v)
    elif isinstance(value, dict | list | tuple):
        for v in value.values() if isinstance(value, dict) else value:
            produced(v, found)
    elif is_dataclass(value):
        for f in fields(value):
            produced(getattr(value, f.name), found)
    return found


def run_flow(name: str, settings: Settings, verbose: bool = False, **parameters: Any) -> FlowResult:
    """Run one of the flows in this process, on the task runner the settings choose. Library
    output goes to the log file (``pipelines.log_file``) unless ``verbose``."""
    if name not in FLOWS:
        raise KeyError(f"no flow called {name!r}; the flows are {', '.join(FLOWS)}")
    chosen = FLOWS[name].with_options(task_runner=task_runner(settings))
    with stderr_to_log(settings, verbose), prefect_defaults(settings), one_prefect_server(settings):
        return chosen(settings=settings.model_dump(), **parameters)


class PrefectDidNotStart(LookupError):
    """The run's temporary Prefect server did not answer in time (the command says so plainly:
    a LookupError, like the run's other missing prerequisites, `pipelines.cli`)."""


@contextmanager
def one_prefect_server(settings: Settings) -> Iterator[str | None]:
    """With no Prefect server configured (PREFECT_API_URL), start one temporary local server
    for the run and point this process *and the processes it starts* at it: Dask workers
    otherwise each start a temporary server of their own. Yields the API URL in use."""
    from prefect.server.api.server import SubprocessASGIServer

    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    server = SubprocessASGIServer()
    seconds = settings.pipelines.ephemeral_startup_seconds
    try:
        server.start(timeout=seconds)
    except RuntimeError as error:  # Prefect's "Timed out while attempting to connect ..."
        raise PrefectDidNotStart(
            f"the temporary Prefect server did not answer within {seconds} s ({error}); a cold "
            "start on a busy machine can take longer: raise pipelines.ephemeral_startup_seconds "
            "(FRONTDOOR_PIPELINES__EPHEMERAL_STARTUP_SECONDS), or run a Prefect server "
            "(`prefect server start`) and set PREFECT_API_URL"
        ) from error
    os.environ["PREFECT_API_URL"] = server.api_url  # inherited by the Dask workers
    log.info("temporary Prefect server for this run: %s", server.api_url)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        _drain_to(server.api_url)
        os.environ.pop("PREFECT_API_URL", None)  # it was unset: no server was configured
        server.stop()


def _drain_to(api_url: str) -> None:
    """Send the run's last logs and events while the server still listens (otherwise they
    are retried at exit against a stopped server: errors, and a slow exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        for worker in (APILogWorker, EventsWorker):
            worker.drain_all(timeout=30)


def flow_parameters(
    name: str,
    label: str | None = None,
    version: str | None = None,
    alias: str | None = None,
    promote: bool = True,
    override_rationale: str | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """The parameters of flow ``name`` among the options ``frontdoor flow run`` offers (each
    flow takes only its own)."""
    parameters: dict[str, Any] = {}
    if name in ("audit", "score", "monitor") and label:
        parameters["label"] = label
    if name in ("train", "demo") and label:
        parameters["labels"] = [label]
    if name == "audit":
        parameters.update(
            version=version or "challenger",
            promote=promote,
            override_rationale=override_rationale,
            by=by,
        )
    if name in ("score", "monitor") and alias:
        parameters["alias"] = alias
    return parameters


@contextmanager
def prefect_defaults(settings: Settings) -> Iterator[None]:
    """Give the temporary local Prefect server time for a cold start on a busy machine (its
    default of 20 s is close to a cold start on 2 cores) and keep its telemetry off."""
    timeout = max(
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(),
        settings.pipelines.ephemeral_startup_seconds,
    )
    with temporary_settings(
        updates={
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: timeout,
            PREFECT_SERVER_ANALYTICS_ENABLED: False,
        }
    ):
        yield
