"""The chronology: what was known by the referral date, in words, for the child and household."""

from __future__ import annotations

from datetime import date

import pandas as pd

from frontdoor.records.contract import conform, empty_frame
from frontdoor.records.store import write_tables
from frontdoor.review.history import HistoryIndex, HistorySource


def _tables() -> dict[str, pd.DataFrame]:
    tables = {
        name: empty_frame(name)
        for name in (
            "children",
            "contacts",
            "referrals",
            "assessments",
            "section47_enquiries",
            "cp_plans",
            "domestic_abuse_notifications",
            "early_help_episodes",
        )
    }
    tables["children"] = conform(
        pd.DataFrame(
            {
                "child_id": ["c1", "c2", "c3"],
                "sex": ["F", "M", "F"],
                "ethnicity": ["WBRI"] * 3,
                "birth_month": pd.to_datetime(["2015-06-01", "2012-01-01", "2010-01-01"]),
                "disability": [False] * 3,
                "household_id": ["h1", "h1", "h2"],
                "idaci_decile": [2, 2, 5],
            }
        ),
        "children",
    )
    tables["referrals"] = conform(
        pd.DataFrame(
            {
                "referral_id": ["r1", "r2", "r3"],
                "child_id": ["c1", "c1", "c2"],
                "referral_date": pd.to_datetime(["2025-01-10", "2026-03-01", "2025-06-01"]),
                "source": ["6", "2A", "3B"],
                "outcome": ["assessment", None, "nfa"],
            }
        ),
        "referrals",
    )
    tables["assessments"] = conform(
        pd.DataFrame(
            {
                "assessment_id": ["a1", "a2"],
                "child_id": ["c1", "c1"],
                "start_date": pd.to_datetime(["2025-01-12", "2026-02-20"]),
                "authorisation_date": pd.to_datetime(["2025-02-01", "2026-03-15"]),
                "factors": ["3B,16A", "4B"],
                "outcome": ["cin_support", None],
            }
        ),
        "assessments",
    )
    tables["domestic_abuse_notifications"] = conform(
        pd.DataFrame(
            {
                "notification_id": ["d1", "d2"],
                "child_id": ["c1", "c1"],
                "notification_date": pd.to_datetime(["2024-12-20", "2026-04-01"]),
                "dash_risk": ["high", "medium"],
                "marac_referral": [True, False],
            }
        ),
        "domestic_abuse_notifications",
    )
    tables["cp_plans"] = conform(
        pd.DataFrame(
            {
                "plan_id": ["p1"],
                "child_id": ["c2"],
                "start_date": pd.to_datetime(["2025-07-01"]),
                "end_date": pd.to_datetime(["2026-06-01"]),
                "initial_category": ["NEG"],
            }
        ),
        "cp_plans",
    )
    return tables


def test_the_child_timeline_as_known_at_the_referral():
    history = HistoryIndex(_tables()).history("c1", date(2026, 3, 1))
    lines = [(e.when.isoformat(), e.title, e.detail) for e in history.events]
    assert lines == [
        ("2024-12-20", "Police domestic abuse notification", "DASH risk: High. Referred to MARAC"),
        ("2025-01-10", "Referral received", "From Police. Outcome: Progressed to assessment"),
        (
            "2025-01-12",
            "Assessment started",
            "Authorised 01 Feb 2025. Factors: Domestic abuse: concerns about a parent or carer; "
            "Neglect. Outcome: Child in need support",
        ),
        (
            "2026-02-20",
            "Assessment started",
            "Not yet authorised at the time of this referral, so its factors were not known",
        ),
        ("2026-03-01", "This referral", "From Schools"),
    ]  # the notification of April 2026 came later: not shown
    assert history.age == 10
    assert history.counts()["da"] == 1 and history.counts()["assessment"] == 2


def test_the_household_and_siblings():
    history = HistoryIndex(_tables()).history("c1", date(2026, 3, 1))
    assert [s.child_id for s in history.siblings] == ["c2"]  # c3 lives elsewhere
    sibling = history.siblings[0]
    assert sibling.age == 14 and sibling.counts["referral"] == 1 and sibling.counts["cp_plan"] == 1
    plan = [e for e in history.household_events if e.kind == "cp_plan"][0]
    assert plan.detail == "Category: Neglect. Open"  # it ended after the referral date


def test_no_tables_means_no_chronology(tmp_path):
    source = HistorySource(tmp_path / "canonical")
    assert source.history("c1", date(2026, 3, 1)).available is False
    write_tables(tmp_path / "canonical", _tables(), {"reference_date": "2026-03-31"})
    source = HistorySource(tmp_path / "canonical")
    assert source.history("c1", date(2026, 3, 1)).available is True
    assert source.history("unknown", date(2026, 3, 1)).events == []


def test_a_contact_line_names_the_concerns_it_raised_and_nothing_when_none():
    from frontdoor.review.history import _describe

    when = date(2024, 3, 1)
    raised = _describe(
        when, "contact", {"source": "6", "presenting_concerns": "3B,16A"}, "c", when, None
    )
    assert "Concerns raised:" in raised.detail and "Neglect" in raised.detail
    assert "Domestic" in raised.detail
    for none in ("21", None):
        plain = _describe(
            when, "contact", {"source": "6", "presenting_concerns": none}, "c", when, None
        )
        assert "Concerns raised" not in plain.detail and plain.detail.startswith("From ")


def test_with_dated_memberships_the_household_is_the_one_at_the_referral():
    """c3 (snapshot household h2) moved in with c1 only after c1's referral in 2024: not a
    sibling at that referral, but one at a referral after the move."""
    tables = _tables()
    tables["household_memberships"] = conform(
        pd.DataFrame(
            {
                "membership_id": ["m1", "m2", "m3"],
                "child_id": ["c1", "c2", "c3"],
                "household_id": ["h1", "h1", "h1"],
                "start_date": pd.to_datetime(["2015-06-01", "2012-01-01", "2024-06-01"]),
                "end_date": pd.to_datetime([None, None, None]),
            }
        ),
        "household_memberships",
    )
    index = HistoryIndex(tables)
    before = index.history("c1", date(2024, 3, 1))
    after = index.history("c1", date(2024, 9, 1))
    assert [s.child_id for s in before.siblings] == ["c2"]
    assert [s.child_id for s in after.siblings] == ["c2", "c3"]
    assert HistoryIndex(_tables()).history("c1", date(2024, 3, 1)).siblings[0].child_id == "c2"
