"""One small synthetic council through the real pipeline (synth -> ingest -> features -> train).

The session fixtures ``shared_council``, ``shared_features`` and ``shared_model`` (tests/conftest.py)
build these once per test session, so that tests which only read them share the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from frontdoor.settings import Settings
from tests.support.settings import make_settings

CHILDREN = 6000
# Fewer bootstrap samples and trees than production: same code paths, a fraction of the time.
MODELS: dict[str, Any] = {
    "bootstrap_samples": 30,
    "lightgbm": {"n_estimators": 80, "min_child_samples": 20},
    "explain_sample": 300,
}


@dataclass(frozen=True)
class SmallCouncil:
    settings: Settings
    root: Path
    raw: Path
    canonical: Path
    features: pd.DataFrame
    features_path: Path


@dataclass(frozen=True)
class TrainedModel:
    council: SmallCouncil
    label: str
    result: Any  # frontdoor.models.train.Backtest
    record: Any  # frontdoor.models.tracking.RunRecord


def build_small_council(root: Path, children: int = CHILDREN) -> SmallCouncil:
    """Synthesise, write, ingest (pseudonymising) and build the feature table, in ``root``."""
    from frontdoor.features.build import build_feature_table
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.records import store
    from frontdoor.records.feature_table import read_truth
    from frontdoor.synth.council import generate, write_council

    settings = make_settings(root, synth={"children": children}, models=MODELS)
    raw = write_council(generate(settings), root / "raw")
    canonical = root / "canonical"
    ingest_sources([raw], canonical, settings)
    table = build_feature_table(
        store.read_tables(canonical), settings.synth.end_date, settings, truth=read_truth(settings)
    )
    path = root / "features.parquet"
    table.to_parquet(path)
    return SmallCouncil(settings, root, Path(raw), canonical, table, path)


def train_small(council: SmallCouncil, label: str = "escalation_12m") -> TrainedModel:
    """Backtest, log and register (``challenger``) a model on the council's features."""
    from frontdoor.models.run import train_and_register

    result, record = train_and_register(
        council.features, label, council.settings, source=council.features_path
    )
    return TrainedModel(council, label, result, record)
