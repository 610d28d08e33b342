"""Where the feature table lives, and reading the synthetic ground truth when present."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from frontdoor.records.store import atomic_write_parquet
from frontdoor.settings import Settings

FEATURE_TABLE = "features.parquet"
TRUTH_FILE = "ground_truth.parquet"


def default_feature_path(settings: Settings) -> Path:
    return settings.resolve(settings.paths.features) / FEATURE_TABLE


def read_truth(settings: Settings) -> pd.DataFrame | None:
    """The pseudonymised synthetic ground truth, or None for a real council's data."""
    path = settings.resolve(settings.paths.truth) / TRUTH_FILE
    return pd.read_parquet(path) if path.exists() else None


def write_feature_table(table: pd.DataFrame, path: Path) -> None:
    atomic_write_parquet(table, Path(path))


def read_feature_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)
