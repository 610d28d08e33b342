"""Ofsted Annex A workbooks: Lists 1 to 7 into canonical tables; Lists 8 to 11 reported skipped.

Real workbooks vary, so everything is matched loosely and explicitly: sheet names (``List 1``,
``List_1``, ``List 1 - Contacts``), a title row above the header row, header spelling, case,
punctuation and whitespace, codes with or without their prefix (``b) Female``, ``q) 6: Police``),
``#N/A``, formulas (their cached values), dates as Excel serials, datetimes or text, and
non-breaking spaces. Each row of Lists 1 to 7 also mentions its child (sex, ethnicity, month of
birth, disability), which becomes a row of ``children``; mentions of one child are merged.
Staff names (``Allocated Worker``), teams, ages, counts and free text are never read into the
tables.
"""

from __future__ import annotations

import operator
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from lxml import etree

from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.readers import PRIORITY, ReadResult
from frontdoor.ingest.readers.xlsx_fast import FastWorkbook, LimitExceeded, UnsupportedLayout
from frontdoor.ingest.staging import build_batch
from frontdoor.ingest.values import SEX_MAP, parse_bool
from frontdoor.records import codes

HEADER_SCAN_ROWS = 15


def norm_header(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower().replace("’", "'"))


@dataclass(frozen=True)
class ListSpec:
    number: int
    title: str
    table: str | None  # None: only its children are read (List 6)
    fields: dict[str, tuple[str, ...]]  # canonical field -> header spellings
    required: tuple[str, ...]
    code_maps: dict[str, dict[str, str]] = field(default_factory=dict)


CHILD_FIELDS = {
    "child_id": (
        "Child Unique ID",
        "Child ID",
        "Unique ID",
        "LA Child ID",
        "Child Identifier",
        "Child Unique Identifier",
        "ChildID",
        "ID",
    ),
    "sex": ("Gender", "Sex", "Gender Current"),
    "ethnicity": ("Ethnicity", "Ethnic Origin", "Ethnic Group"),
    "birth_month": ("Date of Birth", "DOB", "Birth Date", "Date of birth (DD/MM/YYYY)"),
    "disability": (
        "Does the Child have a Disability",
        "Disability",
        "Child has a disability",
        "Disabled",
    ),
}
CHILD_REQUIRED = ("child_id", "sex", "ethnicity", "birth_month")

ETHNICITY_MAP = {label.lower(): code for code, label in codes.ETHNICITY_CODES.items()}
SOURCE_MAP = {
    "police": "6",
    "housing": "4",
    "schools": "2A",
    "school": "2A",
    "education services": "2B",
    "anonymous": "9",
    "unknown": "10",
    "other": "8",
    "other legal agency": "7",
}
YES_NO_REFERRAL = {
    "yes": "nfa",
    "y": "nfa",
    "no": "assessment",
    "n": "assessment",
    "true": "nfa",
    "false": "assessment",
    "1": "nfa",
    "0": "assessment",
}
YES_NO_ASSESSMENT = {
    "yes": "cin_support",
    "y": "cin_support",
    "no": "nfa",
    "n": "nfa",
    "true": "cin_support",
    "false": "nfa",
}
CATEGORY_MAP = {
    "neglect": "NEG",
    "physical abuse": "PHY",
    "physical": "PHY",
    "sexual abuse": "SAB",
    "sexual": "SAB",
    "emotional abuse": "EMO",
    "emotional": "EMO",
    "multiple": "MUL",
    "multiple/not recommended": "MUL",
}

LISTS: dict[int, ListSpec] = {
    1: ListSpec(
        1,
        "Contacts",
        "contacts",
        {
            "contact_date": ("Date of Contact", "Contact Date"),
            "source": ("Contact Source", "Source of Contact", "Source"),
        },
        ("contact_date", "source"),
        {"source": SOURCE_MAP},
    ),
    2: ListSpec(
        2,
        "Early Help",
        "early_help_episodes",
        {
            "start_date": (
                "Assessment start date",
                "Early Help Assessment Start Date",
                "Early help start date",
                "Start Date",
            ),
            "end_date": (
                "Assessment completion date",
                "Early Help Assessment Completion Date",
                "Completion Date",
                "End Date",
            ),
        },
        ("start_date",),
    ),
    3: ListSpec(
        3,
        "Referrals",
        "referrals",
        {
            "referral_date": ("Date of referral", "Referral Date"),
            "source": ("Referral Source", "Source of Referral", "Source"),
            "outcome": ("Referral NFA?", "Referral NFA", "NFA"),
        },
        ("referral_date", "source"),
        {"source": SOURCE_MAP, "outcome": YES_NO_REFERRAL},
    ),
    4: ListSpec(
        4,
        "Assessments",
        "assessments",
        {
            "start_date": (
                "Continuous Assessment Start Date",
                "Assessment Start Date",
                "Start Date",
            ),
            "authorisation_date": (
                "Continuous Assessment Date of Authorisation",
                "Assessment Date of Authorisation",
                "Date of Authorisation",
                "Authorisation Date",
            ),
            "outcome": (
                "Was the child assessed as requiring LA children’s social care support",
                "Was the child assessed as being in need at assessment?",
                "Assessed as requiring social care support",
            ),
        },
        ("start_date",),
        {"outcome": YES_NO_ASSESSMENT},
    ),
    5: ListSpec(
        5,
        "Section 47 enquiries and Initial Child Protection Conferences",
        "section47_enquiries",
        {
            "start_date": (
                "Strategy discussion initiating Section 47 Enquiry Start Date",
                "Section 47 Enquiry Start Date",
                "S47 Start Date",
                "Start Date",
            ),
            "icpc_date": (
                "Date of Initial Child Protection Conference",
                "ICPC Date",
                "Date of ICPC",
            ),
            "_icpc_unnecessary": (
                "Was an Initial Child Protection Conference deemed unnecessary?",
                "ICPC deemed unnecessary",
            ),
            "_icpc_plan": (
                "Did the Initial Child Protection Conference Result in a Child Protection Plan",
                "ICPC resulted in plan",
            ),
        },
        ("start_date",),
    ),
    6: ListSpec(6, "Children in Need", None, {}, ()),
    7: ListSpec(
        7,
        "Child protection",
        "cp_plans",
        {
            "start_date": ("Child Protection Plan Start Date", "CPP Start Date", "Plan Start Date"),
            "initial_category": ("Initial Category of Abuse", "Initial Category"),
            "end_date": ("Child Protection Plan End Date", "CPP End Date", "Plan End Date"),
        },
        ("start_date", "initial_category"),
        {"initial_category": CATEGORY_MAP},
    ),
}
SKIPPED_LISTS = {8: "Children in care", 9: "Care leavers", 10: "Adoption", 11: "Adopters"}
NAMED_SHEETS = {
    "contacts": 1,
    "earlyhelp": 2,
    "referrals": 3,
    "referral": 3,
    "assessments": 4,
    "section47": 5,
    "childreninneed": 6,
    "childprotection": 7,
}


def list_number(sheet_name: str) -> int | None:
    """'List 1', 'List_1', 'List 1 - Contacts', 'LIST1' -> 1; 'Contacts' -> 1; else None."""
    match = re.match(r"^\s*list[\s_\-:.]*(\d{1,2})(?!\d)", sheet_name, re.IGNORECASE)
    if match:
        return int(match.group(1))
    return NAMED_SHEETS.get(norm_header(sheet_name))


def read_annex_a(path: Path, settings, engine: str = "auto") -> ReadResult:
    """Read Lists 1 to 7. ``engine``: "fast" (lxml), "openpyxl" (read-only), or "auto"."""
    if path.stat().st_size == 0:
        raise IngestError(path, "the file is empty", "an Annex A .xlsx workbook")
    book = _open(path, engine, settings)
    result = ReadResult(path=str(path), kind="annex_a")
    result.date1904 = book.date1904
    result.saved_date = saved_date(path)
    try:
        # A list split over several sheets ('List 1', 'List 1 (cont)') is read from all of
        # them; rows that are true copies are merged as duplicates later.
        sheets: dict[int, list[str]] = {}
        for name in book.sheetnames:
            number = list_number(name)
            if number is not None:
                sheets.setdefault(number, []).append(name)
        for number, names in sheets.items():
            if len(names) > 1 and number in LISTS:
                listed = ", ".join(repr(n) for n in names)
                result.notes.append(
                    f"{path.name}: List {number} read from {len(names)} sheets ({listed}); "
                    "rows are counted per sheet and copies merged as duplicates"
                )
        for number, title in SKIPPED_LISTS.items():
            if number in sheets:
                result.notes.append(
                    f"{path.name}: List {number} ({title}) skipped: not used by frontdoor"
                )
        missing = [n for n in LISTS if n not in sheets]
        if len(missing) == len(LISTS):
            raise IngestError(
                path,
                "has no Annex A list sheets",
                "sheets named 'List 1' to 'List 7' (or List_1, 'List 1 - Contacts')",
            )
        if missing:
            names = ", ".join(f"List {n} ({LISTS[n].title})" for n in missing)
            if settings.ingest.require_all_lists:
                raise IngestError(
                    path,
                    f"lacks sheet{'s' if len(missing) > 1 else ''} {names}",
                    "sheets List 1 to List 7 (set ingest.require_all_lists "
                    "false to accept a partial workbook)",
                )
            result.notes.append(f"{path.name}: no {names}")
        for number in sorted(n for n in sheets if n in LISTS):
            for name in sheets[number]:
                keep: set[int] = set()  # filled once the header row is found
                rows = book.rows(name, keep)
                _read_list(rows, keep, name, LISTS[number], path, result, settings)
    except IngestError:
        raise
    except LimitExceeded as exc:
        raise IngestError(
            path, f"stopped: {exc}", "a workbook within the configured limits (raise them if so)"
        ) from exc
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        EOFError,
        ValueError,
        IndexError,
        etree.XMLSyntaxError,
    ) as exc:
        raise IngestError(
            path,
            f"is damaged and cannot be read ({type(exc).__name__}: {exc})",
            "a complete .xlsx workbook",
        ) from exc
    finally:
        book.close()
    return result


class _OpenpyxlBook:
    """openpyxl in read-only mode behind the same small interface as FastWorkbook."""

    def __init__(self, path: Path, max_rows: int):
        import openpyxl
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        self.wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self.sheetnames = self.wb.sheetnames
        self.date1904 = self.wb.epoch == CALENDAR_MAC_1904
        self.max_rows = max_rows

    def rows(self, sheet: str, keep: set[int] | None = None):
        ws = self.wb[sheet]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if number > self.max_rows:
                raise LimitExceeded(
                    f"sheet {sheet!r} has more than {self.max_rows:,} rows "
                    "(ingest.max_rows_per_sheet)"
                )
            if keep:
                row = tuple(v if i in keep else None for i, v in enumerate(row))
            yield number, row

    def close(self) -> None:
        self.wb.close()


def _open(path: Path, engine: str, settings):
    from openpyxl.utils.exceptions import InvalidFileException

    errors = (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        EOFError,
        etree.XMLSyntaxError,
    )
    if engine in ("auto", "fast"):
        limits = settings.ingest
        try:
            return FastWorkbook(
                path,
                max_rows=limits.max_rows_per_sheet,
                max_string_chars=limits.max_shared_string_chars,
                max_cell_chars=limits.max_cell_chars,
            )
        except LimitExceeded as exc:
            raise IngestError(
                path,
                f"stopped: {exc}",
                "a workbook within the configured limits (raise them if the file is genuine)",
            ) from exc
        except UnsupportedLayout:
            if engine == "fast":
                raise
        except errors as exc:
            raise IngestError(
                path,
                f"cannot be opened as an Excel workbook ({type(exc).__name__}: {exc})",
                "an Annex A .xlsx workbook (Lists 1 to 7)",
            ) from exc
    try:
        return _OpenpyxlBook(path, settings.ingest.max_rows_per_sheet)
    except errors as exc:
        raise IngestError(
            path,
            f"cannot be opened as an Excel workbook ({type(exc).__name__}: {exc})",
            "an Annex A .xlsx workbook (Lists 1 to 7)",
        ) from exc


# Words that identify a heading whatever the template version (normalised: lower case,
# letters and digits only, "authorization" spelt "authorisation"). Tried only for a field no
# exact spelling matched, and only when exactly one heading of the row carries them all.
KEYWORDS: dict[int, dict[str, tuple[tuple[str, ...], ...]]] = {
    0: {
        "child_id": (("child", "id"), ("unique", "id")),
        "sex": (("gender",), ("sex",)),
        "ethnicity": (("ethnic",),),
        "birth_month": (("birth",), ("dob",)),
        "disability": (("disab",),),
    },
    1: {"contact_date": (("contact", "date"),), "source": (("contact", "source"),)},
    2: {"start_date": (("start",),), "end_date": (("complet",), ("end", "date"))},
    3: {
        "referral_date": (("referral", "date"),),
        "source": (("referral", "source"), ("source",)),
        "outcome": (("nfa",), ("nofurtheraction",)),
    },
    4: {
        "start_date": (("start",),),
        "authorisation_date": (("authorisation",), ("authorised",), ("completion",)),
        "outcome": (("assessed",), ("requiring", "support"), ("inneed",)),
    },
    5: {
        "start_date": (("47", "start"), ("strategy",)),
        "icpc_date": (("conference", "date"), ("icpc", "date")),
        "_icpc_unnecessary": (("unnecessary",),),
        "_icpc_plan": (("result", "plan"),),
    },
    7: {
        "start_date": (("plan", "start"),),
        "end_date": (("plan", "end"),),
        "initial_category": (("initial", "category"), ("category",)),
    },
}


def _norm_words(text: object) -> str:
    return norm_header(text).replace("authoriz", "authoris")


def _find_header(rows: list[tuple], spec: ListSpec) -> tuple[int, dict[str, int]] | None:
    """The header row among the first rows (index) and field -> column position."""
    wanted = {**CHILD_FIELDS, **spec.fields}
    aliases = {_norm_words(a): f for f, names in wanted.items() for a in names}
    keywords = {**KEYWORDS[0], **KEYWORDS.get(spec.number, {})}
    best: tuple[int, dict[str, int]] | None = None
    for i, row in enumerate(rows):
        found: dict[str, int] = {}
        for pos, cell in enumerate(row):
            if cell is None:
                continue
            hit = aliases.get(_norm_words(cell))
            if hit is not None and hit not in found:
                found[hit] = pos
        taken = set(found.values())
        for f, options in keywords.items():
            if f in found:
                continue
            for words in options:
                hits = [
                    pos
                    for pos, cell in enumerate(row)
                    if cell is not None
                    and pos not in taken
                    and all(w in _norm_words(cell) for w in words)
                ]
                if len(hits) == 1:
                    found[f] = hits[0]
                    taken.add(hits[0])
                    break
        if "child_id" in found and (best is None or len(found) > len(best[1])):
            best = (i, found)
    return best


def _read_list(
    rows_iter, keep: set[int], sheet: str, spec: ListSpec, path: Path, result: ReadResult, settings
) -> None:
    head: list[tuple] = []
    head_numbers: list[int] = []
    for number, row in rows_iter:
        head.append(row)
        head_numbers.append(number)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    found = _find_header(head, spec)
    expected_cols = [CHILD_FIELDS[f][0] for f in CHILD_REQUIRED] + [
        spec.fields[f][0] for f in spec.required
    ]
    if found is None:
        raise IngestError(
            path,
            f"sheet {sheet!r} (List {spec.number}) has no header row with "
            "a child identifier column",
            "a header row with " + ", ".join(repr(c) for c in expected_cols),
        )
    header_index, columns = found
    lacking = [f for f in (*CHILD_REQUIRED, *spec.required) if f not in columns]
    if lacking:
        names = ", ".join(repr({**CHILD_FIELDS, **spec.fields}[f][0]) for f in lacking)
        raise IngestError(
            path,
            f"sheet {sheet!r} (List {spec.number}) lacks column {names}",
            "columns " + ", ".join(repr(c) for c in expected_cols),
        )
    # Only the columns read are parsed from here on: a note right of the header, a long
    # cell in a column never read (Allocated Worker), never touch a row.
    keep.update(columns.values())
    records, numbers = [], []
    positions = sorted(columns.values())

    def data():
        yield from zip(head_numbers[header_index + 1 :], head[header_index + 1 :], strict=True)
        yield from rows_iter

    last = positions[-1]
    pick = operator.itemgetter(*positions) if len(positions) > 1 else None
    for number, row in data():
        if pick is None:
            cells = tuple(row[p] if p < len(row) else None for p in positions)
        elif len(row) > last:  # the usual case: every column read is within the row
            cells = pick(row)
        else:  # the row ends early (its last cells empty): padded with None
            cells = pick(row + (None,) * (last + 1 - len(row)))
        for v in cells:  # a row whose cells read are all blank (_blank) is skipped
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            break
        else:
            continue
        records.append(cells)
        numbers.append(number)
    raw = (
        pd.DataFrame.from_records(records, columns=positions)
        if records
        else pd.DataFrame(columns=positions)
    )
    result.rows_read += len(raw)
    _note_gaps(raw, columns, spec, sheet, path, result)
    limit = settings.ingest.max_cell_chars
    prio = PRIORITY["annex_a"]
    common = dict(
        source=str(path),
        sheet=sheet,
        rows=numbers,
        priority=prio,
        max_cell_chars=limit,
        date1904=result.date1904,
    )
    child = pd.DataFrame({f: raw[columns[f]] for f in CHILD_FIELDS if f in columns})
    result.batches.append(
        build_batch(
            "children", child, code_maps={"sex": SEX_MAP, "ethnicity": ETHNICITY_MAP}, **common
        )
    )
    if spec.table is None:
        return
    event = pd.DataFrame({"child_id": raw[columns["child_id"]]})
    for f in spec.fields:
        if not f.startswith("_") and f in columns:
            event[f] = raw[columns[f]]
    if spec.number == 5:
        event["outcome"] = _s47_outcome(raw, columns)
    result.batches.append(build_batch(spec.table, event, code_maps=spec.code_maps, **common))


def _note_gaps(raw, columns, spec: ListSpec, sheet: str, path: Path, result: ReadResult) -> None:
    """Every expected column the sheet lacks, or leaves empty in every row, is listed: the
    features that read it would otherwise be 0 without a word."""
    if raw.empty:
        return
    for f, names in {**CHILD_FIELDS, **spec.fields}.items():
        if f not in columns:
            state = "absent"
        elif all(_blank(v) for v in raw[columns[f]]):  # stops at the first value
            state = "empty in every row"
        else:
            continue
        result.column_gaps.append(
            {"file": path.name, "sheet": sheet, "column": names[0], "state": state}
        )


def saved_date(path: Path) -> date | None:
    """The workbook's last-saved date from its metadata (docProps/core.xml), if readable."""
    try:
        with zipfile.ZipFile(path) as z:
            if "docProps/core.xml" not in z.namelist():
                return None
            root = etree.fromstring(z.read("docProps/core.xml"))
    except (zipfile.BadZipFile, OSError, KeyError, etree.XMLSyntaxError):
        return None
    for elem in root.iter("{http://purl.org/dc/terms/}modified"):
        try:
            return date.fromisoformat((elem.text or "").strip()[:10])
        except ValueError:
            return None
    return None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _s47_outcome(raw: pd.DataFrame, columns: dict[str, int]) -> pd.Series:
    """List 5's two yes/no questions -> no_icpc, icpc_plan or icpc_no_plan."""
    n = len(raw)
    idx = raw.index
    unnecessary, bad_u = (
        parse_bool(raw[columns["_icpc_unnecessary"]])
        if "_icpc_unnecessary" in columns
        else (
            pd.Series([None] * n, index=idx, dtype=object),
            pd.Series([None] * n, index=idx, dtype=object),
        )
    )
    plan, bad_p = (
        parse_bool(raw[columns["_icpc_plan"]])
        if "_icpc_plan" in columns
        else (
            pd.Series([None] * n, index=idx, dtype=object),
            pd.Series([None] * n, index=idx, dtype=object),
        )
    )
    out = pd.Series([None] * n, index=idx, dtype=object)
    out[plan == False] = "icpc_no_plan"  # noqa: E712 (object column of True/False/None)
    out[plan == True] = "icpc_plan"  # noqa: E712
    out[unnecessary == True] = "no_icpc"  # noqa: E712
    # Unreadable answers pass through as written, so validation quarantines them by value.
    if "_icpc_plan" in columns:
        out[bad_p.notna()] = raw.loc[bad_p.notna(), columns["_icpc_plan"]].astype(str)
    if "_icpc_unnecessary" in columns:
        out[bad_u.notna()] = raw.loc[bad_u.notna(), columns["_icpc_unnecessary"]].astype(str)
    return out
