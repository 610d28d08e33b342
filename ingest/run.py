"""``ingest_sources``: council extracts in, pseudonymised canonical tables out, nothing lost.

Order of work: read every source (a file that cannot be read stops the run before anything
is written), pseudonymise, merge with what the output folder already holds, check, count,
and only then write: the canonical folder is built beside the old one and swapped in, the
re-identification lookup is updated in one transaction, and the quarantine and summary are
written atomically.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd

from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.lookalikes import note_lookalikes
from frontdoor.ingest.merge import QUARANTINE_COLUMNS, Stored, TableResult, process_table
from frontdoor.ingest.readers import ReadResult
from frontdoor.ingest.report import IngestReport
from frontdoor.ingest.sources import expand, folder_reference_date, ground_truth_files
from frontdoor.ingest.write import (
    CELLS_CSV,
    SUPERSEDED_CSV,
    swap_in_folder,
    write_quarantine,
    write_truth,
)
from frontdoor.records import reidentification, store
from frontdoor.records.contract import TABLES, latest_event_date
from frontdoor.records.pseudonymise import (
    key_fingerprint,
    key_source,
    load_key,
    new_fingerprint_salt,
    pseudonymise_series,
)
from frontdoor.records.versions import KNOWN_FROM
from frontdoor.settings import Settings

INGEST_VERSION = 2
EXISTING_PRIORITY = 1_000  # records stored before observations were kept: after any source


def read_source(path: Path, kind: str, settings: Settings) -> ReadResult:
    if kind == "canonical":
        from frontdoor.ingest.readers.canonical import read_canonical

        return read_canonical(path, settings)
    if kind == "annex_a":
        from frontdoor.ingest.readers.annex_a import read_annex_a

        return read_annex_a(path, settings, engine=settings.ingest.xlsx_engine)
    if kind == "cin_xml":
        from frontdoor.ingest.readers.cin_xml import read_cin_xml

        return read_cin_xml(path, settings)
    raise IngestError(path, f"unknown source kind {kind}")


def ingest_sources(sources: list[Path], out_dir: Path, settings: Settings) -> IngestReport:
    """Ingest council extracts into ``out_dir`` (merged with what it holds); see module doc."""
    out_dir = Path(out_dir)
    key = load_key(settings)
    notes = [f"pseudonymisation key: {key_source(settings)}"]
    files, skipped = expand([Path(s) for s in sources])
    notes += skipped
    _check_folders([Path(s) for s in sources], out_dir)
    existing_manifest = _manifest(out_dir) if out_dir.exists() else {}
    salt, fingerprint = _fingerprint(key, existing_manifest, out_dir)

    results = [read_source(path, kind, settings) for path, kind in files]
    for r in results:
        notes.extend(r.notes)
    reference, reference_from = _reference_date(settings, results, sources, existing_manifest)
    notes.append(f"reference date {reference.isoformat()}: {reference_from}")
    notes.extend(_lone_reference_row(results, reference, reference_from))
    _set_extract_dates(results, settings, reference)
    lookalikes = note_lookalikes(results, key)
    stored = _stored(out_dir, existing_manifest, reference)

    outcome = _process_all(results, stored, key, reference)
    for o in outcome.values():
        notes.extend(o.notes)
    gaps = [g for r in results for g in r.column_gaps]
    report = _report(out_dir, settings, reference, reference_from, results, existing_manifest)
    report.counts = {name: o.counts for name, o in outcome.items()}
    report.notes = notes
    report.key_fingerprint = fingerprint
    report.column_gaps = gaps
    report.lookalikes = lookalikes
    _attach_lists(report, outcome)
    report.check_balanced()

    truth = _ground_truth(sources, key, settings)
    manifest = {
        "reference_date": reference.isoformat(),
        "reference_date_from": reference_from,
        "key_fingerprint": fingerprint,
        "key_fingerprint_salt": salt,
        "sources": report.sources,
        "column_gaps": gaps,
        "possible_lookalike_ids": lookalikes,
        "ingest_version": INGEST_VERSION,
        "pseudonymised": True,
    }
    children = outcome["children"]
    identities = children.identities
    identities = identities[identities["pseudonym"].isin(children.frame["child_id"])]
    reidentification.record(settings, identities)
    swap_in_folder(
        out_dir,
        {n: o.frame for n, o in outcome.items()},
        manifest,
        versions={n: o.versions for n, o in outcome.items()},
        observations={n: o.observations for n, o in outcome.items()},
    )
    if truth is not None:
        report.ground_truth_rows = write_truth(settings, truth)
    write_quarantine(report)
    return report


def quarantine_folder(settings: Settings, out_dir: Path) -> Path:
    """Beside the output: paths.quarantine for the configured canonical folder, else
    ``<out>_quarantine`` next to ``--out`` (never a folder shared with another output)."""
    default = settings.resolve(settings.paths.canonical)
    if Path(out_dir).resolve() == default.resolve():
        return settings.resolve(settings.paths.quarantine)
    return Path(out_dir).parent / f"{Path(out_dir).name}_quarantine"


def _fingerprint(key: bytes, manifest: dict, out_dir: Path) -> tuple[str, str]:
    """(salt, fingerprint) for the output folder; a folder written with another key stops."""
    recorded = manifest.get("key_fingerprint")
    salt = manifest.get("key_fingerprint_salt")
    if recorded is not None and salt is None:  # written before fingerprints were salted
        same = recorded == hashlib.sha256(b"fingerprint:" + key).hexdigest()[:12]
        salt = new_fingerprint_salt()
        fingerprint = key_fingerprint(key, salt)
    else:
        salt = salt or new_fingerprint_salt()
        fingerprint = key_fingerprint(key, salt)  # scrypt: slow on purpose, so once per run
        same = recorded is None or recorded == fingerprint
    if not same:
        raise IngestError(
            out_dir,
            "holds tables pseudonymised with a different key (its manifest's key fingerprint "
            "does not match this run's key)",
            "the same pseudonymisation key for every extract merged into one folder",
        )
    return salt, fingerprint


def _process_all(results, stored, key, reference) -> dict[str, TableResult]:
    def batches(name):
        return [b for r in results for b in r.batches if b.table == name]

    outcome: dict[str, TableResult] = {}
    known: dict[str, dict[object, str]] = {}  # child and household pseudonyms, made once
    children = process_table(
        "children", batches("children"), stored.get("children"), key, reference, None, known
    )
    outcome["children"] = children
    for name in TABLES:
        if name != "children":
            outcome[name] = process_table(
                name, batches(name), stored.get(name), key, reference, children.frame, known
            )
    return outcome


def _report(out_dir, settings, reference, reference_from, results, existing_manifest):
    return IngestReport(
        out_dir=out_dir,
        reference_date=reference.isoformat(),
        reference_date_from=reference_from,
        sources=_source_list(results, existing_manifest),
        counts={},
        quarantine=pd.DataFrame(),
        quarantine_dir=quarantine_folder(settings, out_dir),
    )


def _attach_lists(report: IngestReport, outcome: dict[str, TableResult]) -> None:
    parts = [o.quarantine for o in outcome.values()]
    report.quarantine = pd.concat(parts, ignore_index=True)[QUARANTINE_COLUMNS]
    report.cell_notes = pd.concat([o.cell_notes for o in outcome.values()], ignore_index=True)
    report.duplicates = pd.concat([o.duplicates for o in outcome.values()], ignore_index=True)
    report.superseded = pd.concat([o.superseded for o in outcome.values()], ignore_index=True)
    if len(report.cell_notes):
        grouped = report.cell_notes.groupby(["table", "column", "rule"]).size()
        for (table, column, rule), n in grouped.items():
            report.notes.append(f"{table}.{column}: {n:,} cell(s) {rule} (listed in {CELLS_CSV})")
    if len(report.superseded):
        report.notes.append(
            f"{len(report.superseded):,} stored record(s) are no longer listed by a newer "
            f"extract that covers their dates (kept; listed for review in {SUPERSEDED_CSV})"
        )


def _stored(out_dir: Path, manifest: dict, reference: date) -> dict[str, Stored]:
    """What the output folder holds: each table, and every extract's view of its records
    (a folder written before observations were kept counts as one extract, of its
    recorded reference date)."""
    if not (out_dir / store.MANIFEST).exists():
        return {}
    current = store.read_tables(out_dir)
    observed = store.read_observations(out_dir)
    when = manifest.get("reference_date") or reference.isoformat()
    out = {}
    for name, frame in current.items():
        obs = observed.get(name)
        if obs is None:
            obs = frame.copy()
            obs[KNOWN_FROM] = pd.Timestamp(str(when)[:10])
            obs["from_priority"], obs["from_keyed"] = EXISTING_PRIORITY, False
            obs["from_file"], obs["from_sheet"], obs["from_row"] = "(already ingested)", "", -1
        out[name] = Stored(current=frame, observations=obs)
    return out


def _set_extract_dates(results, settings: Settings, reference: date) -> None:
    """Each source's extract date, so that the newest extract wins whatever the order:
    the --extract-date argument; else the CIN census header's reference date; else the
    source folder's manifest; else ingest.reference_date; else the workbook's saved date;
    else the run's reference date."""
    for r in results:
        folder = folder_reference_date([Path(r.path).parent]) if r.kind == "canonical" else None
        when = (
            settings.ingest.extract_date
            or r.reference_date
            or folder
            or settings.ingest.reference_date
            or r.saved_date
            or reference
        )
        r.extract_date = when
        for b in r.batches:
            b.extract_date = when


def _lone_reference_row(results, reference: date, how: str) -> list[str]:
    """When the latest event date sets the reference date, name the row that holds it and
    say how far it stands from the next one: a mistyped year would otherwise move the
    reference date for good without a word."""
    if not how.startswith("latest event date"):
        return []
    cap = pd.Timestamp(reference)
    dates = []  # (date, source, sheet, row, column) of each batch column's latest date
    for r in results:
        for b in r.batches:
            if b.table == "children":
                continue
            for col in TABLES[b.table].date_columns:
                if col not in b.frame.columns:
                    continue
                d = pd.to_datetime(b.frame[col], errors="coerce")
                d = d[d <= cap].sort_values(ascending=False)
                for i in d.index[:2]:
                    f = b.frame
                    dates.append(
                        (d[i], f.at[i, "_source"], f.at[i, "_sheet"], f.at[i, "_row"], col)
                    )
    if not dates:
        return []
    dates.sort(key=lambda x: x[0], reverse=True)
    top = dates[0]
    if len(dates) > 1 and dates[1][0] == top[0]:
        return []  # two rows agree on the latest date
    sheet = f" sheet {top[2]!r}" if top[2] else ""
    where = f"{Path(str(top[1])).name}{sheet} row {top[3]} ({top[4]})"
    gap = f"; the next latest date is {dates[1][0].date().isoformat()}" if len(dates) > 1 else ""
    return [
        f"the reference date rests on one row: {where}{gap}. If that date is mistyped, "
        "correct it or set ingest.reference_date"
    ]


def _check_folders(sources: list[Path], out_dir: Path) -> None:
    """Never merge raw ids with pseudonyms, nor hash pseudonyms a second time."""
    for source in sources:
        if source.is_dir() and source.resolve() == out_dir.resolve():
            raise IngestError(
                source,
                "is both a source and the output folder",
                "council extracts in one folder, canonical tables in another",
            )
        if source.is_dir() and _manifest(source).get("pseudonymised") is True:
            raise IngestError(
                source,
                "holds canonical tables that are already pseudonymised",
                "council extracts with the council's own ids",
            )
    manifest = out_dir / store.MANIFEST
    if manifest.exists() and _manifest(out_dir).get("pseudonymised") is not True:
        raise IngestError(
            out_dir,
            "holds tables that ingestion did not write (raw ids?)",
            "an empty folder or one written by `frontdoor ingest`",
        )


def _manifest(folder: Path) -> dict:
    try:
        found = store.read_manifest(folder)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(
            folder / store.MANIFEST, f"is not valid JSON ({exc})", "a JSON object"
        ) from exc
    if not isinstance(found, dict):
        raise IngestError(folder / store.MANIFEST, "is not a JSON object", "a JSON object")
    return found


def _reference_date(settings, results, sources, existing_manifest) -> tuple[date, str]:
    """The extract's reference date and how it was chosen (recorded in the manifest).

    Never today: censoring and repeatability depend on it. In order: the setting; else the
    latest of the CIN headers' and source folders' manifest dates; else the latest event date
    in this run's sources; in both cases no earlier than the date already recorded in the
    output folder (a tie is credited to this run's sources, so a re-run writes the same bytes).
    """
    if settings.ingest.reference_date is not None:
        return settings.ingest.reference_date, "setting ingest.reference_date"
    found = [(r.reference_date, 1, "CIN census header") for r in results if r.reference_date]
    folder = folder_reference_date([Path(s) for s in sources])
    if folder is not None:
        found.append((folder, 1, "source folder's manifest.json"))
    if not found:
        frames = [(b.table, b.frame) for r in results for b in r.batches]
        latest = latest_event_date(frames, not_after=date.today())
        if latest is not None:
            found.append((latest, 1, "latest event date in the extract (no header or manifest)"))
    recorded = existing_manifest.get("reference_date")
    if recorded:
        how = "date already recorded in the output folder"
        found.append((date.fromisoformat(str(recorded)[:10]), 0, how))
    if not found:
        raise IngestError(
            Path(sources[0]) if sources else Path("."),
            "gives no reference date: no CIN census header, no manifest.json, no event dates",
            "ingest.reference_date set in the configuration",
        )
    chosen, _, how = max(found)
    return chosen, how


def _source_list(results: list[ReadResult], existing_manifest: dict) -> list[dict]:
    listed = {s["sha256"]: s for s in existing_manifest.get("sources", []) if "sha256" in s}
    for r in results:
        digest = hashlib.sha256(Path(r.path).read_bytes()).hexdigest()
        listed.setdefault(
            digest,
            {
                "file": Path(r.path).name,
                "kind": r.kind,
                "sha256": digest,
                "rows": r.rows_read,
                "extract_date": r.extract_date.isoformat() if r.extract_date else None,
            },
        )
    return sorted(listed.values(), key=lambda s: (s["file"], s["sha256"]))


def _ground_truth(sources, key: bytes, settings: Settings) -> pd.DataFrame | None:
    """Synthetic ground truth, pseudonymised like the referrals it describes."""
    paths = ground_truth_files([Path(s) for s in sources])
    if not paths:
        return None
    frames = []
    for path in paths:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise IngestError(path, f"cannot be read as Parquet ({exc})", "ground truth") from exc
        if "referral_id" not in frame.columns:
            raise IngestError(
                path, "lacks column referral_id", "referral_id, p_rereferral_12m, p_escalation_12m"
            )
        frame = frame.copy()
        frame["referral_id"] = pseudonymise_series(
            key, frame["referral_id"].astype(str), "referrals"
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
