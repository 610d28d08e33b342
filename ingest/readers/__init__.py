"""Readers: one per source format, each returning staged batches (see ``ingest.staging``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from frontdoor.ingest.staging import Batch

PRIORITY = {"canonical": 0, "annex_a": 10, "cin_xml": 20}

# Questions a source answers more coarsely than the contract's codes, by source priority:
# Annex A List 4 asks only "Was the child assessed as requiring LA children's social care
# support" (yes/no), which the reader loads as cin_support or nfa; a Section 47 strategy
# discussion is a yes, a step down to early help a no. Each code maps to its answer (its class).
# When another source holds a finer code of the same class for the same record, that code is
# kept whichever extract is newer (see ``merge._refine_coarse``).
COARSE_ANSWERS: dict[int, dict[tuple[str, str], dict[str, str]]] = {
    PRIORITY["annex_a"]: {
        ("assessments", "outcome"): {
            "cin_support": "yes",
            "strategy_s47": "yes",
            "nfa": "no",
            "early_help": "no",
        }
    }
}


@dataclass
class ReadResult:
    path: str
    kind: str  # "canonical", "annex_a", "cin_xml"
    batches: list[Batch] = field(default_factory=list)
    reference_date: date | None = None
    notes: list[str] = field(default_factory=list)  # what was skipped or ignored, and why
    rows_read: int = 0
    ground_truth: pd.DataFrame | None = None
    extract_date: date | None = None  # when the extract was taken (set by ingest.run)
    saved_date: date | None = None  # the file's own metadata (an .xlsx's last save)
    date1904: bool = False  # the workbook counts serial dates from 1904-01-01
    # Expected columns a sheet lacks or leaves entirely empty: {"file", "sheet", "column",
    # "state"}; printed loudly and kept in the manifest (features would silently read 0).
    column_gaps: list[dict] = field(default_factory=list)
    # Cells of optional columns loaded as missing (off-spec value): file/sheet/row/column/rule.
    cell_notes: list[pd.DataFrame] = field(default_factory=list)
