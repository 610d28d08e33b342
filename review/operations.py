"""What the review room's commands run: serving the app, and exporting the decisions."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from frontdoor.review.app import create_app
from frontdoor.review.store import export_decisions
from frontdoor.settings import Settings


def serve(settings: Settings, workers: int, config: Path | None = None) -> None:
    """Run the review web app on ``review.host:review.port`` until stopped.

    The database schema is created or upgraded once, before any worker starts; a single
    process also reads the canonical tables now (each worker process reads them as it starts,
    with the settings from the same configuration file)."""
    app = create_app(settings, preload=workers == 1)
    options = dict(
        host=settings.review.host,
        port=settings.review.port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        timeout_keep_alive=75,  # as common reverse proxies; fewer reconnects for busy reviewers
        timeout_worker_healthcheck=60,  # a busy worker on a shared machine is not a dead one
    )
    if workers == 1:
        uvicorn.run(app, **options)
        return
    if config is not None:  # the worker processes load the same configuration file
        os.environ["FRONTDOOR_CONFIG"] = str(Path(config).resolve())
    uvicorn.run("frontdoor.review.app:app_from_config", factory=True, workers=workers, **options)


def export_decisions_file(settings: Settings, out: Path) -> int:
    """Every decision entry (no free text, reviewers as opaque ids) to a .csv or .parquet file;
    returns how many."""
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError("--out must end in .csv or .parquet")
    frame = export_decisions(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return len(frame)
