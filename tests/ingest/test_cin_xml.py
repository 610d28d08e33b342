"""CIN census XML: the reference samples ingest with their counts and deliberate errors caught."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from lxml import etree

from frontdoor.ingest.run import ingest_sources, quarantine_folder
from frontdoor.records import store

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
FAKE = REFERENCE / "cin_census_fake.xml"
SAMPLE = REFERENCE / "cin_census_2026_sample.xml"


def _expected_bad_episodes(path: Path) -> tuple[int, int, set[int]]:
    """Independently of the reader: episodes, children, and lines of episodes that break rules."""
    tree = etree.parse(str(path))
    ref = tree.findtext(".//ReferenceDate")
    bad, episodes = set(), 0
    children = tree.findall(".//Child")
    for child in children:
        death = child.findtext("ChildIdentifiers/PersonDeathDate")
        for ep in child.findall("CINdetails"):
            episodes += 1
            r = ep.findtext("CINreferralDate")
            dates = [r, ep.findtext("CINclosureDate"), ep.findtext("DateOfInitialCPC")]
            if any(d and d > ref for d in dates) or (death and r > death):
                bad.add(ep.sourceline)
    return episodes, len(children), bad


def test_fake_return_counts_and_quarantine(tmp_path, settings):
    report = ingest_sources([FAKE], tmp_path / "out", settings)
    episodes, children, bad_lines = _expected_bad_episodes(FAKE)
    assert (episodes, children) == (402, 332)
    c = report.counts["children"]
    assert (c.read, c.loaded, c.quarantined) == (332, 332, 0)
    r = report.counts["referrals"]
    assert r.read == 402
    assert r.quarantined == len(bad_lines) and r.loaded == 402 - len(bad_lines)
    q = report.quarantine[report.quarantine["table"] == "referrals"]
    assert set(q["row"]) == bad_lines
    reasons = report.reasons()
    # The deliberate errors: 8 referrals dated after the reference date, and more.
    assert reasons["date after the extract's reference date 2022-07-21"] == 8
    assert reasons["CINclosureDate after the extract's reference date 2022-07-21"] == 9
    assert report.reference_date == "2022-07-21"
    refs = store.read_table(tmp_path / "out", "referrals")
    assert len(refs) == 402 - len(bad_lines)
    assert (refs["referral_date"] <= pd.Timestamp("2022-07-21")).all()
    assert set(refs["outcome"]) == {"nfa"}  # every ReferralNFA is true in the sample
    kids = store.read_table(tmp_path / "out", "children")
    assert set(kids["sex"]) == {"M", "F", "U"}  # GenderCurrent 1, 2, 0 and 9
    assert (kids["birth_month"].dt.day == 1).all()


def test_2026_sample_catches_every_deliberate_error(tmp_path, settings):
    report = ingest_sources([SAMPLE], tmp_path / "out", settings)
    q = report.quarantine
    by_table = q.groupby("table")["reason"].apply(" | ".join).to_dict()
    assert "unknown assessment factor code" in by_table["assessments"]  # factor RB
    assert "authorisation_date before start_date" in by_table["assessments"]
    assert "date after the extract's reference date 2024-03-31" in by_table["assessments"]
    assert "starts before its episode's CINreferralDate" in by_table["section47_enquiries"]
    assert "starts before its episode's CINreferralDate" in by_table["cp_plans"]
    # child_fails_assessments: its referral is after the reference date, its assessment before it
    assert "date after the extract's reference date" in by_table["referrals"]
    assert q[q["table"] == "assessments"]["row"].nunique() == 2
    kids = store.read_table(tmp_path / "out", "children")
    assert len(kids) == 2 and set(kids["sex"]) == {"M"}  # <Sex>1</Sex> and <Sex>M</Sex>
    assert set(kids["disability"]) == {True, False}  # HAND/HEAR vs NONE
    for c in report.counts.values():
        assert c.read == c.loaded + c.quarantined + c.duplicates
    assert report.counts["referrals"].loaded == 1


def test_upns_and_exact_birth_dates_never_written(tmp_path, settings):
    ingest_sources([SAMPLE], tmp_path / "out", settings)
    blob = b"".join(
        p.read_bytes() for p in sorted(f for f in (tmp_path / "out").rglob("*") if f.is_file())
    )
    for secret in (
        b"A123456789123",
        b"X98765432123B",
        b"DfEX0000001",
        b"2015-03-27",
        b"child_fails_assessments",
    ):
        assert secret not in blob
    quarantine = (quarantine_folder(settings, tmp_path / "out") / "quarantine.csv").read_bytes()
    assert b"DfEX0000001" not in quarantine and b"A123456789123" not in quarantine


def test_same_child_in_workbook_and_return_is_one_child(tmp_path, settings):
    from datetime import date

    from frontdoor.records.export import export_council
    from tests.support.tables import raw_council

    ref = date(2025, 3, 31)
    tables = raw_council(children=12, seed=5, reference_date=ref)
    export_council(tables, tmp_path / "a", formats=("annex_a",), reference_date=ref)
    export_council(tables, tmp_path / "c", formats=("cin_xml",), reference_date=ref)
    report = ingest_sources(
        [tmp_path / "a" / "annex_a.xlsx", tmp_path / "c" / "cin_census.xml"],
        tmp_path / "out",
        settings,
    )
    kids = store.read_table(tmp_path / "out", "children")
    assert len(kids) == 12 and kids["child_id"].is_unique
    r = report.counts["referrals"]
    assert (r.read, r.loaded, r.duplicates) == (48, 24, 24)
    assert len(store.read_table(tmp_path / "out", "referrals")) == 24
