"""Reading and tagging registered models: what the fairness audit, promotion and report use.

Names: one registered model per label, ``<model_name_prefix>-<label>``. Versions are
addressed by number or by alias (``challenger`` after training, ``champion`` after
promotion). Nothing here decides anything; it reads and records.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from frontdoor.models import tracking
from frontdoor.models.bundle import FrontDoorModel
from frontdoor.models.promotion_log import promotion_log
from frontdoor.models.tracking import (
    BANDS_ARTIFACT,
    CHALLENGER,
    CHAMPION,
    METRICS_ARTIFACT,
    PREDICTIONS_ARTIFACT,
    SCORED_ARTIFACT,
)
from frontdoor.records.scores import BAND_OUTCOME_COLUMNS, BAND_OUTCOME_SCHEMA
from frontdoor.settings import Settings

KEY_COLUMNS = ("label", "model_name", "model_version")

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "model_name",
    "get_version",
    "run_id_of",
    "load_pyfunc",
    "load_promoted",
    "promoted_version",
    "NotPromoted",
    "load_native",
    "set_version_tags",
    "set_alias",
    "version_tags",
    "test_predictions",
    "scored_referrals",
    "run_metrics",
    "band_table",
    "band_outcomes",
    "list_versions",
]


def model_name(settings: Settings, label: str) -> str:
    return tracking.model_name(settings, label)


def get_version(settings: Settings, label: str, ref: str | int) -> ModelVersion:
    """A model version by number ("3", 3) or alias ("champion", "challenger")."""
    c = tracking.client(settings)
    name = model_name(settings, label)
    text = str(ref)
    if text.isdigit():
        return c.get_model_version(name, text)
    return c.get_model_version_by_alias(name, text)


def list_versions(settings: Settings, label: str) -> list[ModelVersion]:
    c = tracking.client(settings)
    found = c.search_model_versions(f"name='{model_name(settings, label)}'")
    return sorted(found, key=lambda v: int(v.version))


def run_id_of(settings: Settings, label: str, ref: str | int) -> str:
    return get_version(settings, label, ref).run_id


def _uri(settings: Settings, label: str, ref: str | int) -> str:
    return f"models:/{model_name(settings, label)}/{get_version(settings, label, ref).version}"


def load_pyfunc(settings: Settings, label: str, ref: str | int = CHALLENGER):
    """The logged pyfunc: ``predict(features)`` -> probability, band, reasons_json."""
    tracking.client(settings)
    return mlflow.pyfunc.load_model(_uri(settings, label, ref))


class NotPromoted(RuntimeError):
    """A version the promotion log does not name as champion was asked for scoring."""


def promoted_version(settings: Settings, label: str, ref: str | int = CHAMPION) -> ModelVersion:
    """The version ``ref`` names, if and only if the promotion log says it is the champion.

    The alias alone proves nothing (anyone with registry access can move it); the log is
    append-only and keyed (`models.promotion_log`). Raises `NotPromoted` with what to do."""
    c = tracking.client(settings)
    name = model_name(settings, label)
    mv = get_version(settings, label, ref)
    entry = promotion_log(settings, c).champion(name)
    if entry is None:
        raise NotPromoted(
            f"No version of {name} has ever been promoted (the promotion log holds no promotion), "
            f"so version {mv.version} cannot score referrals. Promote one with `frontdoor promote`."
        )
    if str(entry["version"]) == str(mv.version):
        return mv
    said = f"the alias {ref!r} points at" if not str(ref).isdigit() else "you asked for"
    raise NotPromoted(
        f"Refused: {said} version {mv.version} of {name}, but the promotion log says the champion "
        f"is version {entry['version']} (promoted {entry['at']} by {entry['by']}). "
        + (
            "The alias was moved by hand, outside `frontdoor promote`, so the gate, the "
            "comparison with the champion and the band check were never applied. "
            if not str(ref).isdigit()
            else ""
        )
        + f"Promote version {mv.version} with `frontdoor promote`, or point {CHAMPION!r} back "
        f"at version {entry['version']}."
    )


def load_promoted(settings: Settings, label: str, ref: str | int = CHAMPION):
    """The pyfunc of the promoted champion (see `promoted_version`), and its version."""
    mv = promoted_version(settings, label, ref)
    return load_pyfunc(settings, label, mv.version), mv


def load_native(settings: Settings, label: str, ref: str | int = CHALLENGER) -> FrontDoorModel:
    """The fitted ``FrontDoorModel`` inside the pyfunc (probabilities, contributions, bands)."""
    return load_pyfunc(settings, label, ref).unwrap_python_model().model


def set_version_tags(settings: Settings, label: str, ref: str | int, tags: dict[str, str]) -> None:
    c = tracking.client(settings)
    v = get_version(settings, label, ref)
    for key, value in tags.items():
        c.set_model_version_tag(v.name, v.version, key, str(value))


def version_tags(settings: Settings, label: str, ref: str | int) -> dict[str, str]:
    return dict(get_version(settings, label, ref).tags)


def set_alias(settings: Settings, label: str, alias: str, version: str | int) -> None:
    tracking.client(settings).set_registered_model_alias(
        model_name(settings, label), alias, str(version)
    )


def _artifact_frame(settings: Settings, run_id: str, artifact: str) -> pd.DataFrame:
    tracking.client(settings)
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact, dst_path=tmp
        )
        return pd.read_parquet(Path(local))


def test_predictions(settings: Settings, run_id: str) -> pd.DataFrame:
    """A run's test-fold predictions: one row per test decision and fold.

    Columns: fold, decision_id, child_id (pseudonyms), decision_date, the sensitive columns
    present in the feature table, label, y (observed outcome), probability (the registered
    estimator's calibrated probability), band, probability_lightgbm, probability_logistic,
    rule_flag, flag_at_capacity and, on synthetic data, oracle_probability.
    """
    return _artifact_frame(settings, run_id, PREDICTIONS_ARTIFACT)


def scored_referrals(settings: Settings, run_id: str) -> pd.DataFrame | None:
    """Every referral a run's models scored, labelled or not (`models.train.scored_referrals`),
    which the selection (flag-rate) checks read; None for a run logged before it was kept."""
    folder, name = SCORED_ARTIFACT.rsplit("/", 1)
    kept = {Path(f.path).name for f in tracking.client(settings).list_artifacts(run_id, folder)}
    return _artifact_frame(settings, run_id, SCORED_ARTIFACT) if name in kept else None


def run_metrics(settings: Settings, run_id: str) -> pd.DataFrame:
    """A run's metrics table: fold ("0".. or "overall"), scorer, metric, value, ci_low, ci_high."""
    return _artifact_frame(settings, run_id, METRICS_ARTIFACT)


def band_table(settings: Settings, run_id: str) -> pd.DataFrame | None:
    """A run's band table (``model_card/bands.csv``): each band's margin and probability range
    and, for runs logged since they were kept, the backtest's figures per band
    (``models.bands.OUTCOME_COLUMNS``); None when the run has none."""
    folder, name = BANDS_ARTIFACT.rsplit("/", 1)
    kept = {Path(f.path).name for f in tracking.client(settings).list_artifacts(run_id, folder)}
    if name not in kept:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=BANDS_ARTIFACT, dst_path=tmp
        )
        return pd.read_csv(Path(local))


def band_outcomes(settings: Settings, label: str, ref: str | int) -> pd.DataFrame | None:
    """What happened to the backtest's referrals in each band of a version, in the record the
    review store keeps (``records.scores.BAND_OUTCOME_SCHEMA``); None for a run logged before
    the figures were kept."""
    mv = get_version(settings, label, ref)
    table = band_table(settings, mv.run_id)
    if table is None or not set(BAND_OUTCOME_COLUMNS) - set(KEY_COLUMNS) <= set(table.columns):
        return None
    table = table.assign(label=label, model_name=mv.name, model_version=str(mv.version))
    return BAND_OUTCOME_SCHEMA.validate(table[BAND_OUTCOME_COLUMNS])
