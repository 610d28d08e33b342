"""Annex A workbooks as councils really write them: every tolerance the issue lists."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.readers.annex_a import list_number
from frontdoor.ingest.run import ingest_sources
from frontdoor.records import store
from tests.support.ingest_workbooks import set_cached_values, template_lists, workbook

TEMPLATE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "annex_a_template.xlsx"
NBSP = "\u00a0"


@pytest.mark.parametrize(
    "name,number",
    [
        ("List 1", 1),
        ("List_1", 1),
        ("List 1 - Contacts", 1),
        ("LIST3", 3),
        ("list_10", 10),
        ("List 11: Adopters", 11),
        ("Contacts", 1),
        ("Front_Sheet", None),
        ("Codes_used", None),
    ],
)
def test_sheet_names(name, number):
    assert list_number(name) == number


def test_the_official_template_reads_with_lists_8_to_11_skipped(tmp_path, settings):
    # An empty template states no reference date and holds no event to take one from.
    with pytest.raises(IngestError, match="gives no reference date"):
        ingest_sources([TEMPLATE], tmp_path / "out", settings)
    from tests.support import make_settings

    settings = make_settings(tmp_path, ingest={"reference_date": date(2025, 3, 31)})
    report = ingest_sources([TEMPLATE], tmp_path / "out", settings)
    assert report.rows_read == 0
    skipped = [n for n in report.notes if "skipped" in n]
    assert len(skipped) == 4 and all(f"List {n}" in " ".join(skipped) for n in (8, 9, 10, 11))


def test_template_with_rows_added_in_every_tolerated_form(tmp_path, settings):
    wb = openpyxl.load_workbook(TEMPLATE)
    wb["List_1"].append(
        [
            "C1",
            "b) Female",
            "a) WBRI",
            datetime(2015, 3, 4),
            9,
            datetime(2024, 5, 1),
            "q) 6: Police",
        ]
    )
    wb["List_1"].append(["C2", "Male", f"WBRI{NBSP}", "04/05/2016", 8, 45400, "2A"])
    wb["List_1"].append(
        [f"C3{NBSP}", f"a){NBSP}Male", "#N/A", "2016-05-04", 8, "2024-02-01", "e) 2A: Schools"]
    )
    wb["List_3"].append(
        [
            "C1",
            "Female",
            "WBRI",
            datetime(2015, 3, 4),
            9,
            "01/05/2024",
            "q) 6: Police",
            "a) Yes",
            1,
            "Team A",
            "Jane Worker",
        ]
    )
    wb["List_7"].append(
        [
            "C2",
            "a) Male",
            "a) WBRI",
            "04/05/2016",
            8,
            "a) Yes",
            datetime(2024, 6, 1),
            "a) Neglect",
            "a) Neglect",
            None,
            None,
            None,
            None,
            "b) No",
            0,
            "Team B",
            "John Worker",
        ]
    )
    path = tmp_path / "la.xlsx"
    wb.save(path)
    report = ingest_sources([path], tmp_path / "out", settings)
    out = store.read_tables(tmp_path / "out")
    contacts = out["contacts"].sort_values("contact_date")
    assert list(contacts["source"]) == ["2A", "6"]
    assert list(contacts["contact_date"]) == [
        pd.Timestamp("2024-04-18"),
        pd.Timestamp("2024-05-01"),
    ]
    kids = out["children"].set_index("child_id")
    assert len(kids) == 2  # C3 has #N/A ethnicity: quarantined; its contact then has no child
    assert sorted(kids["sex"]) == ["F", "M"] and set(kids["ethnicity"]) == {"WBRI"}
    assert set(kids["disability"]) == {True, False}  # C2 disabled on List 7 only
    assert out["referrals"]["outcome"].tolist() == ["nfa"]
    assert out["cp_plans"]["initial_category"].tolist() == ["NEG"]
    q = report.quarantine
    assert set(q["table"]) == {"children", "contacts"}
    assert "missing required value" in q[q["table"] == "children"]["reason"].iloc[0]
    assert "record for a child not in children" in q[q["table"] == "contacts"]["reason"].iloc[0]
    blob = b"".join(
        p.read_bytes() for p in sorted(f for f in (tmp_path / "out").rglob("*") if f.is_file())
    )
    assert b"Jane Worker" not in blob and b"Team A" not in blob


def test_title_rows_header_variants_and_cached_formulas(tmp_path, settings):
    header = [
        f" child unique{NBSP}ID ",
        "GENDER",
        "ethnicity",
        "Date of  Birth",
        "Age",
        "date of contact",
        "Contact source",
    ]
    rows = [
        ["K1", "b) Female", "a) WBRI", datetime(2014, 1, 9), 10, "=DATE(2024,1,5)", "6"],
        ["K2", "a) Male", "a) AIND", datetime(2013, 7, 9), 10, 45296.0, "q) 6: Police"],
    ]
    lists = template_lists()
    lists.pop("List_1")
    path = workbook(
        tmp_path / "wb.xlsx", {"List 1 - Contacts": (header, rows), **lists}, title_rows=3
    )
    set_cached_values(path, 1, {"F5": "45296"})
    ingest_sources([path], tmp_path / "out", settings)
    contacts = store.read_table(tmp_path / "out", "contacts")
    assert list(contacts["contact_date"]) == [pd.Timestamp("2024-01-05")] * 2
    assert contacts["child_id"].nunique() == 2


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_lists_1_to_7_map_to_their_tables(tmp_path, settings):
    from frontdoor.records.export import export_council
    from tests.support.tables import raw_council

    ref = date(2025, 3, 31)
    tables = raw_council(children=10, seed=2, reference_date=ref)
    export_council(tables, tmp_path / "x", formats=("annex_a",), reference_date=ref)
    report = ingest_sources([tmp_path / "x" / "annex_a.xlsx"], tmp_path / "out", settings)
    expected = {
        "contacts": 20,
        "early_help_episodes": 10,
        "referrals": 20,
        "assessments": 20,
        "section47_enquiries": 10,
        "cp_plans": 10,
        "domestic_abuse_notifications": 0,
    }
    for table, n in expected.items():
        assert report.counts[table].loaded == n, table
    s47 = store.read_table(tmp_path / "out", "section47_enquiries")
    raw = tables["section47_enquiries"]
    assert sorted(s47["outcome"]) == sorted(raw["outcome"])  # List 5's two yes/no questions


def test_missing_sheet_is_one_clear_error(tmp_path, settings):
    lists = template_lists()
    lists.pop("List_4")
    path = workbook(tmp_path / "wb.xlsx", lists)
    with pytest.raises(IngestError) as err:
        ingest_sources([path], tmp_path / "out", settings)
    assert "wb.xlsx" in str(err.value) and "List 4 (Assessments)" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_partial_workbook_allowed_by_setting(tmp_path):
    from tests.support import make_settings

    s = make_settings(tmp_path, ingest={"require_all_lists": False})
    lists = template_lists(
        {
            3: [
                [
                    "R1",
                    "a) Male",
                    "a) WBRI",
                    "2015-01-01",
                    9,
                    "2024-01-01",
                    "q) 6: Police",
                    "b) No",
                    0,
                    None,
                    None,
                ]
            ]
        }
    )
    only3 = {"List_3": lists["List_3"]}
    report = ingest_sources([workbook(tmp_path / "wb.xlsx", only3)], tmp_path / "out", s)
    assert report.counts["referrals"].loaded == 1
    assert any("no List 1 (Contacts)" in n for n in report.notes)


def test_missing_required_column_names_file_sheet_and_column(tmp_path, settings):
    lists = template_lists()
    header, rows = lists["List_3"]
    lists["List_3"] = ([h for h in header if h != "Date of referral"], rows)
    path = workbook(tmp_path / "wb.xlsx", lists)
    with pytest.raises(IngestError) as err:
        ingest_sources([path], tmp_path / "out", settings)
    text = str(err.value)
    assert "wb.xlsx" in text and "'List_3'" in text and "'Date of referral'" in text


def test_both_xlsx_engines_read_the_same_rows(tmp_path):
    from frontdoor.ingest.readers.annex_a import read_annex_a
    from tests.support import make_settings

    wb = openpyxl.load_workbook(TEMPLATE)
    wb["List_1"].append(["C1", "b) Female", "a) WBRI", datetime(2015, 3, 4), 9, 45400, "6"])
    wb["List_1"].append([None] * 7)
    wb["List_1"].append(["C2", "#N/A", f"WBRI{NBSP}", "04/05/2016", 8.0, "2024-01-01", True])
    path = tmp_path / "la.xlsx"
    wb.save(path)
    s = make_settings(tmp_path)
    fast = read_annex_a(path, s, engine="fast")
    slow = read_annex_a(path, s, engine="openpyxl")
    assert len(fast.batches) == len(slow.batches) == 13  # 7 lists of children + 6 tables
    for a, b in zip(fast.batches, slow.batches, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)
    assert fast.batches[1].frame["_row"].tolist() == [3, 5]  # the blank row 4 is skipped
