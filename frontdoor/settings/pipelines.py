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
    # Prefect's home (its settings profile, and the database of the temporary local server):
    # the CLI sets PREFECT_HOME to this, so runs never land in ~/.prefect
    prefect_home: Path = Path(".prefect")
    # Where library output goes (Prefect, Dask, MLflow, warnings): a person sees progress,
    # results and where to look next; `frontdoor --verbose` shows the log on the terminal too
    log_file: Path = Path(".frontdoor/logs/frontdoor.log")
    dask_address: str | None = None  # None: threads in process; "local": a LocalCluster; or tcp://…
    dask_workers: int = 2  # workers of the LocalCluster when dask_address is "local"
    councils: list[str] = []  # consortium mode: one sub-folder of the raw data per council
    monitor_window_days: int = 90  # "recent" referrals for score drift and flag rates
    psi_alert: float = 0.25  # PSI above this is a significant shift (0.1 to 0.25: moderate)
