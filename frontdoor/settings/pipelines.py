"""Prefect flows and schedules."""

from frontdoor.settings.section import Section


class PipelineSettings(Section):
    task_retries: int = 2
    retry_delay_seconds: int = 2
    scoring_cron: str = "0 2 * * *"  # nightly
    retraining_cron: str = "0 3 1 * *"  # monthly
    monitoring_cron: str = "0 4 * * 1"  # weekly
    dask_address: str | None = None  # None: run tasks in process; "local": a LocalCluster
