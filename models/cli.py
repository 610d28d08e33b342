"""Commands of the models room: ``splits``, ``train`` and ``score``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from frontdoor import REVIEW_NOTICE


def _console() -> Console:
    """A console made per command, so it measures the terminal it is actually writing to."""
    return Console()


def _settings(ctx: typer.Context):
    from frontdoor.command_support import settings_from

    return settings_from(ctx)


def _feature_path(settings, features: Path | None) -> Path:
    if features is not None:
        path = Path(features)
    else:
        from frontdoor.records.feature_table import default_feature_path

        path = default_feature_path(settings)
    if not path.exists():
        raise typer.BadParameter(
            f"No feature table at {path}: run `frontdoor features build` first or pass --features.",
            param_hint="--features",
        )
    return path


def _print(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add this room's commands to the frontdoor CLI."""

    @app.command("splits")
    def splits(
        ctx: typer.Context,
        features: Path | None = typer.Option(None, "--features", help="Feature table (Parquet)."),
        label: str | None = typer.Option(None, "--label", help="Label (default: primary)."),
    ) -> None:
        """Print the temporal folds (train, calibration, gap, test) with their row counts."""
        from frontdoor.models.splits import deployment_fold, folds_table, make_folds
        from frontdoor.models.train import labelled

        settings = _settings(ctx)
        label = label or settings.models.primary_label
        rows = labelled(pd.read_parquet(_feature_path(settings, features)), label)
        dates = rows["decision_date"]
        folds = [*make_folds(dates, settings), deployment_fold(dates, settings)]
        _print(folds_table(folds, dates), f"Temporal folds for {label} (deploy: model to use)")

    @app.command("train")
    def train(
        ctx: typer.Context,
        features: Path | None = typer.Option(None, "--features", help="Feature table (Parquet)."),
        label: list[str] | None = typer.Option(  # noqa: B006
            None, "--label", help="Label(s) to train (default: every configured label)."
        ),
    ) -> None:
        """Backtest both models on every fold, log the run to MLflow, register a challenger."""
        from frontdoor.models.run import train_and_register
        from frontdoor.models.tracking import tracking_uri
        from frontdoor.models.train import summary_table

        settings = _settings(ctx)
        path = _feature_path(settings, features)
        table = pd.read_parquet(path)
        for name in label or settings.models.labels:
            result, record = train_and_register(table, name, settings, source=path)
            _print(summary_table(result), f"{name}: test folds, 95% bootstrap CIs")
            _console().print(
                f"run {record.run_id} in {tracking_uri(settings)}; "
                f"registered {record.model_name} version {record.model_version} "
                f"(alias challenger); {result.seconds['total']:.1f} s"
            )
        _console().print(REVIEW_NOTICE)

    @app.command("score")
    def score(
        ctx: typer.Context,
        features: Path | None = typer.Option(None, "--features", help="Feature table (Parquet)."),
        label: str | None = typer.Option(None, "--label", help="Label (default: primary)."),
        model: str = typer.Option("champion", "--model", help="Version number or alias."),
        since: str | None = typer.Option(
            None, "--since", help="Score decisions on or after this date (default: unlabelled)."
        ),
        out: Path | None = typer.Option(None, "--out", help="Output Parquet file."),
    ) -> None:
        """Score referrals with a registered model: probability, band and reasons for review."""
        from frontdoor.models import registry
        from frontdoor.models.scoring import score_referrals
        from frontdoor.records.store import atomic_write_parquet

        settings = _settings(ctx)
        label = label or settings.models.primary_label
        table = pd.read_parquet(_feature_path(settings, features))
        if since:
            rows = table[pd.to_datetime(table["decision_date"]) >= pd.Timestamp(since)]
        else:
            rows = table[table[label].isna()] if label in table.columns else table
        try:
            registry.get_version(settings, label, model)
        except Exception as exc:  # noqa: BLE001 - say which model is missing, plainly
            raise typer.BadParameter(
                f"No model {registry.model_name(settings, label)} at {model!r}: {exc}",
                param_hint="--model",
            ) from exc
        try:  # only the version the promotion log names as champion scores referrals
            loaded, version = registry.load_promoted(settings, label, model)
        except registry.NotPromoted as refused:
            _console().print(f"[red]{refused}[/red]")
            raise typer.Exit(code=1) from refused
        scored = score_referrals(
            loaded, rows, label=label, model_name=version.name, model_version=version.version
        )
        target = out or settings.resolve(settings.paths.scores) / f"scores_{label}.parquet"
        atomic_write_parquet(scored, Path(target))
        counts = scored["band"].value_counts().to_dict()
        _console().print(
            f"scored {len(scored)} referrals with {version.name} v{version.version} -> {target}; "
            f"bands {counts}"
        )
        _console().print(REVIEW_NOTICE)
