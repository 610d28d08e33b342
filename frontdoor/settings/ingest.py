"""Ingestion of council extracts."""

from datetime import date

from frontdoor.settings.section import Section


class IngestSettings(Section):
    reference_date: date | None = None  # None: taken from the extract (CIN header) or today
    max_cell_chars: int = 10_000  # longer cells are quarantined, never truncated
