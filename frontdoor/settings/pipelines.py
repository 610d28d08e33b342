"""Prefect flows, caching, schedules and scale-out (Dask)."""

from pathlib import Path

from frontdoor.settings.section import Section


class PipelineSettings(Section):
    task_retries: int = 2  # for steps whose I/O can fail (files, MLflow, the review store)
    retry_delay_seconds: int = 2
    # Where the council's extracts land for the flows to ingest; None: paths.synthetic (the
    # demo's synthetic council). In consortium mode, one sub-folder per council.
    extracts: Path | None = None
    cache: bool = True  # re-runs skip steps whose inputs (files, settings, code) are unchanged
    results: Path = Path(".prefect/results")  # persisted step results and cache keys
    scoring_cron: str = "0 2 * * *"  # nightly
    retraining_cron: str = "0 3 1 * *"  # monthly, with its audit
    monitoring_cron: str = "0 4 * * 1"  # weekly
    timezone: str = "Europe/London"
    ephemeral_startup_seconds: int = 90  # a cold start of the temporary local Prefect server
    dask_address: str | None = None  # None: threads in process; "local": a LocalCluster; or tcp://…
    dask_workers: int = 2  # workers of the LocalCluster when dask_address is "local"
    councils: list[str] = []  # consortium mode: one sub-folder of the raw data per council
    monitor_window_days: int = 90  # "recent" referrals for score drift and flag rates
    psi_alert: float = 0.25  # PSI above this is a significant shift (0.1 to 0.25: moderate)
