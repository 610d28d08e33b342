"""The scheduled deployments a council runs: nightly scoring, weekly monitoring, monthly
retraining with its audit. Built from the settings, served by ``frontdoor serve-flows``
(``prefect.serve``) or registered on a Prefect server for a worker (``prefect.yaml``).

Scheduled runs load their settings from a YAML file (``config``): deployment parameters must
be JSON, and secrets (the pseudonymisation key) come from the environment or a key file on
the machine that runs the flow, never from Prefect's database.
"""

from __future__ import annotations

from collections.abc import Callable

import prefect
from prefect import Flow
from prefect.schedules import Cron

from frontdoor.pipelines.flows import monitor_flow, retrain_flow, score_flow
from frontdoor.settings import Settings, project_root

SCHEDULES = (
    (
        "nightly-scoring",
        score_flow,
        "scoring_cron",
        "score new referrals with the champion and fill the review queue",
    ),
    (
        "weekly-monitoring",
        monitor_flow,
        "monitoring_cron",
        "drift, flag rates, recent fairness, managers' agreement",
    ),
    (
        "monthly-retraining",
        retrain_flow,
        "retraining_cron",
        "ingest, features, train a challenger, fairness audit and gate",
    ),
)


def schedule_rows(settings: Settings) -> list[dict[str, str]]:
    p = settings.pipelines
    return [
        {"deployment": name, "flow": f.name, "cron": getattr(p, attr), "what": what}
        for name, f, attr, what in SCHEDULES
    ]


SERVED_SUFFIX = "-served"  # `serve-flows` names; `deploy` and prefect.yaml use the plain names


def deployment_parameters(settings: Settings, config: str | None, root: str | None = None):
    """What every scheduled run receives: the project root, always explicit (a worker's
    working directory is not the project), and the configuration file to load there."""
    where = root or str(settings.paths.root or project_root())
    return {"root": where, **({"config": config} if config else {})}


def build_deployments(settings: Settings, config: str | None = None) -> list:
    """One ``RunnerDeployment`` per schedule, for ``frontdoor serve-flows`` (nothing is started
    or registered here). Named ``<schedule>-served`` so that they never replace, nor are
    replaced by, the worker deployments ``frontdoor deploy`` registers on the same server."""
    p = settings.pipelines
    parameters = deployment_parameters(settings, config)
    return [
        f.to_deployment(
            name=name + SERVED_SUFFIX,
            schedules=[Cron(getattr(p, attr), timezone=p.timezone)],
            parameters=parameters,
            description=what,
            tags=["frontdoor"],
        )
        for name, f, attr, what in SCHEDULES
    ]


def worker_source(settings: Settings, source: str | None = None) -> str:
    """Where a worker runs the flows from: ``source``, or this project's folder."""
    return source or str(settings.paths.root or project_root())


def register_for_worker(
    settings: Settings, source: str, work_pool: str = "frontdoor", config: str | None = None
) -> list[str]:
    """Register the three deployments on the Prefect server in use, for a worker of
    ``work_pool`` to run from ``source`` (the project folder on the worker's machine, or a git
    URL). The same as ``prefect deploy --all`` with prefect.yaml. Returns the deployment ids.
    The runs receive the project root explicitly: ``source`` when it is a folder."""
    p = settings.pipelines
    folder = source if "://" not in source and not source.startswith("git@") else None
    parameters = deployment_parameters(settings, config, folder)
    ids = []
    for name, f, attr, what in SCHEDULES:
        entry = f"pipelines/flows.py:{f.fn.__name__}"
        remote = Flow.from_source(source=source, entrypoint=entry)
        ids.append(
            str(
                remote.deploy(
                    name=name,
                    work_pool_name=work_pool,
                    schedules=[Cron(getattr(p, attr), timezone=p.timezone)],
                    parameters=parameters,
                    description=what,
                    tags=["frontdoor"],
                    build=False,
                    push=False,
                    print_next_steps=False,
                    ignore_warnings=True,
                )
            )
        )
    return ids


def serve(
    settings: Settings, config: str | None = None, say: Callable[[str], None] = print
) -> None:
    """Serve the deployments from this process until stopped (``prefect.serve``)."""
    built = build_deployments(settings, config=config)
    say(f"Serving {len(built)} deployments: {', '.join(d.name for d in built)}")
    prefect.serve(*built)


class NoWorkPool(RuntimeError):
    """The work pool is missing and could not be created: the message says what to run."""


def ensure_work_pool(name: str, create: bool = True) -> bool:
    """Make sure ``name`` exists on the Prefect server in use (a process pool is created when
    missing and ``create``). Returns True when it was created. Raises ``NoWorkPool`` with the
    command to run when there is no server to register on, or the pool cannot be made."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise NoWorkPool(
            "no Prefect server is configured: a deployment for a worker must be registered on "
            "the server the worker polls. Start one (`prefect server start`) and set "
            "PREFECT_API_URL (for example http://127.0.0.1:4200/api), then run "
            f"`prefect work-pool create {name} --type process` and this command again"
        )

    async def check() -> bool:
        async with get_client() as client:
            try:
                await client.read_work_pool(name)
                return False
            except ObjectNotFound:
                if not create:
                    raise NoWorkPool(
                        f"there is no work pool {name!r} on {PREFECT_API_URL.value()}: run "
                        f"`prefect work-pool create {name} --type process`"
                    ) from None
                await client.create_work_pool(WorkPoolCreate(name=name, type="process"))
                return True

    try:
        return asyncio.run(check())
    except NoWorkPool:
        raise
    except Exception as error:  # the server is unreachable, or refuses
        raise NoWorkPool(
            f"cannot reach the Prefect server at {PREFECT_API_URL.value()} ({error}): start it "
            f"(`prefect server start`), then `prefect work-pool create {name} --type process`"
        ) from error
