"""Readers: one per source format, each returning staged batches (see ``ingest.staging``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from frontdoor.ingest.staging import Batch

PRIORITY = {"canonical": 0, "annex_a": 10, "cin_xml": 20}


@dataclass
class ReadResult:
    path: str
    kind: str  # "canonical", "annex_a", "cin_xml"
    batches: list[Batch] = field(default_factory=list)
    reference_date: date | None = None
    notes: list[str] = field(default_factory=list)  # what was skipped or ignored, and why
    rows_read: int = 0
    ground_truth: pd.DataFrame | None = None
