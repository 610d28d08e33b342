"""Canonical CSV/Parquet folders: loaded whole, pseudonymised, merged, re-ingested idempotently."""

from __future__ import annotations

import json
import os
import stat
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.run import ingest_sources
from frontdoor.records import reidentification, store
from frontdoor.records.pseudonymise import is_pseudonym, load_key, pseudonymise_value
from tests.support import make_settings
from tests.support.tables import pseudonymised, raw_council, write_canonical_folder

REF = date(2025, 3, 31)


@pytest.fixture
def council():
    return raw_council(children=30, seed=1, reference_date=REF)


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_folder_round_trips_under_pseudonyms(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    report = ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    expected = pseudonymised(council, load_key(settings))
    got = store.read_tables(tmp_path / "out")
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, check_dtype=False, obj=name)
        c = report.counts[name]
        assert (c.read, c.loaded, c.quarantined, c.duplicates) == (len(frame), len(frame), 0, 0)
    assert report.reference_date == REF.isoformat()
    assert all(is_pseudonym(v) for v in got["referrals"]["referral_id"])
    assert store.read_manifest(tmp_path / "out")["key_fingerprint"] == report.key_fingerprint


def test_csv_folder_gives_the_same_tables_as_parquet(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "csv", REF, fmt="csv")
    write_canonical_folder(council, tmp_path / "pq", REF)
    ingest_sources([tmp_path / "csv"], tmp_path / "a", settings)
    ingest_sources([tmp_path / "pq"], tmp_path / "b", settings)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(
            store.read_table(tmp_path / "a", name), store.read_table(tmp_path / "b", name)
        )


def test_reingesting_changes_nothing(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    before = store.folder_digest(tmp_path / "out")
    report = ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    assert store.folder_digest(tmp_path / "out") == before
    for c in report.counts.values():
        assert c.loaded == 0 and c.duplicates == c.read and c.final == c.existing


def test_new_month_adds_without_duplicates(tmp_path, settings, council):
    # Month 2 repeats half of month 1's referrals and adds new ones.
    month1 = {k: v.copy() for k, v in council.items()}
    month1["referrals"] = council["referrals"].iloc[:40]
    month2 = {"children": council["children"], "referrals": council["referrals"].iloc[20:]}
    write_canonical_folder(month1, tmp_path / "m1", REF)
    write_canonical_folder(month2, tmp_path / "m2", REF)
    ingest_sources([tmp_path / "m1"], tmp_path / "out", settings)
    report = ingest_sources([tmp_path / "m2"], tmp_path / "out", settings)
    refs = store.read_table(tmp_path / "out", "referrals")
    assert len(refs) == len(council["referrals"])
    c = report.counts["referrals"]
    assert (c.read, c.loaded, c.duplicates) == (
        len(council["referrals"]) - 20,
        len(council["referrals"]) - 40,
        20,
    )
    assert refs["referral_id"].is_unique


def test_identifiers_and_dates_of_birth_never_written(tmp_path, settings, council):
    kids = council["children"].copy()
    kids["name"] = [f"Child Name {i}" for i in range(len(kids))]
    kids["birth_month"] = kids["birth_month"] + pd.Timedelta(days=13)  # an exact date of birth
    write_canonical_folder({**council, "children": kids}, tmp_path / "src", REF, fmt="csv")
    report = ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    blob = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
    for raw in list(kids["child_id"][:5]) + ["Child Name 3"] + list(kids["household_id"][:3]):
        assert raw.encode() not in blob
    got = store.read_table(tmp_path / "out", "children")
    assert (got["birth_month"].dt.day == 1).all()
    assert any("ignored columns" in n and "name" in n for n in report.notes)


def test_reidentification_lookup_is_protected_and_logged(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    kids = store.read_table(tmp_path / "out", "children")
    some = kids["child_id"].iloc[0]
    la_id = reidentification.lookup(settings, some, who="manager@test")
    assert la_id is not None and la_id.startswith("LA01")
    assert reidentification.lookup(settings, "pnotapseudonym000000000000") is None
    path = reidentification.db_path(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not str(path).startswith(str(tmp_path / "out"))
    log = reidentification.lookup_log(settings)
    assert list(log["found"]) == [1, 0] and log["who"].iloc[0] == "manager@test"
    assert pseudonymise_value(load_key(settings), la_id, "child") == some


def test_ground_truth_goes_to_truth_folder_pseudonymised(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    (tmp_path / "src" / "ground_truth").mkdir()
    truth = pd.DataFrame(
        {
            "referral_id": council["referrals"]["referral_id"],
            "p_rereferral_12m": 0.2,
            "p_escalation_12m": 0.1,
        }
    )
    truth.to_parquet(tmp_path / "src" / "ground_truth" / "ground_truth.parquet")
    report = ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    written = pd.read_parquet(settings.resolve(settings.paths.truth) / "ground_truth.parquet")
    refs = store.read_table(tmp_path / "out", "referrals")
    assert set(written["referral_id"]) == set(refs["referral_id"])
    assert report.ground_truth_rows == len(truth)
    assert not any("ground_truth" in p.name for p in (tmp_path / "out").iterdir())


def test_missing_key_outside_demo_mode_is_a_clear_error(tmp_path, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    config = tmp_path / "frontdoor.yaml"
    config.write_text(f"demo_mode: false\npaths:\n  root: {tmp_path}\n")
    result = CliRunner().invoke(
        app,
        ["--config", str(config), "ingest", str(tmp_path / "src"), "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 2
    assert "No pseudonymisation key configured" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_prints_the_summary_and_writes_the_quarantine(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    (tmp_path / "frontdoor.yaml").write_text(
        f"paths:\n  root: {tmp_path}\nprivacy:\n  pseudonym_key: 'test-key-not-secret-0123456789abcdef'\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "--config",
            str(tmp_path / "frontdoor.yaml"),
            "ingest",
            str(tmp_path / "src"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "referrals" in result.output and "quarantined" in result.output
    summary = json.loads((tmp_path / "out_quarantine" / "ingest_summary.json").read_text())
    assert summary["balanced"] is True
    assert summary["tables"]["referrals"]["loaded"] == len(council["referrals"])
    assert (tmp_path / "out_quarantine" / "quarantine.parquet").exists()


def test_different_key_cannot_merge_into_the_same_folder(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    other = make_settings(
        tmp_path, privacy={"pseudonym_key": "another-key-0123456789abcdef-0123456789"}
    )
    with pytest.raises(IngestError, match="different key"):
        ingest_sources([tmp_path / "src"], tmp_path / "out", other)


def test_raw_and_pseudonymised_folders_are_never_mixed(tmp_path, settings, council):
    write_canonical_folder(council, tmp_path / "src", REF)
    with pytest.raises(IngestError, match="both a source and the output"):
        ingest_sources([tmp_path / "src"], tmp_path / "src", settings)
    with pytest.raises(IngestError, match="ingestion did not write"):
        ingest_sources([tmp_path / "src"], _raw_copy(tmp_path), settings)
    ingest_sources([tmp_path / "src"], tmp_path / "out", settings)
    with pytest.raises(IngestError, match="already pseudonymised"):
        ingest_sources([tmp_path / "out"], tmp_path / "again", settings)


def _raw_copy(tmp_path):
    write_canonical_folder(
        raw_council(children=3, seed=3, reference_date=REF), tmp_path / "raw", REF
    )
    return tmp_path / "raw"
