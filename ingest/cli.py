"""Commands of the ingest room: ``frontdoor ingest`` and ``frontdoor export``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from frontdoor.command_support import console, fail, settings_from, sub_app

app = sub_app()


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    sources: list[Path] = typer.Argument(
        ...,
        help="Annex A .xlsx, CIN census .xml, canonical <table>.csv/.parquet, or folders.",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Canonical folder (default: paths.canonical); merged into."
    ),
    extract_date: str | None = typer.Option(
        None,
        "--extract-date",
        help="YYYY-MM-DD the extracts were taken (default: each file's own; the newest wins).",
    ),
) -> None:
    """Validate, pseudonymise and load council extracts into the canonical tables."""
    from frontdoor.ingest.errors import IngestError  # (start-up time)
    from frontdoor.ingest.report import TABLE_WIDTH
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.records.pseudonymise import MissingKeyError  # (start-up time: pandas, +3 s)

    settings = settings_from(ctx)
    if extract_date is not None:
        when = date.fromisoformat(extract_date)
        settings = settings.model_copy(
            update={"ingest": settings.ingest.model_copy(update={"extract_date": when})}
        )
    out_dir = out if out is not None else settings.resolve(settings.paths.canonical)
    try:
        report = ingest_sources(list(sources), out_dir, settings)
    except (IngestError, MissingKeyError) as exc:
        fail(f"{exc}\nNothing was written.", prefix="ingest failed:")
    # Full width when not a terminal (a log file): counts are never cut at 80 columns.
    out_console = console if sys.stdout.isatty() else Console(width=TABLE_WIDTH)
    err = Console(stderr=True, soft_wrap=True)
    for line in report.warning_lines():
        err.print(f"[bold yellow]{line}[/]", highlight=False)
    out_console.print(report.rich_table())
    console.print("rows read = rows loaded + rows quarantined + duplicates removed (checked)")
    for reason, n in list(report.reasons().items())[:10]:
        console.print(f"  quarantined {n:>8,}  {reason}", highlight=False)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"Canonical tables: {out_dir}")
    console.print(f"Quarantine and summary: {report.quarantine_dir}")


@app.command("export")
def export(
    source: Path = typer.Argument(..., help="A folder of canonical tables (raw ids)."),
    out: Path = typer.Option(..., "--out", help="Where to write the exported files."),
    formats: str = typer.Option(
        "annex_a,cin_xml,csv", "--formats", help="Comma-separated: annex_a, cin_xml, csv."
    ),
    reference_date: str | None = typer.Option(
        None, "--reference-date", help="YYYY-MM-DD (default: the folder's manifest)."
    ),
) -> None:
    """Write canonical tables as an Annex A workbook, a CIN census XML file and CSVs."""
    from frontdoor.records.export import export_folder  # (start-up time: +1.5 s)

    written = export_folder(
        source,
        out,
        formats=tuple(f.strip() for f in formats.split(",")),
        reference_date=date.fromisoformat(reference_date) if reference_date else None,
    )
    for path in written:
        console.print(f"wrote {path}")
