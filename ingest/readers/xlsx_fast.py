"""A streaming reader of .xlsx sheets' cell values with lxml (about 10x faster than openpyxl).

An .xlsx file is a zip of XML parts; for ingestion only cell values matter: shared strings,
inline strings, numbers (dates arrive as Excel serial numbers and are parsed as such in date
columns), booleans, error values (``#N/A``) and the cached results of formulas. Styles,
merged cells and everything else are ignored. openpyxl (read-only mode) remains the fallback
for workbooks whose package layout this reader does not understand.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from frontdoor.ingest.readers import xlsx_scan

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_COL = re.compile(r"([A-Za-z]+)")
SCAN_MAX_BYTES = 48_000_000  # sheet parts up to this size (as the zip declares) may be scanned


class UnsupportedLayout(Exception):
    """The package does not look like a plain workbook; use openpyxl instead."""


class LimitExceeded(Exception):
    """A configured bound (rows per sheet, shared-string characters) was reached: stop."""


_COLUMN_CACHE: dict[str, int] = {}


DIGITS = "0123456789"


def _col_index(ref: str) -> int:
    letters = ref.rstrip(DIGITS)
    hit = _COLUMN_CACHE.get(letters)
    if hit is None:
        n = 0
        for ch in _COL.match(letters).group(1).upper():  # r="a2" is valid too
            n = n * 26 + (ord(ch) - 64)
        hit = _COLUMN_CACHE[letters] = n - 1
    return hit


def _number(text: str) -> object:
    """A numeric cell's value; text in a numeric cell (a damaged or hand-edited file) stays
    text, so the reader judges it like any cell (never echoed in an error message)."""
    try:
        num = float(text)
    except ValueError:
        return text
    return int(num) if num.is_integer() and abs(num) < 2**53 else num


def _inline_text(inline, tag_t: str) -> str:
    """An inline string's text: every ``<t>`` inside ``<is>`` (rich-text runs too), joined."""
    return "".join(t.text or "" for t in inline.iter(tag_t))


class FastWorkbook:
    """Cell values of a workbook's sheets, within bounds.

    ``max_rows``: rows per sheet; ``max_string_chars``: characters of shared strings kept in
    memory (a few kilobytes of compressed XML can hold gigabytes of text); ``max_cell_chars``:
    a longer string is kept cut to one character over the limit (still over it, so the
    reader sees it as too long, without holding it).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_rows: int = 1_048_576,
        max_string_chars: int = 100_000_000,
        max_cell_chars: int = 10_000,
    ):
        self.max_rows = max_rows
        self.max_string_chars = max_string_chars
        self.max_cell_chars = max_cell_chars
        self.zip = zipfile.ZipFile(path)
        names = set(self.zip.namelist())
        if "xl/workbook.xml" not in names:
            raise UnsupportedLayout("no xl/workbook.xml")
        wb = etree.fromstring(self.zip.read("xl/workbook.xml"))
        props = wb.find(f"{{{MAIN}}}workbookPr")
        # Workbooks saved with the Mac 1904 date system count serial days from 1904-01-01.
        self.date1904 = props is not None and props.get("date1904", "0").lower() in ("1", "true")
        rels_name = "xl/_rels/workbook.xml.rels"
        rels = etree.fromstring(self.zip.read(rels_name)) if rels_name in names else None
        targets = {}
        if rels is not None:
            for rel in rels.iter(f"{{{PKG_REL}}}Relationship"):
                target = rel.get("Target", "")
                target = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join("xl", target))
                )
                targets[rel.get("Id")] = target
        self.sheets: dict[str, str] = {}
        for sheet in wb.iter(f"{{{MAIN}}}sheet"):
            target = targets.get(sheet.get(f"{{{REL}}}id"))
            if target is None or target not in names:
                raise UnsupportedLayout(f"sheet {sheet.get('name')!r} has no part")
            self.sheets[sheet.get("name")] = target
        self.strings = self._shared_strings() if "xl/sharedStrings.xml" in names else []

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def _shared_strings(self) -> list[str]:
        out = []
        total = 0
        cut = self.max_cell_chars + 1
        try:
            return self._read_strings(out, total, cut)
        except etree.XMLSyntaxError as exc:
            if "huge" in str(exc).lower():
                raise LimitExceeded(
                    "a shared string is longer than the XML parser's 10 MB limit"
                ) from None
            raise

    def _read_strings(self, out: list[str], total: int, cut: int) -> list[str]:
        with self.zip.open("xl/sharedStrings.xml") as fh:
            # No huge_tree: one text node over 10 MB is refused by the parser itself.
            for _, si in etree.iterparse(fh, tag=f"{{{MAIN}}}si"):
                text = "".join(t.text or "" for t in si.iter(f"{{{MAIN}}}t"))
                total += len(text) + 1  # every character parsed counts, kept or not
                text = text[:cut]
                if total > self.max_string_chars:
                    raise LimitExceeded(
                        f"its shared strings exceed {self.max_string_chars:,} characters "
                        "(ingest.max_shared_string_chars)"
                    )
                out.append(text)
                si.clear()
                while si.getprevious() is not None:
                    del si.getparent()[0]
        return out

    def rows(self, sheet: str, keep: set[int] | None = None) -> Iterator[tuple[int, tuple]]:
        """(Excel row number, cell values) for every row that has a cell.

        ``keep``: a set of column positions; when it holds any, other columns' cells are
        skipped unread (a caller may fill it once it has found the header row).

        A part in the plain layout (``xlsx_scan``, nearly every sheet) is scanned with
        regular expressions; any other is parsed with lxml, streamed. Both give the same rows.
        """
        part = self.sheets[sheet]
        plain = None
        if self.zip.getinfo(part).file_size <= SCAN_MAX_BYTES:  # read whole: bounded
            plain = xlsx_scan.scan(self.zip.read(part))
        if plain is None:
            yield from self._parsed_rows(sheet, keep)
        else:
            yield from self._scanned_rows(sheet, plain, keep)

    def _scanned_rows(
        self, sheet: str, plain: xlsx_scan.Scan, keep: set[int] | None
    ) -> Iterator[tuple[int, tuple]]:
        """``_parsed_rows`` for a part ``xlsx_scan.scan`` accepted: the same values."""
        strings = self.strings
        columns = _COLUMN_CACHE
        cells_in = xlsx_scan.CELL.findall
        unescape = xlsx_scan.unescape
        text_all = plain.text
        number = 0
        seen = 0
        cut = self.max_cell_chars + 1
        for r, start, end in plain.rows:
            number = int(r) if r else number + 1
            seen += 1
            if seen > self.max_rows:
                raise LimitExceeded(
                    f"sheet {sheet!r} has more than {self.max_rows:,} rows "
                    "(ingest.max_rows_per_sheet)"
                )
            out: list[object] = []
            width = 0  # len(out)
            for letters, kind, text, inline, inline_text in cells_in(text_all, start, end):
                hit = columns.get(letters)
                position = hit if hit is not None else _col_index(letters)
                if keep and position not in keep:
                    continue
                value: object = None
                if kind == "inlineStr":
                    if inline:
                        if "&" in inline_text:
                            inline_text = unescape(inline_text)
                        value = inline_text[:cut]
                elif text:
                    if "&" in text:
                        text = unescape(text)
                    if kind == "s":
                        value = strings[int(text)]
                    elif kind == "n" or not kind:
                        try:  # most numbers are whole: int() is exact below 2**53
                            value = int(text) if len(text) < 16 else _number(text)
                        except ValueError:
                            value = _number(text)
                    elif kind == "b":
                        value = text == "1"
                    else:  # str (formula text), e (error such as #N/A), d (ISO date)
                        value = text[:cut]
                if value is not None:
                    if position == width:
                        out.append(value)
                        width += 1
                    elif position > width:
                        out.extend([None] * (position - width))
                        out.append(value)
                        width = position + 1
                    else:
                        out[position] = value
            if out:
                yield number, tuple(out)

    def _parsed_rows(self, sheet: str, keep: set[int] | None) -> Iterator[tuple[int, tuple]]:
        """The rows of any sheet part, parsed with lxml and streamed (elements cleared)."""
        strings = self.strings
        columns = _COLUMN_CACHE
        tag_c, tag_v, tag_t = f"{{{MAIN}}}c", f"{{{MAIN}}}v", f"{{{MAIN}}}t"
        tag_is = f"{{{MAIN}}}is"
        number = 0
        seen = 0
        cut = self.max_cell_chars + 1
        with self.zip.open(self.sheets[sheet]) as fh:
            for _, row in etree.iterparse(fh, tag=f"{{{MAIN}}}row"):
                r = row.get("r")
                number = int(r) if r else number + 1
                seen += 1
                if seen > self.max_rows:
                    raise LimitExceeded(
                        f"sheet {sheet!r} has more than {self.max_rows:,} rows "
                        "(ingest.max_rows_per_sheet)"
                    )
                out: list[object] = []  # values by column position, None where empty
                position = -1
                for c in row.iterchildren(tag_c):
                    ref = c.get("r")
                    if ref:
                        hit = columns.get(ref.rstrip(DIGITS))
                        position = hit if hit is not None else _col_index(ref)
                    else:
                        position += 1
                    if keep and position not in keep:
                        continue
                    kind = c.get("t", "n")
                    value: object = None
                    if kind == "inlineStr":
                        inline = c.find(tag_is)
                        if inline is not None:
                            # The usual <is><t>text</t></is> without a call; else every <t>.
                            t = inline[0] if len(inline) == 1 else None
                            if t is not None and t.tag == tag_t and not len(t):
                                value = (t.text or "")[:cut]
                            else:
                                value = _inline_text(inline, tag_t)[:cut]
                    else:
                        text = c.findtext(tag_v)
                        if text:
                            if kind == "s":
                                value = strings[int(text)]
                            elif kind == "n":
                                try:  # most numbers are whole: int() is exact below 2**53
                                    value = int(text) if len(text) < 16 else _number(text)
                                except ValueError:
                                    value = _number(text)
                            elif kind == "b":
                                value = text == "1"
                            else:  # str (formula text), e (error such as #N/A), d (ISO date)
                                value = text[:cut]
                    if value is not None:
                        # Cells come left to right; a repeated or out-of-order reference
                        # overwrites, as a later cell of the same position always has.
                        width = len(out)
                        if position == width:
                            out.append(value)
                        elif position > width:
                            out.extend([None] * (position - width))
                            out.append(value)
                        else:
                            out[position] = value
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                if out:
                    yield number, tuple(out)

    def close(self) -> None:
        self.zip.close()
