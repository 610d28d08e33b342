"""Writing a council's canonical tables back out in the formats councils produce.

Used for round trips (export, then ingest, gives back the same canonical tables) and to give
``frontdoor synth`` councils the shape of real extracts. The inputs hold raw ids (as the
synthetic council writes them), never pseudonyms of a live council.

- ``annex_a``: an Ofsted Annex A workbook, Lists 1 to 7 in the template's layout (a title row,
  then the header row, codes with their ``a)`` prefixes); Lists 8 to 11 as empty sheets.
- ``cin_xml``: a DfE Children in Need census return: each referral is a ``CINdetails`` episode
  holding the assessments, Section 47 enquiries and plans that started after it.
- ``csv``: canonical files for what neither return holds: ``domestic_abuse_notifications.csv``,
  ``children.extra.csv`` (household, IDACI decile, disability), ``assessments.extra.csv``
  (outcome, and factors where no referral holds the assessment), ``contacts.extra.csv``
  (presenting concerns, which Annex A List 1 lacks), ``household_memberships.csv`` (dated
  households, when there are any), and ``children.csv`` for children who appear in no list.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from frontdoor.records import codes, store
from frontdoor.records.contract import TABLES, derived_ids, empty_frame, latest_event_date
from frontdoor.records.csvsafe import safe_frame

ANNEX_A_FILE = "annex_a.xlsx"
CIN_FILE = "cin_census.xml"

SEX_LABEL = {"M": "a) Male", "F": "b) Female", "U": "c) Not stated/recorded"}
_ETH_ORDER = [
    "WBRI",
    "WIRI",
    "WIRT",
    "WOTH",
    "WROM",
    "MWBC",
    "MWBA",
    "MWAS",
    "MOTH",
    "AIND",
    "APKN",
    "ABAN",
    "AOTH",
    "BCRB",
    "BAFR",
    "BOTH",
    "CHNE",
    "OOTH",
    "REFU",
    "NOBT",
]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
ETHNICITY_LABEL = {c: f"{_LETTERS[min(i, 18)]}) {c}" for i, c in enumerate(_ETH_ORDER)}
_SOURCE_ORDER = [
    "1A",
    "1B",
    "1C",
    "1D",
    "2A",
    "2B",
    "3A",
    "3B",
    "3C",
    "3D",
    "3E",
    "3F",
    "4",
    "5A",
    "5B",
    "5C",
    "6",
    "7",
    "8",
    "9",
    "10",
]
_SOURCE_GROUP = {
    "1": "Individual",
    "2A": "Schools",
    "2B": "Education services",
    "3": "Health services",
    "4": "Housing",
    "5": "LA services",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}


def _source_label(code: str) -> str:
    group = _SOURCE_GROUP.get(code) or _SOURCE_GROUP.get(code[0], "Other")
    if code in _SOURCE_ORDER:
        return f"{_LETTERS[_SOURCE_ORDER.index(code)]}) {code}: {group}"
    return f"{code}: {group}"


CATEGORY_LABEL = {
    "NEG": "a) Neglect",
    "PHY": "b) Physical abuse",
    "SAB": "c) Sexual abuse",
    "EMO": "d) Emotional abuse",
    "MUL": "e) Multiple/not recommended",
}
YES, NO = "a) Yes", "b) No"

CHILD_HEADERS = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)"]
LIST_LAYOUT: dict[int, tuple[str, list[str]]] = {
    1: ("List 1: Contacts", [*CHILD_HEADERS, "Date of Contact", "Contact Source"]),
    2: (
        "List 2: Early Help",
        [
            *CHILD_HEADERS,
            "Assessment start date",
            "Assessment completion date",
            "Organisation completing assessment",
        ],
    ),
    3: (
        "List 3: Referral",
        [
            *CHILD_HEADERS,
            "Date of referral",
            "Referral Source",
            "Referral NFA?",
            "Number of Referrals in Last 12 Months",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
    4: (
        "List 4: Assessments",
        [
            *CHILD_HEADERS,
            "Does the Child have a Disability",
            "Continuous Assessment Start Date",
            "Child Seen During Continuous Assessment",
            "Continuous Assessment Date of Authorisation",
            "Was the child assessed as requiring LA children’s social care support",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
    5: (
        "List 5: Section 47 enquiries and Initial Child Protection Conferences",
        [
            *CHILD_HEADERS,
            "Does the Child have a Disability",
            "Strategy discussion initiating Section 47 Enquiry Start Date",
            "Was an Initial Child Protection Conference deemed unnecessary?",
            "Date of Initial Child Protection Conference",
            "Did the Initial Child Protection Conference Result in a Child Protection Plan",
            "Number of Section 47 Enquiries in the last 12 months",
            "Number of ICPCs in the last 12 months",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
    6: (
        "List 6: Children in Need",
        [
            *CHILD_HEADERS,
            "Does the Child have a Disability",
            "CIN Start Date",
            "Primary Need Code",
            "Date Child Was Last Seen",
            "CIN Closure Date",
            "Reason for Closure",
            "Case status",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
    7: (
        "List 7: Child protection",
        [
            *CHILD_HEADERS,
            "Does the Child have a Disability",
            "Child Protection Plan Start Date",
            "Initial Category of Abuse",
            "Latest Category of Abuse",
            "Date of the Last Statutory Visit",
            "Was the Child Seen Alone?",
            "Date of latest review conference",
            "Child Protection Plan End Date",
            "Subject to Emergency Protection Order or Protected Under "
            "Police Powers in Last Six Months (Y/N)",
            "Number of Previous Child Protection Plans",
            "Allocated Team",
            "Allocated Worker",
        ],
    ),
}
EMPTY_LISTS = {
    8: "List 8: Children in care",
    9: "List 9: Care leavers",
    10: "List 10: Adoption",
    11: "List 11: Adopters",
}


def export_council(
    tables: dict[str, pd.DataFrame],
    out_dir: Path,
    formats: tuple[str, ...] = ("annex_a", "cin_xml", "csv"),
    reference_date: date | None = None,
    ground_truth: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the tables (raw ids) as Annex A, CIN census XML and canonical CSVs; returns paths.

    With ``ground_truth`` (synthetic councils), it is written to ``ground_truth/`` keyed by the
    referral ids that ingestion derives for these files, so the oracle still lines up.
    """
    unknown = set(formats) - {"annex_a", "cin_xml", "csv"}
    if unknown:
        raise ValueError(f"unknown export formats {sorted(unknown)}; use annex_a, cin_xml, csv")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {name: tables.get(name, _empty(name)) for name in TABLES}
    if reference_date is None:
        # Never today: the same tables must give the same files on any day.
        reference_date = latest_event_date(list(tables.items()))
        if reference_date is None:
            raise ValueError("no reference_date given and the tables hold no event dates")
    written: list[Path] = []
    if "annex_a" in formats:
        written.append(write_annex_a(tables, out_dir / ANNEX_A_FILE, reference_date))
    placed = pd.Series(False, index=tables["assessments"].index)
    if "cin_xml" in formats:
        path, placed = write_cin_xml(tables, out_dir / CIN_FILE, reference_date)
        written.append(path)
    if "csv" in formats:
        written += write_extra_csvs(tables, out_dir, formats, placed)
    if ground_truth is not None:
        written.append(_write_truth(tables, ground_truth, out_dir, formats))
    return written


def export_folder(
    source: Path,
    out_dir: Path,
    formats: tuple[str, ...] = ("annex_a", "cin_xml", "csv"),
    reference_date: date | None = None,
) -> list[Path]:
    """A folder of canonical tables (raw ids) exported as ``export_council`` does; the reference
    date defaults to the folder's manifest."""
    ref = reference_date or store.reference_date(source)
    tables = {name: store.read_table(source, name) for name in TABLES}
    return export_council(tables, out_dir, formats=formats, reference_date=ref)


def _write_truth(
    tables: dict[str, pd.DataFrame], truth: pd.DataFrame, out_dir: Path, formats: tuple[str, ...]
) -> Path:

    truth = truth.copy()
    if "annex_a" in formats or "cin_xml" in formats:
        refs = tables["referrals"]
        new_ids = dict(zip(refs["referral_id"], derived_ids(refs, "referrals"), strict=True))
        truth["referral_id"] = truth["referral_id"].map(new_ids)
        truth = truth[truth["referral_id"].notna()]
    path = out_dir / "ground_truth" / "ground_truth.parquet"
    store.atomic_write_parquet(truth.reset_index(drop=True), path)
    return path


def _empty(name: str) -> pd.DataFrame:
    return empty_frame(name)


def _dt(value: Any) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def write_annex_a(tables: dict[str, pd.DataFrame], path: Path, reference: date) -> Path:
    import openpyxl

    kids = tables["children"].set_index("child_id")
    ref = pd.Timestamp(reference)
    wb = openpyxl.Workbook(write_only=True)
    lists = (
        (1, "contacts", _list_1),
        (2, "early_help_episodes", _list_2),
        (3, "referrals", _list_3),
        (4, "assessments", _list_4),
        (5, "section47_enquiries", _list_5),
        (6, None, None),  # not held by the contract: an empty list
        (7, "cp_plans", _list_7),
    )
    for number, table, rows in lists:
        if table is None or rows is None:
            _sheet(wb, number, [])
            continue
        frame = tables[table]
        _sheet(wb, number, rows(frame, _child_cells(kids, ref, frame)))
    for number, title in EMPTY_LISTS.items():
        ws = wb.create_sheet(f"List_{number}")
        ws.append([title])
        ws.append(["Child Unique ID", "Gender", "Ethnicity", "Date of Birth"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _child_cells(kids: pd.DataFrame, ref: pd.Timestamp, frame: pd.DataFrame) -> pd.DataFrame:
    """Each row's child as Annex A shows it: id, gender, ethnicity, birth date, age, disability."""
    k = kids.reindex(frame["child_id"])
    dob = pd.to_datetime(k["birth_month"])
    age = ((ref - dob).dt.days // 365.25).astype("Int64")
    return pd.DataFrame(
        {
            "id": frame["child_id"].to_numpy(),
            "sex": k["sex"].map(SEX_LABEL).to_numpy(),
            "eth": k["ethnicity"].map(ETHNICITY_LABEL).to_numpy(),
            "dob": dob.to_numpy(),
            "age": age.to_numpy(),
            "dis": k["disability"].map({True: YES, False: NO}).to_numpy(),
        }
    )


def _sheet(wb: Any, number: int, rows: list[list[Any]]) -> None:
    title, headers = LIST_LAYOUT[number]
    ws = wb.create_sheet(f"List_{number}")
    ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(
            [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in row]
        )


def _base(c: pd.DataFrame, i: int) -> list[Any]:
    return [
        c["id"][i],
        c["sex"][i],
        c["eth"][i],
        _dt(c["dob"][i]),
        None if pd.isna(c["age"][i]) else int(c["age"][i]),
    ]


def _list_1(f: pd.DataFrame, c: pd.DataFrame) -> list[list[Any]]:
    """Contacts."""
    pairs = zip(f["contact_date"], f["source"], strict=True)
    return [[*_base(c, i), _dt(d), _source_label(s)] for i, (d, s) in enumerate(pairs)]


def _list_2(f: pd.DataFrame, c: pd.DataFrame) -> list[list[Any]]:
    """Early help."""
    pairs = zip(f["start_date"], f["end_date"], strict=True)
    return [[*_base(c, i), _dt(s), _dt(e), None] for i, (s, e) in enumerate(pairs)]


def _list_3(f: pd.DataFrame, c: pd.DataFrame) -> list[list[Any]]:
    """Referrals."""
    nfa = {"nfa": YES, "assessment": NO}
    rows = zip(f["referral_date"], f["source"], f["outcome"], strict=True)
    return [
        [*_base(c, i), _dt(d), _source_label(s), nfa.get(o), None, None, None]
        for i, (d, s, o) in enumerate(rows)
    ]


def _list_4(f: pd.DataFrame, c: pd.DataFrame) -> list[list[Any]]:
    """Assessments."""
    support = {"cin_support": YES, "strategy_s47": YES, "nfa": NO, "early_help": NO}
    rows = zip(f["start_date"], f["authorisation_date"], f["outcome"], strict=True)
    return [
        [*_base(c, i), c["dis"][i], _dt(s), None, _dt(a), support.get(o), None, None]
        for i, (s, a, o) in enumerate(rows)
    ]


def _list_5(f: pd.DataFrame, c: pd.DataFrame) -> list[list[Any]]:
    """Section 47 enquiries and initial child protection conferences."""
    unnecessary = {"no_icpc": YES, "icpc_plan": NO, "icpc_no_plan": NO}
    plan = {"icpc_plan": YES, "icpc_no_plan": NO}
    rows = zip(f["start_date"], f["icpc_date"], f["outcome"], strict=True)
    return [
        [*_base(c, i), c["dis"][i], _dt(s), unnecessary.get(o), _dt(d), plan.get(o)] + [None] * 4
        for i, (s, d, o) in enumerate(rows)
    ]


def _list_7(f: pd.DataFrame, c: pd.DataFrame) -> list[list[Any]]:
    """Child protection plans."""
    rows = zip(f["start_date"], f["initial_category"], f["end_date"], strict=True)
    return [
        [*_base(c, i), c["dis"][i], _dt(s), CATEGORY_LABEL.get(g), CATEGORY_LABEL.get(g)]
        + [None] * 3
        + [_dt(e)]
        + [None] * 4
        for i, (s, g, e) in enumerate(rows)
    ]


def _episodes(tables: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """For each assessment, S47 and plan: the index of the latest referral on or before it."""
    refs = tables["referrals"].sort_values("referral_date")
    refs = refs.assign(_ref_index=refs.index)
    out = {}
    for name in ("assessments", "section47_enquiries", "cp_plans"):
        f = tables[name]
        if f.empty or refs.empty:
            out[name] = pd.Series(pd.NA, index=f.index, dtype="Int64")
            continue
        left = f[["child_id", "start_date"]].assign(_i=f.index).sort_values("start_date")
        left["start_date"] = pd.to_datetime(left["start_date"]).astype("datetime64[ns]")
        right = refs[["child_id", "referral_date", "_ref_index"]].copy()
        right["referral_date"] = pd.to_datetime(right["referral_date"]).astype("datetime64[ns]")
        m = pd.merge_asof(
            left,
            right,
            left_on="start_date",
            right_on="referral_date",
            by="child_id",
            direction="backward",
        )
        out[name] = (
            pd.Series(m["_ref_index"].to_numpy(), index=m["_i"].to_numpy())
            .reindex(f.index)
            .astype("Int64")
        )
    return out


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def write_cin_xml(
    tables: dict[str, pd.DataFrame], path: Path, reference: date
) -> tuple[Path, pd.Series]:
    """The CIN census return; also which assessments it holds (placed under a referral)."""
    kids = tables["children"].set_index("child_id")
    refs = tables["referrals"]
    episodes = _episodes(tables)
    by_ref: dict[str, dict[int, list[int]]] = {}
    for name, ep in episodes.items():
        grouped: dict[int, list[int]] = {}
        for i, r in ep.dropna().items():
            grouped.setdefault(int(r), []).append(i)
        by_ref[name] = grouped
    sex_code = {"M": "1", "F": "2", "U": "0"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    refs_by_child = refs.sort_values("referral_date").groupby("child_id").groups
    with etree.xmlfile(str(tmp), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("Message"):
            header = etree.Element("Header")
            cd = etree.SubElement(header, "CollectionDetails")
            etree.SubElement(cd, "Collection").text = "CIN"
            etree.SubElement(cd, "Year").text = str(reference.year)
            etree.SubElement(cd, "ReferenceDate").text = reference.isoformat()
            src = etree.SubElement(header, "Source")
            etree.SubElement(src, "SourceLevel").text = "L"
            etree.SubElement(src, "SoftwareCode").text = "frontdoor export"
            xf.write(header)
            with xf.element("Children"):
                for child_id in sorted(refs_by_child):
                    xf.write(
                        _child_xml(
                            child_id,
                            kids.loc[child_id] if child_id in kids.index else None,
                            refs.loc[refs_by_child[child_id]],
                            tables,
                            by_ref,
                            sex_code,
                        )
                    )
    tmp.replace(path)
    placed = episodes["assessments"].notna()
    return path, placed


def _child_xml(
    child_id: str,
    kid: pd.Series | None,
    refs: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    by_ref: dict[str, Any],
    sex_code: dict[str, str],
) -> Any:
    child = etree.Element("Child")
    ids = etree.SubElement(child, "ChildIdentifiers")
    etree.SubElement(ids, "LAchildID").text = str(child_id)
    if kid is not None:
        etree.SubElement(ids, "PersonBirthDate").text = _iso(kid["birth_month"])
        etree.SubElement(ids, "GenderCurrent").text = sex_code.get(kid["sex"], "0")
        chars = etree.SubElement(child, "ChildCharacteristics")
        etree.SubElement(chars, "Ethnicity").text = str(kid["ethnicity"])
        dis = etree.SubElement(chars, "Disabilities")
        etree.SubElement(dis, "Disability").text = "DDA" if bool(kid["disability"]) else "NONE"
    for ref_index, r in refs.iterrows():
        ep = etree.SubElement(child, "CINdetails")
        etree.SubElement(ep, "CINreferralDate").text = _iso(r["referral_date"])
        etree.SubElement(ep, "ReferralSource").text = str(r["source"])
        for i in by_ref["assessments"].get(ref_index, []):
            a = tables["assessments"].loc[i]
            el = etree.SubElement(ep, "Assessments")
            etree.SubElement(el, "AssessmentActualStartDate").text = _iso(a["start_date"])
            if _iso(a["authorisation_date"]):
                etree.SubElement(el, "AssessmentAuthorisationDate").text = _iso(
                    a["authorisation_date"]
                )
            fac = etree.SubElement(el, "FactorsIdentifiedAtAssessment")
            for code in codes.factor_list(a["factors"]):
                etree.SubElement(fac, "AssessmentFactors").text = code
        for i in by_ref["section47_enquiries"].get(ref_index, []):
            s = tables["section47_enquiries"].loc[i]
            el = etree.SubElement(ep, "Section47")
            etree.SubElement(el, "S47ActualStartDate").text = _iso(s["start_date"])
            if _iso(s["icpc_date"]):
                etree.SubElement(el, "DateOfInitialCPC").text = _iso(s["icpc_date"])
            if s["outcome"] == "no_icpc":
                etree.SubElement(el, "ICPCnotRequired").text = "true"
        if r["outcome"] in ("nfa", "assessment"):
            etree.SubElement(ep, "ReferralNFA").text = "true" if r["outcome"] == "nfa" else "false"
        for i in by_ref["cp_plans"].get(ref_index, []):
            p = tables["cp_plans"].loc[i]
            el = etree.SubElement(ep, "ChildProtectionPlans")
            etree.SubElement(el, "CPPstartDate").text = _iso(p["start_date"])
            if _iso(p["end_date"]):
                etree.SubElement(el, "CPPendDate").text = _iso(p["end_date"])
            etree.SubElement(el, "InitialCategoryOfAbuse").text = str(p["initial_category"])
    return child


def write_extra_csvs(
    tables: dict[str, pd.DataFrame], out_dir: Path, formats: tuple[str, ...], placed: pd.Series
) -> list[Path]:
    """Canonical CSVs for what the statutory returns do not hold."""
    written = []

    def csv(frame: pd.DataFrame, name: str) -> None:
        path = out_dir / name
        tmp = path.with_name(f".{name}.tmp")
        safe_frame(frame).to_csv(tmp, index=False, date_format="%Y-%m-%d")
        tmp.replace(path)
        written.append(path)

    csv(tables["domestic_abuse_notifications"], "domestic_abuse_notifications.csv")
    if len(tables["household_memberships"]):
        csv(tables["household_memberships"], "household_memberships.csv")
    kids = tables["children"]
    csv(kids[["child_id", "household_id", "idaci_decile", "disability"]], "children.extra.csv")
    a = tables["assessments"][["child_id", "start_date", "outcome", "factors"]].copy()
    if "cin_xml" in formats:
        a["factors"] = a["factors"].where(~placed.reindex(a.index, fill_value=False), None)
    csv(a, "assessments.extra.csv")
    if "annex_a" in formats:
        # Annex A List 1 has no presenting concerns: a council's case system export adds them.
        k = tables["contacts"]
        k = k.loc[k["presenting_concerns"].notna(), ["child_id", "contact_date", "source"]].assign(
            presenting_concerns=k["presenting_concerns"]
        )
        if len(k):
            csv(k, "contacts.extra.csv")
    mentioned: set[str] = set()
    if "annex_a" in formats:
        for name in (
            "contacts",
            "early_help_episodes",
            "referrals",
            "assessments",
            "section47_enquiries",
            "cp_plans",
        ):
            mentioned |= set(tables[name]["child_id"])
    if "cin_xml" in formats:
        mentioned |= set(tables["referrals"]["child_id"])
    if "annex_a" not in formats and "cin_xml" not in formats:
        for name, frame in tables.items():
            if name not in ("domestic_abuse_notifications", "household_memberships"):
                csv(frame, f"{name}.csv")
        return written
    unmentioned = kids[~kids["child_id"].isin(mentioned)]
    if len(unmentioned):
        csv(unmentioned, "children.csv")
    return written
