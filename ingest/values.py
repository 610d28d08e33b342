"""Cleaning raw cell values: text, codes with or without prefixes, dates in any of their forms.

Everything here is vectorised over a pandas Series and returns the cleaned values plus a
per-row reason (``None`` when the value is fine), so readers never drop a row silently.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd

MISSING_MARKERS = {
    "",
    "#n/a",
    "n/a",
    "na",
    "#na",
    "nan",
    "nat",
    "none",
    "null",
    "#null!",
    "#ref!",
    "#value!",
    "#div/0!",
    "#name?",
    "#num!",
    "-",
}
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff]+")
_PREFIX = re.compile(r"^[a-z]{1,2}\d?\)\s*", re.IGNORECASE)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_EPOCH_1904 = pd.Timestamp("1904-01-01")  # Mac workbooks: <workbookPr date1904="1"/>
MIN_DATE = pd.Timestamp("1900-01-01")
MAX_DATE = pd.Timestamp("2100-12-31")


def clean_text(series: pd.Series) -> pd.Series:
    """Strings with normalised whitespace (non-breaking spaces too); missing markers become None.

    Each distinct string is cleaned once (most columns repeat a few codes)."""
    values = series.astype(object).to_numpy()
    is_str = _is_str(values)
    out = values.copy()
    if is_str.any():
        strs = values[is_str]
        cleaned = {u: _clean_str(u) for u in pd.unique(strs)}
        out[is_str] = _objects(list(map(cleaned.__getitem__, strs)))
    other = ~is_str & pd.notna(values)
    if other.any():
        out[other] = _objects([_scalar_text(v) for v in values[other]])
    result = pd.Series(out, index=series.index, name=series.name, dtype=object)
    return result.where(result.notna(), None)


def _clean_str(value: str) -> str | None:
    if value.isalnum():  # no white space at all (the usual id or code): nothing to collapse
        return None if value.lower() in MISSING_MARKERS else value
    text = _SPACES.sub(" ", value).strip()
    return None if text.lower() in MISSING_MARKERS else text


def _is_str(values: np.ndarray) -> np.ndarray:
    if pd.api.types.infer_dtype(values, skipna=True) == "string":  # the usual case, in C
        return np.asarray(pd.notna(values), dtype=bool)
    return np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))


def _objects(items: list) -> np.ndarray:
    """A list as a 1-d object array (never a 2-d one, whatever the items)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def text_lengths(text: pd.Series) -> np.ndarray:
    """Characters per cell of cleaned text (0 for missing)."""
    values = text.to_numpy(dtype=object)
    present = np.asarray(pd.notna(values), dtype=bool)
    lengths = np.zeros(len(values), dtype=np.int64)
    lengths[present] = np.fromiter(map(len, values[present]), dtype=np.int64)
    return lengths


def _scalar_text(value: object) -> str | None:
    if isinstance(value, float):
        if np.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()[:10]
    return str(value)


# Characters that look like nothing or like another character: zero-width spaces and joiners,
# bidirectional overrides, the byte-order mark, soft hyphens (Unicode category Cf) and controls.
def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cf", "Cc")


_NUMERIC_POINT_ZERO = re.compile(r"^(\d+)\.0+$")
# Letters, digits, '-' and '_' only: NFKC leaves these as they are, and none is invisible,
# a space or a '.0', so such an id is already clean (nearly every id, checked in C).
_PLAIN_ID = re.compile(r"[0-9A-Za-z_\-]+")


def clean_id(value: str) -> str:
    """One identifier as a council means it: NFKC (full-width digits, NBSP), invisible
    characters removed, whitespace collapsed, a trailing '.0' of numeric text dropped."""
    if _PLAIN_ID.fullmatch(value):
        return value
    # Spaces other than the plain one (no-break, figure, ideographic...) are as invisible
    # in a spreadsheet as a zero-width space: dropped, not turned into a space.
    text = "".join(ch for ch in value if not (ch != " " and ch.isspace() and ch not in "\t\n\r"))
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _invisible(ch))
    text = _SPACES.sub(" ", text).strip()
    match = _NUMERIC_POINT_ZERO.match(text)
    return match.group(1) if match else text


CHANGED_ID = "identifier normalised (lookalike characters or a trailing .0)"


def clean_ids(series: pd.Series, text: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """Identifiers cleaned (``clean_id``), and per row a note when the text changed.

    ``text``: ``clean_text(series)`` when the caller has it already."""
    text = clean_text(series) if text is None else text
    note = pd.Series(None, index=series.index, dtype=object)
    raw = series.astype(object).to_numpy()
    is_str = _is_str(raw)
    if not is_str.any():
        return text, note
    strs = raw[is_str]
    mapping: dict[str, tuple[str | None, bool]] = {}
    for u in pd.unique(strs):
        cleaned = clean_id(u)
        cleaned = None if cleaned.lower() in MISSING_MARKERS else cleaned
        mapping[u] = (cleaned, cleaned is not None and u.strip(" ") != cleaned)
    out = text.to_numpy(dtype=object, copy=True)
    out[is_str] = _objects([mapping[v][0] for v in strs])
    changed = np.zeros(len(raw), dtype=bool)
    changed[is_str] = [mapping[v][1] for v in strs]
    note[changed] = CHANGED_ID
    result = pd.Series(out, index=series.index, name=text.name, dtype=object)
    return result.where(result.notna(), None), note


def strip_prefix(value: str) -> str:
    """'a) WBRI' -> 'WBRI'; 'q) 6: Police' -> '6: Police'."""
    return _PREFIX.sub("", value, count=1).strip()


def code_part(value: str) -> str:
    """The code of a labelled code: '6: Police' -> '6'; 'N1 - Abuse' -> 'N1'; 'WBRI' -> 'WBRI'."""
    value = strip_prefix(value)
    for sep in (":", " - ", " – "):
        if sep in value:
            head = value.split(sep, 1)[0].strip()
            if head and len(head) <= 6:
                return head
    return value


def map_codes(
    series: pd.Series, mapping: dict[str, str], text: pd.Series | None = None
) -> pd.Series:
    """Normalise codes: strip any 'a) ' prefix and trailing label, then map known spellings.

    Unknown values pass through unchanged, so validation can quarantine them with the value
    the council actually wrote. ``text``: ``clean_text(series)`` when the caller has it.
    """
    text = clean_text(series) if text is None else text
    lookup = {_key(k): v for k, v in mapping.items()}

    def one(value: object) -> object:
        if value is None:
            return None
        raw = str(value)
        for candidate in (raw, strip_prefix(raw), code_part(raw)):
            hit = lookup.get(_key(candidate))
            if hit is not None:
                return hit
        return code_part(raw)

    uniques = pd.unique(text.dropna())
    table = {u: one(u) for u in uniques}
    return text.map(table).where(text.notna(), None)


def _key(text: str) -> str:
    return _SPACES.sub(" ", str(text)).strip().lower()


def parse_dates(series: pd.Series, date1904: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates from datetimes, Excel serial numbers or text (ISO, UK day-first, '5 March 2024').

    Returns (dates at midnight, reason) where reason is None for good or missing values and
    'unreadable date' / 'impossible date' otherwise.
    """
    index = series.index
    # Seconds resolution while parsing, so that a year like 1066 is caught, not an overflow.
    result = pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
    reason = pd.Series(None, index=index, dtype=object)
    if len(series) == 0:
        return result.astype("datetime64[ns]"), reason
    values = series.astype(object)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_localize(None) if series.dt.tz is not None else series
        result = values.astype("datetime64[s]")
        out_of_range = result.notna() & ((result < MIN_DATE) | (result > MAX_DATE))
        reason[out_of_range] = "impossible date"
        result = result.where(~out_of_range)
        return result.astype("datetime64[ns]").dt.normalize(), reason

    kinds = _kinds(values)
    dt_mask = kinds == "dt"
    if dt_mask.any():
        stamps = values[dt_mask].map(_to_timestamp)
        result[dt_mask] = pd.Series(
            [s.as_unit("s") for s in stamps], index=stamps.index, dtype="datetime64[s]"
        )
    num_mask = kinds == "num"
    if num_mask.any():
        nums = pd.to_numeric(values[num_mask], errors="coerce")
        result[num_mask] = _from_serial(nums, date1904)
    str_mask = kinds == "str"
    if str_mask.any():
        text = clean_text(values[str_mask])
        present = text.notna()
        text = text[present].astype(str)
        parsed = _parse_text_dates(text)
        result[parsed.index] = parsed
        bad = parsed.isna()
        reason[bad[bad].index] = "unreadable date"
    other_mask = kinds == "other"
    reason[other_mask] = "unreadable date"

    out_of_range = result.notna() & ((result < MIN_DATE) | (result > MAX_DATE))
    reason[out_of_range] = "impossible date"
    result = result.where(~out_of_range)
    return result.astype("datetime64[ns]").dt.normalize(), reason


# Columns whose present cells are all numbers (Excel serials), as pandas infers in C: each is
# "num" for ``_kind``; no True/False among them (those make the column "mixed...").
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float"}


def _kinds(values: pd.Series) -> pd.Series:
    """``values.map(_kind)``, without a Python call per cell for the usual columns: numbers
    (serials), or text (each distinct string judged once)."""
    cells = values.to_numpy(dtype=object)
    inferred = pd.api.types.infer_dtype(cells, skipna=True)
    if inferred not in _NUMERIC_INFERRED and inferred != "string":
        return values.map(_kind)
    out = np.empty(len(cells), dtype=object)
    missing = np.asarray(pd.isna(cells), dtype=bool)
    out[missing] = [_kind(v) for v in cells[missing]]  # None, NaN, NaT; pd.NA is "other"
    present = ~missing
    if inferred == "string":
        codes, uniques = pd.factorize(cells[present])
        out[present] = np.array([_kind(u) for u in uniques], dtype=object)[codes]
    else:
        out[present] = "num"
    return pd.Series(out, index=values.index, dtype=object)


def _kind(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return "missing"
    if isinstance(value, (datetime, date, pd.Timestamp, np.datetime64)):
        return "dt"
    if isinstance(value, bool):
        return "other"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "num"
    if isinstance(value, str):
        stripped = value.strip().replace("\u00a0", "")
        if re.fullmatch(r"\d{4,5}(\.\d+)?", stripped):
            return "num"
        return "str"
    return "other"


def _to_timestamp(value: object) -> object:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, OverflowError):
        return pd.Timestamp("1800-01-01")  # flagged impossible below
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp


def _from_serial(nums: pd.Series, date1904: bool = False) -> pd.Series:
    ok = nums.notna() & (nums >= (0 if date1904 else 1)) & (nums < 109_575)  # up to ~2199
    out = pd.Series(pd.NaT, index=nums.index, dtype="datetime64[ns]")
    if ok.any():
        days = np.floor(nums[ok].astype(float)).astype("int64")
        if date1904:
            out[ok] = (EXCEL_EPOCH_1904 + pd.to_timedelta(days, unit="D")).to_numpy()
        else:
            # Lotus 1-2-3's phantom 29 February 1900: serials below 61 are one day earlier.
            days = days.where(days >= 61, days + 1)
            out[ok] = (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).to_numpy()
    out[nums.notna() & ~ok] = pd.Timestamp("1800-01-01")  # flagged impossible below
    return out


_TEXT_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d/%m/%y",
    "%d %B %Y",
    "%d %b %Y",
    "%d-%b-%y",  # 16-Sep-20, as Excel shows a date typed as text
    "%d-%b-%Y",
    "%d %b %y",
    "%B %d, %Y",  # September 16, 2020
    "%b %d, %Y",
    "%B %d %Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)


def _parse_text_dates(text: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
    remaining = text
    for fmt in _TEXT_FORMATS:
        if remaining.empty:
            break
        parsed = pd.to_datetime(remaining, format=fmt, errors="coerce")
        hit = parsed.notna()
        if hit.any():
            out[hit[hit].index] = parsed[hit].astype("datetime64[s]")
            remaining = remaining[~hit]
    if not remaining.empty:
        # ISO 8601 with a timezone or fractions of a second, e.g. CIN DateTime values.
        parsed = pd.to_datetime(remaining, format="ISO8601", errors="coerce", utc=True)
        hit = parsed.notna()
        if hit.any():
            out[hit[hit].index] = parsed[hit].dt.tz_localize(None).astype("datetime64[s]")
    return out


TRUE_WORDS = {"yes", "y", "true", "t", "1", "a) yes"}
FALSE_WORDS = {"no", "n", "false", "f", "0", "b) no"}


def parse_bool(series: pd.Series, unknown_as: bool | None = None) -> tuple[pd.Series, pd.Series]:
    """Yes/No, Y/N, true/false, 1/0 with or without an 'a) ' prefix; 'Unknown' -> unknown_as."""
    text = clean_text(series)
    reason = pd.Series(None, index=series.index, dtype=object)

    def one(value: object) -> object:
        if value is None:
            return None
        word = strip_prefix(str(value)).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        if word in {"unknown", "not known", "u", "not recorded"}:
            return unknown_as
        return "?"

    out = text.map(one)
    bad = out == "?"
    reason[bad] = "not a yes/no value"
    out = out.where(~bad, None)
    return out.astype(object), reason


def parse_int(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = clean_text(series)
    nums = pd.to_numeric(text, errors="coerce")
    reason = pd.Series(None, index=series.index, dtype=object)
    bad = (text.notna() & nums.isna()) | (nums.notna() & (nums % 1 != 0))
    reason[bad] = "not a whole number"
    nums = nums.where(~bad)
    return nums.astype("Float64").astype("Int64"), reason


def month_start(dates: pd.Series) -> pd.Series:
    """Keep only the month: exact dates of birth are never stored."""
    return dates.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


# Sex as Annex A labels, CIN census codes (1 male, 2 female, 0 not known, 9 not specified) or
# letters, lower-cased, to the contract's M / F / U. One table for every reader.
SEX_MAP = {
    "male": "M",
    "female": "F",
    "not stated/recorded": "U",
    "not stated/recorded (or unborn)": "U",
    "neither": "U",
    "unknown": "U",
    "not known": "U",
    "not stated": "U",
    "1": "M",
    "2": "F",
    "0": "U",
    "9": "U",
    "m": "M",
    "f": "F",
    "u": "U",
}
