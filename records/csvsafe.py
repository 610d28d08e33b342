"""CSV files that are safe to open in a spreadsheet (the data team opens them in Excel).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel and LibreOffice (``=HYPERLINK(...)``, ``+1+cmd|...``): such text cells get a leading
apostrophe, which spreadsheets show as text and never run. Numbers are left alone.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as formulas (header names included)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def safe_csv_text(frame: pd.DataFrame, **kwargs: Any) -> str:
    """RFC 4180 line ends (CRLF), so a carriage return inside a cell is quoted, not a row end."""
    return str(safe_frame(frame).to_csv(index=False, lineterminator="\r\n", **kwargs))
