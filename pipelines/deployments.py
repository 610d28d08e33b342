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


def build_deployments(settings: Settings, config: str | None = None) -> list:
    """One ``RunnerDeployment`` per schedule (nothing is started or registered here)."""
    p = settings.pipelines
    parameters = {"config": config} if config else {}
    return [
        f.to_deployment(
            name=name,
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
    URL). The same as ``prefect deploy --all`` with prefect.yaml. Returns the deployment ids."""
    p = settings.pipelines
    parameters = {"config": config} if config else {}
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
