"""Issue 16: what goes wrong on a real council's first run, each on a small file made here.

Dates (1904 workbooks, implausible years, events before birth, the reference date), heading
spellings and missing columns, optional cells, unborn children, lookalike ids, limits, and
the small reader gaps (lowercase cell references, .xls, date spellings).
"""

from __future__ import annotations

import json
import re
import time
import zipfile
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from frontdoor.ingest import lookalikes
from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.run import ingest_sources
from frontdoor.ingest.write import CELLS_CSV, QUARANTINE_CSV
from frontdoor.records import store
from frontdoor.records.pseudonymise import load_key, pseudonymise_value
from tests.support.ingest_workbooks import template_lists, workbook
from tests.support.settings import make_settings

REF = date(2025, 3, 31)


def child(cid="C1", sex="Female", eth="WBRI", dob=datetime(2015, 3, 4)):
    return [cid, sex, eth, dob, 9]


def referral(day, source="6", nfa="No", cid="C1", dob=datetime(2015, 3, 4), **kw):
    return [*child(cid, dob=dob), day, source, nfa, 1, "Team A", kw.get("worker", "A Worker")]


def ingest_lists(tmp_path, rows, name="la.xlsx", settings=None, **overrides):
    settings = settings or make_settings(
        tmp_path, ingest={"reference_date": REF, "require_all_lists": False, **overrides}
    )
    path = workbook(tmp_path / name, template_lists(rows))
    report = ingest_sources([path], tmp_path / "out", settings)
    return report, store.read_tables(tmp_path / "out")


# --- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["fast", "openpyxl"])
@pytest.mark.parametrize("epoch1904", [False, True])
def test_both_date_systems_read_the_same_dates(tmp_path, engine, epoch1904):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.create_sheet("List_3")
    ws.append(
        [
            "Child Unique ID",
            "Gender",
            "Ethnicity",
            "Date of Birth",
            "Date of referral",
            "Referral Source",
        ]
    )
    ws.append(["C1", "Female", "WBRI", datetime(2015, 3, 4), datetime(2024, 5, 1), "6"])
    # A serial typed as a plain number (no date style): it follows the workbook's epoch.
    serial = (
        datetime(2024, 6, 3) - (datetime(1904, 1, 1) if epoch1904 else datetime(1899, 12, 30))
    ).days
    ws.append(["C2", "Male", "WBRI", datetime(2016, 1, 1), serial, "6"])
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        assert ('date1904="1"' in z.read("xl/workbook.xml").decode()) == epoch1904
    s = make_settings(
        tmp_path,
        ingest={"reference_date": REF, "require_all_lists": False, "xlsx_engine": engine},
    )
    ingest_sources([path], tmp_path / "out", s)
    out = store.read_tables(tmp_path / "out")
    assert sorted(out["referrals"]["referral_date"]) == [
        pd.Timestamp("2024-05-01"),
        pd.Timestamp("2024-06-03"),
    ]
    assert sorted(out["children"]["birth_month"]) == [
        pd.Timestamp("2015-03-01"),
        pd.Timestamp("2016-01-01"),
    ]


def test_implausible_dates_are_quarantined_and_unborn_work_is_kept(tmp_path):
    dob = datetime(2015, 3, 4)
    rows = {
        3: [
            referral("2020", cid="C1", dob=dob),  # the year as text: serial 2020 = 1905
            referral(60, cid="C2", dob=dob),  # serial 60: 1900-02-29/03-01
            referral(datetime(2005, 3, 1), cid="C3", dob=dob),  # ten years before birth
            referral(datetime(2014, 9, 1), cid="C4", dob=dob),  # six months before: unborn work
            referral(datetime(2024, 5, 1), cid="C5", dob=dob),
        ],
        7: [
            [
                *child("C6", dob=dob),
                "a) Yes",
                datetime(2010, 1, 5),
                "a) Neglect",
                "a) Neglect",
                None,
                None,
                None,
                None,
                "b) No",
                0,
                "Team",
                "Worker",
            ],
        ],
    }
    report, out = ingest_lists(tmp_path, rows)
    q = report.quarantine
    referrals = q[q["table"] == "referrals"].set_index("row")["reason"]
    assert "implausible date (before 1990-01-01)" in referrals[3]
    assert "implausible date (before 1990-01-01)" in referrals[4]
    assert "more than 9 months before the child's birth" in referrals[5]
    assert len(out["referrals"]) == 2  # the pre-birth referral within 9 months and C5
    plans = q[q["table"] == "cp_plans"]
    assert len(plans) == 1 and "before the child's birth" in plans.iloc[0]["reason"]


def test_one_mistyped_year_setting_the_reference_date_is_named(tmp_path):
    s = make_settings(tmp_path, ingest={"require_all_lists": False})
    rows = {3: [referral(datetime(2020, 5, 1)), referral(datetime(2025, 6, 2), cid="C2")]}
    path = workbook(tmp_path / "typo.xlsx", template_lists(rows))
    report = ingest_sources([path], tmp_path / "out", s)
    assert report.reference_date == "2025-06-02"
    named = [n for n in report.notes if "rests on one row" in n]
    assert named and "typo.xlsx sheet 'List_3' row 4 (referral_date)" in named[0]
    assert "next latest date is 2020-05-01" in named[0]


@pytest.mark.parametrize("text", ["16-Sep-20", "September 16, 2020", "16 Sep 2020"])
def test_more_date_spellings_are_read(tmp_path, text):
    report, out = ingest_lists(tmp_path, {3: [referral(text)]})
    assert list(out["referrals"]["referral_date"]) == [pd.Timestamp("2020-09-16")]


# --- headings, missing columns, optional cells -------------------------------------------------
LIST4 = [
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Continuous Assessment Start Date",
    "{auth}",
    "Was the child assessed as requiring LA children’s social care support",
]


@pytest.mark.parametrize(
    "heading",
    ["Date of Authorization", "Continuous Assessment Authorisation Date", "Assessment authorised"],
)
def test_known_spellings_of_the_authorisation_heading(tmp_path, heading):
    header = [h.replace("{auth}", heading) for h in LIST4]
    rows = [
        [
            "C1",
            "Female",
            "WBRI",
            datetime(2015, 3, 4),
            datetime(2024, 5, 1),
            datetime(2024, 5, 20),
            "Yes",
        ]
    ]
    s = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    path = workbook(tmp_path / "la.xlsx", {"List_4": (header, rows)})
    report = ingest_sources([path], tmp_path / "out", s)
    out = store.read_tables(tmp_path / "out")
    assert list(out["assessments"]["authorisation_date"]) == [pd.Timestamp("2024-05-20")]
    assert not [g for g in report.column_gaps if "Authoris" in g["column"]]


def test_absent_and_empty_expected_columns_are_loud(tmp_path):
    header = [
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Date of referral",
        "Referral Source",
        "Allocated Worker",
    ]  # no "Referral NFA?"
    rows = [["C1", "Female", "WBRI", datetime(2015, 3, 4), datetime(2024, 5, 1), "6", None]]
    s = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    path = workbook(tmp_path / "la.xlsx", {"List_3": (header, rows)})
    report = ingest_sources([path], tmp_path / "out", s)
    gaps = {(g["column"], g["state"]) for g in report.column_gaps}
    assert ("Referral NFA?", "absent") in gaps
    assert ("Does the Child have a Disability", "absent") in gaps
    manifest = store.read_manifest(tmp_path / "out")
    assert {"file": "la.xlsx", "sheet": "List_3", "column": "Referral NFA?", "state": "absent"} in (
        manifest["column_gaps"]
    )
    text = report.render()
    assert "WARNING: la.xlsx sheet 'List_3': expected column 'Referral NFA?' is absent" in text

    rows = [["C1", "Female", "WBRI", datetime(2015, 3, 4), datetime(2024, 5, 1), "6", None]]
    header[-1] = "Referral NFA?"
    path = workbook(tmp_path / "la2.xlsx", {"List_3": (header, rows)})
    report = ingest_sources([path], tmp_path / "out2", s)
    assert ("Referral NFA?", "empty in every row") in {
        (g["column"], g["state"]) for g in report.column_gaps
    }


def test_an_off_spec_optional_value_loads_the_record_without_it(tmp_path):
    header = [h.replace("{auth}", "Continuous Assessment Date of Authorisation") for h in LIST4]
    rows = [
        [
            "C1",
            "Female",
            "WBRI",
            datetime(2015, 3, 4),
            datetime(2024, 5, 1),
            datetime(2024, 5, 9),
            "CS Assessment Updated",
        ],
        [
            "C2",
            "Male",
            "WBRI",
            datetime(2014, 3, 4),
            datetime(2024, 6, 1),
            datetime(2024, 6, 9),
            "Yes",
        ],
    ]
    s = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    path = workbook(tmp_path / "la.xlsx", {"List_4": (header, rows)})
    report = ingest_sources([path], tmp_path / "out", s)
    out = store.read_tables(tmp_path / "out")["assessments"].sort_values("start_date")
    assert len(out) == 2 and report.counts["assessments"].quarantined == 0
    assert out["outcome"].isna().tolist() == [True, False]
    assert list(out["authorisation_date"]) == [
        pd.Timestamp("2024-05-09"),
        pd.Timestamp("2024-06-09"),
    ]
    cells = pd.read_csv(report.quarantine_dir / CELLS_CSV)
    hit = cells[cells["column"] == "outcome"]
    assert len(hit) == 1 and hit.iloc[0]["row"] == 3 and hit.iloc[0]["sheet"] == "List_4"
    assert "loaded as missing" in hit.iloc[0]["rule"]
    assert "CS Assessment" not in (report.quarantine_dir / CELLS_CSV).read_text()


# --- unborn children ---------------------------------------------------------------------------
def test_unborn_children_and_their_records_load(tmp_path):
    rows = {
        1: [
            [
                *child("U1", sex="c) Not stated/recorded (or unborn)", dob=None),
                datetime(2025, 1, 3),
                "6",
            ]
        ],
        3: [
            referral(datetime(2025, 1, 10), cid="U1", dob=None, sex="Unknown"),
            referral(datetime(2025, 2, 10), cid="U2", dob=datetime(2025, 6, 1)),  # expected
        ],
    }
    report, out = ingest_lists(tmp_path, rows)
    kids = out["children"]
    assert len(kids) == 2 and report.counts["children"].quarantined == 0
    assert kids["birth_month"].isna().sum() == 1
    assert pd.Timestamp("2025-06-01") in set(kids["birth_month"])
    assert len(out["referrals"]) == 2 and len(out["contacts"]) == 1

    from frontdoor.features.build import build_feature_table
    from frontdoor.review.history import HistoryIndex

    table = build_feature_table(out, REF, make_settings(tmp_path))
    ages = table.set_index("decision_date")["age_at_decision"]
    assert pd.isna(ages[pd.Timestamp("2025-01-10")])  # no date of birth: age unknown
    assert ages[pd.Timestamp("2025-02-10")] < 0  # before the expected birth
    assert table["age_band"].isna().all()  # in no age band of the fairness audit
    histories = HistoryIndex(out)
    ages = {c: histories.age(c, date(2025, 2, 10)) for c in kids["child_id"]}
    assert set(ages.values()) == {None}


# --- lookalike ids ---------------------------------------------------------------------------
def test_lookalike_ids_are_one_child_and_every_change_is_noted(tmp_path):
    spellings = [
        "14007367",
        "1400\u200b7367",
        "1400\u00a07367",
        "１４００７３６７",
        "14007367.0",
        "\u202e14007367",
    ]
    rows = {3: [referral(datetime(2024, 1, 1 + i), cid=c) for i, c in enumerate(spellings)]}
    report, out = ingest_lists(tmp_path, rows)
    assert len(out["children"]) == 1 and len(out["referrals"]) == 6
    cells = pd.read_csv(report.quarantine_dir / CELLS_CSV)
    changed = cells[(cells["column"] == "child_id") & (cells["table"] == "referrals")]
    assert sorted(changed["row"]) == [4, 5, 6, 7, 8]  # every spelling but the plain one
    assert "14007367" not in (report.quarantine_dir / CELLS_CSV).read_text()


def test_leading_zeros_stay_separate_children_and_are_flagged_loudly(tmp_path):
    """00123 and 123 may be two children (leading zeros can be significant in a council's
    ids): never merged on a guess, but every row is listed, the summary warns, and the
    manifest names the pair as pseudonyms; an id like C9 with no lookalike is not listed."""
    rows = {
        3: [
            referral(datetime(2024, 1, 1), cid="00123"),
            referral(datetime(2024, 2, 1), cid="123"),
            referral(datetime(2024, 3, 1), cid="C9"),
            referral(datetime(2024, 4, 1), cid="LA007"),
            referral(datetime(2024, 5, 1), cid="LA7"),
        ]
    }
    settings = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    report, out = ingest_lists(tmp_path, rows, settings=settings)
    assert len(out["children"]) == 5 and len(out["referrals"]) == 5
    cells = pd.read_csv(report.quarantine_dir / CELLS_CSV)
    flagged = cells[cells["rule"] == lookalikes.RULE]
    assert sorted(flagged.loc[flagged["table"] == "referrals", "row"]) == [
        3,
        4,
        6,
        7,
    ]  # data from row 3
    assert set(flagged["column"]) == {"child_id"}
    key = load_key(settings)
    expected = [
        {"namespace": "child", "pseudonyms": sorted(pseudonymise_value(key, v) for v in pair)}
        for pair in (("00123", "123"), ("LA007", "LA7"))
    ]
    expected.sort(key=lambda g: g["pseudonyms"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sorted(manifest["possible_lookalike_ids"], key=lambda g: g["pseudonyms"]) == expected
    assert set(out["children"]["child_id"]) >= {p for g in expected for p in g["pseudonyms"]}
    summary = report.render()
    assert "WARNING: 2 group(s) of child ids differ only in leading zeros" in summary
    for written in (report.quarantine_dir / CELLS_CSV, tmp_path / "out" / "manifest.json"):
        text = written.read_text()
        assert "00123" not in text and "LA007" not in text  # never the ids themselves


# --- unread columns and notes ------------------------------------------------------------------
def test_notes_right_of_the_header_and_long_unread_cells_never_quarantine(tmp_path):
    rows = {
        3: [
            [*referral(datetime(2024, 5, 1))[:-1], "x" * 20_000],  # Allocated Worker: never read
            [*referral(datetime(2024, 6, 1), cid="C2"), None, "note: chased school 3 times"],
        ]
    }
    report, out = ingest_lists(tmp_path, rows)
    assert len(out["referrals"]) == 2 and report.counts["referrals"].quarantined == 0


def test_lowercase_cell_references_are_read(tmp_path):
    path = workbook(tmp_path / "lower.xlsx", template_lists({3: [referral(datetime(2024, 5, 1))]}))
    with zipfile.ZipFile(path) as zin:
        items = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    name = next(n for n in items if n.startswith("xl/worksheets/sheet3"))
    xml = items[name].decode()
    lowered = re.sub(r' r="([A-Z]+)(\d+)"', lambda m: f' r="{m.group(1).lower()}{m.group(2)}"', xml)
    assert lowered != xml
    items[name] = lowered.encode()
    with zipfile.ZipFile(path, "w") as zout:
        for fname, data in items.items():
            zout.writestr(fname, data)
    s = make_settings(
        tmp_path, ingest={"reference_date": REF, "require_all_lists": False, "xlsx_engine": "fast"}
    )
    ingest_sources([path], tmp_path / "out", s)
    assert len(store.read_table(tmp_path / "out", "referrals")) == 1


def test_xls_says_save_as_xlsx(tmp_path, settings):
    old = tmp_path / "annex_a.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(IngestError, match=r"save it as \.xlsx"):
        ingest_sources([old], tmp_path / "out", settings)


# --- limits ----------------------------------------------------------------------------------
def test_rows_per_sheet_are_bounded(tmp_path):
    rows = {3: [referral(datetime(2024, 1, 1 + i), cid=f"C{i}") for i in range(8)]}
    with pytest.raises(IngestError, match=r"more than 5 rows \(ingest.max_rows_per_sheet\)"):
        ingest_lists(tmp_path, rows, max_rows_per_sheet=5)
    assert not (tmp_path / "out").exists()


def _bomb(path, sheet_rows: int, string_chars: int):
    """A small workbook whose shared strings or unused column expand enormously."""
    base = workbook(path, template_lists({3: [referral(datetime(2024, 5, 1))]}))
    with zipfile.ZipFile(base) as zin:
        items = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for fname, data in items.items():
            if fname.startswith("xl/worksheets/sheet3") and sheet_rows:
                xml = data.decode()
                filler = "".join(
                    f'<row r="{r}"><c r="K{r}" t="inlineStr"><is><t>filled down</t></is></c></row>'
                    for r in range(10, 10 + sheet_rows)
                )
                zout.writestr(fname, xml.replace("</sheetData>", filler + "</sheetData>"))
            elif fname != "xl/sharedStrings.xml":
                zout.writestr(fname, data)
        if string_chars:
            with zout.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
                fh.write(f'<sst xmlns="{main}">'.encode())
                chunk = ("<si><t>" + "A" * 9_000 + "</t></si>").encode()
                for _ in range(string_chars // 9_000):
                    fh.write(chunk)
                fh.write(b"</sst>")
    return path


def test_a_shared_string_bomb_stops_fast(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", 0, 300_000_000)
    assert path.stat().st_size < 2_000_000  # under 2 MB on disk, 300 MB of text inside
    s = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    started = time.perf_counter()
    with pytest.raises(IngestError, match="shared strings exceed 100,000,000 characters"):
        ingest_sources([path], tmp_path / "out", s)
    assert time.perf_counter() - started < 20


def test_an_unused_column_filled_down_is_skipped_unread(tmp_path):
    path = _bomb(tmp_path / "filled.xlsx", 50_000, 0)
    s = make_settings(tmp_path, ingest={"reference_date": REF, "require_all_lists": False})
    report = ingest_sources([path], tmp_path / "out", s)
    assert report.counts["referrals"].read == 1 and len(report.quarantine) == 0


def test_the_quarantine_shows_no_identifier_name_or_free_text(tmp_path):
    rows = {
        3: [
            # a row shifted one column left: the id lands in Gender, the DOB serial in Ethnicity
            ["Gender?", "CHILD4471", 42046, "WBRI", datetime(2024, 5, 1), "6", "No"],
            referral(datetime(2024, 6, 1), cid="C2", source="Jane Smith (social worker)"),
            referral(datetime(2024, 7, 1), cid="C3", source='=HYPERLINK("http://x")'),
        ]
    }
    report, _ = ingest_lists(tmp_path, rows)
    text = (report.quarantine_dir / QUARANTINE_CSV).read_text()
    for secret in ("CHILD4471", "42046", "Jane", "Smith", "HYPERLINK"):
        assert secret not in text
    q = pd.read_csv(report.quarantine_dir / QUARANTINE_CSV)
    assert {"source", "sheet", "row", "column", "reason"} <= set(q.columns)
    assert set(q["sheet"]) == {"List_3"} and {2, 3, 4} & set(q["row"]) == {3, 4}
    assert (
        q["value"]
        .fillna("")
        .map(lambda v: v == "" or v.startswith(("[not shown", "[withheld")))
        .all()
    )
