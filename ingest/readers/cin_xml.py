"""DfE Children in Need census returns (XML, 2017 schema onwards), streamed with lxml.

Each ``Child`` gives one ``children`` row (``GenderCurrent`` or ``Sex``; month of birth only;
UPNs, former UPNs and exact dates never kept) and, for each ``CINdetails`` episode, a referral,
its assessments (with ``FactorsIdentifiedAtAssessment``), Section 47 enquiries and child
protection plans. The header's ``ReferenceDate`` is the extract's reference date. Row numbers
in the quarantine are the XML line numbers of the element.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from lxml import etree

from frontdoor.ingest.errors import IngestError
from frontdoor.ingest.readers import PRIORITY, ReadResult
from frontdoor.ingest.staging import build_batch, mark_rows
from frontdoor.ingest.values import SEX_MAP, parse_dates

NFA_MAP = {
    "true": "nfa",
    "1": "nfa",
    "false": "assessment",
    "0": "assessment",
    "yes": "nfa",
    "no": "assessment",
    "y": "nfa",
    "n": "assessment",
}
TRUE = {"true", "1", "yes", "y"}


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def _text(elem, name: str) -> str | None:
    for child in elem:
        if _local(child.tag) == name:
            return child.text.strip() if child.text and child.text.strip() else None
    return None


def _children(elem, name: str):
    return [c for c in elem if _local(c.tag) == name]


def read_cin_xml(path: Path, settings) -> ReadResult:
    if path.stat().st_size == 0:
        raise IngestError(path, "the file is empty", "a CIN census XML return")
    result = ReadResult(path=str(path), kind="cin_xml")
    rows: dict[str, list[dict]] = {
        t: [] for t in ("children", "referrals", "assessments", "section47_enquiries", "cp_plans")
    }
    root_checked = False
    try:
        context = etree.iterparse(
            str(path),
            events=("start", "end"),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
            remove_comments=True,
        )
        for event, elem in context:
            name = _local(elem.tag)
            if event == "start":
                if not root_checked:
                    root_checked = True
                    if name != "Message":
                        raise IngestError(
                            path,
                            f"has root element <{name}>",
                            "a CIN census return with root element <Message>",
                        )
                continue
            if name == "ReferenceDate" and elem.text:
                try:
                    result.reference_date = date.fromisoformat(elem.text.strip()[:10])
                except ValueError:
                    result.notes.append(
                        f"{path.name}: unreadable ReferenceDate ({len(elem.text.strip())} "
                        "characters, not shown) ignored"
                    )
            elif name == "Child":
                _child(elem, rows)
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                while parent is not None and elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise IngestError(
            path, f"is not well-formed XML ({exc})", "a complete CIN census XML return"
        ) from exc
    if not root_checked:
        raise IngestError(path, "holds no XML elements", "a CIN census XML return")
    result.rows_read = len(rows["children"])
    limit = settings.ingest.max_cell_chars
    maps = {"children": {"sex": SEX_MAP}, "referrals": {"outcome": NFA_MAP}}
    reference = settings.ingest.reference_date or result.reference_date
    for table, records in rows.items():
        if not records:
            continue
        frame = pd.DataFrame.from_records(records)
        checks = [c for c in frame.columns if c.startswith("_") and c not in ("_line", "_where")]
        batch = build_batch(
            table,
            frame.drop(columns=["_line", "_where", *checks]),
            source=str(path),
            sheet=frame["_where"].iloc[0],
            rows=frame["_line"].tolist(),
            priority=PRIORITY["cin_xml"],
            max_cell_chars=limit,
            code_maps=maps.get(table),
        )
        _episode_checks(batch.frame, frame, table, reference)
        result.batches.append(batch)
    return result


def _episode_checks(
    staged: pd.DataFrame, frame: pd.DataFrame, table: str, reference: date | None
) -> None:
    """CIN census rules on the episode around a record, for dates the tables do not keep."""
    start_col = {
        "referrals": "referral_date",
        "assessments": "start_date",
        "section47_enquiries": "start_date",
        "cp_plans": "start_date",
    }.get(table)
    if start_col is None:
        return
    start, _ = parse_dates(frame[start_col])
    if "_referral" in frame.columns:
        referral, _ = parse_dates(frame["_referral"])
        bad = start.notna() & referral.notna() & (start < referral)
        reason = pd.Series(None, index=frame.index, dtype=object)
        reason[bad] = "starts before its episode's CINreferralDate " + referral[bad].dt.strftime(
            "%Y-%m-%d"
        )
        mark_rows(staged, reason, start_col, frame[start_col])
    if table != "referrals":
        return
    for col, label in (("_closure", "CINclosureDate"), ("_icpc", "DateOfInitialCPC")):
        when, _ = parse_dates(frame[col])
        reason = pd.Series(None, index=frame.index, dtype=object)
        if reference is not None:
            late = when > pd.Timestamp(reference)
            reason[late] = f"{label} after the extract's reference date {reference.isoformat()}"
        early = when.notna() & start.notna() & (when < start)
        reason[early & reason.isna()] = f"{label} before CINreferralDate"
        mark_rows(staged, reason, label, frame[col])
    death, _ = parse_dates(frame["_death"])
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[death.notna() & start.notna() & (start > death)] = (
        "referral after the child's recorded death (PersonDeathDate)"
    )
    mark_rows(staged, reason, "PersonDeathDate", "[withheld: date]")


def _child(elem, rows: dict[str, list[dict]]) -> None:
    ids = next(iter(_children(elem, "ChildIdentifiers")), None)
    chars = next(iter(_children(elem, "ChildCharacteristics")), None)
    child_id = _text(ids, "LAchildID") if ids is not None else None
    sex = None
    birth = None
    death = None
    if ids is not None:
        death = _text(ids, "PersonDeathDate")
        sex = _text(ids, "GenderCurrent") or _text(ids, "Sex")
        birth = _text(ids, "PersonBirthDate") or _text(ids, "ExpectedPersonBirthDate")
    ethnicity = _text(chars, "Ethnicity") if chars is not None else None
    disability = False
    if chars is not None:
        for group in _children(chars, "Disabilities"):
            for d in _children(group, "Disability"):
                if d.text and d.text.strip().upper() not in {"NONE", ""}:
                    disability = True
    rows["children"].append(
        {
            "child_id": child_id,
            "sex": sex,
            "ethnicity": ethnicity,
            "birth_month": birth,
            "disability": disability,
            "_line": elem.sourceline,
            "_where": "Child",
        }
    )
    for episode in _children(elem, "CINdetails"):
        rows["referrals"].append(
            {
                "child_id": child_id,
                "referral_date": _text(episode, "CINreferralDate"),
                "source": _text(episode, "ReferralSource"),
                "outcome": _text(episode, "ReferralNFA"),
                "_closure": _text(episode, "CINclosureDate"),
                "_icpc": _text(episode, "DateOfInitialCPC"),
                "_death": death,
                "_line": episode.sourceline,
                "_where": "Child/CINdetails",
            }
        )
        referral_date = _text(episode, "CINreferralDate")
        plan_starts = {_text(p, "CPPstartDate") for p in _children(episode, "ChildProtectionPlans")}
        for a in _children(episode, "Assessments"):
            factors = [
                f.text.strip()
                for group in _children(a, "FactorsIdentifiedAtAssessment")
                for f in _children(group, "AssessmentFactors")
                if f.text and f.text.strip()
            ]
            rows["assessments"].append(
                {
                    "child_id": child_id,
                    "start_date": _text(a, "AssessmentActualStartDate"),
                    "authorisation_date": _text(a, "AssessmentAuthorisationDate"),
                    "factors": ",".join(factors),
                    "_line": a.sourceline,
                    "_where": "Child/CINdetails/Assessments",
                    "_referral": referral_date,
                }
            )
        for s in _children(episode, "Section47"):
            icpc = _text(s, "DateOfInitialCPC")
            not_required = (_text(s, "ICPCnotRequired") or "").lower() in TRUE
            if not_required:
                outcome = "no_icpc"
            elif icpc:
                outcome = "icpc_plan" if icpc in plan_starts else "icpc_no_plan"
            else:
                outcome = None
            rows["section47_enquiries"].append(
                {
                    "child_id": child_id,
                    "start_date": _text(s, "S47ActualStartDate"),
                    "icpc_date": icpc,
                    "outcome": outcome,
                    "_line": s.sourceline,
                    "_where": "Child/CINdetails/Section47",
                    "_referral": referral_date,
                }
            )
        for p in _children(episode, "ChildProtectionPlans"):
            rows["cp_plans"].append(
                {
                    "child_id": child_id,
                    "start_date": _text(p, "CPPstartDate"),
                    "end_date": _text(p, "CPPendDate"),
                    "initial_category": _text(p, "InitialCategoryOfAbuse"),
                    "_line": p.sourceline,
                    "_where": "Child/CINdetails/ChildProtectionPlans",
                    "_referral": referral_date,
                }
            )
