"""Canonical CSV or Parquet files, one per table, named after the table.

``<table>.csv`` / ``<table>.parquet`` holds whole records: every required column of the
contract except the record id, which is derived when absent. ``<table>.extra.csv`` holds
columns that the statutory returns lack (for example ``children.extra.csv`` with
``child_id, household_id, idaci_decile``): only the columns that identify the record are
required, and its values are merged into the matching records from other sources.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.readers import PRIORITY, ReadResult
from frontdoor.ingest.staging import build_batch, mark_rows
from frontdoor.records.contract import TABLES

csv.field_size_limit(sys.maxsize)
EXTRA_SUFFIX = ".extra"
DROPPED_ALWAYS = {
    "name",
    "first_name",
    "last_name",
    "surname",
    "forename",
    "upn",
    "former_upn",
    "date_of_birth",
    "dob",
    "allocated_worker",
    "notes",
    "free_text",
}


def table_of(path: Path) -> tuple[str | None, bool]:
    """The table a canonical file holds (from its name) and whether it is an extra-columns file."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    extra = stem.endswith(EXTRA_SUFFIX)
    if extra:
        stem = stem[: -len(EXTRA_SUFFIX)]
    return (stem if stem in TABLES else None), extra


def read_canonical(path: Path, settings) -> ReadResult:
    table, extra = table_of(path)
    if table is None:
        raise IngestError(
            path,
            "the file name does not name a canonical table",
            "one of " + ", ".join(f"{t}.csv" for t in TABLES) + " (or .parquet)",
        )
    raw, first_row = _read_frame(path)
    result = ReadResult(path=str(path), kind="canonical", rows_read=len(raw))
    names = [_norm(c) for c in raw.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise IngestError(
            path,
            f"has column{'s' if len(twice) > 1 else ''} {', '.join(twice)} more than once",
            "each column once",
        )
    header = {_norm(c): c for c in raw.columns}
    t = TABLES[table]
    needed = list(dict.fromkeys(["child_id", *t.dedupe_on]))
    if not extra:
        needed += [c.name for c in t.columns if not c.nullable and c.name not in needed]
        needed = [c for c in needed if c != t.key]
    lacking = [c for c in needed if c not in header]
    if lacking:
        raise IngestError(
            path,
            f"lacks required column{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}",
            f"columns {', '.join(needed)} for table {table}"
            + (" (extra-columns file)" if extra else ""),
        )
    mapped = {c.name: raw[header[c.name]] for c in t.columns if c.name in header}
    ignored = [c for c in raw.columns if _norm(c) not in set(t.column_names) and c != "_stray"]
    if ignored:
        result.notes.append(
            f"{path.name}: ignored columns not in the contract: {', '.join(map(str, ignored))}"
        )
    # Columns not read (ignored above) never quarantine a row, whatever they hold.
    frame = pd.DataFrame(mapped, index=raw.index)
    rows = raw.attrs.get("lines") or list(raw.index + 1)
    batch = build_batch(
        table,
        frame,
        source=str(path),
        sheet="",
        rows=rows,
        priority=PRIORITY["canonical"] + (1 if extra else 0),
        max_cell_chars=settings.ingest.max_cell_chars,
    )
    if "_stray" in raw.columns:
        mark_rows(batch.frame, raw["_stray"], "(row)", "")
    result.batches.append(batch)
    return result


def _norm(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower().replace(" ", "_")


def _read_frame(path: Path) -> tuple[pd.DataFrame, int]:
    """The file's rows as a frame, and the source row number of its first data row."""
    if path.stat().st_size == 0:
        raise IngestError(path, "the file is empty", "a header row and data rows")
    if path.suffix.lower() == ".parquet":
        try:
            frame = pq.read_table(path).to_pandas()
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise IngestError(path, f"cannot be read as Parquet ({exc})", "a Parquet file") from exc
        return frame.reset_index(drop=True), 0
    return _read_csv(path)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(path, "is not a text file (binary content)", "a UTF-8 CSV file")
    for encoding in (
        ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",)
    ):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            path,
            f"is not valid UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start}); "
            "re-save it as UTF-8",
            "a UTF-8 CSV file",
        ) from exc
    return text


def _read_csv(path: Path) -> tuple[pd.DataFrame, int]:
    text = _decode(path)
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if first_line.count(",") == 0:
        for candidate in (";", "\t", "|"):
            if first_line.count(candidate) > 0:
                delimiter = candidate
                break
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(rows)
    except StopIteration:
        raise IngestError(path, "has no header row", "a header row and data rows") from None
    except csv.Error as exc:
        raise IngestError(path, f"cannot be parsed as CSV ({exc})", "a CSV file") from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise IngestError(path, "has an empty header row", "column names in the first row")
    width = len(header)
    records: list[list[str | None]] = []
    stray: list[str | None] = []
    line_numbers: list[int] = []
    try:
        for row in rows:
            if not row or all(not cell.strip() for cell in row):
                continue
            line_numbers.append(rows.line_num)
            if len(row) != width:
                stray.append(
                    f"row has {len(row)} fields but the header has {width} "
                    "(stray delimiter or missing field)"
                )
                row = (row + [None] * width)[:width]
            else:
                stray.append(None)
            records.append([None if c is None or c == "" else c for c in row])
    except csv.Error as exc:
        raise IngestError(
            path, f"cannot be parsed as CSV at line {rows.line_num} ({exc})", "a CSV file"
        ) from exc
    frame = pd.DataFrame(records, columns=header, dtype=object)
    if any(s is not None for s in stray):
        frame["_stray"] = stray
    frame.index = pd.RangeIndex(len(frame))
    # Row numbers as a spreadsheet shows them (header = line 1).
    frame.attrs["lines"] = line_numbers
    return frame, 0
