"""Reading and writing a folder of canonical tables (one Parquet file per table + manifest).

Writes are atomic: a table is written to a temporary file in the same folder and renamed,
so a failed run never leaves a half-written table behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from frontdoor.records.contract import TABLES, conform, empty_frame

MANIFEST = "manifest.json"
VERSIONS = "versions"  # <folder>/versions/<table>.parquet: records with several versions
OBSERVATIONS = "observations"  # <folder>/observations/<table>.parquet: each extract's view


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_tables(folder: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
    """Write every canonical table (conformed to the contract) and the manifest, atomically each."""
    folder = Path(folder)
    for name in TABLES:
        frame = tables.get(name)
        frame = empty_frame(name) if frame is None else conform(frame, name)
        atomic_write_parquet(frame.reset_index(drop=True), folder / f"{name}.parquet")
    full = {**manifest, "tables": {n: int(len(tables.get(n, ()))) for n in TABLES}}
    atomic_write_text(folder / MANIFEST, json.dumps(full, indent=2, default=str, sort_keys=True))


def read_table(folder: Path, name: str) -> pd.DataFrame:
    path = Path(folder) / f"{name}.parquet"
    if not path.exists():
        return empty_frame(name)
    return conform(pd.read_parquet(path), name)


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(folder, name) for name in TABLES}


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def reference_date(folder: Path) -> date:
    """The extract's reference date recorded in the manifest."""
    value = read_manifest(folder).get("reference_date")
    if value is None:
        raise ValueError(f"{Path(folder) / MANIFEST}: no reference_date recorded")
    return date.fromisoformat(str(value)[:10])


def folder_digest(folder: Path) -> str:
    """A digest of every Parquet and JSON file in a folder, for caching and lineage."""
    h = hashlib.sha256()
    for path in sorted(Path(folder).glob("*")):
        if path.suffix in {".parquet", ".json"} and not path.name.startswith("."):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def write_history(
    folder: Path, versions: dict[str, pd.DataFrame], observations: dict[str, pd.DataFrame]
) -> None:
    """The versions (read by the features) and observations (read by the next ingest run)."""
    for sub, frames in ((VERSIONS, versions), (OBSERVATIONS, observations)):
        for name, frame in frames.items():
            if frame is not None and len(frame):
                atomic_write_parquet(
                    frame.reset_index(drop=True), Path(folder) / sub / f"{name}.parquet"
                )


def read_versions(folder: Path) -> dict[str, pd.DataFrame]:
    """Versions of records corrected by later extracts, per table (empty when none)."""
    return _read_sub(folder, VERSIONS)


def read_observations(folder: Path) -> dict[str, pd.DataFrame]:
    return _read_sub(folder, OBSERVATIONS)


def _read_sub(folder: Path, sub: str) -> dict[str, pd.DataFrame]:
    out = {}
    for name in TABLES:
        path = Path(folder) / sub / f"{name}.parquet"
        if path.exists():
            out[name] = pd.read_parquet(path)
    return out
