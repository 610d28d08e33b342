"""What an ingest run did: per-table counts that must balance, notes, and the quarantine."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable

from frontdoor.ingest import lookalikes
from frontdoor.ingest.merge import DUPLICATE_COLUMNS, SUPERSEDED_COLUMNS, TableCounts
from frontdoor.ingest.staging import empty_cell_notes

TABLE_WIDTH = 120  # wide enough for every column of the counts table, even in a log file


class UnbalancedCountsError(AssertionError):
    """rows read != rows loaded + quarantined + duplicates: a bug, never bad data."""


@dataclass
class IngestReport:
    out_dir: Path
    reference_date: str
    sources: list[dict]
    counts: dict[str, TableCounts]
    quarantine: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    key_fingerprint: str = ""
    quarantine_dir: Path | None = None
    ground_truth_rows: int | None = None
    reference_date_from: str = ""
    column_gaps: list[dict] = field(default_factory=list)
    lookalikes: list[dict] = field(default_factory=list)  # ids differing in leading zeros
    cell_notes: pd.DataFrame = field(default_factory=empty_cell_notes)
    duplicates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DUPLICATE_COLUMNS)
    )
    superseded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=SUPERSEDED_COLUMNS)
    )

    def gap_lines(self) -> list[str]:
        """Expected columns absent or empty: loud, because features would read 0."""
        return [
            f"WARNING: {g['file']} sheet {g['sheet']!r}: expected column {g['column']!r} is "
            f"{g['state']}; features that use it will see no values"
            for g in self.column_gaps
        ]

    def warning_lines(self) -> list[str]:
        """What the printed summary starts with: absent or empty columns, lookalike ids."""
        return self.gap_lines() + lookalikes.warning_lines(self.lookalikes)

    def check_balanced(self) -> None:
        for c in self.counts.values():
            if not c.balanced():
                raise UnbalancedCountsError(
                    f"{c.table}: read {c.read} != loaded {c.loaded} + quarantined "
                    f"{c.quarantined} + duplicates {c.duplicates}"
                )
            if c.final != c.existing - c.existing_dropped + c.loaded:
                raise UnbalancedCountsError(
                    f"{c.table}: {c.final} records != {c.existing} before "
                    f"- {c.existing_dropped} + {c.loaded} loaded"
                )
            per_table = int((self.quarantine["table"] == c.table).sum())
            if per_table != c.quarantined + c.existing_dropped:
                raise UnbalancedCountsError(
                    f"{c.table}: {per_table} quarantine rows != {c.quarantined} counted "
                    f"+ {c.existing_dropped} stored records quarantined"
                )

    @property
    def rows_read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(c.quarantined for c in self.counts.values())

    def reasons(self) -> dict[str, int]:
        """How many quarantined rows gave each reason (a row may give several)."""
        out: dict[str, int] = {}
        for text in self.quarantine["reason"].astype(str):
            for reason in {r.strip() for r in text.split(";")}:
                out[reason] = out.get(reason, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_dict(self) -> dict:
        return {
            "out_dir": str(self.out_dir),
            "reference_date": self.reference_date,
            "reference_date_from": self.reference_date_from,
            "key_fingerprint": self.key_fingerprint,
            "sources": self.sources,
            "tables": {name: c.as_dict() for name, c in self.counts.items()},
            "totals": {
                "read": self.rows_read,
                "loaded": sum(c.loaded for c in self.counts.values()),
                "quarantined": self.rows_quarantined,
                "duplicates": sum(c.duplicates for c in self.counts.values()),
            },
            "quarantine_reasons": self.reasons(),
            "notes": self.notes,
            "column_gaps": self.column_gaps,
            "possible_lookalike_ids": self.lookalikes,
            "cells_loaded_as_missing_or_normalised": len(self.cell_notes),
            "conflicting_duplicates": len(self.duplicates),
            "superseded_for_review": len(self.superseded),
            "ground_truth_rows": self.ground_truth_rows,
            "balanced": all(c.balanced() for c in self.counts.values()),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=str)

    def rich_table(self) -> RichTable:
        table = RichTable(title=f"Ingest (reference date {self.reference_date})")
        for col in (
            "table",
            "read",
            "loaded",
            "quarantined",
            "duplicates",
            "before",
            "stored out",
            "after",
            "ok",
        ):
            table.add_column(
                col, justify="left" if col == "table" else "right", no_wrap=col == "table"
            )
        for c in self.counts.values():
            table.add_row(
                c.table,
                f"{c.read:,}",
                f"{c.loaded:,}",
                f"{c.quarantined:,}",
                f"{c.duplicates:,}",
                f"{c.existing:,}",
                f"{c.existing_dropped:,}",
                f"{c.final:,}",
                "yes" if c.balanced() else "NO",
            )
        return table

    def render(self) -> str:
        """The readable summary: counts per table, top quarantine reasons, notes."""
        console = Console(record=True, width=TABLE_WIDTH, file=io.StringIO())
        for line in self.warning_lines():
            console.print(line, highlight=False)
        console.print(self.rich_table())
        console.print("rows read = rows loaded + rows quarantined + duplicates removed, per table")
        console.print(
            "after = before - stored out + rows loaded; 'stored out': records already stored "
            "that fail this run's checks, in the quarantine as '(already ingested)'"
        )
        reasons = self.reasons()
        if reasons:
            console.print("Quarantine reasons:")
            for reason, n in list(reasons.items())[:15]:
                console.print(f"  {n:>8,}  {reason}")
        for note in self.notes:
            console.print(f"note: {note}")
        return console.export_text()
