"""A corpus of malformed council extracts, generated on the fly (no big files committed).

Each case builds its sources from a small valid council and says what must happen: an
``error`` (one clear message naming the file and what was expected; nothing written), or a
``quarantine`` (the bad rows reach the quarantine with this reason; the rest loads), or a
``duplicates`` count. Cases are data: name, builder, expectation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd

from frontdoor.records.export import export_council
from tests.support.ingest_workbooks import template_lists, workbook
from tests.support.tables import raw_council, write_canonical_folder

REF = date(2025, 3, 31)
TEN_MB = "x" * (10 * 1024 * 1024)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], list[Path]]
    error: tuple[str, ...] = ()  # substrings of the one clear message
    table: str | None = None  # where the quarantine or duplicates are expected
    reason: str | None = None  # substring of the quarantine reason
    quarantined: int | None = None  # exact number of quarantined rows in `table`, if known
    duplicates: int | None = None
    extra: dict = field(default_factory=dict)


def council() -> dict[str, pd.DataFrame]:
    return raw_council(children=6, seed=9, reference_date=REF)


def csv_folder(
    folder: Path,
    edit: Callable[[dict[str, pd.DataFrame]], None] | None = None,
) -> Path:
    tables = council()
    if edit is not None:
        edit(tables)
    write_canonical_folder(tables, folder / "src", REF, fmt="csv")
    return folder / "src"


def set_cell(table: str, column: str, value, row: int = 0):
    def edit(tables):
        frame = tables[table].astype({column: object})
        frame.loc[frame.index[row], column] = value
        tables[table] = frame

    return edit


def replace_text(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ---------------------------------------------------------------- canonical CSV / Parquet
def empty_csv(tmp: Path) -> list[Path]:
    (tmp / "referrals.csv").write_bytes(b"")
    return [tmp / "referrals.csv"]


def blank_lines_csv(tmp: Path) -> list[Path]:
    (tmp / "referrals.csv").write_text("\n\n\n")
    return [tmp / "referrals.csv"]


def missing_column_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    frame = pd.read_csv(src / "referrals.csv").drop(columns=["referral_date"])
    frame.to_csv(src / "referrals.csv", index=False)
    return [src]


def stray_delimiter_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    lines = (src / "contacts.csv").read_text().splitlines()
    lines[2] = lines[2] + ",extra"
    (src / "contacts.csv").write_text("\n".join(lines) + "\n")
    return [src]


def cp1252_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    text = (src / "children.csv").read_text()
    (src / "children.csv").write_bytes(
        text.replace("child_id", "child_id_é", 0).encode("utf-8")
        + "LA09é,M,WBRI,2015-01-01,False,H,3\n".encode("cp1252")
    )
    return [src]


def utf16_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    text = (src / "children.csv").read_text()
    (src / "children.csv").write_bytes(text.encode("utf-16"))
    return [src]


def binary_csv(tmp: Path) -> list[Path]:
    (tmp / "contacts.csv").write_bytes(b"PK\x03\x04\x00\x00\x00garbage\x00\x01\x02")
    return [tmp / "contacts.csv"]


def semicolon_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    frame = pd.read_csv(src / "contacts.csv", dtype=str)
    frame.to_csv(src / "contacts.csv", index=False, sep=";")
    return [src]


def misnamed_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    (src / "referrals.csv").rename(tmp / "referals.csv")
    return [tmp / "referals.csv"]


def truncated_parquet(tmp: Path) -> list[Path]:
    src = tmp / "src"
    src.mkdir()
    council()["referrals"].to_parquet(src / "referrals.parquet")
    data = (src / "referrals.parquet").read_bytes()
    (src / "referrals.parquet").write_bytes(data[: len(data) // 2])
    return [src / "referrals.parquet"]


def parquet_wrong_types(tmp: Path) -> list[Path]:
    src = tmp / "src"
    src.mkdir()
    tables = council()
    tables["children"].to_parquet(src / "children.parquet")
    frame = tables["referrals"].astype({"referral_date": object})
    frame.loc[0, "referral_date"] = True
    frame.loc[1, "referral_date"] = "not a date"
    frame.astype({"referral_date": str}).to_parquet(src / "referrals.parquet")
    (src / "manifest.json").write_text(json.dumps({"reference_date": REF.isoformat()}))
    return [src]


def missing_path(tmp: Path) -> list[Path]:
    return [tmp / "no-such-folder"]


def empty_folder(tmp: Path) -> list[Path]:
    (tmp / "empty").mkdir()
    (tmp / "empty" / "readme.txt").write_text("nothing here")
    return [tmp / "empty"]


def unknown_extension(tmp: Path) -> list[Path]:
    (tmp / "referrals.txt").write_text("child_id,referral_date\n")
    return [tmp / "referrals.txt"]


def bad_manifest(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    (src / "manifest.json").write_text("{not json")
    return [src]


# ---------------------------------------------------------------- Annex A workbooks
def annex(tmp: Path, edit: Callable[[openpyxl.Workbook], None] | None = None) -> Path:
    export_council(council(), tmp / "x", formats=("annex_a",), reference_date=REF)
    path = tmp / "x" / "annex_a.xlsx"
    if edit is not None:
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
    return path


def annex_cell(sheet: str, header: str, value, row: int = 3):
    def edit(wb):
        ws = wb[sheet]
        headers = [c.value for c in ws[2]]
        ws.cell(row=row, column=headers.index(header) + 1, value=value)

    return edit


def empty_xlsx(tmp: Path) -> list[Path]:
    (tmp / "la.xlsx").write_bytes(b"")
    return [tmp / "la.xlsx"]


def truncated_xlsx(tmp: Path) -> list[Path]:
    path = annex(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [path]


def text_as_xlsx(tmp: Path) -> list[Path]:
    (tmp / "la.xlsx").write_text("Child Unique ID,Gender\nC1,Male\n")
    return [tmp / "la.xlsx"]


def damaged_sheet_xml(tmp: Path) -> list[Path]:
    import zipfile

    path = annex(tmp)
    with zipfile.ZipFile(path) as z:
        items = {i: z.read(i) for i in z.namelist()}
    sheet = "xl/worksheets/sheet3.xml"
    items[sheet] = items[sheet][: len(items[sheet]) // 2]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in items.items():
            z.writestr(name, data)
    return [path]


def missing_sheet(tmp: Path) -> list[Path]:
    def drop(wb):
        del wb["List_4"]

    return [annex(tmp, drop)]


def no_list_sheets(tmp: Path) -> list[Path]:
    return [workbook(tmp / "la.xlsx", {"Front_Sheet": (["Annex A"], [])})]


def missing_column(tmp: Path) -> list[Path]:
    lists = template_lists()
    header, rows = lists["List_3"]
    lists["List_3"] = ([h for h in header if h != "Date of referral"], rows)
    return [workbook(tmp / "la.xlsx", lists)]


def no_header_row(tmp: Path) -> list[Path]:
    lists = template_lists()
    lists["List_1"] = (["C1", "a) Male", "a) WBRI", "2015-01-01", 9, "2024-01-01", "6"], [])
    return [workbook(tmp / "la.xlsx", lists)]


def two_list_1_sheets(tmp: Path) -> list[Path]:
    def add(wb):  # a true copy of List 1 on a second sheet: read, and merged as duplicates
        ws = wb.create_sheet("List 1 (copy)")
        for row in wb["List_1"].iter_rows(values_only=True):
            ws.append(list(row))

    return [annex(tmp, add)]


def formula_without_value(tmp: Path) -> list[Path]:
    return [annex(tmp, annex_cell("List_3", "Date of referral", "=TODAY()"))]


def ten_mb_cell_xlsx(tmp: Path) -> list[Path]:
    return [annex(tmp, annex_cell("List_3", "Allocated Worker", TEN_MB))]


def duplicate_rows_xlsx(tmp: Path) -> list[Path]:
    def dup(wb):
        ws = wb["List_3"]
        ws.append([c.value for c in ws[3]])

    return [annex(tmp, dup)]


# ---------------------------------------------------------------- CIN census XML
def cin(tmp: Path, old: str | None = None, new: str | None = None) -> Path:
    export_council(council(), tmp / "c", formats=("cin_xml",), reference_date=REF)
    path = tmp / "c" / "cin_census.xml"
    if old is not None:
        replace_text(tmp / "c", "cin_census.xml", old, new)
    return path


def first_value(tmp: Path, tag: str) -> str:
    import re

    text = (cin(tmp)).read_text()
    return re.search(f"<{tag}>(.*?)</{tag}>", text).group(0)


def cin_edit(tag: str, new_value: str):
    def build(tmp: Path) -> list[Path]:
        old = first_value(tmp, tag)
        return [cin(tmp, old, f"<{tag}>{new_value}</{tag}>")]

    return build


def empty_xml(tmp: Path) -> list[Path]:
    (tmp / "cin.xml").write_bytes(b"")
    return [tmp / "cin.xml"]


def truncated_xml(tmp: Path) -> list[Path]:
    path = cin(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [path]


def wrong_root_xml(tmp: Path) -> list[Path]:
    (tmp / "cin.xml").write_text("<Report><Child/></Report>")
    return [tmp / "cin.xml"]


def child_without_id(tmp: Path) -> list[Path]:
    old = first_value(tmp, "LAchildID")
    return [cin(tmp, old, "")]


def entity_expansion_xml(tmp: Path) -> list[Path]:
    path = cin(tmp)
    text = path.read_text()
    text = text.replace(
        "<?xml version='1.0' encoding='utf-8'?>",
        "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE Message [<!ENTITY x SYSTEM "
        '"file:///etc/passwd">]>',
    )
    old = first_value(tmp, "Ethnicity")
    path.write_text(text.replace(old, "<Ethnicity>&x;</Ethnicity>", 1))
    return [path]


def namespaced_xml(tmp: Path) -> list[Path]:
    path = cin(tmp)
    text = path.read_text().replace("<Message>", '<Message xmlns="http://www.dfe.gov.uk/CIN">', 1)
    path.write_text(text)
    return [path]


def duplicate_header_csv(tmp: Path) -> list[Path]:
    src = csv_folder(tmp)
    lines = (src / "contacts.csv").read_text().splitlines()
    lines = [line + "," + line.split(",")[1] for line in lines]
    lines[0] = lines[0].rsplit(",", 1)[0] + ",child_id"
    (src / "contacts.csv").write_text("\n".join(lines) + "\n")
    return [src]


CASES: list[Case] = [
    # canonical files
    Case("empty csv", empty_csv, error=("referrals.csv", "the file is empty")),
    Case("csv of blank lines", blank_lines_csv, error=("referrals.csv", "empty header row")),
    Case(
        "csv lacks a required column",
        missing_column_csv,
        error=("referrals.csv", "lacks required column referral_date", "expected columns"),
    ),
    Case(
        "csv with a stray delimiter",
        stray_delimiter_csv,
        table="contacts",
        reason="stray delimiter",
        quarantined=1,
    ),
    Case("csv in Windows-1252", cp1252_csv, error=("children.csv", "not valid UTF-8")),
    Case("csv in UTF-16 (tolerated)", utf16_csv, table="children", quarantined=0),
    Case("binary bytes named .csv", binary_csv, error=("contacts.csv", "binary")),
    Case("semicolon-separated csv (tolerated)", semicolon_csv, table="contacts", quarantined=0),
    Case(
        "file name names no table",
        misnamed_csv,
        error=("referals.csv", "does not name a canonical table"),
    ),
    Case("truncated parquet", truncated_parquet, error=("referrals.parquet", "Parquet")),
    Case(
        "parquet with wrong types",
        parquet_wrong_types,
        table="referrals",
        reason="unreadable date",
        quarantined=2,
    ),
    Case("source that does not exist", missing_path, error=("no-such-folder", "does not exist")),
    Case("folder with nothing readable", empty_folder, error=("empty", "no readable extract")),
    Case("unknown file type", unknown_extension, error=("referrals.txt", "unknown file type")),
    Case("a column twice", duplicate_header_csv, error=("contacts.csv", "child_id more than once")),
    Case("manifest that is not JSON", bad_manifest, error=("manifest.json", "not valid JSON")),
    Case(
        "wrong type: word for a number",
        lambda t: [csv_folder(t, set_cell("children", "idaci_decile", "high"))],
        table="children",
        quarantined=0,  # an optional column: the cell is loaded as missing, with a note
        extra={"note": "not a whole number: loaded as missing"},
    ),
    Case(
        "unknown code",
        lambda t: [csv_folder(t, set_cell("children", "sex", "X"))],
        table="children",
        reason="not an allowed code",
        quarantined=1,
    ),
    Case(
        "impossible calendar date",
        lambda t: [csv_folder(t, set_cell("referrals", "referral_date", "2024-02-30"))],
        table="referrals",
        reason="unreadable date",
        quarantined=1,
    ),
    Case(
        "date in the year 1066",
        lambda t: [csv_folder(t, set_cell("contacts", "contact_date", "1066-10-14"))],
        table="contacts",
        reason="impossible date",
        quarantined=1,
    ),
    Case(
        "date after the reference date",
        lambda t: [csv_folder(t, set_cell("referrals", "referral_date", "2031-01-01"))],
        table="referrals",
        reason="after the extract's reference date",
        quarantined=1,
    ),
    Case(
        "plan ends before it starts",
        lambda t: [csv_folder(t, set_cell("cp_plans", "end_date", "2001-01-01"))],
        table="cp_plans",
        reason="end_date before start_date",
        quarantined=1,
    ),
    Case(
        "record for an unknown child",
        lambda t: [csv_folder(t, set_cell("referrals", "child_id", "NOBODY"))],
        table="referrals",
        reason="child not in children",
        quarantined=1,
    ),
    Case(
        "missing child id",
        lambda t: [csv_folder(t, set_cell("referrals", "child_id", None))],
        table="referrals",
        reason="missing required value",
        quarantined=1,
    ),
    Case(
        "identifier of 200 characters",
        lambda t: [csv_folder(t, set_cell("contacts", "contact_id", "C" * 200))],
        table="contacts",
        reason="identifier longer than 128",
        quarantined=1,
    ),
    Case(
        "unknown assessment factor",
        lambda t: [csv_folder(t, set_cell("assessments", "factors", "3B,99Z"))],
        table="assessments",
        reason="unknown assessment factor code",
        quarantined=1,
    ),
    Case(
        "a household membership that ends before it starts",
        lambda t: [csv_folder(t, set_cell("household_memberships", "end_date", "1990-01-01"))],
        table="household_memberships",
        reason="before",
        quarantined=1,
    ),
    Case(
        "unknown presenting concern on a contact",
        lambda t: [csv_folder(t, set_cell("contacts", "presenting_concerns", "16A,ZZ9"))],
        table="contacts",
        quarantined=0,  # optional: loaded without it, noted
        extra={"note": "unknown assessment factor code: loaded as missing"},
    ),
    Case(
        "not a yes/no",
        lambda t: [
            csv_folder(t, set_cell("domestic_abuse_notifications", "marac_referral", "perhaps"))
        ],
        table="domestic_abuse_notifications",
        reason="not a yes/no value",
        quarantined=1,
    ),
    Case(
        "10 MB cell in a csv",
        lambda t: [csv_folder(t, set_cell("domestic_abuse_notifications", "dash_risk", TEN_MB))],
        table="domestic_abuse_notifications",
        reason="cell longer than",
        quarantined=1,
    ),
    Case(
        "duplicate rows in a csv",
        lambda t: [
            csv_folder(
                t,
                lambda tb: tb.__setitem__(
                    "contacts", pd.concat([tb["contacts"], tb["contacts"].iloc[:2]])
                ),
            )
        ],
        table="contacts",
        quarantined=0,
        duplicates=2,
    ),
    # Annex A workbooks
    Case("empty workbook file", empty_xlsx, error=("la.xlsx", "the file is empty")),
    Case("truncated workbook", truncated_xlsx, error=("annex_a.xlsx", "Excel workbook")),
    Case("text file named .xlsx", text_as_xlsx, error=("la.xlsx", "Excel workbook")),
    Case("sheet XML cut short", damaged_sheet_xml, error=("annex_a.xlsx", "damaged")),
    Case("missing sheet", missing_sheet, error=("annex_a.xlsx", "lacks sheet List 4")),
    Case("no list sheets at all", no_list_sheets, error=("la.xlsx", "no Annex A list sheets")),
    Case(
        "missing column",
        missing_column,
        error=("la.xlsx", "'List_3'", "lacks column 'Date of referral'"),
    ),
    Case("sheet without a header row", no_header_row, error=("la.xlsx", "no header row")),
    Case(
        "a second List 1 sheet (read; copies are duplicates)",
        two_list_1_sheets,
        table="contacts",
        quarantined=0,
        extra={"note": "List 1 read from 2 sheets"},
    ),
    Case(
        "misspelt code",
        lambda t: [annex(t, annex_cell("List_1", "Gender", "b) Femal"))],
        table="children",
        reason="not an allowed code",
        quarantined=1,
    ),
    Case(
        "#N/A in a required date",
        lambda t: [annex(t, annex_cell("List_3", "Date of referral", "#N/A"))],
        table="referrals",
        reason="missing required value",
        quarantined=1,
    ),
    Case(
        "formula without a cached value",
        formula_without_value,
        table="referrals",
        reason="missing required value",
        quarantined=1,
    ),
    Case(
        "impossible date as text",
        lambda t: [
            annex(t, annex_cell("List_7", "Child Protection Plan Start Date", "31/02/2024"))
        ],
        table="cp_plans",
        reason="unreadable date",
        quarantined=1,
    ),
    Case(
        "unknown referral source",
        lambda t: [annex(t, annex_cell("List_3", "Referral Source", "zz) 42: Aliens"))],
        table="referrals",
        reason="not an allowed code",
        quarantined=1,
    ),
    Case(
        "10 MB cell in Allocated Worker",
        ten_mb_cell_xlsx,
        table="referrals",
        quarantined=0,  # a column never read is skipped unread
    ),
    Case(
        "duplicate row in List 3",
        duplicate_rows_xlsx,
        table="referrals",
        duplicates=1,
        quarantined=0,
    ),
    # CIN census XML
    Case("empty XML file", empty_xml, error=("cin.xml", "the file is empty")),
    Case("truncated XML", truncated_xml, error=("cin_census.xml", "not well-formed")),
    Case("XML that is not a CIN return", wrong_root_xml, error=("cin.xml", "<Report>")),
    Case(
        "child without LAchildID",
        child_without_id,
        table="children",
        reason="missing required value",
        quarantined=1,
    ),
    Case(
        "unknown referral source in XML",
        cin_edit("ReferralSource", "99"),
        table="referrals",
        reason="not an allowed code",
        quarantined=1,
    ),
    Case(
        "unknown GenderCurrent",
        cin_edit("GenderCurrent", "7"),
        table="children",
        reason="not an allowed code",
        quarantined=1,
    ),
    Case(
        "month 13 in XML",
        cin_edit("CINreferralDate", "2022-13-45"),
        table="referrals",
        reason="unreadable date",
        quarantined=1,
    ),
    Case(
        "external entity in XML (not resolved)",
        entity_expansion_xml,
        table="children",
        reason="missing required value",
        quarantined=1,
    ),
]
