"""Which files a SOURCE argument stands for, and which reader reads each."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from frontdoor.ingest.errors import IngestError

READABLE = {
    ".xlsx": "annex_a",
    ".xlsm": "annex_a",
    ".xml": "cin_xml",
    ".csv": "canonical",
    ".parquet": "canonical",
}
GROUND_TRUTH = Path("ground_truth") / "ground_truth.parquet"
# Formats a council may hold that are not read: say what to do, not only "unknown".
RESAVE = {
    ".xls": "an old Excel 97-2003 workbook: open it in Excel and save it as .xlsx",
    ".xlsb": "a binary Excel workbook: open it in Excel and save it as .xlsx",
    ".ods": "an OpenDocument spreadsheet: save it as .xlsx",
}


def expand(sources: list[Path]) -> tuple[list[tuple[Path, str]], list[str]]:
    """Files to read with their kind, plus notes about files in folders that were skipped."""
    files: list[tuple[Path, str]] = []
    notes: list[str] = []
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise IngestError(
                source,
                "does not exist",
                "an Annex A .xlsx, a CIN census .xml, "
                "a canonical .csv/.parquet, or a folder of them",
            )
        if source.is_dir():
            found = 0
            for path in sorted(source.iterdir()):
                if path.name.startswith((".", "~$")) or path.is_dir():
                    continue
                kind = READABLE.get(path.suffix.lower())
                if kind is None:
                    if path.suffix.lower() in RESAVE:
                        notes.append(f"{path}: skipped, {RESAVE[path.suffix.lower()]}")
                    elif path.name != "manifest.json":
                        notes.append(f"{path}: skipped (not a readable extract)")
                    continue
                files.append((path, kind))
                found += 1
            if found == 0:
                raise IngestError(
                    source,
                    "holds no readable extract",
                    "files ending .xlsx, .xml, .csv or .parquet",
                )
            continue
        kind = READABLE.get(source.suffix.lower())
        if source.suffix.lower() in RESAVE:
            raise IngestError(
                source, f"is {RESAVE[source.suffix.lower()]}", ".xlsx (Annex A), .xml (CIN census)"
            )
        if kind is None:
            raise IngestError(
                source,
                f"has an unknown file type {source.suffix!r}",
                ".xlsx (Annex A), .xml (CIN census), .csv or .parquet",
            )
        files.append((source, kind))
    seen: set[Path] = set()
    unique = []
    for path, kind in files:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append((path, kind))
    return unique, notes


def folder_reference_date(sources: list[Path]) -> date | None:
    """The reference date recorded in a source folder's manifest.json (synthetic councils)."""
    found = []
    for source in sources:
        manifest = Path(source) / "manifest.json"
        if Path(source).is_dir() and manifest.exists():
            try:
                value = json.loads(manifest.read_text(encoding="utf-8")).get("reference_date")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise IngestError(manifest, f"is not valid JSON ({exc})", "a JSON object") from exc
            if value:
                found.append(date.fromisoformat(str(value)[:10]))
    return max(found) if found else None


def ground_truth_files(sources: list[Path]) -> list[Path]:
    return [Path(s) / GROUND_TRUTH for s in sources if (Path(s) / GROUND_TRUTH).exists()]
