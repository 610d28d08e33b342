"""A hand-computed example for every feature family.

Child A (household h1, born May 2014) is referred on 2021-03-01. Her sister B shares the
household; C lives elsewhere; D has no row in the children table. Each record below is
annotated with how many days before 1 March 2021 it became known. Same-day records and
records without a knowledge date are included on purpose: they must not count.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from frontdoor.features.build import build_feature_table
from frontdoor.features.declarations import FEATURES, families
from frontdoor.settings import Settings
from tests.support.tables import T, child, make_tables

DAY = "2021-03-01"


def _tables():
    return make_tables(
        children=[
            child("A", "h1", "2014-05-01"),
            child("B", "h1", "2011-02-01"),
            child("C", "h2", "2016-08-01"),
        ],
        referrals=[
            {"referral_id": "RA", "child_id": "A", "referral_date": T(DAY), "source": "6"},
            {
                "referral_id": "ra1",
                "child_id": "A",
                "referral_date": T("2020-01-15"),
                "source": "2A",
            },  # 411 d
            {
                "referral_id": "ra2",
                "child_id": "A",
                "referral_date": T("2020-12-01"),
                "source": "6",
            },  # 90 d, re-ref (321 d after ra1)
            {
                "referral_id": "ra3",
                "child_id": "A",
                "referral_date": T("2021-02-20"),
                "source": "3B",
            },  # 9 d, re-ref
            {
                "referral_id": "ra4",
                "child_id": "A",
                "referral_date": T("2021-03-05"),
                "source": "6",
            },  # after
            {
                "referral_id": "RB",
                "child_id": "B",
                "referral_date": T(DAY),
                "source": "6",
            },  # same day as RA
            {
                "referral_id": "rb1",
                "child_id": "B",
                "referral_date": T("2020-12-15"),
                "source": "6",
            },  # 76 d
            {
                "referral_id": "rb2",
                "child_id": "B",
                "referral_date": T("2018-01-01"),
                "source": "6",
            },
            {
                "referral_id": "rc1",
                "child_id": "C",
                "referral_date": T("2021-02-27"),
                "source": "6",
            },
            {"referral_id": "RD", "child_id": "D", "referral_date": T(DAY), "source": "6"},
            {
                "referral_id": "rd1",
                "child_id": "D",
                "referral_date": T("2021-01-01"),
                "source": "6",
            },
        ],
        contacts=[
            {
                "contact_id": "k1",
                "child_id": "A",
                "contact_date": T("2021-02-28"),
                "source": "6",
                "presenting_concerns": "3B,4B",
            },  # 1 d
            {
                "contact_id": "k2",
                "child_id": "A",
                "contact_date": T(DAY),
                "source": "6",
                "presenting_concerns": "16A",
            },  # same day
            {
                "contact_id": "k3",
                "child_id": "A",
                "contact_date": T("2020-11-01"),
                "source": "2A",
                "presenting_concerns": "2B,16A",
            },  # 120 d
            {
                "contact_id": "k4",
                "child_id": "A",
                "contact_date": T("2019-01-01"),
                "source": "3A",
                "presenting_concerns": "24A",
            },  # 790 d
            {
                "contact_id": "k8",
                "child_id": "A",
                "contact_date": T("2021-02-24"),
                "source": "9",
                "presenting_concerns": "21",
            },  # 5 d, no concern recorded
            {
                "contact_id": "k5",
                "child_id": "B",
                "contact_date": T("2021-01-10"),
                "source": "6",
                "presenting_concerns": "16A",
            },  # sister, 50 d
            {
                "contact_id": "k6",
                "child_id": "B",
                "contact_date": T("2020-06-01"),
                "source": "1A",
                "presenting_concerns": "1B",
            },  # sister, 273 d
            {
                "contact_id": "k7",
                "child_id": "C",
                "contact_date": T("2021-02-01"),
                "source": "2A",
                "presenting_concerns": "4B",
            },  # another household
        ],
        assessments=[
            {
                "assessment_id": "x1",
                "child_id": "A",
                "start_date": T("2019-06-01"),
                "authorisation_date": T("2019-07-01"),
                "factors": "4B,16A",
                "outcome": "nfa",
            },  # 609 d
            {
                "assessment_id": "x2",
                "child_id": "A",
                "start_date": T("2020-10-01"),
                "authorisation_date": T("2020-11-15"),
                "factors": "3B",
                "outcome": "nfa",
            },  # 106 d
            {
                "assessment_id": "x3",
                "child_id": "A",
                "start_date": T("2021-02-01"),
                "authorisation_date": None,
                "factors": "16A,2B",
                "outcome": None,
            },  # never authorised
            {
                "assessment_id": "x4",
                "child_id": "A",
                "start_date": T("2021-02-15"),
                "authorisation_date": T(DAY),
                "factors": "1B,16A",
                "outcome": "nfa",
            },  # same day
            {
                "assessment_id": "y1",
                "child_id": "B",
                "start_date": T("2020-07-01"),
                "authorisation_date": T("2020-08-01"),
                "factors": "3C,16A",
                "outcome": "cin_support",
            },
            {
                "assessment_id": "y2",
                "child_id": "B",
                "start_date": T("2020-08-01"),
                "authorisation_date": T("2020-09-01"),
                "factors": "4B",
                "outcome": "nfa",
            },
            {
                "assessment_id": "y3",
                "child_id": "B",
                "start_date": T("2021-01-01"),
                "authorisation_date": None,
                "factors": "16A",
                "outcome": None,
            },
            {
                "assessment_id": "z1",
                "child_id": "C",
                "start_date": T("2020-01-01"),
                "authorisation_date": T("2020-02-01"),
                "factors": "16A",
                "outcome": "nfa",
            },
        ],
        cp_plans=[
            {
                "plan_id": "p1",
                "child_id": "A",
                "start_date": T("2019-09-01"),
                "initial_category": "NEG",
            },
            {
                "plan_id": "p2",
                "child_id": "B",
                "start_date": T("2020-05-01"),
                "initial_category": "NEG",
                "end_date": T("2020-11-01"),  # ended before the decision
            },
            {
                "plan_id": "p3",
                "child_id": "B",
                "start_date": T("2020-06-01"),
                "initial_category": "PHY",
                "end_date": T("2021-01-01"),  # ended before the decision
            },
            {
                "plan_id": "p4",
                "child_id": "C",
                "start_date": T("2020-01-01"),
                "initial_category": "NEG",
            },
            {"plan_id": "p5", "child_id": "B", "start_date": T(DAY), "initial_category": "NEG"},
        ],
        domestic_abuse_notifications=[
            {
                "notification_id": "n1",
                "child_id": "A",
                "notification_date": T("2021-01-01"),
                "dash_risk": "high",
                "marac_referral": True,
            },  # 59 d
            {
                "notification_id": "n2",
                "child_id": "A",
                "notification_date": T("2020-06-01"),
                "dash_risk": "standard",
                "marac_referral": False,
            },  # 273 d
            {
                "notification_id": "n3",
                "child_id": "A",
                "notification_date": T("2019-01-01"),
                "dash_risk": "medium",
                "marac_referral": True,
            },  # 790 d
            {
                "notification_id": "n4",
                "child_id": "A",
                "notification_date": T(DAY),
                "dash_risk": "high",
                "marac_referral": True,
            },  # same day
            {
                "notification_id": "n5",
                "child_id": "B",
                "notification_date": T("2021-02-01"),
                "dash_risk": "standard",
                "marac_referral": False,
            },  # 28 d
            {
                "notification_id": "n6",
                "child_id": "B",
                "notification_date": T("2019-02-01"),
                "dash_risk": "high",
                "marac_referral": False,
            },
        ],
        section47_enquiries=[
            {
                "s47_id": "s1",
                "child_id": "A",
                "start_date": T("2020-09-01"),
                "outcome": "no_icpc",
            },  # 181 d
            {
                "s47_id": "s2",
                "child_id": "A",
                "start_date": T("2019-09-01"),
                "outcome": "icpc_plan",
            },
            {"s47_id": "s3", "child_id": "B", "start_date": T("2020-07-01"), "outcome": "no_icpc"},
        ],
        early_help_episodes=[
            {
                "episode_id": "e1",
                "child_id": "A",
                "start_date": T("2020-04-01"),
                "end_date": T(DAY),
            },  # 334 d, ends the same day: still open
            {
                "episode_id": "e3",
                "child_id": "A",
                "start_date": T("2019-01-01"),
                "end_date": T("2019-06-01"),
            },  # 790 d, ended
            {"episode_id": "e2", "child_id": "B", "start_date": T("2018-01-01")},
        ],
    )


EXPECTED_A = {
    # repeat contacts and re-referrals
    "referrals_30d": 1,
    "referrals_90d": 2,
    "referrals_365d": 2,
    "referrals_all": 3,
    "days_since_last_referral": 9,
    "earlier_rereferrals_all": 2,
    "contacts_30d": 2,
    "contacts_90d": 2,
    "contacts_365d": 3,
    "contacts_all": 4,
    "days_since_last_contact": 1,
    "police_contacts_365d": 1,
    "police_contacts_all": 1,
    "school_contacts_365d": 1,
    "school_contacts_all": 1,
    "health_contacts_365d": 0,
    "health_contacts_all": 1,
    # presenting concerns: k1 (1 d) domestic abuse and mental health; k3 (120 d) neglect and
    # drugs; k4 exploitation but 790 d; k2 same day; sister B: neglect (k5), alcohol (k6)
    "contacts_raising_neglect_7d": 0,
    "contacts_raising_neglect_90d": 0,
    "contacts_raising_neglect_365d": 1,
    "household_contacts_raising_neglect_365d": 1,
    "contacts_raising_domestic_abuse_7d": 1,
    "contacts_raising_domestic_abuse_90d": 1,
    "contacts_raising_domestic_abuse_365d": 1,
    "household_contacts_raising_domestic_abuse_365d": 0,
    "contacts_raising_parental_mental_health_7d": 1,
    "contacts_raising_parental_mental_health_90d": 1,
    "contacts_raising_parental_mental_health_365d": 1,
    "household_contacts_raising_parental_mental_health_365d": 0,
    "contacts_raising_parental_substance_7d": 0,
    "contacts_raising_parental_substance_90d": 0,
    "contacts_raising_parental_substance_365d": 1,
    "household_contacts_raising_parental_substance_365d": 1,
    "contacts_raising_exploitation_7d": 0,
    "contacts_raising_exploitation_90d": 0,
    "contacts_raising_exploitation_365d": 0,
    # cumulative neglect
    "neglect_assessments_all": 1,
    "neglect_cp_plans_all": 1,
    "days_since_neglect_identified": 609,
    "household_neglect_assessments_all": 1,
    "household_neglect_cp_plans_all": 1,  # p2; p5 starts the same day
    "nfa_assessments_all": 2,
    "assessments_730d": 2,
    "assessments_all": 2,
    # prior domestic abuse
    "da_notifications_90d": 1,
    "da_notifications_365d": 2,
    "da_notifications_all": 3,
    "da_high_risk_365d": 1,
    "da_high_risk_all": 1,
    "da_marac_referrals_all": 2,
    "days_since_last_da_incident": 59,
    "da_assessments_all": 1,
    "household_da_notifications_365d": 1,
    "household_da_notifications_all": 2,
    "household_da_assessments_all": 1,
    # other history
    "parental_mental_health_assessments_all": 1,
    "parental_alcohol_assessments_all": 0,  # x4 is known the same day
    "parental_drugs_assessments_all": 0,  # x3 was never authorised
    "exploitation_assessments_all": 0,
    "s47_enquiries_365d": 1,
    "s47_enquiries_all": 2,
    "days_since_last_s47": 181,
    "cp_plans_all": 1,
    "ever_cp_plan": 1,
    "early_help_episodes_365d": 1,
    "early_help_episodes_all": 2,
    "open_cp_plan": 1,  # p1 has no end
    "open_early_help": 1,  # e1 ends on the decision day: not yet known
    "age_at_decision": 6,
    # household
    "household_referrals_365d": 1,
    "household_referrals_all": 2,
    "days_since_household_referral": 76,
    "household_contacts_365d": 2,
    "household_s47_enquiries_all": 1,
    "household_cp_plans_all": 2,
    "household_parental_mental_health_assessments_all": 1,
    "household_early_help_episodes_all": 1,
}


@pytest.fixture(scope="module")
def table():
    return build_feature_table(_tables(), date(2023, 1, 1), Settings()).set_index("decision_id")


def test_every_feature_has_a_hand_computed_value():
    assert set(EXPECTED_A) == {f.name for f in FEATURES}
    assert {f.family for f in FEATURES} == set(families())


@pytest.mark.parametrize("name", list(EXPECTED_A))
def test_golden_child_a(table, name):
    assert table.at["RA", name] == EXPECTED_A[name]


def test_sibling_sees_the_child_but_not_the_same_day(table):
    # B on 2021-03-01: A's ra1, ra2, ra3 are known; A's RA (same day) is not
    assert table.at["RB", "household_referrals_all"] == 3
    assert table.at["RB", "days_since_household_referral"] == 9
    assert table.at["RB", "referrals_all"] == 2  # B's own
    assert table.at["RB", "days_since_last_referral"] == 76
    assert table.at["RB", "household_neglect_assessments_all"] == 1  # A's x1 only
    assert table.at["RB", "household_parental_mental_health_assessments_all"] == 1
    assert table.at["RB", "household_cp_plans_all"] == 1  # A's p1; B's own never count
    assert table.at["RB", "age_at_decision"] == 10
    assert table.at["RB", "open_cp_plan"] == 0  # p2 and p3 ended before; p5 starts that day
    assert table.at["RB", "cp_plans_all"] == 2


def test_child_without_characteristics_has_no_household(table):
    household = [f.name for f in FEATURES if f.scope == "household"]
    counts = [n for n in household if not n.startswith("days_since")]
    assert (table.loc["RD", counts] == 0).all()
    assert np.isnan(table.at["RD", "days_since_household_referral"])
    assert np.isnan(table.at["RD", "age_at_decision"])
    assert table.at["RD", "referrals_all"] == 1
    assert table.at["RD", "days_since_last_referral"] == 59
    assert pd.isna(table.at["RD", "sex"])


def test_first_referral_has_no_history(table):
    first = table.loc["rb2"]  # B's first referral, 2018-01-01
    assert first["referrals_all"] == 0
    assert np.isnan(first["days_since_last_referral"])
    assert np.isnan(first["days_since_last_da_incident"])
    assert first["household_referrals_all"] == 0


def test_feature_dtypes_are_numeric(table):
    for f in FEATURES:
        assert pd.api.types.is_numeric_dtype(table[f.name]), f.name
        if f.agg in ("count", "any"):
            assert pd.api.types.is_integer_dtype(table[f.name]), f.name
