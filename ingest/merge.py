"""One canonical table from many sources: pseudonymise, merge, de-duplicate, check, count.

The same record may arrive from an Annex A workbook, a CIN census return, a local CSV and the
tables already ingested. Records are the same when they agree on the contract's ``dedupe_on``
columns (after pseudonymisation); their values are combined column by column, first non-empty
value by source priority (local canonical files, then Annex A, then CIN census, then what was
already there). Every staged row ends up counted exactly once: loaded, quarantined, or a
duplicate merged into another record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd

from frontdoor.ingest import checks
from frontdoor.ingest.staging import PROBLEM, PROVENANCE, WITHHELD, Batch, is_identifying
from frontdoor.records.contract import TABLES, derived_ids
from frontdoor.records.pseudonymise import pseudonymise_series, pseudonymise_value

EXISTING_PRIORITY = 1_000
QUARANTINE_COLUMNS = ["table", "source", "sheet", "row", "column", "value", "reason"]


@dataclass
class TableCounts:
    table: str
    read: int = 0  # rows staged from this run's sources
    loaded: int = 0  # new records added
    quarantined: int = 0
    duplicates: int = 0  # rows merged into another record (from this run or already stored)
    existing: int = 0  # records already in the output folder before this run
    existing_dropped: int = 0
    final: int = 0  # records in the table after this run

    def balanced(self) -> bool:
        return self.read == self.loaded + self.quarantined + self.duplicates

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TableResult:
    frame: pd.DataFrame  # contract columns only, pseudonymised, sorted
    quarantine: pd.DataFrame
    counts: TableCounts
    identities: pd.DataFrame  # (pseudonym, la_child_id) pairs seen, children only
    notes: list[str]


def stage(batches: list[Batch], table: str) -> pd.DataFrame:
    t = TABLES[table]
    frames = []
    for batch in batches:
        f = batch.frame.copy()
        f["_prio"] = batch.priority
        frames.append(f)
    cols = t.column_names + PROVENANCE + PROBLEM + ["_prio"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    staged = pd.concat(frames, ignore_index=True, sort=False)
    for c in cols:
        if c not in staged.columns:
            staged[c] = None
    return staged[cols]


def process_table(
    table: str,
    batches: list[Batch],
    existing: pd.DataFrame | None,
    key: bytes,
    reference: date,
    known_children: pd.Index | None,
) -> TableResult:
    t = TABLES[table]
    staged = stage(batches, table)
    counts = TableCounts(table=table, read=len(staged))
    quarantine: list[pd.DataFrame] = []

    # 1. Cell problems found while reading, and records that cannot be identified.
    bad = staged["_preason"].notna()
    if bad.any():
        _add_date_reasons(staged, bad, table, reference)
    quarantine.append(
        _q(
            staged[bad],
            table,
            staged.loc[bad, "_pcolumn"],
            staged.loc[bad, "_pvalue"],
            staged.loc[bad, "_preason"],
        )
    )
    staged = staged[~bad]
    identity_cols = list(dict.fromkeys(["child_id", *t.dedupe_on]))
    missing = staged[identity_cols].isna()
    no_id = missing.any(axis=1)
    if no_id.any():
        cols = missing[no_id].apply(lambda r: "; ".join(c for c in identity_cols if r[c]), axis=1)
        quarantine.append(_q(staged[no_id], table, cols, "", "missing required value"))
    staged = staged[~no_id].copy()
    counts.quarantined = int(bad.sum() + no_id.sum())

    # 2. Pseudonymise at the boundary; derive record ids the sources do not carry.
    raw_child = staged["child_id"].astype(str)
    identities = pd.DataFrame(columns=["pseudonym", "la_child_id"])
    if t.key != "child_id":
        if staged[t.key].isna().any():
            derived = derived_ids(staged, table)
            staged[t.key] = staged[t.key].where(staged[t.key].notna(), derived)
        staged[t.key] = pseudonymise_series(key, staged[t.key].astype(str), table)
    staged["child_id"] = pseudonymise_series(key, raw_child, "child")
    if table == "children":
        identities = pd.DataFrame(
            {"pseudonym": staged["child_id"], "la_child_id": raw_child}
        ).drop_duplicates("pseudonym")
    if "household_id" in t.column_names:  # children and household memberships: one namespace
        hh = staged["household_id"]
        staged["household_id"] = pseudonymise_series(key, hh.where(hh.notna()), "household")
    staged["_existing"] = False

    # 3. Merge with what is already stored, then one record per dedupe key.
    if existing is not None and len(existing):
        old = existing[t.column_names].copy()
        old["_source"], old["_sheet"], old["_row"] = "(already ingested)", "", -1
        old["_prio"], old["_existing"] = EXISTING_PRIORITY, True
        counts.existing = len(old)
        allrows = pd.concat([staged, old], ignore_index=True, sort=False)
    else:
        allrows = staged.reset_index(drop=True)
    allrows = allrows.sort_values("_prio", kind="stable").reset_index(drop=True)
    grouped = allrows.groupby(list(t.dedupe_on), sort=False, dropna=False)
    allrows["_gid"] = grouped.ngroup()
    merged = allrows.groupby("_gid", sort=True)[t.column_names].first()
    notes = _conflicts(allrows, table)
    _defaults(merged, table, key)
    typed = _typed(merged, table)

    # 4. Checks on merged records. A stored record whose merge with new rows fails is kept
    # as it was stored (only the new rows are quarantined) and checked again on its own.
    failures = _check(typed, table, reference, known_children)
    old_rows = allrows[allrows["_existing"]]
    restore = sorted(set(failures.index) & set(old_rows["_gid"]))
    if restore:
        stored = old_rows[old_rows["_gid"].isin(restore)].groupby("_gid")[t.column_names].first()
        _defaults(stored, table, key)
        typed.loc[restore] = _typed(stored, table)
        typed = _typed(typed, table)
    final_failures = _check(typed, table, reference, known_children) if restore else failures

    # 5. Count every staged row once, and quarantine the new rows of failing records.
    new = allrows[~allrows["_existing"]]
    new_failed = set(failures.index) | set(final_failures.index)
    in_failed = new["_gid"].isin(new_failed)
    fq = new[in_failed]
    if len(fq):
        f = pd.concat([failures, final_failures[~final_failures.index.isin(failures.index)]])
        f = f.loc[fq["_gid"]]
        quarantine.append(
            _q(fq, table, f["column"].to_numpy(), _shown(f, table), f["reason"].to_numpy())
        )
    counts.quarantined += int(in_failed.sum())
    kept_new = new[~in_failed]
    has_existing = allrows.groupby("_gid")["_existing"].any()
    per_group = kept_new.groupby("_gid").size()
    with_old = per_group.index.isin(has_existing[has_existing].index)
    counts.loaded = int((~with_old).sum())
    counts.duplicates = int(per_group.sum() - counts.loaded)

    # A stored record that fails on its own (an earlier reference date, its child gone) is
    # never dropped silently: it goes to the quarantine with its reason and is counted.
    failed_gids = set(final_failures.index)
    old_failed = old_rows[old_rows["_gid"].isin(failed_gids)]
    old_failed = old_failed.drop_duplicates("_gid")
    counts.existing_dropped = len(old_failed)
    if len(old_failed):
        f = final_failures.loc[old_failed["_gid"]]
        quarantine.append(
            _q(old_failed, table, f["column"].to_numpy(), _shown(f, table), f["reason"].to_numpy())
        )
        notes.append(
            f"{table}: {len(old_failed):,} record(s) already stored failed the checks of this run "
            "and were moved to the quarantine (source '(already ingested)')"
        )

    notes.extend(_optional_columns_lost(typed, per_group.index[~with_old], has_existing, table))
    final = typed.drop(index=list(failed_gids))
    order = [c for c in (t.event_date, t.key) if c] if t.event_date else [t.key]
    final = final.sort_values(order, kind="stable").reset_index(drop=True)
    counts.final = len(final)
    q = pd.concat([x for x in quarantine if len(x)] or [_empty_q()], ignore_index=True)
    return TableResult(frame=final, quarantine=q, counts=counts, identities=identities, notes=notes)


def _optional_columns_lost(typed, new_gids, has_existing, table: str) -> list[str]:
    """A note when this run's new records leave an optional coded column empty that the stored
    records fill (e.g. presenting concerns: an Annex A month without its case-system file),
    because the features that read it would then be 0 for the new records, without an error."""
    t = TABLES[table]
    notes = []
    stored = typed.loc[has_existing[has_existing].index.intersection(typed.index)]
    fresh = typed.loc[pd.Index(new_gids).intersection(typed.index)]
    for c in t.columns:
        if c.dtype != "factors" or not c.nullable or fresh.empty or stored.empty:
            continue
        if fresh[c.name].isna().all() and stored[c.name].notna().any():
            notes.append(
                f"{table}: none of the {len(fresh):,} new records has {c.name}, though "
                f"{int(stored[c.name].notna().sum()):,} stored records do; the features that "
                f"count {c.name} will be 0 for them (is a file such as {table}.extra.csv missing?)"
            )
    return notes


def _shown(failures: pd.DataFrame, table: str) -> list[str]:
    """Failure values for the quarantine; identifiers and dates of birth are withheld."""
    return [
        WITHHELD if any(is_identifying(table, c.strip()) for c in col.split(";")) else v
        for col, v in zip(failures["column"], failures["value"], strict=True)
    ]


def _check(
    typed: pd.DataFrame, table: str, reference: date, known_children: pd.Index | None
) -> pd.DataFrame:
    """Every failing merged record (index), with its columns, values and reasons."""
    t = TABLES[table]
    parts = checks.required(typed, table)
    dup_key = typed[t.key].duplicated(keep="first") & typed[t.key].notna()
    parts.append(checks._failures(typed, dup_key, t.key, "record id used by another record"))
    parts += checks.contract(typed, table)
    parts += checks.dates(typed, table, reference)
    if table != "children" and known_children is not None:
        parts += checks.orphans(typed, known_children)
    return checks.collect(parts)


def _conflicts(allrows: pd.DataFrame, table: str) -> list[str]:
    """Records whose sources disagree on a value (the first by source priority is kept)."""
    t = TABLES[table]
    shared = allrows.groupby("_gid").size()
    multi = allrows[allrows["_gid"].isin(shared[shared > 1].index)]
    if multi.empty:
        return []
    cols = [c for c in t.column_names if c not in (*t.dedupe_on, t.key)]
    counts = multi.groupby("_gid")[cols].nunique(dropna=True)
    found = {c: int((counts[c] > 1).sum()) for c in cols if (counts[c] > 1).any()}
    if not found:
        return []
    listed = ", ".join(f"{c} ({n:,})" for c, n in found.items())
    return [
        f"{table}: sources disagree on {listed} for some records; kept the value from the "
        "first source in priority order (canonical files, Annex A, CIN census, earlier ingest)"
    ]


def _add_date_reasons(staged: pd.DataFrame, bad: pd.Series, table: str, reference: date) -> None:
    """Rows already bad also get their date reasons, so every quarantine reason is listed."""
    rows = staged.loc[bad, TABLES[table].column_names].copy()
    for col in TABLES[table].date_columns:
        rows[col] = pd.to_datetime(rows[col], errors="coerce")
    more = checks.collect(checks.dates(rows, table, reference))
    for idx, r in more.iterrows():
        staged.at[idx, "_preason"] = f"{staged.at[idx, '_preason']}; {r['reason']}"
        staged.at[idx, "_pcolumn"] = f"{staged.at[idx, '_pcolumn']}; {r['column']}"
        staged.at[idx, "_pvalue"] = f"{staged.at[idx, '_pvalue']}; {r['value']}"


def _defaults(merged: pd.DataFrame, table: str, key: bytes) -> None:
    """Values the statutory returns do not hold, made explicit (docs/ingestion.md)."""
    if table == "children":
        no_hh = merged["household_id"].isna()
        if no_hh.any():
            # No household known: the child forms a household of its own.
            merged.loc[no_hh, "household_id"] = merged.loc[no_hh, "child_id"].map(
                lambda c: pseudonymise_value(key, f"own:{c}", "household")
            )
        merged["disability"] = merged["disability"].where(merged["disability"].notna(), False)
    if table == "assessments":
        merged["factors"] = merged["factors"].where(merged["factors"].notna(), "")


def _typed(merged: pd.DataFrame, table: str) -> pd.DataFrame:
    out = {}
    for col in TABLES[table].columns:
        s = merged[col.name]
        if col.dtype == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]")
        elif col.dtype == "int":
            s = pd.to_numeric(s, errors="coerce").astype("Float64").astype("Int64")
        elif col.dtype == "bool":
            s = s.astype(object)
        else:
            s = s.astype(object).where(s.notna(), None)
        out[col.name] = s
    return pd.DataFrame(out, index=merged.index)


def _q(rows: pd.DataFrame, table: str, column, value, reason) -> pd.DataFrame:
    n = len(rows)
    if n == 0:
        return _empty_q()

    def arr(v):
        return (
            v.to_numpy()
            if isinstance(v, pd.Series)
            else ([v] * n if not hasattr(v, "__len__") or isinstance(v, str) else v)
        )

    return pd.DataFrame(
        {
            "table": table,
            "source": rows["_source"].astype(str).to_numpy(),
            "sheet": rows["_sheet"].astype(str).to_numpy(),
            "row": rows["_row"].astype("int64").to_numpy(),
            "column": arr(column),
            "value": arr(value),
            "reason": arr(reason),
        }
    )


def _empty_q() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "row" else object) for c in QUARANTINE_COLUMNS}
    )
