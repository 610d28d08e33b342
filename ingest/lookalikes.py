"""Identifiers that differ only in leading zeros (``00123`` and ``123``): possible lookalikes.

Leading zeros can be significant in a council's ids (two case systems, or a number padded in
one extract and not in the other), so they are never merged on a guess: the ids stay separate
children (households, records). But a data team must hear about them: every row holding one
is listed in ``quarantine_cells.csv`` (file, sheet, row, column, rule; never the id), the
printed summary starts with a WARNING per id kind, and the manifest lists each group as
pseudonyms (``possible_lookalike_ids``) to look up through the re-identification lookup and
check in the case system. Only the ids of the run's own sources are compared (stored records
hold pseudonyms, which cannot be compared).
"""

from __future__ import annotations

import re

import pandas as pd

from frontdoor.ingest.readers import ReadResult
from frontdoor.records.contract import TABLES
from frontdoor.records.pseudonymise import pseudonymise_value

RULE = "possible lookalike: differs from another id only in leading zeros (kept separate)"
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")  # zeros that start a run of digits


def namespace(table: str, column: str) -> str:
    """The pseudonym namespace of an id column (as ``merge._pseudonymise`` uses it)."""
    if column == "child_id":
        return "child"
    if column == "household_id":
        return "household"
    return table


def _id_columns(table: str, frame: pd.DataFrame) -> list[str]:
    return [c.name for c in TABLES[table].columns if c.dtype == "id" and c.name in frame.columns]


def _groups(results: list[ReadResult]) -> dict[str, list[list[str]]]:
    """Per namespace, the sets of distinct ids (as cleaned) that agree once leading zeros
    are removed from every run of digits."""
    seen: dict[str, set[str]] = {}
    for r in results:
        for b in r.batches:
            for column in _id_columns(b.table, b.frame):
                ids = b.frame[column].dropna().astype(str)
                # as a list first: iterating an Arrow string array makes one object at a time
                seen.setdefault(namespace(b.table, column), set()).update(ids.unique().tolist())
    out: dict[str, list[list[str]]] = {}
    for space, ids in seen.items():
        by_key: dict[str, list[str]] = {}
        for value in ids:
            by_key.setdefault(_LEADING_ZEROS.sub("", value), []).append(value)
        groups = sorted(sorted(g) for g in by_key.values() if len(g) > 1)
        if groups:
            out[space] = groups
    return out


def note_lookalikes(results: list[ReadResult], key: bytes) -> list[dict]:
    """Add a cell note to every row holding a possible lookalike id; return the groups as
    pseudonyms for the manifest (sorted, so the same sources give the same manifest)."""
    groups = _groups(results)
    if not groups:
        return []
    flagged = {space: {v for g in gs for v in g} for space, gs in groups.items()}
    for r in results:
        for b in r.batches:
            notes = [b.cell_notes]
            for column in _id_columns(b.table, b.frame):
                hit = (
                    b.frame[column].astype(object).isin(flagged.get(namespace(b.table, column), ()))
                )
                if hit.any():
                    f = b.frame[hit]
                    notes.append(
                        pd.DataFrame(
                            {
                                "table": b.table,
                                "source": f["_source"],
                                "sheet": f["_sheet"],
                                "row": f["_row"].astype("int64"),
                                "column": column,
                                "rule": RULE,
                            }
                        )
                    )
            if len(notes) > 1:
                b.cell_notes = pd.concat([n for n in notes if len(n)], ignore_index=True)
    return [
        {
            "namespace": space,
            "pseudonyms": sorted(pseudonymise_value(key, v, space) for v in group),
        }
        for space, gs in sorted(groups.items())
        for group in gs
    ]


def warning_lines(lookalikes: list[dict]) -> list[str]:
    """One loud line per id kind: how many groups, and where they are listed."""
    counts: dict[str, int] = {}
    for g in lookalikes:
        counts[g["namespace"]] = counts.get(g["namespace"], 0) + 1
    return [
        f"WARNING: {n:,} group(s) of {space} ids differ only in leading zeros (such as 00123 and "
        f"123); kept as separate {space} ids: check them in the case system (rows in "
        f"quarantine_cells.csv, pseudonyms in the manifest's possible_lookalike_ids)"
        for space, n in counts.items()
    ]
