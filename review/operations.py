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
        proxy_headers=settings.review.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.review.forwarded_allow_ips,
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


def verify_chains(settings: Settings, expect_head: list[str]) -> tuple[list[str], bool]:
    """Lines to print and whether any chain is broken (``frontdoor decisions verify``).

    ``expect_head`` items are ``TABLE:ROWS:HASH`` as printed by an earlier run."""
    from frontdoor.review import chain, store
    from frontdoor.review.schema import audit_log, decisions

    engine = store.ready_engine(settings)
    expected: dict[str, tuple[int, str]] = {}
    for item in expect_head:
        table, rows, digest = (item.split(":") + ["", ""])[:3]
        if table not in ("decisions", "audit_log") or not rows.isdigit() or len(digest) != 64:
            raise ValueError(f"--expect-head {item!r}: give TABLE:ROWS:HASH as printed by verify")
        expected[table] = (int(rows), digest)
    lines: list[str] = []
    failed = False
    for table in (decisions, audit_log):
        report = chain.verify(engine, table)
        problems = list(report.problems)
        if table.name in expected:
            rows, digest = expected[table.name]
            if report.rows < rows:
                problems.append(f"{table.name}: {rows - report.rows} row(s) missing from the end")
            elif chain.hash_at(engine, table, rows) != digest:
                problems.append(f"{table.name}: the first {rows} rows are not the ones recorded")
        lines.extend(problems[:50])
        failed = failed or bool(problems)
        state = "intact" if not problems else f"{len(problems)} problem(s)"
        lines.append(
            f"{table.name}: {report.rows} rows, {state}; "
            f"head {table.name}:{report.rows}:{report.head}"
        )
    return lines, failed
