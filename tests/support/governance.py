"""Training, auditing and writing the feature table for the governance tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from frontdoor.governance.version_audit import audit_model_version
from frontdoor.models.run import train_and_register
from frontdoor.records.feature_table import write_feature_table
from tests.support import make_settings

LABEL = "escalation_12m"
FAST = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 60}, "explain_sample": 200}
POOR = {
    "bootstrap_samples": 30,
    "lightgbm": {"n_estimators": 3, "num_leaves": 2},
    "explain_sample": 200,
}
OVERRIDE = "Toy data in a test: the gate verdict is not what this test is about."


def governed_settings(root: Path, models: dict, **more):
    return make_settings(
        root,
        models=models,
        # the selection family judged on every scored referral (an option, not the default),
        # so the report's scored-population path is exercised by the governance tests
        fairness={"bootstrap_samples": 20, "selection_rows": "cross_fitted"},
        governance={"comparison_bootstrap_samples": 200, **more.pop("governance", {})},
        **more,
    )


def train_audit(
    table: pd.DataFrame, settings, models: dict | None = None, label: str = LABEL
) -> str:
    """Train and register a version of ``label`` on ``table`` (with ``models`` settings),
    audit it."""
    if models is not None:
        settings = settings.model_copy(
            update={
                "models": settings.models.model_validate({**settings.models.model_dump(), **models})
            }
        )
    _, record = train_and_register(table, label, settings)
    audit_model_version(settings, label, record.model_version)
    return record.model_version


def features_file(table: pd.DataFrame, settings) -> Path:
    path = settings.resolve(settings.paths.features) / "features.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_feature_table(table, path)
    return path
