"""The regex scan of plain sheet parts gives exactly what lxml gives, and declines the rest.

Each sheet below is read both ways by the real reader (``FastWorkbook``): scanned, where the
scan accepts the part, and parsed with lxml, as every part was before the scan existed.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from frontdoor.ingest.readers import xlsx_scan
from frontdoor.ingest.readers.xlsx_fast import FastWorkbook, LimitExceeded

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
HEAD = (
    f'<worksheet xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships" xmlns:x14ac="http://schemas.microsoft.com/office/'
    'spreadsheetml/2009/9/ac"><dimension ref="A1:F9"/><sheetViews><sheetView '
    'workbookViewId="0"/></sheetViews>'
)
TAIL = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
STRINGS = ["Child Unique ID", "Gender", "LA0001", "a) Male", "b) Female", " spaced "]


def sheet(rows: str, head: str = HEAD, tail: str = TAIL, decl: str = DECL) -> bytes:
    return f"{decl}{head}<sheetData>{rows}</sheetData>{tail}".encode()


# Excel's own forms: shared strings, numbers, flags, errors, formulas with cached values,
# inline strings, empty styled cells, gaps, lowercase and repeated references, rows without
# r, empty rows, row attributes, entities and character references, preserved spaces.
PLAIN = sheet(
    '<row r="1" spans="1:6" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c>'
    '<c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2" spans="1:6" ht="15" customHeight="1"><c r="A2" s="1" t="s"><v>2</v></c>'
    '<c r="B2" t="s"><v>3</v></c><c r="C2" s="2"><v>45123</v></c><c r="D2"><v>1.5</v></c>'
    '<c r="E2" t="b"><v>1</v></c><c r="F2" t="e"><v>#N/A</v></c></row>'
    '<row r="3"><c r="a3" t="inlineStr"><is><t>LA&amp;0002 &lt;x&gt; &#65;&#x42;</t></is></c>'
    '<c r="C3" t="str"><f>A3&amp;"x"</f><v>text &quot;q&quot;</v></c>'
    '<c r="D3" s="3"/><c r="E3" t="n"><v/></c><c r="F3"><f>1+1</f><v>2</v></c></row>'
    '<row r="5"/><row><c r="A6" t="s"><v>5</v></c><c r="A6" t="s"><v>4</v></c></row>'
    '<row r="7">\n  <c r="C7"><v>12345678901234567890</v></c>\n  <c r="B7"><v>1E3</v></c>\n'
    '  <c r="D7" t="inlineStr"><is><t xml:space="preserve"> a\tb\n</t></is></c>\n'
    '  <c r="E7" t="inlineStr"><is><t/></is></c><c r="F7" t="n"><v>oops</v></c></row>'
    f'<row r="8"><c r="A8" t="inlineStr"><is><t>{"x" * 40}</t></is></c>'
    '<c r="B8" t="d"><v>2024-03-05</v></c><c r="C8" t="inlineStr"><is/></c></row>'
)

DECLINED = {
    "comment": sheet('<row r="1"><c r="A1"><v>1</v></c><!-- note --></row>'),
    "cdata": sheet('<row r="1"><c r="A1" t="str"><v><![CDATA[a<b]]></v></c></row>'),
    "carriage return": sheet('<row r="1"><c r="A1" t="str"><v>a\r\nb</v></c></row>'),
    "rich text": sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><b/></rPr><t>b) </t></r>'
        "<r><t>Female</t></r></is></c></row>"
    ),
    "no reference": sheet('<row r="1"><c t="s"><v>0</v></c><c><v>7</v></c></row>'),
    "single quotes": sheet("<row r='1'><c r='A1'><v>1</v></c></row>"),
    "prefixed": f'{DECL}<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1">'
    "<x:v>3</x:v></x:c></x:row></x:sheetData></x:worksheet>".encode(),
    "undeclared prefix": sheet(
        '<row r="1" x14ac:dyDescent="0.25"><c r="A1"><v>1</v></c></row>',
        head=f'<worksheet xmlns="{MAIN}">',
    ),
    "entity": (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "Male">]>'
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e;'
        "</t></is></c></row></sheetData></worksheet>"
    ).encode(),
    "bad character reference": sheet('<row r="1"><c r="A1" t="str"><v>&#1;</v></c></row>'),
    "duplicate attribute": sheet('<row r="1"><c r="A1" r="B1"><v>1</v></c></row>'),
    "truncated": sheet('<row r="1"><c r="A1"><v>1</v></c></row>')[:-40],
    "latin-1": (
        f'<?xml version="1.0" encoding="ISO-8859-1"?><worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>caf\xe9</t></is></c></row></sheetData>'
        "</worksheet>"
    ).encode("latin-1"),
    "control character": sheet('<row r="1"><c r="A1" t="str"><v>a\x01b</v></c></row>'),
    "other attribute": sheet('<row r="1"><c r="A1" s="1" foo="x"><v>1</v></c></row>'),
    "row elsewhere": sheet(
        '<row r="1"><c r="A1"><v>1</v></c></row>',
        tail='<extLst><row r="9"><c r="A9"><v>9</v></c></row></extLst></worksheet>',
    ),
}


def workbook(tmp: Path, part: bytes, name: str = "book.xlsx") -> Path:
    path = tmp / name
    strings = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in STRINGS)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="List 1" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", part)
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{strings}</sst>')
    return path


def outcome(rows) -> list | str:
    """Every row, or the kind of error that stopped the reading (after the same rows)."""
    got: list = []
    try:
        for row in rows:
            got.append(row)
    except Exception as exc:  # the reader's own errors and lxml's alike
        return [*got, type(exc).__name__]
    return got


@pytest.mark.parametrize("keep", [None, {0, 2, 5}])
def test_plain_sheet_is_scanned_and_reads_as_lxml_does(tmp_path, keep):
    book = FastWorkbook(workbook(tmp_path, PLAIN), max_cell_chars=30)
    plain = xlsx_scan.scan(PLAIN)
    assert plain is not None, "the plain layout must be scanned, or the fast path never runs"
    scanned = outcome(book._scanned_rows("List 1", plain, set(keep or ())))
    parsed = outcome(book._parsed_rows("List 1", set(keep or ())))
    assert scanned == parsed
    assert outcome(book.rows("List 1", set(keep or ()))) == parsed
    if keep is None:
        assert parsed[0] == (1, ("Child Unique ID", "Gender"))
        assert parsed[2] == (3, ("LA&0002 <x> AB", None, 'text "q"', None, None, 2))
        assert parsed[4][1][3] == " a\tb\n"
    else:
        assert parsed[0] == (1, ("Child Unique ID",))


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_other_layouts_are_parsed_with_lxml(tmp_path, name):
    part = DECLINED[name]
    assert xlsx_scan.scan(part) is None
    try:
        book = FastWorkbook(workbook(tmp_path, part))
    except Exception as exc:  # a part lxml cannot read stops the same way either way
        pytest.skip(f"not a readable workbook: {type(exc).__name__}")
    assert outcome(book.rows("List 1")) == outcome(book._parsed_rows("List 1", None))


def test_row_limit_stops_after_the_same_rows(tmp_path):
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 8))
    part = sheet(rows)
    book = FastWorkbook(workbook(tmp_path, part), max_rows=5)
    scanned = outcome(book.rows("List 1"))
    assert scanned == outcome(book._parsed_rows("List 1", None))
    assert scanned[-1] == LimitExceeded.__name__ and len(scanned) == 6


def test_text_node_near_the_parser_limit_is_left_to_lxml():
    part = sheet(f'<row r="1"><c r="A1" t="str"><v>{"x" * 10_000_000}</v></c></row>')
    assert xlsx_scan.scan(part) is None


def test_scan_time_grows_linearly_with_white_space():
    """Runs of spaces in a value, between cells or before a form the scan declines cost time
    in proportion to their length (no run is split every way before failing): a crafted part
    cannot hold up a run. Quadratic scanning took about 16 s at this length."""
    run = " " * 100_000
    declined = sheet(
        f'<row r="1"><c r="A1" t="str"><v>{run}x</v></c>{run}<c r="B1" foo="1"/></row>'
        f'<row r="2"><c r="A2">{run}<x/></c></row>'
    )
    plain = sheet(f'<row r="1">{run}<c r="A1">{run}<v>1</v>{run}</c>{run}</row>')
    started = time.process_time()
    assert xlsx_scan.scan(declined) is None
    assert xlsx_scan.scan(plain) is not None
    assert time.process_time() - started < 2.0
