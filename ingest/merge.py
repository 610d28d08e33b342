"""One canonical table from many sources: pseudonymise, merge, de-duplicate, check, count.

The same record may arrive from an Annex A workbook, a CIN census return, a local CSV, several
monthly extracts and the tables already ingested. Records are the same when they agree on the
contract's ``dedupe_on`` columns (after pseudonymisation), or when they carry the same record
id from a source that has one (a canonical file's ``referral_id``): then a corrected date
replaces the old record instead of adding a second one.

Every row carries its extract's date. Values are combined column by column, first non-empty
value, newest extract first (then by source priority: local canonical files, Annex A, CIN
census), so the result never depends on the order the files were given or ingested in. Every
extract's view of a record is kept (``observations``), so a rebuild equals the incremental
result, and the versions that differ are written for the features (a value corrected later is
not known to earlier decisions). Every staged row ends up counted exactly once: loaded,
quarantined, or a duplicate merged into another record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from frontdoor.ingest import checks
from frontdoor.ingest.readers import COARSE_ANSWERS
from frontdoor.ingest.staging import (
    PROBLEM,
    PROVENANCE,
    WITHHELD,
    Batch,
    describe,
    empty_cell_notes,
    is_identifying,
)
from frontdoor.records.contract import TABLES, derived_ids
from frontdoor.records.pseudonymise import pseudonymise_series, pseudonymise_value
from frontdoor.records.versions import KNOWN_FROM, OBSERVATION_COLUMNS, cumulative_versions

QUARANTINE_COLUMNS = ["table", "source", "sheet", "row", "column", "value", "reason"]
DUPLICATE_COLUMNS = [
    "table",
    "source",
    "sheet",
    "row",
    "kept_source",
    "kept_sheet",
    "kept_row",
    "columns_differing",
]
SUPERSEDED_COLUMNS = ["table", "source", "sheet", "row", "extract_date", "reason"]
ORDER = ["_extract", "_prio", "_srcname", "_row"]  # newest extract first: see _sort
STAGED_EXTRA = ["_prio", "_extract", "_keyed"]


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
class Stored:
    """What the output folder already holds for one table."""

    current: pd.DataFrame  # the canonical table
    observations: pd.DataFrame  # every extract's view of each record (OBSERVATION_COLUMNS)


@dataclass
class TableResult:
    frame: pd.DataFrame  # contract columns only, pseudonymised, sorted
    quarantine: pd.DataFrame
    counts: TableCounts
    identities: pd.DataFrame  # (pseudonym, la_child_id) pairs seen, children only
    notes: list[str]
    cell_notes: pd.DataFrame = field(default_factory=empty_cell_notes)
    duplicates: pd.DataFrame = field(default_factory=lambda: _empty(DUPLICATE_COLUMNS))
    observations: pd.DataFrame = field(default_factory=pd.DataFrame)
    versions: pd.DataFrame = field(default_factory=pd.DataFrame)
    superseded: pd.DataFrame = field(default_factory=lambda: _empty(SUPERSEDED_COLUMNS))


def stage(batches: list[Batch], table: str) -> pd.DataFrame:
    t = TABLES[table]
    frames = []
    for batch in batches:
        f = batch.frame.copy()
        f["_prio"] = batch.priority
        f["_extract"] = pd.Timestamp(batch.extract_date) if batch.extract_date else pd.NaT
        frames.append(f)
    cols = t.column_names + PROVENANCE + PROBLEM + ["_prio", "_extract"]
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
    stored: Stored | None,
    key: bytes,
    reference: date,
    children: pd.DataFrame | None,
    known: dict[str, dict[object, str]] | None = None,
) -> TableResult:
    """Screen, pseudonymise, merge with what is stored, check and count one table.

    ``children``: the children table of this run (None while building it), for the orphan
    and date-of-birth checks. ``known``: child and household pseudonyms made by this run
    for earlier tables (each id is hashed once per run)."""
    staged = stage(batches, table)
    counts = TableCounts(table=table, read=len(staged))
    staged, quarantine = _screen(staged, table, reference, counts)
    staged, identities = _pseudonymise(staged, table, key, {} if known is None else known)
    allrows = _with_stored(staged, stored, table, counts)
    merged, notes, duplicates = _merge(allrows, table, key)
    typed, failures, final_failures = _check_merged(
        merged, allrows, table, key, reference, children
    )
    quarantine += _count_new(allrows, failures, final_failures, table, counts)
    dropped, stored_note = _stored_failures(allrows, final_failures, table, counts)
    quarantine += dropped
    notes += stored_note
    new_gids = _new_groups(allrows, failures, final_failures)
    notes.extend(_optional_columns_lost(typed, allrows, new_gids, table))
    final = typed.drop(index=list(set(final_failures.index)))
    observations = _observations(allrows, failures, final_failures, final, table)
    versions = cumulative_versions(observations, table)
    t = TABLES[table]
    order = [c for c in (t.event_date, t.key) if c] if t.event_date else [t.key]
    final = final.sort_values(order, kind="stable").reset_index(drop=True)
    counts.final = len(final)
    q = pd.concat([x for x in quarantine if len(x)] or [_empty_q()], ignore_index=True)
    cells = [b.cell_notes for b in batches if len(b.cell_notes)]
    return TableResult(
        frame=final,
        quarantine=q,
        counts=counts,
        identities=identities,
        notes=notes,
        cell_notes=pd.concat(cells, ignore_index=True) if cells else empty_cell_notes(),
        duplicates=duplicates,
        observations=observations.drop(columns=["_gid"]),
        versions=versions,
        superseded=_superseded(observations, final, table),
    )


# --- 1. screening: cell problems found while reading, records that cannot be identified --
def _screen(staged: pd.DataFrame, table: str, reference: date, counts: TableCounts):
    t = TABLES[table]
    quarantine: list[pd.DataFrame] = []
    bad = staged["_preason"].notna()
    if bad.any():
        _add_date_reasons(staged, bad, table, reference)
    p = staged.loc[bad]
    quarantine.append(_q(p, table, p["_pcolumn"], p["_pvalue"], p["_preason"]))
    staged = staged[~bad]
    identity_cols = list(dict.fromkeys(["child_id", *t.dedupe_on]))
    missing = staged[identity_cols].isna()
    no_id = missing.any(axis=1)
    if no_id.any():
        cols = missing[no_id].apply(lambda r: "; ".join(c for c in identity_cols if r[c]), axis=1)
        quarantine.append(_q(staged[no_id], table, cols, "", "missing required value"))
    counts.quarantined = int(bad.sum() + no_id.sum())
    return staged[~no_id].copy(), quarantine


# --- 2. pseudonymise at the boundary; derive record ids the sources do not carry ---------
def _pseudonymise(staged: pd.DataFrame, table: str, key: bytes, known: dict):
    t = TABLES[table]
    raw_child = staged["child_id"].astype(str)
    identities = pd.DataFrame(columns=["pseudonym", "la_child_id"])
    staged["_keyed"] = False
    if t.key != "child_id":
        staged["_keyed"] = staged[t.key].notna()
        if staged[t.key].isna().any():
            derived = derived_ids(staged, table)
            staged[t.key] = staged[t.key].where(staged[t.key].notna(), derived)
        staged[t.key] = pseudonymise_series(key, staged[t.key].astype(str), table)
    staged["child_id"] = pseudonymise_series(key, raw_child, "child", known.setdefault("child", {}))
    if table == "children":
        identities = pd.DataFrame(
            {"pseudonym": staged["child_id"], "la_child_id": raw_child}
        ).drop_duplicates("pseudonym")
    if "household_id" in t.column_names:  # children and household memberships: one namespace
        hh = staged["household_id"]
        staged["household_id"] = pseudonymise_series(
            key, hh.where(hh.notna()), "household", known.setdefault("household", {})
        )
    staged["_existing"] = False
    return staged, identities


# --- 3. what is already stored joins as rows with their own extract dates -----------------
def _with_stored(
    staged: pd.DataFrame, stored: Stored | None, table: str, counts: TableCounts
) -> pd.DataFrame:
    t = TABLES[table]
    if stored is None or not len(stored.current):
        allrows = staged.reset_index(drop=True)
    else:
        obs = stored.observations
        old = obs[t.column_names].copy()
        old["_source"], old["_sheet"], old["_row"] = (
            obs["from_file"],
            obs["from_sheet"],
            obs["from_row"],
        )
        old["_prio"], old["_extract"] = obs["from_priority"], obs[KNOWN_FROM]
        old["_keyed"] = obs["from_keyed"]
        old["_existing"] = True
        counts.existing = len(stored.current)
        allrows = pd.concat([staged, old], ignore_index=True, sort=False)
    sources = pd.unique(allrows["_source"])  # a few files: each name worked out once
    names = {s: str(s).replace("\\", "/").split("/")[-1] for s in sources}
    allrows["_srcname"] = allrows["_source"].map(names)
    allrows["_extract"] = pd.to_datetime(allrows["_extract"]).astype("datetime64[ns]")
    allrows["_row"] = allrows["_row"].astype("int64")
    allrows["_keyed"] = allrows["_keyed"].astype(bool)
    return _sort(allrows)


def _sort(rows: pd.DataFrame) -> pd.DataFrame:
    """Newest extract first, then source priority, file name and row: an order that does not
    depend on the order the files arrived in."""
    newest = rows.assign(_neg=-rows["_extract"].astype("int64"))
    newest = newest.sort_values(["_neg", "_prio", "_srcname", "_row"], kind="stable")
    return newest.drop(columns="_neg").reset_index(drop=True)


# --- 4. one record per identity: dedupe columns, or the source's own record id ------------
def _groups(allrows: pd.DataFrame, table: str) -> pd.Series:
    t = TABLES[table]
    gid = allrows.groupby(list(t.dedupe_on), sort=False, dropna=False).ngroup()
    if t.key == "child_id" or not allrows["_keyed"].any():
        return gid
    # A record id from the source joins all rows carrying it into the group of its newest
    # row (rows are sorted newest first): a corrected date replaces the old record.
    keyed = allrows[allrows["_keyed"]]
    newest = gid[keyed.index].groupby(keyed[t.key].to_numpy()).first()
    moved = keyed[t.key].map(newest)
    remap = pd.Series(moved.to_numpy(), index=gid[keyed.index].to_numpy())
    remap = remap[~remap.index.duplicated()]
    gid = gid.copy()
    gid[keyed.index] = moved.to_numpy()
    # Rows without a record id that shared a group with a moved keyed row follow it.
    others = ~allrows["_keyed"] & gid.isin(remap.index)
    gid[others] = gid[others].map(remap)
    return pd.Series(pd.factorize(gid)[0], index=allrows.index)


def _merge(allrows: pd.DataFrame, table: str, key: bytes):
    t = TABLES[table]
    allrows["_gid"] = _groups(allrows, table)
    _refine_coarse(allrows, table)
    merged = allrows.groupby("_gid", sort=True)[t.column_names].first()
    notes, duplicates = _conflicts(allrows, table)
    _defaults(merged, table, key)
    return merged, notes, duplicates


def _refine_coarse(allrows: pd.DataFrame, table: str) -> None:
    """A coarse answer (Annex A's yes/no for an assessment's outcome) takes the finer code
    another source gives the same record in the same class (strategy_s47 for a yes), the
    newest such row first; a coarse answer of the other class (the outcome changed) is left
    as it is, and the newest extract wins as for any value. In place, before the merge."""
    for prio, columns in COARSE_ANSWERS.items():
        for (name, column), classes in columns.items():
            if name != table or column not in allrows.columns:
                continue
            answer = allrows[column].map(classes)
            coarse = (allrows["_prio"] == prio) & answer.notna()
            fine = (allrows["_prio"] != prio) & answer.notna()
            if not (coarse.any() and fine.any()):
                continue
            finest = (
                pd.DataFrame({"_gid": allrows["_gid"], "_answer": answer, "_code": allrows[column]})
                .loc[fine]
                .drop_duplicates(["_gid", "_answer"])  # rows are sorted newest first
                .set_index(["_gid", "_answer"])["_code"]
            )
            wanted = pd.MultiIndex.from_arrays([allrows.loc[coarse, "_gid"], answer[coarse]])
            refined = finest.reindex(wanted).to_numpy()
            current = allrows.loc[coarse, column].to_numpy()
            allrows.loc[coarse, column] = [
                c if f is None or f != f else f for c, f in zip(current, refined, strict=True)
            ]


# --- 5. checks on merged records -----------------------------------------------------------
def _check_merged(merged, allrows, table, key, reference, children):
    """A stored record whose merge with new rows fails is kept as it was stored (only the
    new rows are quarantined) and checked again on its own."""
    t = TABLES[table]
    typed = _typed(merged, table)
    failures = _check(typed, table, reference, children)
    old_rows = allrows[allrows["_existing"]]
    restore = sorted(set(failures.index) & set(old_rows["_gid"]))
    if not restore:
        return typed, failures, failures
    stored = old_rows[old_rows["_gid"].isin(restore)].groupby("_gid")[t.column_names].first()
    _defaults(stored, table, key)
    typed.loc[restore] = _typed(stored, table)
    typed = _typed(typed, table)
    return typed, failures, _check(typed, table, reference, children)


# --- 6. count every staged row once; quarantine the new rows of failing records -----------
def _count_new(allrows, failures, final_failures, table, counts) -> list[pd.DataFrame]:
    new = allrows[~allrows["_existing"]]
    new_failed = set(failures.index) | set(final_failures.index)
    in_failed = new["_gid"].isin(new_failed)
    fq = new[in_failed]
    out = []
    if len(fq):
        f = pd.concat([failures, final_failures[~final_failures.index.isin(failures.index)]])
        f = f.loc[fq["_gid"]]
        out.append(_q(fq, table, f["column"].to_numpy(), _shown(f, table), f["reason"].to_numpy()))
    counts.quarantined += int(in_failed.sum())
    kept_new = new[~in_failed]
    has_existing = allrows.groupby("_gid")["_existing"].any()
    per_group = kept_new.groupby("_gid").size()
    with_old = per_group.index.isin(has_existing[has_existing].index)
    counts.loaded = int((~with_old).sum())
    counts.duplicates = int(per_group.sum() - counts.loaded)
    return out


def _new_groups(allrows, failures, final_failures) -> pd.Index:
    """Groups made only of this run's rows, and loaded."""
    has_existing = allrows.groupby("_gid")["_existing"].any()
    failed = set(failures.index) | set(final_failures.index)
    fresh = has_existing[~has_existing].index
    return fresh[~fresh.isin(list(failed))]


def _stored_failures(allrows, final_failures, table, counts):
    """A stored record that fails on its own (an earlier reference date, its child gone) is
    never dropped silently: it goes to the quarantine with its reason and is counted."""
    old_rows = allrows[allrows["_existing"]]
    old_failed = old_rows[old_rows["_gid"].isin(set(final_failures.index))]
    old_failed = old_failed.drop_duplicates("_gid")
    counts.existing_dropped = len(old_failed)
    if not len(old_failed):
        return [], []
    f = final_failures.loc[old_failed["_gid"]]
    q = _q(old_failed, table, f["column"].to_numpy(), _shown(f, table), f["reason"].to_numpy())
    q["source"], q["sheet"], q["row"] = "(already ingested)", "", -1
    note = (
        f"{table}: {len(old_failed):,} record(s) already stored failed the checks of this run "
        "and were moved to the quarantine (source '(already ingested)')"
    )
    return [q], [note]


# --- 7. every extract's view of each record, kept for later runs and versions ------------
def _observations(allrows, failures, final_failures, final, table: str) -> pd.DataFrame:
    """One row per (record, extract date): the first non-empty value of that extract's rows.
    Rows of failing records are left out (their stored rows stay when the record was kept)."""
    keep = allrows["_gid"].isin(final.index)
    new_failed = set(failures.index) | set(final_failures.index)
    keep &= allrows["_existing"] | ~allrows["_gid"].isin(new_failed)
    rows = allrows[keep]
    cols = [c for c in rows.columns if not c.startswith("_")]
    grouped = rows.groupby(["_gid", "_extract"], sort=False)
    first = grouped[cols + ["_prio", "_keyed", "_source", "_sheet", "_row"]].first()
    obs = first.reset_index()
    # The record id is the record's (a corrected keyed record renames older views).
    key = TABLES[table].key
    obs[key] = obs["_gid"].map(final[key])
    out = obs.rename(
        columns={
            "_extract": KNOWN_FROM,
            "_prio": "from_priority",
            "_keyed": "from_keyed",
            "_source": "from_file",
            "_sheet": "from_sheet",
            "_row": "from_row",
        }
    )
    out["from_file"] = _file_names(out["from_file"])
    return out[["_gid", *cols, *OBSERVATION_COLUMNS]]


def _file_names(paths: pd.Series) -> pd.Series:
    """Each path's file name (text), worked out once per distinct path: a few files, many rows."""

    def name(path: object) -> str:
        return str(path).replace("\\", "/").split("/")[-1]

    values = paths.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    out = np.empty(len(values), dtype=object)
    present = codes >= 0
    out[present] = np.array([name(u) for u in uniques], dtype=object)[codes[present]]
    out[~present] = [name(v) for v in values[~present]]  # "None", "nan": as str() has them
    return pd.Series(out, index=paths.index, dtype="str" if len(out) else object)


def _superseded(observations: pd.DataFrame, final: pd.DataFrame, table: str) -> pd.DataFrame:
    """Records (without a record id of their own) that the newest extract of their kind no
    longer lists although it covers their date: corrected (a new date makes a new record
    when the format has no record id) or deleted. Kept, and listed for review."""
    t = TABLES[table]
    if not t.event_date or observations.empty:
        return _empty(SUPERSEDED_COLUMNS)
    obs = observations
    newest = obs.groupby("from_priority")[KNOWN_FROM].max()
    out = []
    for prio, when in newest.items():
        latest = obs[(obs["from_priority"] == prio) & (obs[KNOWN_FROM] == when)]
        since = latest[t.event_date].min()
        mine = obs[obs["from_priority"] == prio]
        last = mine.groupby("_gid").agg(
            last=(KNOWN_FROM, "max"), keyed=("from_keyed", "any"), day=(t.event_date, "first")
        )
        gone = last[(last["last"] < when) & ~last["keyed"] & (last["day"] >= since)]
        if gone.empty:
            continue
        rows = mine[mine["_gid"].isin(gone.index)].sort_values(KNOWN_FROM).groupby("_gid").last()
        out.append(
            pd.DataFrame(
                {
                    "table": table,
                    "source": rows["from_file"].to_numpy(),
                    "sheet": rows["from_sheet"].to_numpy(),
                    "row": rows["from_row"].to_numpy(),
                    "extract_date": rows[KNOWN_FROM].dt.date.astype(str).to_numpy(),
                    "reason": f"not in the newer extract of {when.date().isoformat()}, which "
                    f"covers its {t.event_date}: corrected or deleted there? (kept)",
                }
            )
        )
    return pd.concat(out, ignore_index=True) if out else _empty(SUPERSEDED_COLUMNS)


def _optional_columns_lost(typed, allrows, new_gids, table: str) -> list[str]:
    """A note when this run's new records leave an optional coded column empty that the stored
    records fill (e.g. presenting concerns: an Annex A month without its case-system file),
    because the features that read it would then be 0 for the new records, without an error."""
    t = TABLES[table]
    has_existing = allrows.groupby("_gid")["_existing"].any()
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
    """Failure values for the quarantine: typed dates and codes from the code lists are
    shown; identifiers and dates of birth are withheld; anything else is only described."""
    t = TABLES[table]
    out = []
    for col, v in zip(failures["column"], failures["value"], strict=True):
        names = [c.strip() for c in col.split(";")]
        if any(is_identifying(table, c) for c in names):
            out.append(WITHHELD)
        elif all(_safe_column(t, c) for c in names):
            out.append(v)
        else:
            out.append("; ".join(describe(x) if x else "" for x in v.split("; ")))
    return out


def _safe_column(t, name: str) -> bool:
    """Values of this column cannot identify anyone: dates, codes from a code list, flags."""
    if name not in t.column_names:
        return False
    column = t.column(name)
    return column.dtype in ("date", "bool") or bool(column.allowed)


def _check(
    typed: pd.DataFrame, table: str, reference: date, children: pd.DataFrame | None
) -> pd.DataFrame:
    """Every failing merged record (index), with its columns, values and reasons."""
    t = TABLES[table]
    parts = checks.required(typed, table)
    dup_key = typed[t.key].duplicated(keep="first") & typed[t.key].notna()
    parts.append(checks._failures(typed, dup_key, t.key, "record id used by another record"))
    parts += checks.contract(typed, table)
    births = None
    if children is not None:
        births = children.drop_duplicates("child_id").set_index("child_id")["birth_month"]
    parts += checks.dates(typed, table, reference, births)
    if table != "children" and children is not None:
        parts += checks.orphans(typed, pd.Index(children["child_id"]))
    return checks.collect(parts)


def _conflicts(allrows: pd.DataFrame, table: str) -> tuple[list[str], pd.DataFrame]:
    """Records whose rows disagree on a value: the newest extract's value is kept (then the
    first by source priority); each row that lost is named in the duplicates list."""
    t = TABLES[table]
    shared = allrows.groupby("_gid").size()
    multi = allrows[allrows["_gid"].isin(shared[shared > 1].index)]
    if multi.empty:
        return [], _empty(DUPLICATE_COLUMNS)
    cols = [c for c in t.column_names if c not in (*t.dedupe_on, t.key)]
    counts = multi.groupby("_gid")[cols].nunique(dropna=True)
    found = {c: int((counts[c] > 1).sum()) for c in cols if (counts[c] > 1).any()}
    if not found:
        return [], _empty(DUPLICATE_COLUMNS)
    conflicting = multi[multi["_gid"].isin(counts.index[(counts > 1).any(axis=1)])]
    kept = conflicting.groupby("_gid")[cols].first()
    first_row = conflicting.groupby("_gid")[["_source", "_sheet", "_row"]].first()
    lost = conflicting[conflicting.duplicated("_gid", keep="first")]
    base = kept.loc[lost["_gid"]].reset_index(drop=True)
    mine = lost[cols].reset_index(drop=True)
    differ = (
        (mine.notna() & base.notna() & (mine.astype(object) != base.astype(object))).apply(
            lambda r: ", ".join(c for c in cols if r[c]), axis=1
        )
        if len(lost)
        else pd.Series(dtype=object)
    )
    winner = first_row.loc[lost["_gid"]].reset_index(drop=True)
    dupes = pd.DataFrame(
        {
            "table": table,
            "source": lost["_source"].astype(str).to_numpy(),
            "sheet": lost["_sheet"].astype(str).to_numpy(),
            "row": lost["_row"].astype("int64").to_numpy(),
            "kept_source": winner["_source"].astype(str).to_numpy(),
            "kept_sheet": winner["_sheet"].astype(str).to_numpy(),
            "kept_row": winner["_row"].astype("int64").to_numpy(),
            "columns_differing": differ.to_numpy(),
        }
    )
    dupes = dupes[dupes["columns_differing"] != ""].reset_index(drop=True)
    listed = ", ".join(f"{c} ({n:,})" for c, n in found.items())
    note = (
        f"{table}: sources disagree on {listed} for some records; kept the newest extract's "
        "value (then canonical files, Annex A, CIN census); each row set aside is named in "
        "the quarantine folder's duplicates.csv"
    )
    return [note], dupes


def _add_date_reasons(staged: pd.DataFrame, bad: pd.Series, table: str, reference: date) -> None:
    """Rows already bad also get their date reasons, so every quarantine reason is listed."""
    rows = staged.loc[bad, TABLES[table].column_names].copy()
    for col in TABLES[table].date_columns:
        rows[col] = pd.to_datetime(rows[col], errors="coerce")
    more = checks.collect(checks.dates(rows, table, reference))
    for idx, r in more.iterrows():
        staged.at[idx, "_preason"] = f"{staged.at[idx, '_preason']}; {r['reason']}"
        staged.at[idx, "_pcolumn"] = f"{staged.at[idx, '_pcolumn']}; {r['column']}"
        shown = WITHHELD if is_identifying(table, r["column"]) else r["value"]
        staged.at[idx, "_pvalue"] = f"{staged.at[idx, '_pvalue']}; {shown}"


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


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c in ("row", "kept_row") else object) for c in columns}
    )


def _empty_q() -> pd.DataFrame:
    return _empty(QUARANTINE_COLUMNS)
