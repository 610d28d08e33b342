"""MLflow in one place: where runs go, and logging a training run with its model version.

One experiment per label (``<prefix>-<label>``). Each run records the parameters and full
configuration, the data's digest and source, the git commit and package versions, metrics
overall (with CI bounds for the registered estimator's headline metrics) and per fold (one
key per metric, the fold as its step, so they plot), the plots, the scorecard, the feature catalogue, the
test-fold predictions (pseudonymised ids only) and the model as a pyfunc. Each run has a readable
name and a description, registers a new version of ``<prefix>-<label>`` (logged as models from
code) and points the alias ``challenger`` at it; the version's description is rewritten when it
is audited and when it is promoted (`describe_version`).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from importlib.metadata import version as pkg_version
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.data.digest_utils import compute_pandas_digest
from mlflow.entities import Metric
from mlflow.models import infer_signature

from frontdoor import REVIEW_NOTICE
from frontdoor.models import local_registry
from frontdoor.models.artifacts import (  # noqa: F401 - the artifact paths are re-exported for readers
    BANDS_ARTIFACT,
    METRICS_ARTIFACT,
    PREDICTIONS_ARTIFACT,
    SCORED_ARTIFACT,
    write_run_artifacts,
)
from frontdoor.models.local_registry import DESCRIPTION_BASE_TAG, description_text
from frontdoor.models.pyfunc import BUNDLE, CODE_FILE, pip_requirements, write_bundle
from frontdoor.models.train import Backtest, scored_referrals
from frontdoor.records.disclosure import redact_url
from frontdoor.records.pseudonymise import is_pseudonym
from frontdoor.settings import Settings

CHALLENGER = "challenger"
CHAMPION = "champion"
PACKAGES = ("frontdoor", "mlflow", "scikit-learn", "lightgbm", "shap", "pandas", "numpy")


def tracking_uri(settings: Settings) -> str:
    """The configured URI, else a SQLite file in the project root (no server needed)."""
    return local_registry.tracking_uri(settings)


def artifact_location(settings: Settings, experiment: str) -> str | None:
    """Local stores keep artifacts under ``<root>/mlruns/``; a server decides its own."""
    uri = tracking_uri(settings)
    if uri.startswith(("sqlite:", "file:")) or "://" not in uri:
        return (settings.resolve("mlruns") / experiment).as_uri()
    return None


def client(settings: Settings) -> MlflowClient:
    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    registry = settings.tracking.registry_uri or uri
    mlflow.set_registry_uri(registry)
    return MlflowClient(tracking_uri=uri, registry_uri=registry)


def experiment_name(settings: Settings, label: str) -> str:
    return f"{settings.tracking.experiment_prefix}-{label}"


def model_name(settings: Settings, label: str) -> str:
    return local_registry.model_name(settings, label)


def ensure_experiment(settings: Settings, label: str) -> str:
    c = client(settings)
    name = experiment_name(settings, label)
    found = c.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return c.create_experiment(name, artifact_location=artifact_location(settings, name))


def git_commit(settings: Settings) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.resolve("."),
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = pkg_version(name)
        except Exception:  # noqa: BLE001 - a missing package is recorded, not fatal
            out[name] = "not installed"
    return out


def _flat(prefix: str, value, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = json.dumps(value) if isinstance(value, list) else str(value)


def _metric_key(fold: str, scorer: str, metric: str, suffix: str = "") -> str:
    scorer = scorer.replace("gap:", "oracle_gap_")
    head = "" if fold == "overall" else f"fold{fold}/"
    return f"{head}{scorer}_{metric}{suffix}"


@dataclass
class RunRecord:
    run_id: str
    experiment_id: str
    model_name: str
    model_version: str
    model_uri: str


class NotPseudonymisedError(ValueError):
    """Raw identifiers must never reach MLflow."""


def _check_pseudonymised(predictions: pd.DataFrame, settings: Settings) -> None:
    """Refuse raw ids outside demo mode; in demo mode (synthetic ids, no real child) warn."""
    for column in ("decision_id", "child_id"):
        bad = ~predictions[column].map(is_pseudonym)
        if bad.any():
            message = (
                f"{int(bad.sum())} of {len(bad)} values of {column} are not pseudonyms "
                f"(first at row {int(bad.to_numpy().argmax())}): ingest the extracts "
                "(frontdoor ingest) before building features, so no raw identifier reaches MLflow."
            )
            if not settings.demo_mode:
                raise NotPseudonymisedError(message)
            warnings.warn(f"demo mode: {message}", stacklevel=3)


def log_run(
    result: Backtest,
    table: pd.DataFrame,
    settings: Settings,
    source: str | None = None,
    run_name: str | None = None,
) -> RunRecord:
    """Log a backtest and its deployable model; register a version aliased ``challenger``."""
    _check_pseudonymised(result.predictions, settings)
    c = client(settings)
    experiment_id = ensure_experiment(settings, result.label)
    name = model_name(settings, result.label)
    deployed = result.deployed
    commit = git_commit(settings)
    name_of_run = run_name or readable_run_name(result, settings)
    with mlflow.start_run(
        experiment_id=experiment_id,
        run_name=name_of_run,
        description=run_description(result, settings),
    ) as run:
        run_id = run.info.run_id
        params: dict[str, str] = {}
        _flat("models", settings.models.model_dump(mode="json"), params)
        params["label"] = result.label
        params["n_features"] = str(len(result.columns))
        windows = deployed_window(result)
        params["deployed_train_window"] = f"{windows['train_start']}..{windows['train_end']}"
        params["deployed_calibration_window"] = (
            f"{windows['calibration_start']}..{windows['calibration_end']}"
        )
        params["deployed_calibration_end"] = windows["calibration_end"]
        mlflow.log_params(params)
        mlflow.log_dict(windows, "config/deployment_windows.json")
        mlflow.set_tags(
            {
                "label": result.label,
                "estimator": deployed.kind,
                "git_commit": commit,
                "mlflow.source.git.commit": commit,
                "has_oracle": str(result.has_oracle),
                "review_notice": REVIEW_NOTICE,
                **{f"package.{k}": v for k, v in package_versions().items()},
            }
        )
        mlflow.log_dict(redacted_settings(settings), "config/settings.json")
        learned = _digest_frame(table, result)
        dataset = mlflow.data.from_pandas(
            as_doubles(learned),  # the schema: counts may be missing in other data
            digest=compute_pandas_digest(learned),  # the digest: the records as they are
            source=dataset_source(source),
            targets=result.label,
            name=f"feature-table-{result.label}",
        )
        mlflow.log_input(dataset, context="training")
        overall, per_fold = split_metrics(result)
        # overall metrics before the model (MLflow links them to it); per-fold ones after, as
        # linking copies each metric's history
        mlflow.log_metrics(overall)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_run_artifacts(result, folder, settings)
            scored = scored_referrals(table, result, settings)
            _check_pseudonymised(scored, settings)
            scored.to_parquet(folder / SCORED_ARTIFACT, index=False)
            mlflow.log_artifacts(str(folder))
        info = log_model_from_code(result, name)
        for start in range(0, len(per_fold), 900):  # at most 1000 metrics per batch
            c.log_batch(run_id, metrics=per_fold[start : start + 900])
        version = str(info.registered_model_version)
    c.set_registered_model_alias(name, CHALLENGER, version)
    overall_auc = result.metric(deployed.kind, "auc")["value"]
    tags = {
        "label": result.label,
        "estimator": deployed.kind,
        "run_id": run_id,
        "git_commit": commit,
        "auc_overall": f"{overall_auc:.4f}",
        "fairness_audit": "pending",
    }
    if result.has_oracle:
        tags["oracle_auc_gap"] = f"{result.metric('gap:' + deployed.kind, 'auc')['value']:.4f}"
    for k, v in tags.items():
        c.set_model_version_tag(name, version, k, v)
    c.set_model_version_tag(
        name,
        version,
        DESCRIPTION_BASE_TAG,
        f"{deployed.kind} for {result.label}, calibrated ({settings.models.calibration_method})"
        f" and banded on its training window; backtest AUC {overall_auc:.3f} on "
        f"{len(result.folds)} temporal folds (run {name_of_run}, {run_id}).",
    )
    describe_version(settings, name, version, "Fairness audit pending.", part="audit")
    return RunRecord(run_id, experiment_id, name, version, f"models:/{name}/{version}")


def dataset_source(source: str | None):
    """The training data's source, named explicitly: a local feature table is a file (a plain
    path is ambiguous to MLflow, which warns), anything else is described by code."""
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.dataset_source_registry import get_registered_sources

    if source and "://" not in source:
        local = next(s for s in get_registered_sources() if s._get_source_type() == "local")
        return local(Path(source).resolve().as_uri())
    if source:
        return CodeDatasetSource(tags={"uri": source})
    return CodeDatasetSource(tags={"frontdoor": "in-memory feature table"})


def as_doubles(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as doubles for a logged schema: an integer column cannot hold a missing
    value (MLflow warns), and a count or a label may be missing in other data."""
    numeric = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    return frame.astype({c: "float64" for c in numeric})


def log_model_from_code(result: Backtest, name: str):
    """Log the deployed model as models from code (its code file, and the fitted model as the
    ``bundle`` artifact) with signature and input example, registering a version of ``name``."""
    deployed = result.deployed
    example = result.explain_rows[deployed.input_columns].head(5).reset_index(drop=True)
    example = example.astype(
        {c: "float64" for c in example.columns if pd.api.types.is_numeric_dtype(example[c])}
    )
    signature = infer_signature(example, deployed.score_frame(example))
    with tempfile.TemporaryDirectory() as tmp:
        bundle = write_bundle(deployed, Path(tmp) / "frontdoor-model.pkl")
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(CODE_FILE),
            artifacts={BUNDLE: str(bundle)},
            signature=signature,
            input_example=example,
            pip_requirements=pip_requirements(),
            registered_model_name=name,
        )


HEADLINE_CI_METRICS = ("auc", "average_precision", "precision_at_capacity", "recall_at_capacity")


def readable_run_name(result: Backtest, settings: Settings) -> str:
    """E.g. "escalation_12m lightgbm, 3 folds to 2026-06 (seed 7)": what the run is, at a glance."""
    last = max((f.fold.test_end for f in result.folds), default=None)
    until = f" to {pd.Timestamp(last):%Y-%m}" if last is not None else ""
    return (
        f"{result.label} {result.deployed.kind}, {len(result.folds)} folds{until} "
        f"(seed {settings.models.seed})"
    )


def run_description(result: Backtest, settings: Settings) -> str:
    """The run's description in the MLflow UI (markdown)."""
    kind = result.deployed.kind
    auc = result.metric(kind, "auc")
    return (
        f"**{result.label}**: {kind}, calibrated ({settings.models.calibration_method}), "
        f"{len(result.columns)} features, {len(result.folds)} temporal folds. Backtest AUC "
        f"{auc['value']:.3f} (95% interval {auc['ci_low']:.3f} to {auc['ci_high']:.3f}). "
        "Per-fold metrics are logged with the fold as the step (`fold/...`); the full table is "
        "`metrics/metrics.parquet`. " + REVIEW_NOTICE
    )


def split_metrics(result: Backtest) -> tuple[dict[str, float], list[Metric]]:
    """Overall metrics (intervals for the deployed estimator's headline ones only) and per-fold
    metrics as one key per scorer and metric, the fold being the step, so they plot."""
    deployed = result.deployed.kind
    overall: dict[str, float] = {}
    per_fold: list[Metric] = []
    stamp = 0
    for r in result.metrics.itertuples(index=False):
        if r.value is None or not np.isfinite(r.value):
            continue
        if r.fold == "overall":
            key = _metric_key("overall", r.scorer, r.metric)
            overall[key] = float(r.value)
            if r.scorer == deployed and r.metric in HEADLINE_CI_METRICS:
                for suffix, v in (("_ci_low", r.ci_low), ("_ci_high", r.ci_high)):
                    if v is not None and np.isfinite(v):
                        overall[key + suffix] = float(v)
        else:
            key = "fold/" + _metric_key("overall", r.scorer, r.metric)
            per_fold.append(Metric(key, float(r.value), stamp, int(r.fold)))
    overall["training_seconds"] = float(result.seconds.get("total", 0.0))
    overall.update(band_metrics(result.band_outcomes))
    return overall, per_fold


BAND_METRICS = {
    "test_referrals": "test_referrals",
    "test_outcomes": "test_outcomes",
    "observed_rate": "observed_rate",
    "observed_low": "observed_rate_ci_low",
    "observed_high": "observed_rate_ci_high",
    "mean_probability": "mean_probability",
}


def band_metrics(outcomes: pd.DataFrame) -> dict[str, float]:
    """The backtest's figures per band as overall metrics, ``band_<band>_<figure>``
    (``band_very_high_observed_rate``, its ``_ci_low``/``_ci_high``, ``band_low_test_referrals``,
    ...), beside the whole table in ``model_card/bands.csv``. Undefined figures are left out."""
    out: dict[str, float] = {}
    for row in outcomes.to_dict("records"):
        band = str(row["band"]).replace(" ", "_")
        for column, name in BAND_METRICS.items():
            value = float(row[column])
            if np.isfinite(value):
                out[f"band_{band}_{name}"] = value
    return out


def describe_version(
    settings: Settings, name: str, version: str, status: str, part: str = "promotion"
) -> None:
    """Rewrite a version's description from its parts: what it is (set at training), its audit
    and its promotion status (kept as ``description.<part>`` tags), and the review notice."""
    c = client(settings)
    c.set_model_version_tag(name, version, f"description.{part}", status)
    tags = dict(c.get_model_version(name, version).tags)
    c.update_model_version(name, version, description=description_text(tags))


def _redact(value):
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def redacted_settings(settings: Settings) -> dict:
    """The settings as logged to MLflow: secrets masked; a database URL shown without credentials.

    The review database URL is a secret (it may hold a password), but where the queue lives is
    useful lineage, so it is logged with its user and password redacted.
    """
    logged = _redact(settings.model_dump(mode="json"))
    logged["review"]["database_url"] = redact_url(settings.review.database_url.get_secret_value())
    return logged


def deployed_window(result: Backtest) -> dict[str, str]:
    f = result.deployment
    return {k: str(v.date()) for k, v in f.as_row().items() if isinstance(v, pd.Timestamp)}


def _digest_frame(table: pd.DataFrame, result: Backtest) -> pd.DataFrame:
    """The columns the run learned from (ids, date, features, label): what the digest covers."""
    keep = ["decision_id", "decision_date", *result.columns, result.label]
    return table[[c for c in keep if c in table.columns]]
