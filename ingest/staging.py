"""Staged rows: one canonical table's rows from one place in a source, typed but not yet merged.

Every reader turns its format into batches of contract columns plus provenance (file, sheet,
row number) and any cell problems found. Nothing is dropped here: a row with a problem keeps
its place and carries its reason to the quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from frontdoor.ingest import values
from frontdoor.records import codes
from frontdoor.records.contract import TABLES

PROVENANCE = ["_source", "_sheet", "_row"]
PROBLEM = ["_pcolumn", "_pvalue", "_preason"]
CELL_NOTE_COLUMNS = ["table", "source", "sheet", "row", "column", "rule"]
VALUE_PREVIEW_CHARS = 80

# Columns whose raw values never reach a quarantine file (they identify a child or a date of birth).
WITHHELD = "[withheld: identifier]"
# Cells over the length limit are free text whatever their column: never shown in the quarantine.
NOT_SHOWN = "[not shown]"


@dataclass
class Batch:
    """Rows of one canonical table from one sheet or element of one source file."""

    table: str
    frame: pd.DataFrame  # contract columns (subset) + PROVENANCE + PROBLEM
    priority: int  # lower wins when the same record comes from several sources
    # Cells loaded as missing (an off-spec value in an optional column) or changed (a
    # lookalike identifier normalised): CELL_NOTE_COLUMNS, never the value itself.
    cell_notes: pd.DataFrame = field(default_factory=lambda: empty_cell_notes())
    extract_date: date | None = None  # when the extract was taken (set by ingest.run)

    @property
    def rows(self) -> int:
        return len(self.frame)


def is_identifying(table: str, column: str) -> bool:
    t = TABLES[table]
    return column in {"child_id", "household_id", t.key, "birth_month"} or column.startswith("_")


def empty_cell_notes() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "row" else object) for c in CELL_NOTE_COLUMNS}
    )


def preview(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > VALUE_PREVIEW_CHARS:
        return f"{text[:VALUE_PREVIEW_CHARS]}… ({len(text):,} characters)"
    return text


def describe(value: object) -> str:
    """What an off-spec value looks like, never the value: it may be a name, an identifier
    or free text typed into the wrong column (a shifted row), and the quarantine is opened
    by people who must not see it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "[not shown: true/false]"
    if isinstance(value, (int, float)):
        return "[not shown: a number]"
    text = str(value)
    kind = (
        "digits"
        if text.strip().isdigit()
        else "letters"
        if text.replace(" ", "").isalpha()
        else "text"
    )
    return f"[not shown: {kind}, {len(text):,} characters]"


def _code_map(table: str, column: str) -> dict[str, str]:
    allowed = TABLES[table].column(column).allowed or ()
    return {code: code for code in allowed}


def build_batch(
    table: str,
    raw: pd.DataFrame,
    *,
    source: str,
    sheet: str,
    rows: pd.Series | list[int],
    priority: int,
    max_cell_chars: int,
    code_maps: dict[str, dict[str, str]] | None = None,
    long_cells: pd.Series | None = None,
    date1904: bool = False,
) -> Batch:
    """Type the contract columns present in ``raw`` and note every cell problem per row.

    ``raw`` holds values as read (text, numbers, datetimes), with contract column names.
    ``code_maps`` adds format-specific spellings ('b) Female' -> 'F') to a column's code list.
    ``long_cells`` names, per row, a source column whose cell is over the length limit.
    An off-spec value in an optional (nullable) column is loaded as missing with a cell
    note; only required columns quarantine the row. Values are never shown (``describe``).
    """
    t = TABLES[table]
    raw = raw.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    cell_notes: list[pd.DataFrame] = []
    row_numbers = pd.Series(list(rows), index=raw.index, dtype="int64")

    def cell_note(column: str, reason: pd.Series) -> None:
        reason = reason.astype(object).where(reason.notna(), None)
        hit = reason.notna()
        if hit.any():
            cell_notes.append(
                pd.DataFrame(
                    {
                        "table": table,
                        "source": source,
                        "sheet": sheet,
                        "row": row_numbers[hit],
                        "column": column,
                        "rule": reason[hit],
                    }
                )
            )

    def note(column: str, reason: pd.Series, shown: pd.Series) -> None:
        bad = reason.notna()
        if bad.any():
            withheld = is_identifying(table, column)
            problems.append(
                pd.DataFrame(
                    {
                        "column": column,
                        "value": WITHHELD if withheld else shown[bad].map(describe_shown),
                        "reason": reason[bad],
                    },
                    index=reason[bad].index,
                )
            )

    for column in t.columns:
        if column.name not in raw.columns:
            continue
        series = raw[column.name]
        reason = pd.Series(None, index=raw.index, dtype=object)
        if column.dtype == "id":
            typed, changed = values.clean_ids(series)
            cell_note(column.name, changed)
            too_long_id = typed.map(lambda v: v is not None and 128 < len(v) <= max_cell_chars)
            reason = reason.where(~too_long_id, "identifier longer than 128 characters")
        elif column.dtype == "date":
            typed, reason = values.parse_dates(series, date1904=date1904)
            if table == "children" and column.name == "birth_month":
                typed = values.month_start(typed)
        elif column.dtype == "bool":
            typed, reason = values.parse_bool(series, unknown_as=False)
        elif column.dtype == "int":
            typed, reason = values.parse_int(series)
        elif column.dtype == "factors":
            typed = _factors(series)
            allowed = set(column.allowed or ())
            unknown = typed.map(
                lambda v, ok=allowed: (
                    v is not None and any(c not in ok for c in codes.factor_list(v))
                )
            )
            reason = reason.where(~unknown, "unknown assessment factor code")
        else:
            mapping = {**_code_map(table, column.name), **((code_maps or {}).get(column.name, {}))}
            typed = values.map_codes(series, mapping) if mapping else values.clean_text(series)
            if column.allowed:
                unknown = typed.notna() & ~typed.isin(list(column.allowed))
                reason = reason.where(~unknown, "not an allowed code")
        if column.value_range is not None:
            low, high = column.value_range
            outside = typed.notna() & ((typed < low) | (typed > high))
            reason = reason.where(
                ~outside.astype(bool), f"outside the allowed range {low} to {high}"
            )
        shown = series.astype(object)
        text = values.clean_text(series) if column.dtype in {"id", "str", "factors"} else None
        if text is not None:
            too_long = text.map(lambda v: v is not None and len(v) > max_cell_chars)
            reason = reason.where(~too_long, f"cell longer than {max_cell_chars:,} characters")
            # A cell that long is free text (a case note pasted into a code column): not shown.
            shown = shown.where(~too_long.astype(bool), NOT_SHOWN)
        if column.nullable:
            # Optional: the cell is loaded as missing and noted; the record is kept.
            bad = reason.notna()
            cell_note(
                column.name, reason.where(~bad, reason[bad].astype(str) + ": loaded as missing")
            )
        else:
            note(column.name, reason, shown)
        out[column.name] = pd.Series(typed, index=raw.index).where(reason.isna(), None)

    frame = pd.DataFrame(out, index=raw.index)
    if long_cells is not None:
        long_cells = pd.Series(long_cells).reset_index(drop=True)
        bad = long_cells.notna()
        if bad.any():
            problems.append(
                pd.DataFrame(
                    {
                        "column": long_cells[bad],
                        "value": NOT_SHOWN,
                        "reason": f"cell longer than {max_cell_chars:,} characters",
                    }
                )
            )
    frame["_source"] = source
    frame["_sheet"] = sheet
    frame["_row"] = row_numbers
    _attach_problems(frame, problems)
    notes = pd.concat(cell_notes, ignore_index=True) if cell_notes else empty_cell_notes()
    return Batch(table=table, frame=frame, priority=priority, cell_notes=notes)


def describe_shown(value: object) -> str:
    return value if value in (NOT_SHOWN, WITHHELD) else describe(value)


def _attach_problems(frame: pd.DataFrame, problems: list[pd.DataFrame]) -> None:
    for col in PROBLEM:
        frame[col] = None
    if not problems:
        return
    allp = pd.concat(problems)
    allp = allp.astype({"column": str, "value": str, "reason": str})
    joined = allp.groupby(level=0).agg("; ".join)
    frame.loc[joined.index, "_pcolumn"] = joined["column"]
    frame.loc[joined.index, "_pvalue"] = joined["value"]
    frame.loc[joined.index, "_preason"] = joined["reason"]


def _factors(series: pd.Series) -> pd.Series:
    """'3B, 4B;16a' or a list -> '3B,4B,16A' (sorted, de-duplicated); missing stays missing."""

    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and value != value):
            return None
        items = (
            value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
        )
        found = []
        for item in items:
            code = values.code_part(str(item).replace("\u00a0", " ").strip()).upper()
            if code and code.lower() not in values.MISSING_MARKERS:
                found.append(code)
        return codes.join_factors(found)

    return series.astype(object).map(one)


def long_cell_columns(raw: pd.DataFrame, limit: int) -> pd.Series:
    """Per row, the first column (as named in the source) whose cell is longer than ``limit``."""
    result = pd.Series(None, index=raw.index, dtype=object)
    for column in raw.columns:
        col = raw[column]
        lengths = col.map(lambda v: len(v) if isinstance(v, str) else 0)
        hit = (lengths > limit) & result.isna()
        if hit.any():
            result[hit] = str(column)
    return result


def mark_rows(frame: pd.DataFrame, reasons: pd.Series, column, value) -> None:
    """Add row-level reasons (a stray delimiter, an episode's impossible date) to staged rows.

    ``column`` and ``value`` are one label for all rows or a Series aligned with ``reasons``.
    """
    reasons = pd.Series(reasons).reset_index(drop=True)
    col = pd.Series(column, index=reasons.index) if not isinstance(column, pd.Series) else column
    val = pd.Series(value, index=reasons.index) if not isinstance(value, pd.Series) else value
    col, val = col.reset_index(drop=True), val.reset_index(drop=True)
    for idx in reasons[reasons.notna()].index:
        old = frame.at[idx, "_preason"]
        has_old = isinstance(old, str)
        shown = _safe_shown(val[idx])
        frame.at[idx, "_preason"] = f"{old}; {reasons[idx]}" if has_old else reasons[idx]
        frame.at[idx, "_pcolumn"] = (
            f"{frame.at[idx, '_pcolumn']}; {col[idx]}" if has_old else col[idx]
        )
        frame.at[idx, "_pvalue"] = f"{frame.at[idx, '_pvalue']}; {shown}" if has_old else shown


def _safe_shown(value: object) -> str:
    """A value for a row-level reason: a readable date is shown as a date, markers as they
    are, anything else only described."""
    if value is None or (isinstance(value, str) and (not value or value.startswith("["))):
        return "" if value is None else value
    parsed, bad = values.parse_dates(pd.Series([value], dtype=object))
    if bad.iloc[0] is None and parsed.notna().iloc[0]:
        return parsed.iloc[0].date().isoformat()
    return describe(value)
