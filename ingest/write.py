"""Writing an ingest run's outputs so that a failure never leaves anything half-written."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from frontdoor.records import store
from frontdoor.records.contract import TABLES
from frontdoor.records.csvsafe import safe_csv_text
from frontdoor.records.store import atomic_write_bytes, atomic_write_parquet, atomic_write_text

QUARANTINE_PARQUET = "quarantine.parquet"
QUARANTINE_CSV = "quarantine.csv"
CELLS_CSV = "quarantine_cells.csv"  # optional cells loaded as missing, ids normalised
DUPLICATES_CSV = "duplicates.csv"  # rows set aside for a record whose sources disagree
SUPERSEDED_CSV = "superseded.csv"  # records a newer extract no longer lists, for review
SUMMARY_JSON = "ingest_summary.json"
SUMMARY_TXT = "ingest_summary.txt"
TRUTH_FILE = "ground_truth.parquet"


def swap_in_folder(
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict,
    versions: dict[str, pd.DataFrame] | None = None,
    observations: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Build the new canonical folder beside the old one, then swap it in with renames."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    building = out_dir.parent / f".{out_dir.name}.building-{tag}"
    retired = out_dir.parent / f".{out_dir.name}.retired-{tag}"
    try:
        store.write_tables(building, tables, manifest)
        store.write_history(building, versions or {}, observations or {})
        if out_dir.exists():
            ours = {f"{name}.parquet" for name in TABLES} | {store.MANIFEST}
            ours |= {store.VERSIONS, store.OBSERVATIONS}
            for item in out_dir.iterdir():  # keep anything else a user put there
                if item.name not in ours and not item.name.startswith("."):
                    target = building / item.name
                    if item.is_dir():
                        shutil.copytree(item, target)
                    else:
                        shutil.copy2(item, target)
            os.rename(out_dir, retired)
        os.rename(building, out_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        if retired.exists() and not out_dir.exists():
            os.rename(retired, out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_quarantine(report) -> None:
    """The quarantine (Parquet and CSV) and the summary (JSON and text), each atomically."""
    folder = Path(report.quarantine_dir)
    folder.mkdir(parents=True, exist_ok=True)
    quarantine = report.quarantine.reset_index(drop=True)
    atomic_write_parquet(quarantine, folder / QUARANTINE_PARQUET)
    atomic_write_bytes(folder / QUARANTINE_CSV, safe_csv_text(quarantine).encode("utf-8"))
    for name, frame in (
        (CELLS_CSV, report.cell_notes),
        (DUPLICATES_CSV, report.duplicates),
        (SUPERSEDED_CSV, report.superseded),
    ):
        atomic_write_text(folder / name, safe_csv_text(frame.reset_index(drop=True)))
    atomic_write_text(folder / SUMMARY_JSON, report.to_json())
    atomic_write_text(folder / SUMMARY_TXT, report.render())


def write_truth(settings, truth: pd.DataFrame) -> int:
    """Pseudonymised synthetic ground truth, merged with what is there; never in canonical/."""
    path = settings.resolve(settings.paths.truth) / TRUTH_FILE
    if path.exists():
        old = pd.read_parquet(path)
        truth = pd.concat([truth, old], ignore_index=True)
    truth = truth.drop_duplicates("referral_id", keep="first")
    truth = truth.sort_values("referral_id").reset_index(drop=True)
    atomic_write_parquet(truth, path)
    return len(truth)
