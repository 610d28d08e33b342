"""Same outputs before and after a change to ingestion: two `bench_ingest.py --keep` folders compared.

Every file of ``canonical/`` and ``canonical_quarantine/`` is compared byte for byte; a Parquet
file whose bytes differ is compared as a table (``pandas.testing.assert_frame_equal``, exact);
``manifest.json`` and ``ingest_summary.json`` as JSON without the fields that differ on every
run (the key fingerprint and its random salt, the output folder's path); the re-identification
lookup by its rows. Prints one line per file and exits 1 on any difference.

``messy`` writes a smaller Annex A workbook that ingestion has to work on: shared strings (the
benchmark's own workbook holds inline strings only), rich text, blank and shifted rows, bad
and textual dates, off-spec codes, over-long cells, lookalike and missing ids, a formula.

    .venv/bin/python benchmarks/compare_ingest.py messy /tmp/messy.xlsx
    PYTHONPATH=OLD_TREE .venv/bin/python OLD_TREE/benchmarks/bench_ingest.py \\
        --workbook /tmp/messy.xlsx --keep /tmp/before
    .venv/bin/python benchmarks/bench_ingest.py --workbook /tmp/messy.xlsx --keep /tmp/after
    .venv/bin/python benchmarks/compare_ingest.py compare /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = {"key_fingerprint", "key_fingerprint_salt", "out_dir"}
FOLDERS = ("canonical", "canonical_quarantine")
LOOKUP = Path(".frontdoor/reidentification/lookup.sqlite")


def _json(path: Path) -> object:
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(path.read_text(encoding="utf-8")))


def _same(a: Path, b: Path) -> str | None:
    """None when the two files hold the same outputs, else what differs."""
    if a.read_bytes() == b.read_bytes():
        return None
    if a.suffix == ".json":
        return None if _json(a) == _json(b) else "JSON differs beyond the volatile fields"
    if a.suffix == ".parquet":
        try:
            pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b))
        except AssertionError as exc:
            return f"tables differ: {str(exc).splitlines()[0]}"
        return None
    return "bytes differ"


def _lookup_rows(folder: Path) -> list[tuple]:
    path = folder / LOOKUP
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT pseudonym, la_child_id FROM identities").fetchall())


def compare(before: Path, after: Path) -> int:
    failures = 0
    for name in FOLDERS:
        left = {p.relative_to(before / name) for p in (before / name).rglob("*") if p.is_file()}
        right = {p.relative_to(after / name) for p in (after / name).rglob("*") if p.is_file()}
        if not left:
            print(f"MISSING {before / name}: nothing to compare")
            failures += 1
        for rel in sorted(left | right):
            label = f"{name}/{rel}"
            if rel not in left or rel not in right:
                print(f"DIFF  {label}: only in {'after' if rel in right else 'before'}")
                failures += 1
                continue
            a, b = before / name / rel, after / name / rel
            raw = a.read_bytes() == b.read_bytes()
            problem = _same(a, b)
            failures += problem is not None
            how = "identical bytes" if raw else "same content (volatile fields aside)"
            if a.suffix in (".csv", ".parquet"):
                rows = len(pd.read_csv(a) if a.suffix == ".csv" else pd.read_parquet(a))
                how += f", {rows:,} rows"
            print(f"{'DIFF ' if problem else 'same '} {label}: {problem or how}")
    rows_a, rows_b = _lookup_rows(before), _lookup_rows(after)
    same_lookup = rows_a == rows_b
    failures += not same_lookup
    print(f"{'same ' if same_lookup else 'DIFF '} {LOOKUP}: {len(rows_a):,} / {len(rows_b):,} ids")
    print("ALL SAME" if not failures else f"{failures} DIFFERENCE(S)")
    return 1 if failures else 0


def messy(path: Path, children: int = 3000) -> None:
    """An Annex A workbook with shared strings and the problems ingestion must sort out."""
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    sys.path.insert(0, str(ROOT))
    from frontdoor.records.export import export_council
    from tests.support.tables import raw_council

    ref = date(2025, 3, 31)
    folder = path.parent / f".{path.stem}-export"
    export_council(
        raw_council(children=children, seed=5, reference_date=ref),
        folder,
        formats=("annex_a",),
        reference_date=ref,
    )
    wb = openpyxl.load_workbook(folder / "annex_a.xlsx")  # saved again: shared strings
    for ws in wb.worksheets[:7]:
        headers = [c.value for c in ws[2]]
        col = {h: i + 1 for i, h in enumerate(headers) if h}
        last = ws.max_row
        for r in range(3, last + 1, 97):  # shifted row: the id lands under Gender
            ws.cell(r, col["Gender"], ws.cell(r, col["Child Unique ID"]).value)
        for r in range(4, last + 1, 89):  # lookalike ids: full-width digits, no-break space
            raw = str(ws.cell(r, col["Child Unique ID"]).value)
            wide = raw.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
            ws.cell(r, col["Child Unique ID"], wide if r % 2 else f"{raw}\u00a0")
        for r in range(14, last + 1, 101):  # leading zeros dropped: another child, noted
            ws.cell(r, col["Child Unique ID"], str(ws.cell(r, 1).value).replace("LA050", "LA05"))
        for r in range(5, last + 1, 83):
            ws.cell(r, col["Child Unique ID"], None)  # no id
        for r in range(6, last + 1, 79):
            ws.cell(r, col["Ethnicity"], "Zz) Not a code")
        for r in range(7, last + 1, 71):
            ws.cell(r, col["Date of Birth"], "16-Sep-20")  # a date typed as text
        for r in range(8, last + 1, 67):
            ws.cell(r, col["Date of Birth"], "31/02/2019")  # no such day
        for r in range(9, last + 1, 61):
            ws.cell(r, col["Date of Birth"], datetime(2030, 1, 1))  # after the reference date
        for r in range(10, last + 1, 59):
            ws.cell(r, col["Gender"], "x" * 12_000)  # longer than ingest.max_cell_chars
        for r in range(11, last + 1, 53):
            for c in range(1, len(headers) + 1):
                ws.cell(r, c, "  " if c % 2 else None)  # a blank row
        for r in range(12, last + 1, 47):
            ws.cell(r, col["Gender"], CellRichText(TextBlock(InlineFont(b=True), "b) "), "Female"))
        for r in range(13, last + 1, 43):
            ws.cell(r, col["Ethnicity"], '="a) WBRI"')  # a formula (no cached value)
        ws.cell(last + 1, len(headers) + 2, "a note right of the table")
    wb.save(folder / "messy_inline.xlsx")
    _shared_strings(folder / "messy_inline.xlsx", path, sheets=(1, 3, 5, 7))


def _shared_strings(source: Path, target: Path, sheets: tuple[int, ...]) -> None:
    """openpyxl writes inline strings only; Excel writes shared strings: move the strings of
    these sheets into xl/sharedStrings.xml (rich text too), as Excel would have saved them."""
    import zipfile

    from lxml import etree

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    table: dict[bytes, int] = {}
    items: list[etree._Element] = []
    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as z:
        for info in z.infolist():
            parts[info.filename] = z.read(info.filename)
    for n in sheets:
        name = f"xl/worksheets/sheet{n}.xml"
        root = etree.fromstring(parts[name])
        for c in root.iter(f"{{{main}}}c"):
            if c.get("t") != "inlineStr":
                continue
            inline = c.find(f"{{{main}}}is")
            key = etree.tostring(inline)
            if key not in table:
                table[key] = len(items)
                si = etree.Element(f"{{{main}}}si", nsmap={None: main})
                si.extend(list(inline))
                items.append(si)
            c.remove(inline)
            c.set("t", "s")
            etree.SubElement(c, f"{{{main}}}v").text = str(table[key])
        parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    sst = etree.Element(f"{{{main}}}sst", nsmap={None: main}, count=str(len(items)))
    sst.extend(items)
    parts["xl/sharedStrings.xml"] = etree.tostring(sst, xml_declaration=True, encoding="UTF-8")
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/></Types>'.encode(),
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdSST" Type="{rel}" Target="sharedStrings.xml"/>'
        "</Relationships>".encode(),
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="compare two bench_ingest.py --keep folders")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    m = sub.add_parser("messy", help="write the messy Annex A workbook")
    m.add_argument("path", type=Path)
    m.add_argument("--children", type=int, default=3000)
    args = parser.parse_args()
    if args.command == "compare":
        sys.exit(compare(args.before, args.after))
    messy(args.path, args.children)
    print(f"wrote {args.path}")


if __name__ == "__main__":
    main()
