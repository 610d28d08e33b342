"""Commands of the features room: ``frontdoor features build`` and ``features catalogue``."""

from __future__ import annotations

from pathlib import Path

import typer

from frontdoor.command_support import settings_from, sub_app

app = sub_app("Point-in-time features and labels (only what was known before each decision).")


@app.command("build")
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
    from frontdoor.features.run import CanonicalFolderError, build_features  # (start-up time)

    try:
        built = build_features(settings_from(ctx), canonical, out)
    except CanonicalFolderError as error:
        raise typer.BadParameter(str(error), param_hint="--canonical") from None
    if built.warning:
        typer.echo(f"warning: {built.warning}", err=True)
    s = built.summary
    typer.echo(f"Wrote {built.path} in {built.seconds:.1f} s")
    typer.echo(
        f"decisions: {s['decisions']}  censored (no label yet): {s['censored']}"
        f"  labelled: {s['labelled']}"
    )
    typer.echo(
        f"re-referral within 12 months: {s['rereferral_12m_rate']:.1%}  "
        f"escalation within 12 months: {s['escalation_12m_rate']:.1%}"
    )
    typer.echo(f"features: {s['features']}  ground truth joined: {built.truth_joined}")
    if "decisions_without_household" in s:
        typer.echo(
            f"dated households: {s['decisions_without_household']:,} decisions' "
            "children had no household membership at the decision (no siblings counted)"
        )


@app.command("catalogue")
def catalogue(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, "--out", help="Folder to write to (default: paths.features)."
    ),
) -> None:
    """Write the feature catalogue (Markdown and HTML): every feature, its sentence,
    family, source, knowledge date, window and aggregation."""
    from frontdoor.features.catalogue import write_catalogue  # (start-up time)

    settings = settings_from(ctx)
    for path in write_catalogue(Path(out or settings.resolve(settings.paths.features))):
        typer.echo(f"Wrote {path}")
