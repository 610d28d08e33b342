"""Building Annex A workbooks the way councils' real ones vary (used by several test files)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl

from frontdoor.records.export import LIST_LAYOUT


def workbook(path: Path, lists: dict[str, tuple[list, list[list]]], title_rows: int = 1) -> Path:
    """A workbook with the given sheets: name -> (header row, data rows), titles above headers."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in lists.items():
        ws = wb.create_sheet(name)
        for i in range(title_rows):
            ws.append([f"{name}: title line {i + 1}"])
        ws.append(header)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def template_lists(rows: dict[int, list[list]] | None = None) -> dict[str, tuple[list, list]]:
    """Lists 1 to 7 with the template's headers, named List_1 ... List_7."""
    rows = rows or {}
    return {f"List_{n}": (LIST_LAYOUT[n][1], rows.get(n, [])) for n in LIST_LAYOUT}


def set_cached_values(path: Path, sheet_index: int, values: dict[str, str]) -> None:
    """Give formula cells cached results, as Excel does when it saves (openpyxl cannot)."""
    name = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(path) as zin:
        items = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    xml = items[name].decode()
    for ref, value in values.items():
        xml = re.sub(
            rf'(<c r="{ref}"[^>]*>)(<f>.*?</f>)(<v>.*?</v>|<v/>|<v></v>)?',
            lambda m, v=value: f"{m.group(1)}{m.group(2)}<v>{v}</v>",
            xml,
        )
    items[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for fname, data in items.items():
            zout.writestr(fname, data)
