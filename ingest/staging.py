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
from frontdoor.records.contract import TABLES, Column

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
    raw = raw.reset_index(drop=True)
    found = _Findings(table, source, sheet, pd.Series(list(rows), index=raw.index, dtype="int64"))
    rules = _ColumnRules(max_cell_chars, code_maps or {}, date1904)
    out = {
        column.name: _stage_column(table, column, raw[column.name], found, rules)
        for column in TABLES[table].columns
        if column.name in raw.columns
    }
    frame = pd.DataFrame(out, index=raw.index)
    if long_cells is not None:
        found.long_cells(long_cells, max_cell_chars)
    frame["_source"] = source
    frame["_sheet"] = sheet
    frame["_row"] = found.row_numbers
    _attach_problems(frame, found.problems)
    return Batch(table=table, frame=frame, priority=priority, cell_notes=found.notes())


@dataclass(frozen=True)
class _ColumnRules:
    """The reader's settings for typing cells: the length limit, extra code spellings, and
    the workbook's date system."""

    max_cell_chars: int
    code_maps: dict[str, dict[str, str]]
    date1904: bool


@dataclass
class _Findings:
    """What typing one batch finds: row problems (the row goes to the quarantine) and cell
    notes (the cell is loaded as missing or changed; the row is kept)."""

    table: str
    source: str
    sheet: str
    row_numbers: pd.Series
    problems: list[pd.DataFrame] = field(default_factory=list)
    cell_notes: list[pd.DataFrame] = field(default_factory=list)

    def cell_note(self, column: str, reason: pd.Series) -> None:
        reason = reason.astype(object).where(reason.notna(), None)
        hit = reason.notna()
        if hit.any():
            self.cell_notes.append(
                pd.DataFrame(
                    {
                        "table": self.table,
                        "source": self.source,
                        "sheet": self.sheet,
                        "row": self.row_numbers[hit],
                        "column": column,
                        "rule": reason[hit],
                    }
                )
            )

    def problem(self, column: str, reason: pd.Series, shown: pd.Series) -> None:
        bad = reason.notna()
        if bad.any():
            withheld = is_identifying(self.table, column)
            self.problems.append(
                pd.DataFrame(
                    {
                        "column": column,
                        "value": WITHHELD if withheld else shown[bad].map(describe_shown),
                        "reason": reason[bad],
                    },
                    index=reason[bad].index,
                )
            )

    def long_cells(self, long_cells: pd.Series, max_cell_chars: int) -> None:
        """Rows with an over-long cell in a column the reader does not load."""
        long_cells = pd.Series(long_cells).reset_index(drop=True)
        bad = long_cells.notna()
        if bad.any():
            self.problems.append(
                pd.DataFrame(
                    {
                        "column": long_cells[bad],
                        "value": NOT_SHOWN,
                        "reason": f"cell longer than {max_cell_chars:,} characters",
                    }
                )
            )

    def notes(self) -> pd.DataFrame:
        if not self.cell_notes:
            return empty_cell_notes()
        return pd.concat(self.cell_notes, ignore_index=True)


TEXT_DTYPES = {"id", "str", "factors"}


def _stage_column(
    table: str, column: Column, series: pd.Series, found: _Findings, rules: _ColumnRules
) -> pd.Series:
    """One contract column typed; its problems noted (optional columns: the cell is loaded as
    missing with a note; required ones: the row is quarantined)."""
    text = values.clean_text(series) if column.dtype in TEXT_DTYPES else None
    typed, reason = _typed(table, column, series, text, found, rules)
    reason = _range_reason(column, typed, reason)
    reason, shown = _length_reason(series, text, reason, rules.max_cell_chars)
    if column.nullable:
        bad = reason.notna()
        found.cell_note(
            column.name, reason.where(~bad, reason[bad].astype(str) + ": loaded as missing")
        )
    else:
        found.problem(column.name, reason, shown)
    return pd.Series(typed, index=series.index).where(reason.isna(), None)


def _typed(
    table: str,
    column: Column,
    series: pd.Series,
    text: pd.Series | None,
    found: _Findings,
    rules: _ColumnRules,
) -> tuple[pd.Series, pd.Series]:
    """The column's values in its contract type, and per row the reason a value is off-spec.
    ``text``: the cells as cleaned text, for the text types (id, str, factors)."""
    reason = pd.Series(None, index=series.index, dtype=object)
    if column.dtype == "id":
        typed, changed = values.clean_ids(series, text)
        found.cell_note(column.name, changed)
        lengths = values.text_lengths(typed)
        too_long_id = (lengths > 128) & (lengths <= rules.max_cell_chars)
        return typed, reason.where(~too_long_id, "identifier longer than 128 characters")
    if column.dtype == "date":
        typed, reason = values.parse_dates(series, date1904=rules.date1904)
        if table == "children" and column.name == "birth_month":
            typed = values.month_start(typed)
        return typed, reason
    if column.dtype == "bool":
        return values.parse_bool(series, unknown_as=False)
    if column.dtype == "int":
        return values.parse_int(series)
    if column.dtype == "factors":
        typed = _factors(series)
        allowed = set(column.allowed or ())
        unknown = typed.map(
            lambda v, ok=allowed: v is not None and any(c not in ok for c in codes.factor_list(v))
        )
        return typed, reason.where(~unknown, "unknown assessment factor code")
    mapping = {**_code_map(table, column.name), **rules.code_maps.get(column.name, {})}
    typed = (
        values.map_codes(series, mapping, text)
        if mapping
        else (text if text is not None else values.clean_text(series))
    )
    if column.allowed:
        unknown = typed.notna() & ~typed.isin(list(column.allowed))
        reason = reason.where(~unknown, "not an allowed code")
    return typed, reason


def _range_reason(column: Column, typed: pd.Series, reason: pd.Series) -> pd.Series:
    if column.value_range is None:
        return reason
    low, high = column.value_range
    outside = typed.notna() & ((typed < low) | (typed > high))
    return reason.where(~outside.astype(bool), f"outside the allowed range {low} to {high}")


def _length_reason(
    series: pd.Series, text: pd.Series | None, reason: pd.Series, max_cell_chars: int
) -> tuple[pd.Series, pd.Series]:
    """Text cells over the length limit are off-spec and never shown: a cell that long is
    free text (a case note pasted into a code column). Returns the reasons and the values
    the quarantine may describe."""
    shown = series.astype(object)
    if text is None:
        return reason, shown
    too_long = values.text_lengths(text) > max_cell_chars
    reason = reason.where(~too_long, f"cell longer than {max_cell_chars:,} characters")
    return reason, shown.where(~too_long, NOT_SHOWN)


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
