"""Labels and censoring, by hand: 1 to 365 days after the decision; censored past the
reference date, never counted as negative."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from frontdoor.features.build import build_feature_table, label_summary
from frontdoor.settings import Settings
from tests.support.tables import T, child, make_tables

REFERENCE = date(2022, 6, 30)


@pytest.fixture(scope="module")
def table():
    tables = make_tables(
        children=[child("X", "h1"), child("Y", "h1"), child("Z", "h2")],
        referrals=[
            {"referral_id": "x1", "child_id": "X", "referral_date": T("2020-01-01")},
            {"referral_id": "x2", "child_id": "X", "referral_date": T("2020-12-31")},  # x1 + 365
            {"referral_id": "x3", "child_id": "X", "referral_date": T("2022-01-01")},  # x2 + 366
            {"referral_id": "y1", "child_id": "Y", "referral_date": T("2020-03-01")},
            {"referral_id": "z1", "child_id": "Z", "referral_date": T("2021-06-30")},  # ref - 365
            {"referral_id": "z2", "child_id": "Z", "referral_date": T("2021-07-01")},  # ref - 364
        ],
        section47_enquiries=[
            # same day as x1: not after the decision
            {"s47_id": "s1", "child_id": "X", "start_date": T("2020-01-01")},
            # y1 + 365 days (2021-03-01): counts
            {"s47_id": "s2", "child_id": "Y", "start_date": T("2021-03-01")},
        ],
        cp_plans=[
            # x2 + 366 days: too late for x2
            {
                "plan_id": "p1",
                "child_id": "X",
                "start_date": T("2022-01-01"),
                "initial_category": "NEG",
            },
            # the day after z1: escalation for z1
            {
                "plan_id": "p2",
                "child_id": "Z",
                "start_date": T("2021-07-01"),
                "initial_category": "EMO",
            },
        ],
    )
    return build_feature_table(tables, REFERENCE, Settings()).set_index("decision_id")


def test_rereferral_window_is_1_to_365_days(table):
    assert table.at["x1", "rereferral_12m"] == 1.0  # x2 is 365 days later
    assert table.at["x2", "rereferral_12m"] == 0.0  # x3 is 366 days later
    assert table.at["y1", "rereferral_12m"] == 0.0  # a sibling's referral is not a re-referral
    assert table.at["z1", "rereferral_12m"] == 1.0  # z2 the next day


def test_escalation_is_a_s47_or_a_plan_1_to_365_days_after(table):
    assert table.at["x1", "escalation_12m"] == 0.0  # s1 starts the same day
    assert table.at["y1", "escalation_12m"] == 1.0  # s2 exactly 365 days later
    assert table.at["x2", "escalation_12m"] == 0.0  # p1 366 days later
    assert table.at["z1", "escalation_12m"] == 1.0  # p2 the next day


def test_censoring_at_the_reference_date(table):
    assert not table.at["z1", "censored"]  # z1 + 365 days = the reference date
    assert table.at["z2", "censored"]  # one day later: the window is not over
    assert table.at["x3", "censored"]
    for name in ("rereferral_12m", "escalation_12m"):
        assert np.isnan(table.at["z2", name])  # missing, never a negative
        assert np.isnan(table.at["x3", name])


def test_label_summary_counts_censored(table):
    summary = label_summary(table.reset_index())
    assert summary["decisions"] == 6
    assert summary["censored"] == 2
    assert summary["labelled"] == 4
    assert summary["rereferral_12m_rate"] == pytest.approx(2 / 4)  # x1, z1
    assert summary["escalation_12m_rate"] == pytest.approx(2 / 4)


def test_labels_are_floats(table):
    assert table["rereferral_12m"].dtype == np.float64
    assert table["escalation_12m"].dtype == np.float64
    assert table["censored"].dtype == bool


def test_a_contact_is_not_re_referred_by_the_referral_it_became():
    """As a decision point, a contact's own referral (the child's first within the screening
    allowance) is not a re-referral; a later referral is, and referral decisions are unchanged."""
    tables = make_tables(
        children=[child("A", "h1"), child("B", "h2")],
        referrals=[
            {"referral_id": "a1", "child_id": "A", "referral_date": T("2020-01-03")},
            {"referral_id": "a2", "child_id": "A", "referral_date": T("2020-05-01")},
            {"referral_id": "b1", "child_id": "B", "referral_date": T("2020-01-03")},
        ],
        contacts=[
            # two days before a1: a1 is the referral it became, a2 a re-referral
            {"contact_id": "ka", "child_id": "A", "contact_date": T("2020-01-01"), "source": "6"},
            # two days before b1, and nothing after: not re-referred
            {"contact_id": "kb", "child_id": "B", "contact_date": T("2020-01-01"), "source": "6"},
            # ten days before a1: beyond the allowance, so a1 is another referral
            {"contact_id": "kc", "child_id": "A", "contact_date": T("2019-12-24"), "source": "2A"},
        ],
    )
    settings = Settings(features={"include_contacts_as_decisions": True})
    t = build_feature_table(tables, REFERENCE, settings).set_index("decision_id")
    assert t.at["ka", "rereferral_12m"] == 1.0  # a2, four months later
    assert t.at["kb", "rereferral_12m"] == 0.0  # b1 is its own referral
    assert t.at["kc", "rereferral_12m"] == 1.0
    assert t.at["a1", "rereferral_12m"] == 1.0 and t.at["b1", "rereferral_12m"] == 0.0
    # converted on its own day: a referral two days later is another referral, not its own
    same_day = make_tables(
        children=[child("A", "h1")],
        referrals=[
            {"referral_id": "a0", "child_id": "A", "referral_date": T("2020-01-01")},
            {"referral_id": "a1", "child_id": "A", "referral_date": T("2020-01-03")},
        ],
        contacts=[
            {"contact_id": "k", "child_id": "A", "contact_date": T("2020-01-01"), "source": "6"}
        ],
    )
    t1 = build_feature_table(same_day, REFERENCE, settings).set_index("decision_id")
    assert t1.at["k", "rereferral_12m"] == 1.0 and t1.at["a0", "rereferral_12m"] == 1.0
    strict = Settings(features={"include_contacts_as_decisions": True, "contact_screening_days": 0})
    t0 = build_feature_table(tables, REFERENCE, strict).set_index("decision_id")
    assert t0.at["kb", "rereferral_12m"] == 1.0  # with no allowance its own referral counts
