"""Reviewer findings: nothing stored is lost to a bad new row; every sheet and cell is counted."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.run import ingest_sources, quarantine_folder
from frontdoor.ingest.staging import WITHHELD
from frontdoor.ingest.write import QUARANTINE_CSV
from frontdoor.records import store
from tests.support import make_settings
from tests.support.ingest_workbooks import template_lists, workbook
from tests.support.tables import raw_council, write_canonical_folder

REF = date(2025, 3, 31)


def _counts_of(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    return {name: len(frame) for name, frame in tables.items()}


def test_bad_new_row_for_a_stored_child_keeps_the_stored_records(tmp_path):
    s = make_settings(tmp_path, ingest={"reference_date": REF})
    council = raw_council(children=20, seed=3, reference_date=REF)
    write_canonical_folder(council, tmp_path / "src", REF)
    ingest_sources([tmp_path / "src"], tmp_path / "out", s)
    before = store.read_tables(tmp_path / "out")

    child = council["children"].iloc[[0]].copy()
    child["birth_month"] = pd.Timestamp("2027-01-01")  # far beyond the reference date
    (tmp_path / "next").mkdir()
    child.to_csv(tmp_path / "next" / "children.csv", index=False)
    report = ingest_sources([tmp_path / "next" / "children.csv"], tmp_path / "out", s)
    after = store.read_tables(tmp_path / "out")

    assert _counts_of(after) == _counts_of(before)  # nothing stored vanished
    for name in store.TABLES:
        assert report.counts[name].existing_dropped == 0, name
    pd.testing.assert_frame_equal(after["children"], before["children"])
    c = report.counts["children"]
    assert (c.read, c.loaded, c.quarantined, c.duplicates) == (1, 0, 1, 0)
    q = report.quarantine
    assert len(q) == 1
    assert q.iloc[0]["source"].endswith("children.csv")
    assert "date of birth more than 9 months after" in q.iloc[0]["reason"]
    assert q.iloc[0]["value"] == WITHHELD  # a date of birth never reaches the quarantine
    written = pd.read_csv(quarantine_folder(s, tmp_path / "out") / QUARANTINE_CSV)
    assert len(written) == 1


def test_a_stored_record_that_fails_on_its_own_is_quarantined_and_counted(tmp_path):
    # Stored under a later reference date, re-checked under an earlier one: the stored
    # records dated after it can no longer be kept, and must be quarantined, not dropped.
    late = make_settings(tmp_path, ingest={"reference_date": REF})
    council = raw_council(children=6, seed=4, reference_date=REF)
    write_canonical_folder(council, tmp_path / "src", REF)
    ingest_sources([tmp_path / "src"], tmp_path / "out", late)
    before = store.read_tables(tmp_path / "out")
    cut = date(2024, 1, 31)
    early = make_settings(tmp_path, ingest={"reference_date": cut})
    (tmp_path / "empty").mkdir()
    one = council["contacts"].iloc[[0]].copy()
    one["contact_date"] = pd.Timestamp("2020-01-01")
    one["contact_id"] = "NEWCONTACT"
    one.to_csv(tmp_path / "empty" / "contacts.csv", index=False)
    report = ingest_sources([tmp_path / "empty" / "contacts.csv"], tmp_path / "out", early)
    after = store.read_tables(tmp_path / "out")
    c = report.counts["contacts"]
    late_rows = int((before["contacts"]["contact_date"] > pd.Timestamp(cut)).sum())
    assert late_rows > 0
    assert c.existing_dropped == late_rows
    assert c.final == len(after["contacts"]) == len(before["contacts"]) - late_rows + 1
    stored_q = report.quarantine[
        (report.quarantine["table"] == "contacts")
        & (report.quarantine["source"] == "(already ingested)")
    ]
    assert len(stored_q) == late_rows
    assert stored_q["reason"].str.contains("reference date 2024-01-31").all()
    assert any("already stored" in n and "contacts" in n for n in report.notes)
    assert "already stored" in report.render()


def _contact(child: str, day: int, note: object = None) -> list:
    row = [child, "b) Female", "a) WBRI", datetime(2014, 1, 9), 10, datetime(2024, 1, day), "6"]
    return row if note is None else [*row, None, note]


def test_every_sheet_of_a_list_is_read_with_its_own_row_numbers(tmp_path, settings):
    lists = template_lists()
    header = lists["List_1"][0]
    lists["List_1"] = (header, [_contact("K1", 2), _contact("K2", 3)])
    cont = [_contact("K3", 4), _contact("K1", 2), ["K4", "zz", "a) WBRI", None, 9, None, "6"]]
    lists["List 1 (cont)"] = (header, cont)
    path = workbook(tmp_path / "wb.xlsx", lists)
    report = ingest_sources([path], tmp_path / "out", settings)
    c = report.counts["contacts"]
    # 5 rows read over two sheets: 3 loaded, 1 copy of a row on the first sheet, 1 bad.
    assert (c.read, c.loaded, c.duplicates, c.quarantined) == (5, 3, 1, 1)
    q = report.quarantine[report.quarantine["table"] == "contacts"]
    assert list(q["sheet"]) == ["List 1 (cont)"]
    assert list(q["row"]) == [5]  # title row, header row, then the third data row
    assert any("List 1 (cont)" in n and "List_1" in n for n in report.notes)
    contacts = store.read_table(tmp_path / "out", "contacts")
    assert len(contacts) == 3


def test_cells_beyond_the_header_never_quarantine_a_row(tmp_path, settings):
    # Issue 16 reversed the earlier rule: a note typed right of the header is in a column
    # that is never read, and dropped the whole record; it is now skipped unread.
    lists = template_lists()
    header = lists["List_1"][0]
    secret = "case note: " + "x" * 200
    lists["List_1"] = (header, [_contact("K1", 2), _contact("K2", 3, note=secret)])
    path = workbook(tmp_path / "wb.xlsx", lists)
    report = ingest_sources([path], tmp_path / "out", settings)
    c = report.counts["contacts"]
    assert (c.read, c.loaded, c.quarantined) == (2, 2, 0)
    assert report.counts["children"].quarantined == 0
    assert secret not in (tmp_path / "out" / "contacts.parquet").read_bytes().decode("latin-1")


def test_long_cell_in_a_contract_text_column_is_not_shown(tmp_path, settings):
    lists = template_lists()
    header = lists["List_1"][0]
    note = "case note: " + "y" * 20_000
    bad = _contact("K2", 3)
    bad[6] = note  # pasted into Contact Source
    lists["List_1"] = (header, [_contact("K1", 2), bad])
    path = workbook(tmp_path / "wb.xlsx", lists)
    report = ingest_sources([path], tmp_path / "out", settings)
    q = report.quarantine[report.quarantine["table"] == "contacts"]
    assert len(q) == 1 and "cell longer than 10,000 characters" in q.iloc[0]["reason"]
    assert q.iloc[0]["value"] == "[not shown]"
    written = (quarantine_folder(settings, tmp_path / "out") / QUARANTINE_CSV).read_text()
    assert "case note" not in written


def _no_reference(tmp_path):
    """Canonical CSVs with no manifest, no CIN header and no ingest.reference_date."""
    council = raw_council(children=5, seed=6, reference_date=REF)
    src = tmp_path / "csvs"
    src.mkdir()
    for name, frame in council.items():
        frame.to_csv(src / f"{name}.csv", index=False)
    return council, sorted(src.glob("*.csv"))


def _latest_event(council: dict[str, pd.DataFrame]) -> date:
    latest = max(
        pd.to_datetime(frame[col]).max()
        for name, frame in council.items()
        if name != "children"
        for col in store.TABLES[name].date_columns
        if len(frame) and frame[col].notna().any()
    )
    return latest.date()


def test_reference_date_defaults_to_the_latest_event_date_never_today(tmp_path):
    s = make_settings(tmp_path)
    assert s.ingest.reference_date is None
    council, files = _no_reference(tmp_path)
    latest = _latest_event(council)
    assert latest < date.today()
    report = ingest_sources(files, tmp_path / "out", s)
    assert report.reference_date == latest.isoformat()
    manifest = store.read_manifest(tmp_path / "out")
    assert manifest["reference_date"] == latest.isoformat()
    assert "latest event date" in manifest["reference_date_from"]
    assert "latest event date" in report.render()
    assert report.rows_quarantined == 0  # nothing is after the date chosen
    # Repeatable: the same files give the same bytes, whatever day it is.
    first = {
        str(p.relative_to(tmp_path)): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    ingest_sources(files, tmp_path / "out", s)
    assert {
        str(p.relative_to(tmp_path)): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    } == first


def test_reference_date_from_the_setting_is_recorded_as_such(tmp_path):
    s = make_settings(tmp_path, ingest={"reference_date": REF})
    _, files = _no_reference(tmp_path)
    ingest_sources(files, tmp_path / "out", s)
    manifest = store.read_manifest(tmp_path / "out")
    assert manifest["reference_date"] == REF.isoformat()
    assert manifest["reference_date_from"] == "setting ingest.reference_date"


def test_export_without_a_reference_date_uses_the_latest_event(tmp_path):
    from frontdoor.records.export import export_council

    council = raw_council(children=4, seed=7, reference_date=REF)
    export_council(council, tmp_path / "x", formats=("cin_xml",))
    xml = (tmp_path / "x" / "cin_census.xml").read_text()
    assert f"<ReferenceDate>{_latest_event(council).isoformat()}</ReferenceDate>" in xml


def test_cells_beyond_the_header_are_skipped_by_the_openpyxl_engine_too(tmp_path):
    s = make_settings(tmp_path, ingest={"xlsx_engine": "openpyxl"})
    lists = template_lists()
    header = lists["List_1"][0]
    lists["List_1"] = (header, [_contact("K1", 2), _contact("K2", 3, note=7)])
    report = ingest_sources([workbook(tmp_path / "wb.xlsx", lists)], tmp_path / "out", s)
    c = report.counts["contacts"]
    assert (c.read, c.loaded, c.quarantined) == (2, 2, 0)


def test_a_second_sheet_of_a_list_without_a_header_is_a_clear_error(tmp_path, settings):
    lists = template_lists()
    lists["List 1 (cont)"] = (["some notes"], [["K1", "more"]])
    path = workbook(tmp_path / "wb.xlsx", lists)
    with pytest.raises(IngestError) as err:
        ingest_sources([path], tmp_path / "out", settings)
    assert "wb.xlsx" in str(err.value) and "'List 1 (cont)'" in str(err.value)
    assert not (tmp_path / "out").exists()
