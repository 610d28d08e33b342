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
from frontdoor.ingest.merge import QUARANTINE_COLUMNS, TableResult, process_table
from frontdoor.ingest.readers import ReadResult
from frontdoor.ingest.report import IngestReport
from frontdoor.ingest.sources import expand, folder_reference_date, ground_truth_files
from frontdoor.ingest.write import swap_in_folder, write_quarantine, write_truth
from frontdoor.records import reidentification, store
from frontdoor.records.contract import TABLES, latest_event_date
from frontdoor.records.pseudonymise import key_fingerprint, load_key, pseudonymise_series
from frontdoor.settings import Settings

INGEST_VERSION = 1


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
    fingerprint = key_fingerprint(key)
    files, notes = expand([Path(s) for s in sources])
    _check_folders([Path(s) for s in sources], out_dir)
    existing_manifest = _manifest(out_dir) if out_dir.exists() else {}
    if existing_manifest.get("key_fingerprint") not in (None, fingerprint):
        raise IngestError(
            out_dir,
            "holds tables pseudonymised with a different key "
            f"({existing_manifest.get('key_fingerprint')}, this run uses {fingerprint})",
            "the same pseudonymisation key for every extract merged into one folder",
        )

    results = [read_source(path, kind, settings) for path, kind in files]
    for r in results:
        notes.extend(r.notes)

    reference, reference_from = _reference_date(settings, results, sources, existing_manifest)
    notes.append(f"reference date {reference.isoformat()}: {reference_from}")
    existing = store.read_tables(out_dir) if (out_dir / store.MANIFEST).exists() else {}

    outcome: dict[str, TableResult] = {}
    children = process_table(
        "children",
        [b for r in results for b in r.batches if b.table == "children"],
        existing.get("children"),
        key,
        reference,
        None,
    )
    outcome["children"] = children
    known = pd.Index(children.frame["child_id"])
    for name in TABLES:
        if name == "children":
            continue
        outcome[name] = process_table(
            name,
            [b for r in results for b in r.batches if b.table == name],
            existing.get(name),
            key,
            reference,
            known,
        )

    for o in outcome.values():
        notes.extend(o.notes)
    quarantine = pd.concat([o.quarantine for o in outcome.values()], ignore_index=True)
    quarantine = quarantine[QUARANTINE_COLUMNS]
    source_list = _source_list(results, existing_manifest)
    report = IngestReport(
        out_dir=out_dir,
        reference_date=reference.isoformat(),
        reference_date_from=reference_from,
        sources=source_list,
        counts={name: o.counts for name, o in outcome.items()},
        quarantine=quarantine,
        notes=notes,
        key_fingerprint=fingerprint,
        quarantine_dir=settings.resolve(settings.paths.quarantine),
    )
    report.check_balanced()

    truth = _ground_truth(sources, key, settings)
    manifest = {
        "reference_date": reference.isoformat(),
        "reference_date_from": reference_from,
        "key_fingerprint": fingerprint,
        "sources": source_list,
        "ingest_version": INGEST_VERSION,
        "pseudonymised": True,
    }
    identities = children.identities
    identities = identities[identities["pseudonym"].isin(children.frame["child_id"])]
    reidentification.record(settings, identities)
    swap_in_folder(out_dir, {n: o.frame for n, o in outcome.items()}, manifest)
    if truth is not None:
        report.ground_truth_rows = write_truth(settings, truth)
    write_quarantine(report)
    return report


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
            {"file": Path(r.path).name, "kind": r.kind, "sha256": digest, "rows": r.rows_read},
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
