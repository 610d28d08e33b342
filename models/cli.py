"""Commands of the models room: ``splits``, ``train``, ``tune``, ``score`` and ``oracle-gap``."""

from __future__ import annotations

from pathlib import Path

import typer

from frontdoor.command_support import (
    console,
    fail,
    print_frame,
    print_notice,
    settings_from,
    sub_app,
)

app = sub_app()
FEATURES_HELP = "Feature table (Parquet)."


def _features(settings, features: Path | None) -> Path:
    from frontdoor.models.run import feature_table_path  # (start-up time)

    try:
        return feature_table_path(settings, features)
    except FileNotFoundError as error:
        raise typer.BadParameter(str(error), param_hint="--features") from None


@app.command("splits")
def splits(
    ctx: typer.Context,
    features: Path | None = typer.Option(None, "--features", help=FEATURES_HELP),
    label: str | None = typer.Option(None, "--label", help="Label (default: primary)."),
) -> None:
    """Print the temporal folds (train, calibration, gap, test) with their row counts."""
    from frontdoor.models.run import fold_overview  # (start-up time)

    settings = settings_from(ctx)
    label = label or settings.models.primary_label
    overview = fold_overview(settings, _features(settings, features), label)
    print_frame(overview, f"Temporal folds for {label} (deploy: model to use)")


@app.command("train")
def train(
    ctx: typer.Context,
    features: Path | None = typer.Option(None, "--features", help=FEATURES_HELP),
    label: list[str] | None = typer.Option(  # noqa: B006
        None, "--label", help="Label(s) to train (default: every configured label)."
    ),
) -> None:
    """Backtest both models on every fold, log the run to MLflow, register a challenger."""
    from frontdoor.models.run import train_labels  # (start-up time)
    from frontdoor.models.tracking import tracking_uri
    from frontdoor.models.train import summary_table

    settings = settings_from(ctx)
    path = _features(settings, features)
    for result, record in train_labels(settings, path, label or list(settings.models.labels)):
        print_frame(summary_table(result), f"{result.label}: test folds, 95% bootstrap CIs")
        console.print(
            f"run {record.run_id} in {tracking_uri(settings)}; "
            f"registered {record.model_name} version {record.model_version} "
            f"(alias challenger); {result.seconds['total']:.1f} s"
        )
    print_notice()


def _short(params: dict) -> str:
    return ", ".join(
        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items()
    )


@app.command("tune")
def tune(
    ctx: typer.Context,
    features: Path | None = typer.Option(None, "--features", help=FEATURES_HELP),
    label: list[str] | None = typer.Option(  # noqa: B006
        None, "--label", help="Label(s) to tune (default: every configured label)."
    ),
    trials: int = typer.Option(40, "--trials", help="Settings tried per test fold."),
    seed: int | None = typer.Option(None, "--seed", help="Search seed (default: models.seed)."),
    space: str = typer.Option(
        "wide", "--space", help="wide (trees, learning rate, leaves, ...) or trees."
    ),
    inner_windows: int = typer.Option(
        1, "--inner-windows", help="Inner validation windows averaged per test fold."
    ),
    select: str = typer.Option(
        "best",
        "--select",
        help="How each fold's search chooses: best (highest inner AUC), one_se (least boosting "
        "within one paired-bootstrap SE of the best) or shrink (the untuned unless the best "
        "beats it by more than an SE).",
    ),
) -> None:
    """Choose LightGBM's settings on each test window's past; log and backtest them beside the untuned."""
    from frontdoor.models.run import tune_labels  # (start-up time)

    settings = settings_from(ctx)
    path = _features(settings, features)
    for result, run_id in tune_labels(
        settings,
        path,
        label or list(settings.models.labels),
        trials,
        seed,
        space,
        inner_windows,
        select,
    ):
        print_frame(
            result.comparison.round(4),
            f"{result.label}: AUC untuned vs tuned, same test rows (paired 95% CI)",
        )
        chosen = "; ".join(f"fold {f}: {_short(c)}" for f, c in result.chosen.items())
        inner = "; ".join(
            f"fold {f}: {a['untuned']:.4f} -> {a['chosen']:.4f}"
            for f, a in result.inner_auc.items()
        )
        console.print(
            f"untuned {_short(result.untuned)}; chosen ({result.rule}) {chosen}; MLflow run {run_id}"
        )
        console.print(f"inner AUC (mean over inner windows), untuned -> chosen: {inner}")
    print_notice()


@app.command("score")
def score(
    ctx: typer.Context,
    features: Path | None = typer.Option(None, "--features", help=FEATURES_HELP),
    label: str | None = typer.Option(None, "--label", help="Label (default: primary)."),
    model: str = typer.Option("champion", "--model", help="Version number or alias."),
    since: str | None = typer.Option(
        None, "--since", help="Score decisions on or after this date (default: unlabelled)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Output Parquet file."),
) -> None:
    """Score referrals with a registered model: probability, band and reasons for review."""
    from frontdoor.models.registry import NotPromoted  # (start-up time)
    from frontdoor.models.run import score_file

    settings = settings_from(ctx)
    path = _features(settings, features)
    try:
        done = score_file(settings, path, label or settings.models.primary_label, model, since, out)
    except NotPromoted as refused:  # only the champion the promotion log names scores
        fail(str(refused), code=1)
    except LookupError as error:
        raise typer.BadParameter(str(error), param_hint="--model") from None
    console.print(
        f"scored {done.scored} referrals with {done.model_name} v{done.version} -> {done.path}; "
        f"bands {done.bands}"
    )
    print_notice()


@app.command("oracle-gap")
def oracle_gap(
    ctx: typer.Context,
    features: Path | None = typer.Option(None, "--features", help=FEATURES_HELP),
    label: list[str] | None = typer.Option(  # noqa: B006
        None, "--label", help="Label(s) (default: every configured label)."
    ),
    model: str = typer.Option("champion", "--model-version", help="Version number or alias."),
    sizes: str = typer.Option(
        "0.125,0.25,0.5,1", "--sizes", help="Fractions of each fold's children for the curve."
    ),
) -> None:
    """Synthetic councils: the gap to the oracle decomposed (missing information, too little
    data) and the learning curve, logged to the model version's MLflow run for the report."""
    from frontdoor.models.oracle_gap import enough_history  # (start-up time)
    from frontdoor.models.run import oracle_gap_labels

    settings = settings_from(ctx)
    path = _features(settings, features)
    fractions = tuple(sorted(float(s) for s in sizes.split(",")))
    if not fractions or fractions[0] <= 0 or fractions[-1] != 1:
        raise typer.BadParameter("fractions in (0, 1], the last 1", param_hint="--sizes")
    try:
        done = oracle_gap_labels(
            settings, path, label or list(settings.models.labels), model, fractions
        )
        for gap, run_id, run_auc in done:
            print_frame(gap.decomposition.round(4), f"{gap.label}: AUC on the pooled test folds")
            print_frame(gap.curve.round(4), f"{gap.label}: learning curve (same test rows)")
            console.print(enough_history(gap.curve, gap.rule_auc))
            same = run_auc is not None and abs(run_auc - gap.auc("model")) < 1e-9
            console.print(
                f"logged to MLflow run {run_id} (oracle_gap/...); "
                + (
                    "the model's AUC equals the run's."
                    if same
                    else f"the run's own AUC is {run_auc}: it was trained on another table or settings."
                )
            )
    except ValueError as error:
        fail(str(error), code=1)
    print_notice()
