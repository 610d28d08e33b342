"""Build the feature table from a folder of canonical tables and write it: the one call the
``frontdoor features build`` command and the pipelines' features step make."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from frontdoor.features.build import build_feature_table, label_summary
from frontdoor.records import store
from frontdoor.records.feature_table import default_feature_path, read_truth, write_feature_table
from frontdoor.settings import Settings


class CanonicalFolderError(ValueError):
    """The folder holds no canonical tables, or tables that were never pseudonymised."""


@dataclass(frozen=True)
class BuiltFeatures:
    path: Path
    summary: dict[str, Any]
    truth_joined: bool
    seconds: float
    warning: str | None = None  # raw ids allowed in demo mode only


def check_canonical(folder: Path, demo_mode: bool) -> str | None:
    """Refuse a folder without a manifest, or with ids not pseudonymised (a warning in demo
    mode, where a synthetic council's raw ids are allowed)."""
    if not (Path(folder) / "manifest.json").exists():
        raise CanonicalFolderError(
            f"{folder}: no canonical tables here (manifest.json missing); run ingestion first"
        )
    if store.read_manifest(folder).get("pseudonymised"):
        return None
    message = (
        f"{folder}: these tables are not pseudonymised (manifest.json has no "
        "'pseudonymised': true); run `frontdoor ingest` on them first"
    )
    if not demo_mode:
        raise CanonicalFolderError(message)
    return f"{message} (allowed in demo mode only)"


def build_and_write(
    canonical: Path, out: Path, settings: Settings, truth: pd.DataFrame | None
) -> dict[str, Any]:
    """Read the canonical tables, build the table as of their reference date, write it to
    ``out``; returns the label summary with the reference date."""
    tables = store.read_tables(canonical)
    reference = store.reference_date(canonical)
    # Records corrected by later extracts: each decision reads the version known before it.
    versions = store.read_versions(canonical)
    table = build_feature_table(tables, reference, settings, truth, versions=versions)
    write_feature_table(table, Path(out))
    return {"reference_date": reference.isoformat(), **label_summary(table)}


def build_features(
    settings: Settings, canonical: Path | None = None, out: Path | None = None
) -> BuiltFeatures:
    """The feature table of ``canonical`` (default: paths.canonical) written to ``out``
    (default: paths.features/features.parquet), with the ground truth joined when present."""
    folder = Path(canonical or settings.resolve(settings.paths.canonical))
    warning = check_canonical(folder, settings.demo_mode)
    started = time.perf_counter()
    truth = read_truth(settings)
    target = Path(out or default_feature_path(settings))
    summary = build_and_write(folder, target, settings, truth)
    return BuiltFeatures(target, summary, truth is not None, time.perf_counter() - started, warning)
