"""Issue 16: keys (opt-in demo mode, 32 bytes, a fingerprint that cannot test guesses) and
outputs a data team can open safely (beside --out, no formulas, full-width counts)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from datetime import date, datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from frontdoor.ingest.run import ingest_sources
from frontdoor.records import store
from frontdoor.records.csvsafe import neutralise, safe_csv_text
from frontdoor.records.pseudonymise import (
    MissingKeyError,
    key_fingerprint,
    load_key,
    new_key_file,
)
from frontdoor.settings import Settings
from tests.support.ingest_workbooks import template_lists, workbook
from tests.support.settings import TEST_KEY, make_settings
from tests.support.tables import raw_council, write_canonical_folder

REF = date(2025, 3, 31)


def council(tmp_path):
    write_canonical_folder(
        raw_council(children=6, seed=5, reference_date=REF), tmp_path / "src", REF
    )
    return tmp_path / "src"


def test_no_key_outside_demo_mode_says_how_to_make_one(tmp_path):
    s = make_settings(tmp_path, demo_mode=False, privacy={"pseudonym_key": None})
    with pytest.raises(MissingKeyError, match=r"frontdoor keys new") as err:
        ingest_sources([council(tmp_path)], tmp_path / "out", s)
    assert "pseudonym_key_file" in str(err.value)
    assert not (tmp_path / "out").exists() and not (tmp_path / ".frontdoor").exists()


def test_demo_mode_is_off_by_default_and_announced_when_on(tmp_path):
    assert Settings().demo_mode is False
    s = make_settings(tmp_path, demo_mode=True, privacy={"pseudonym_key": None})
    report = ingest_sources([council(tmp_path)], tmp_path / "out", s)
    assert any("DEMO MODE" in n for n in report.notes)
    assert "DEMO MODE" in report.render()
    configured = ingest_sources([council(tmp_path)], tmp_path / "out2", make_settings(tmp_path))
    assert not any("DEMO MODE" in n for n in configured.notes)


@pytest.mark.parametrize("key", ["short-key-1234", "a" * 31, "Council2025!Council2025!abc"])
def test_keys_shorter_than_32_bytes_are_refused(tmp_path, key):
    s = make_settings(tmp_path, privacy={"pseudonym_key": key})
    with pytest.raises(MissingKeyError, match="at least 32 random bytes"):
        load_key(s)


def test_keys_new_writes_32_random_bytes_for_its_owner_only(tmp_path):
    from frontdoor.cli import app

    result = CliRunner().invoke(app, ["keys", "new", str(tmp_path / "k" / "key")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "k" / "key"
    text = path.read_text().strip()
    assert len(bytes.fromhex(text)) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "pseudonym_key_file" in result.output
    again = CliRunner().invoke(app, ["keys", "new", str(path)])
    assert again.exit_code == 2 and path.read_text().strip() == text  # never overwritten
    s = make_settings(tmp_path, privacy={"pseudonym_key": None, "pseudonym_key_file": str(path)})
    assert load_key(s) == text.encode()
    with pytest.raises(FileExistsError):
        new_key_file(path)


def test_the_manifest_fingerprint_cannot_confirm_a_guessed_key(tmp_path):
    s = make_settings(tmp_path)
    ingest_sources([council(tmp_path)], tmp_path / "out", s)
    manifest = store.read_manifest(tmp_path / "out")
    key = TEST_KEY.encode()
    fingerprint, salt = manifest["key_fingerprint"], manifest["key_fingerprint_salt"]
    # not the plain hashes an attacker would test guesses against
    for plain in (hashlib.sha256(key), hashlib.sha256(b"fingerprint:" + key)):
        assert plain.hexdigest()[: len(fingerprint)] != fingerprint
        assert plain.hexdigest()[:12] not in fingerprint
    assert fingerprint == key_fingerprint(key, salt)
    # salted per folder: the same key gives another fingerprint elsewhere
    ingest_sources([council(tmp_path)], tmp_path / "out2", s)
    other = store.read_manifest(tmp_path / "out2")
    assert other["key_fingerprint"] != fingerprint
    # a different key is still refused on the same folder
    wrong = make_settings(tmp_path, privacy={"pseudonym_key": "f" * 16 + TEST_KEY[16:]})
    with pytest.raises(Exception, match="different key"):
        ingest_sources([council(tmp_path)], tmp_path / "out", wrong)


def test_a_folder_fingerprinted_the_old_way_is_upgraded(tmp_path):
    s = make_settings(tmp_path)
    ingest_sources([council(tmp_path)], tmp_path / "out", s)
    manifest = store.read_manifest(tmp_path / "out")
    manifest.pop("key_fingerprint_salt")
    manifest["key_fingerprint"] = hashlib.sha256(b"fingerprint:" + TEST_KEY.encode()).hexdigest()[
        :12
    ]
    store.atomic_write_text(tmp_path / "out" / store.MANIFEST, __import__("json").dumps(manifest))
    ingest_sources([council(tmp_path)], tmp_path / "out", s)
    assert "key_fingerprint_salt" in store.read_manifest(tmp_path / "out")


# --- outputs ---------------------------------------------------------------------------------
def test_formula_prefixes_are_neutralised_in_every_csv(tmp_path):
    frame = pd.DataFrame(
        {
            "a": ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "ok"],
            "b": ["\tx", "\rx", "fine", None, "=1"],
            "n": [-1, 2, 3, 4, 5],
        }
    )
    text = safe_csv_text(frame)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 6
    for row in rows[1:]:
        for cell in row[:2]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert [row[2] for row in rows[1:]] == ["-1", "2", "3", "4", "5"]  # numbers stay numbers
    assert neutralise("=1") == "'=1" and neutralise("ok") == "ok"


def test_every_quarantine_file_is_beside_out_and_formula_free(tmp_path):
    s = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    row = [
        "C1",
        "Female",
        "WBRI",
        datetime(2015, 3, 4),
        9,
        datetime(2024, 5, 1),
        '=HYPERLINK("http://evil")',
        "@SUM(A1)",
        1,
        "T",
        "W",
    ]
    path = workbook(tmp_path / "la.xlsx", template_lists({3: [row]}))
    report = ingest_sources([path], tmp_path / "elsewhere" / "canon", s)
    assert report.quarantine_dir == tmp_path / "elsewhere" / "canon_quarantine"
    assert not s.resolve(s.paths.quarantine).exists()
    written = sorted(p.name for p in report.quarantine_dir.glob("*.csv"))
    assert written == ["duplicates.csv", "quarantine.csv", "quarantine_cells.csv", "superseded.csv"]
    for csv_path in report.quarantine_dir.glob("*.csv"):
        for line in csv_path.read_text().splitlines():
            for cell in line.split(","):
                assert not cell.strip('"').startswith(("=", "+", "@", "\t")), (csv_path, cell)
    assert len(report.quarantine) == 1  # the source code: not an allowed code, not shown


def test_the_cli_prints_the_whole_table_in_a_log_and_no_value_on_stderr(tmp_path):
    from frontdoor.cli import app

    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"paths:\n  root: {tmp_path}\nprivacy:\n  pseudonym_key: {TEST_KEY}\n"
        "ingest:\n  reference_date: 2025-03-31\n  require_all_lists: false\n"
    )
    row = [
        "C1",
        "Female",
        "WBRI",
        datetime(2015, 3, 4),
        9,
        datetime(2024, 5, 1),
        "Jane Worker 14007367",
        "No",
        1,
        "T",
        "W",
    ]
    path = workbook(tmp_path / "la.xlsx", template_lists({3: [row]}))
    result = CliRunner().invoke(
        app, ["--config", str(config), "ingest", str(path), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    table_lines = [line for line in result.output.splitlines() if "referrals" in line]
    assert table_lines and any(
        line.rstrip().endswith(("yes │", "yes |", "yes")) for line in table_lines
    )
    assert "14007367" not in result.output and "Jane" not in result.output
    assert "WARNING" in result.output  # columns absent from the partial workbook
