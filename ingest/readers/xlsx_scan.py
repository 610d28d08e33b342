"""Cell values of a plain sheet part found with regular expressions, in C, instead of an XML tree.

Nearly every sheet written by Excel, LibreOffice or openpyxl is the same few constructs:
``<row r="2"><c r="A2" s="1" t="s"><v>0</v></c>...</row>``. ``scan`` accepts a part only when
all of it is within that plain layout and it is certain that lxml would read it without an
error and find the same values: UTF-8; no DOCTYPE, comment, CDATA or processing instruction
(so no entity of any kind but the five predefined ones and valid character references); no
carriage return (which XML would normalise); no text node near libxml2's 10 MB limit; the
rest of the part (everything but the rows) well-formed and the rows inside the main
namespace's ``sheetData``; and every row, cell and attribute one of the forms below, in
schema order (so no attribute twice). Anything else (rich text in a cell, a cell without
a reference, single quotes) returns None, and the reader parses that sheet with lxml as it
always has. ``tests/ingest/test_xlsx_scan.py`` holds both readers to the same output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TEXT_NODE_LIMIT = 10_000_000  # bytes in one text node or attribute value (libxml2, no huge_tree)

# Possessive quantifiers (*+) and an atomic group (?>...): what follows a run never starts
# with a character of it, so nothing is given back, and no input makes the scan slower than
# linear (a long run of spaces would otherwise be split every way before failing).
_WS = r"[ \t\n]*+"  # XML white space (no \r: a part holding one is never scanned)
_TEXT = r"[^<&]*+(?:&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});[^<&]*+)*+"
_VALUE = r'"[^"<&\t\n]*+"'
_FLAG = r'"(?:0|1|true|false)"'
_ROW_ATTRS = (
    r'(?: r="([0-9]{1,7})")?(?: spans="[0-9: ]*")?(?: s="[0-9]+")?'
    rf"(?: customFormat={_FLAG})?(?: ht=\"[0-9.]+\")?(?: hidden={_FLAG})?"
    rf"(?: customHeight={_FLAG})?(?: outlineLevel=\"[0-9]+\")?(?: collapsed={_FLAG})?"
    rf"(?: thickTop={_FLAG})?(?: thickBot={_FLAG})?(?: ph={_FLAG})?"
    r'(?: x14ac:dyDescent="[0-9.]+")?'
)
_F_ATTRS = "".join(
    f"(?: {name}={_VALUE})?"
    for name in ("t", "aca", "ref", "dt2D", "dtr", "del1", "del2", "r1", "r2", "ca", "si", "bx")
)
_T = r'<t(?: xml:space="preserve")?'
# Groups: column letters, type, <v> text, "<is" when an inline string, its <t> text.
_CELL = (
    r'<c r="([A-Za-z]{1,3})[0-9]{1,7}"(?: s="[0-9]+")?(?: t="([A-Za-z]+)")?'
    rf"(?: cm=\"[0-9]+\")?(?: vm=\"[0-9]+\")?(?: ph={_FLAG})?{_WS}"
    rf"(?:/>|>{_WS}(?:"
    rf"(?:<f{_F_ATTRS}{_WS}(?:/>|>{_TEXT}</f>){_WS})?(?:<v>({_TEXT})</v>|<v/>)?"
    rf"|(<is)(?:/>|>{_WS}(?:{_T}>({_TEXT})</t>|{_T}/>)?{_WS}</is>)"
    rf"){_WS}</c>)"
)
CELL = re.compile(_CELL)
_ROW = re.compile(
    rf"{_WS}<row{_ROW_ATTRS}{_WS}(?:/>|>((?>(?:{_WS}{re.sub(r'[(](?![?])', '(?:', _CELL)})*)){_WS}</row>)"
)
_DECLARATION = re.compile(
    rb"<\?xml version=([\"'])1\.0\1(?: encoding=([\"'])[Uu][Tt][Ff]-8\2)?"
    rb"(?: standalone=([\"'])(?:yes|no)\3)?[ \t\n]*\?>"
)
# Characters XML 1.0 forbids: C0 controls but tab and newline (no \r: see scan), U+FFFE, U+FFFF.
_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_CHAR_REF = re.compile(r"&#(x?)([0-9a-fA-F]+);")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


@dataclass(frozen=True)
class Scan:
    """A plain sheet part: its rows' text, and per row its ``r`` and where its cells lie."""

    text: str
    rows: list[tuple[str | None, int, int]]  # (r attribute, start, end of the cells)


def scan(data: bytes) -> Scan | None:
    """The rows of a sheet part in the plain layout, or None (then parse it with lxml)."""
    declaration = _DECLARATION.match(data)
    body = data[declaration.end() :] if declaration else data
    if b"<!" in body or b"<?" in body or b"\r" in body or b"]]>" in body:
        return None
    if len(data.translate(None, _CONTROLS)) != len(data) or b"\xef\xbf\xbe" in data:
        return None
    if b"\xef\xbf\xbf" in data:
        return None
    if data.startswith(b"<?") and declaration is None:
        return None
    if data.count(b"<sheetData") != 1 or _longest_run(data) >= TEXT_NODE_LIMIT - 1_000:
        return None
    start = data.find(b"<sheetData>")
    end = data.find(b"</sheetData>", start)
    if start < 0 or end < 0:
        return None if b"<sheetData/>" not in data else _empty(data)
    prefixes = _skeleton(data[:start] + b"<sheetData/>" + data[end + len(b"</sheetData>") :])
    if prefixes is None:
        return None
    try:
        text = data[start + len(b"<sheetData>") : end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _char_refs_ok(text):
        return None
    if "x14ac:" in text and "x14ac" not in prefixes:
        return None
    rows = []
    at, size = 0, len(text.rstrip(" \t\n"))
    match = _ROW.match  # anchored row after row: never a search from each later position
    while at < size:
        m = match(text, at)
        if m is None:
            return None
        rows.append((m.group(1), *m.span(2)) if m.group(2) is not None else (m.group(1), 0, 0))
        at = m.end()
    return Scan(text=text, rows=rows)


def _empty(data: bytes) -> Scan | None:
    return Scan(text="", rows=[]) if _skeleton(data) is not None else None


def _skeleton(skeleton: bytes) -> set[str] | None:
    """The namespace prefixes declared where the rows go, when the part without its rows
    parses, its sheetData is the main namespace's and no row lies anywhere else; else None."""
    try:
        root = etree.fromstring(skeleton)
    except etree.XMLSyntaxError:
        return None
    found = list(root.iter(f"{{{MAIN}}}sheetData"))
    if len(found) != 1 or found[0].prefix is not None or root.find(f".//{{{MAIN}}}row") is not None:
        return None
    return {p for p in found[0].nsmap if p}


def _longest_run(data: bytes) -> int:
    """The most bytes between two '<': a bound on any text node or attribute value."""
    longest, last = 0, -1
    step = 1 << 22
    view = np.frombuffer(data, dtype=np.uint8)
    for at in range(0, len(view), step):
        where = np.flatnonzero(view[at : at + step] == ord("<")) + at
        if len(where):
            longest = max(longest, int(where[0]) - last, int(np.diff(where).max(initial=0)))
            last = int(where[-1])
    return max(longest, len(view) - last)


def _char_refs_ok(text: str) -> bool:
    for m in _CHAR_REF.finditer(text):
        code = int(m.group(2), 16 if m.group(1) else 10)
        if not (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        ):
            return False
    return True


def unescape(text: str) -> str:
    """Text as XML means it: the five predefined entities and character references."""
    return _REFERENCE.sub(
        lambda m: (
            _NAMED[m.group(1)]
            if m.group(1)
            else chr(int(m.group(2)) if m.group(2) else int(m.group(3), 16))
        ),
        text,
    )
