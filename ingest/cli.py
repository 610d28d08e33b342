"""Commands of the ingest room: ``frontdoor ingest`` and ``frontdoor export``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    """Add this room's commands to the frontdoor CLI."""

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
        from frontdoor.command_support import settings_from
        from frontdoor.ingest.errors import IngestError
        from frontdoor.ingest.report import TABLE_WIDTH
        from frontdoor.ingest.run import ingest_sources
        from frontdoor.records.pseudonymise import MissingKeyError

        settings = settings_from(ctx)
        if extract_date is not None:
            when = date.fromisoformat(extract_date)
            settings = settings.model_copy(
                update={"ingest": settings.ingest.model_copy(update={"extract_date": when})}
            )
        out_dir = out if out is not None else settings.resolve(settings.paths.canonical)
        # Full width when not a terminal (a log file): counts are never cut at 80 columns.
        console = Console() if sys.stdout.isatty() else Console(width=TABLE_WIDTH)
        try:
            report = ingest_sources(list(sources), out_dir, settings)
        except (IngestError, MissingKeyError) as exc:
            err = Console(stderr=True, soft_wrap=True)
            err.print(f"[bold red]ingest failed:[/] {exc}", highlight=False)
            err.print("Nothing was written.")
            raise typer.Exit(code=2) from None
        err = Console(stderr=True, soft_wrap=True)
        for line in report.gap_lines():
            err.print(f"[bold yellow]{line}[/]", highlight=False)
        console.print(report.rich_table())
        console.print("rows read = rows loaded + rows quarantined + duplicates removed (checked)")
        for reason, n in list(report.reasons().items())[:10]:
            console.print(f"  quarantined {n:>8,}  {reason}", highlight=False)
        for note in report.notes:
            console.print(f"note: {note}", highlight=False)
        console.print(f"Canonical tables: {out_dir}")
        console.print(f"Quarantine and summary: {report.quarantine_dir}")

    @app.command("export")
    def export(
        ctx: typer.Context,
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
        from frontdoor.records import store
        from frontdoor.records.export import export_council

        ref = date.fromisoformat(reference_date) if reference_date else store.reference_date(source)
        tables = {name: store.read_table(source, name) for name in store.TABLES}
        written = export_council(
            tables, out, formats=tuple(f.strip() for f in formats.split(",")), reference_date=ref
        )
        for path in written:
            Console().print(f"wrote {path}")
