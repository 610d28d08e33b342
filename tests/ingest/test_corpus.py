"""Every malformed input gives its clear error or its quarantine, and nothing is lost."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.run import ingest_sources, quarantine_folder
from frontdoor.records import store
from tests.support.ingest_corpus import CASES, REF, Case, council
from tests.support.tables import write_canonical_folder


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


ERRORS = [c for c in CASES if c.error]
QUARANTINES = [c for c in CASES if not c.error]


@pytest.mark.parametrize("case", ERRORS, ids=[c.name for c in ERRORS])
def test_unreadable_input_is_one_clear_error_and_nothing_is_written(case: Case, tmp_path, settings):
    # The output folder already holds a valid ingest: a failed run must leave it as it was.
    write_canonical_folder(council(), tmp_path / "before", REF)
    ingest_sources([tmp_path / "before"], tmp_path / "out", settings)
    previous = store.folder_digest(tmp_path / "out")
    summary = quarantine_folder(settings, tmp_path / "out") / "ingest_summary.json"
    summary_before = summary.read_bytes()
    work = tmp_path / "case"
    work.mkdir()
    sources = case.build(work)
    with pytest.raises(IngestError) as err:
        ingest_sources(sources, tmp_path / "out", settings)
    message = str(err.value)
    for part in case.error:
        assert part in message, message
    assert len(message) < 600 and "\n" not in message  # one clear message
    assert store.folder_digest(tmp_path / "out") == previous  # nothing half-written
    assert summary.read_bytes() == summary_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


@pytest.mark.parametrize("case", QUARANTINES, ids=[c.name for c in QUARANTINES])
def test_bad_rows_are_quarantined_and_nothing_is_lost(case: Case, tmp_path, settings):
    work = tmp_path / "case"
    work.mkdir()
    sources = case.build(work)
    report = ingest_sources(sources, tmp_path / "out", settings)
    for c in report.counts.values():
        assert c.read == c.loaded + c.quarantined + c.duplicates, c
    counts = report.counts[case.table]
    assert counts.read > 0
    q = report.quarantine[report.quarantine["table"] == case.table]
    if case.quarantined is not None:
        assert counts.quarantined == case.quarantined == len(q), q.to_dict("records")
    if case.reason:
        assert q["reason"].str.contains(case.reason, regex=False).all(), q["reason"].tolist()
        assert (q["source"] != "").all() and (q["row"] > 0).all()
        assert q["column"].str.len().gt(0).all()
    if case.duplicates is not None:
        assert counts.duplicates == case.duplicates
    if "note" in case.extra:
        assert any(case.extra["note"] in n for n in report.notes)
    # Whatever was loaded is valid under the contract.
    for name, frame in store.read_tables(tmp_path / "out").items():
        from frontdoor.records.contract import validate

        validate(frame, name)


def test_cli_exit_code_and_message_for_a_bad_file(tmp_path):
    (tmp_path / "referrals.csv").write_bytes(b"")
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"paths:\n  root: {tmp_path}\nprivacy:\n  pseudonym_key: 'k-0123456789abcdef0123456789abcdef'\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "--config",
            str(config),
            "ingest",
            str(tmp_path / "referrals.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2
    assert "referrals.csv" in result.output and "the file is empty" in result.output
    assert "Nothing was written" in result.output
    assert not (tmp_path / "out").exists()
