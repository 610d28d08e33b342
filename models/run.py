"""What the ``splits``, ``train``, ``tune`` and ``score`` commands call: one function each.

The pipelines train fold by fold in parallel (``models.train.fit_fold``, ``combine_folds``,
then ``models.tracking.log_run``); ``train_and_register`` does the same in one process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from frontdoor.models import registry
from frontdoor.models.oracle_gap import OracleGap, decompose, latent_at_decisions, log_oracle_gap
from frontdoor.models.scoring import score_referrals
from frontdoor.models.splits import deployment_fold, folds_table, make_folds
from frontdoor.models.tracking import RunRecord, client, log_run
from frontdoor.models.train import Backtest, backtest, labelled
from frontdoor.models.tune import DEFAULT_SELECTION, TuneResult, log_tuning, tune
from frontdoor.records.feature_table import default_feature_path
from frontdoor.records.store import atomic_write_parquet
from frontdoor.settings import Settings


def train_and_register(
    table: pd.DataFrame,
    label: str,
    settings: Settings,
    source: str | Path | None = None,
    run_name: str | None = None,
) -> tuple[Backtest, RunRecord]:
    """Backtest both models on every fold, then log the run and register the model version."""
    result = backtest(table, label, settings)
    record = log_run(
        result, table, settings, source=str(source) if source else None, run_name=run_name
    )
    return result, record


def feature_table_path(settings: Settings, features: Path | None = None) -> Path:
    """The feature table to read (default: paths.features/features.parquet); it must exist."""
    path = Path(features) if features is not None else default_feature_path(settings)
    if not path.exists():
        raise FileNotFoundError(
            f"No feature table at {path}: run `frontdoor features build` first or pass --features."
        )
    return path


def fold_overview(settings: Settings, features: Path, label: str) -> pd.DataFrame:
    """The temporal folds and the deployment fold of a label, with their row counts."""
    dates = labelled(pd.read_parquet(features), label)["decision_date"]
    folds = [*make_folds(dates, settings), deployment_fold(dates, settings)]
    return folds_table(folds, dates)


def train_labels(
    settings: Settings, features: Path, labels: list[str]
) -> Iterator[tuple[Backtest, RunRecord]]:
    """``train_and_register`` for each label in turn, on one read of the feature table."""
    table = pd.read_parquet(features)
    for label in labels:
        yield train_and_register(table, label, settings, source=features)


def tune_labels(
    settings: Settings,
    features: Path,
    labels: list[str],
    trials: int = 40,
    seed: int | None = None,
    space: str = "wide",
    inner_windows: int = 1,
    select: str = DEFAULT_SELECTION,
) -> Iterator[tuple[TuneResult, str]]:
    """``tune`` for each label, each logged to MLflow beside the label's runs (run id given)."""
    table = pd.read_parquet(features)
    for label in labels:
        result = tune(
            table,
            label,
            settings,
            trials=trials,
            seed=seed,
            space=space,
            inner_windows=inner_windows,
            rule=select,
        )
        yield result, log_tuning(result, settings)


@dataclass(frozen=True)
class ScoredFile:
    path: Path
    model_name: str
    version: str
    scored: int
    bands: dict


def score_file(
    settings: Settings,
    features: Path,
    label: str,
    model: str = "champion",
    since: str | None = None,
    out: Path | None = None,
) -> ScoredFile:
    """Score the referrals decided on or after ``since`` (default: those not labelled yet) with
    a registered version or alias; write them to ``out`` (default: paths.scores)."""
    table = pd.read_parquet(features)
    if since:
        rows = table[pd.to_datetime(table["decision_date"]) >= pd.Timestamp(since)]
    else:
        rows = table[table[label].isna()] if label in table.columns else table
    try:
        version = registry.get_version(settings, label, model)
    except Exception as exc:  # noqa: BLE001 - say which model is missing, plainly
        raise LookupError(
            f"No model {registry.model_name(settings, label)} at {model!r}: {exc}"
        ) from exc
    # only the version the promotion log names as champion scores (registry.NotPromoted)
    loaded, version = registry.load_promoted(settings, label, model)
    scored = score_referrals(
        loaded, rows, label=label, model_name=version.name, model_version=version.version
    )
    target = Path(out or settings.resolve(settings.paths.scores) / f"scores_{label}.parquet")
    atomic_write_parquet(scored, target)
    bands = scored["band"].value_counts().to_dict()
    return ScoredFile(target, version.name, str(version.version), len(scored), bands)


def oracle_gap_labels(
    settings: Settings, features: Path, labels: list[str], ref: str, sizes: tuple[float, ...]
) -> Iterator[tuple[OracleGap, str, float | None]]:
    """Per label: the oracle gap's decomposition and learning curve on the feature table
    (synthetic councils only: it regenerates the generator's state with these settings),
    logged to the run of model version ``ref``. Yields (result, run id, the run's own AUC)."""
    table = pd.read_parquet(features)
    states = latent_at_decisions(table, settings, settings.resolve(settings.paths.truth))
    for label in labels:
        gap = decompose(table, label, settings, states, sizes)
        run_id = registry.run_id_of(settings, label, ref)
        log_oracle_gap(settings, run_id, gap)
        run = client(settings).get_run(run_id)
        kind = run.data.tags.get("estimator", settings.models.registered_estimator)
        yield gap, run_id, run.data.metrics.get(f"{kind}_auc")
