"""Commands of the features room: build the feature table, write the catalogue."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this room's commands to the frontdoor CLI."""
    features_app = typer.Typer(
        help="Point-in-time features and labels (only what was known before each decision).",
        no_args_is_help=True,
    )
    app.add_typer(features_app, name="features")

    @features_app.command("build")
    def build(
        ctx: typer.Context,
        canonical: Path | None = typer.Option(
            None, "--canonical", help="Folder of canonical tables (default: paths.canonical)."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Parquet file to write (default: paths.features/features.parquet)."
        ),
    ) -> None:
        """Build the feature table (one row per decision point) and print its counts."""
        from frontdoor.command_support import settings_from
        from frontdoor.features.build import build_feature_table, label_summary
        from frontdoor.records.feature_table import (
            default_feature_path,
            read_truth,
            write_feature_table,
        )
        from frontdoor.records.store import (
            read_manifest,
            read_tables,
            read_versions,
            reference_date,
        )

        settings = settings_from(ctx)
        folder = canonical or settings.resolve(settings.paths.canonical)
        if not (Path(folder) / "manifest.json").exists():
            raise typer.BadParameter(
                f"{folder}: no canonical tables here (manifest.json missing); run ingestion first",
                param_hint="--canonical",
            )
        if not read_manifest(folder).get("pseudonymised"):
            message = (
                f"{folder}: these tables are not pseudonymised (manifest.json has no "
                "'pseudonymised': true); run `frontdoor ingest` on them first"
            )
            if not settings.demo_mode:
                raise typer.BadParameter(message, param_hint="--canonical")
            typer.echo(f"warning: {message} (allowed in demo mode only)", err=True)
        started = time.perf_counter()
        tables = read_tables(folder)
        truth = read_truth(settings)
        table = build_feature_table(
            tables, reference_date(folder), settings, truth=truth, versions=read_versions(folder)
        )
        target = out or default_feature_path(settings)
        write_feature_table(table, target)
        summary = label_summary(table)
        typer.echo(f"Wrote {target} in {time.perf_counter() - started:.1f} s")
        typer.echo(
            f"decisions: {summary['decisions']}  censored (no label yet): {summary['censored']}"
            f"  labelled: {summary['labelled']}"
        )
        typer.echo(
            f"re-referral within 12 months: {summary['rereferral_12m_rate']:.1%}  "
            f"escalation within 12 months: {summary['escalation_12m_rate']:.1%}"
        )
        typer.echo(f"features: {summary['features']}  ground truth joined: {truth is not None}")
        if "decisions_without_household" in summary:
            typer.echo(
                f"dated households: {summary['decisions_without_household']:,} decisions' "
                "children had no household membership at the decision (no siblings counted)"
            )

    @features_app.command("catalogue")
    def catalogue(
        ctx: typer.Context,
        out: Path | None = typer.Option(
            None, "--out", help="Folder to write to (default: paths.features)."
        ),
    ) -> None:
        """Write the feature catalogue (Markdown and HTML): every feature, its sentence,
        family, source, knowledge date, window and aggregation."""
        from frontdoor.command_support import settings_from
        from frontdoor.features.catalogue import write_catalogue

        settings = settings_from(ctx)
        folder = out or settings.resolve(settings.paths.features)
        for path in write_catalogue(Path(folder)):
            typer.echo(f"Wrote {path}")
