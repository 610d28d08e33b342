"""Test data for the fairness tests: predictions shaped like a training run's, made with numpy.

Real components only: `register_predictions` logs a real MLflow run (sqlite store in tmp) with
the predictions artifact where training puts it, and registers a model version from it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from frontdoor.models import tracking
from frontdoor.models.tracking import CHALLENGER, PREDICTIONS_ARTIFACT
from frontdoor.settings import Settings

GROUPS = ["White", "Mixed", "Asian", "Black", "Other", "Not known or refused"]
GROUP_P = [0.62, 0.08, 0.12, 0.1, 0.05, 0.03]


def predictions(
    n: int = 6000,
    seed: int = 0,
    missed_group: str | None = None,
    missed_share: float = 0.0,
    shift_group: str | None = None,
    shift: float = 0.0,
) -> pd.DataFrame:
    """Calibrated scores for children of all groups; optional injected unfairness.

    ``missed_group``: that share of the group's positives get low scores (the model misses them,
    raising the group's FNR). ``shift_group``: that group's probabilities are raised by ``shift``
    (a calibration gap).
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(GROUPS, n, p=GROUP_P)
    p = rng.beta(1.2, 5.0, n)
    y = (rng.random(n) < p).astype(int)
    score = p.copy()
    if missed_group is not None:
        hit = (group == missed_group) & (y == 1) & (rng.random(n) < missed_share)
        score[hit] = rng.uniform(0.0, 0.05, hit.sum())
    if shift_group is not None:
        score = np.where(group == shift_group, np.clip(score + shift, 0, 1), score)
    threshold = np.quantile(score, 0.8)
    age = rng.integers(0, 18, n)
    return pd.DataFrame(
        {
            "fold": rng.integers(0, 3, n),
            "decision_id": [f"d{i:06d}" for i in range(n)],
            "child_id": [f"c{i:06d}" for i in range(n)],
            "decision_date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "sex": rng.choice(["M", "F", "U"], n, p=[0.49, 0.49, 0.02]),
            "ethnicity_group": group,
            "disability": rng.random(n) < 0.1,
            "idaci_decile": rng.integers(1, 11, n),
            "idaci_quintile": np.ceil(rng.integers(1, 11, n) / 2),
            "age_band": np.select([age < 5, age < 10, age < 16], ["0-4", "5-9", "10-15"], "16+"),
            "label": "escalation_12m",
            "y": y,
            "probability": score,
            "band": "low",
            "flag_at_capacity": score >= threshold,
        }
    )


def register_predictions(
    settings: Settings, frame: pd.DataFrame, label: str = "escalation_12m"
) -> str:
    """A real MLflow run holding ``frame`` as its test predictions, registered as a new version."""
    client = tracking.client(settings)
    experiment = tracking.ensure_experiment(settings, label)
    name = tracking.model_name(settings, label)
    with mlflow.start_run(experiment_id=experiment) as run:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / PREDICTIONS_ARTIFACT
            path.parent.mkdir(parents=True)
            frame.to_parquet(path, index=False)
            mlflow.log_artifacts(tmp)
        mlflow.log_metric("lightgbm_auc", 0.8)
        mlflow.set_tag("label", label)
    try:
        client.get_registered_model(name)
    except Exception:
        client.create_registered_model(name)
    mv = client.create_model_version(name, f"{run.info.artifact_uri}/predictions", run.info.run_id)
    client.set_registered_model_alias(name, CHALLENGER, mv.version)
    client.set_model_version_tag(name, mv.version, "fairness_audit", "pending")
    return str(mv.version)
