"""Ingestion of council extracts."""

from datetime import date
from typing import Literal

from frontdoor.settings.section import Section


class IngestSettings(Section):
    reference_date: date | None = None  # None: taken from the extract (CIN header) or today
    # The date the extracts of this run were taken (`frontdoor ingest --extract-date`): the
    # newest extract wins whatever the order. None: each source's own (docs/ingestion.md).
    extract_date: date | None = None
    max_cell_chars: int = 10_000  # longer cells are quarantined, never truncated
    # An Annex A workbook lacking one of Lists 1 to 7 stops the run (False: note it and go on).
    require_all_lists: bool = True
    # .xlsx reading: "fast" streams cell values with lxml, "openpyxl" uses its read-only mode,
    # "auto" is fast with openpyxl as the fallback for unusual package layouts.
    xlsx_engine: Literal["auto", "fast", "openpyxl"] = "auto"
    # Bounds that stop a run with a clear message instead of exhausting memory: rows per sheet
    # (Excel's own limit by default) and characters of a workbook's shared strings.
    max_rows_per_sheet: int = 1_048_576
    max_shared_string_chars: int = 100_000_000
