"""Where a flow's tasks run: threads in the flow's process, or a Dask cluster (scale-out)."""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from frontdoor.settings import Settings


def task_runner(settings: Settings):
    """``pipelines.dask_address``: None -> threads; "local" -> a LocalCluster of
    ``dask_workers`` processes; otherwise the address of a running Dask scheduler."""
    address = settings.pipelines.dask_address
    if address is None:
        return ThreadPoolTaskRunner(max_workers=max(2, settings.pipelines.dask_workers))
    from prefect_dask import DaskTaskRunner

    if address == "local":
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": settings.pipelines.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            },
        )
    return DaskTaskRunner(address=address)


def run_flow(name: str, settings: Settings, **parameters: Any) -> dict:
    """Run one of the flows in this process, on the task runner the settings choose."""
    from pipelines.flows import FLOWS

    if name not in FLOWS:
        raise KeyError(f"no flow called {name!r}; the flows are {', '.join(FLOWS)}")
    chosen = FLOWS[name].with_options(task_runner=task_runner(settings))
    return chosen(settings=settings.model_dump(), **parameters)
