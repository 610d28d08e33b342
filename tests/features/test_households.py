"""Dated household memberships: a sibling counts only while both children lived together at
the decision, never because of a move that happened after it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from frontdoor.features.build import build_feature_table, label_summary
from frontdoor.features.households import Memberships
from frontdoor.records.contract import conform
from frontdoor.settings import Settings
from tests.support.tables import T, child, make_tables

DAY = "2021-03-01"
REFERENCE = date(2022, 6, 30)


def _tables(memberships):
    """A is referred on 1 March 2021. B, C, D and E each had a police domestic-abuse
    notification on 1 February 2021 (28 days before); all five share household h1 in the
    snapshot, so without dates every one of them would count."""
    notes = [
        {
            "notification_id": f"n{k}",
            "child_id": k,
            "notification_date": T("2021-02-01"),
            "dash_risk": "standard",
            "marac_referral": False,
        }
        for k in "BCDE"
    ]
    return make_tables(
        children=[child(k, "h1") for k in "ABCDE"],
        referrals=[{"referral_id": "RA", "child_id": "A", "referral_date": T(DAY), "source": "6"}],
        domestic_abuse_notifications=notes,
        household_memberships=memberships,
    )


def _m(i, who, home, start, end=None):
    return {
        "membership_id": f"m{i}",
        "child_id": who,
        "household_id": home,
        "start_date": T(start),
        "end_date": None if end is None else T(end),
    }


MEMBERSHIPS = [
    _m(0, "A", "h1", "2015-01-01"),
    _m(1, "B", "h1", "2016-01-01"),  # lives with A: counts
    _m(2, "C", "h1", "2021-06-01"),  # joined after the referral (e.g. kinship care): not yet
    _m(3, "D", "h1", "2016-01-01", "2020-12-31"),  # left before it: no longer a sibling
    _m(4, "E", "h1", "2016-01-01", DAY),  # leaves on the day: not known to have left yet
    _m(5, "C", "h9", "2010-01-01", "2021-05-31"),  # C's earlier home
]


def test_siblings_are_those_living_with_the_child_at_the_decision():
    snapshot = build_feature_table(_tables([]), REFERENCE, Settings()).set_index("decision_id")
    dated = build_feature_table(_tables(MEMBERSHIPS), REFERENCE, Settings())
    dated = dated.set_index("decision_id")
    assert snapshot.at["RA", "household_da_notifications_365d"] == 4  # B, C, D, E
    assert dated.at["RA", "household_da_notifications_365d"] == 2  # B and E
    assert dated.at["RA", "household_da_notifications_all"] == 2


def test_a_child_with_no_household_at_the_decision_has_no_siblings():
    late = [_m(0, "A", "h1", "2021-04-01"), *MEMBERSHIPS[1:]]  # A moved in after the referral
    t = build_feature_table(_tables(late), REFERENCE, Settings()).set_index("decision_id")
    assert t.at["RA", "household_da_notifications_365d"] == 0
    assert np.isnan(t.at["RA", "days_since_household_referral"])
    assert label_summary(t.reset_index())["decisions_without_household"] == 1
    with_home = build_feature_table(_tables(MEMBERSHIPS), REFERENCE, Settings())
    assert label_summary(with_home)["decisions_without_household"] == 0
    assert "decisions_without_household" not in label_summary(
        build_feature_table(_tables([]), REFERENCE, Settings())
    )


def test_days_since_a_siblings_referral_skips_children_who_were_not_siblings_yet():
    tables = _tables(MEMBERSHIPS)
    refs = pd.concat(
        [
            tables["referrals"],
            pd.DataFrame(
                [
                    # C (not yet a sibling) 10 days before; B (a sibling) 40 days before
                    {"referral_id": "RC", "child_id": "C", "referral_date": T("2021-02-19")},
                    {"referral_id": "RB", "child_id": "B", "referral_date": T("2021-01-20")},
                ]
            ),
        ],
        ignore_index=True,
    )
    tables["referrals"] = conform(refs.assign(source="6"), "referrals")
    t = build_feature_table(tables, REFERENCE, Settings()).set_index("decision_id")
    assert t.at["RA", "days_since_household_referral"] == 40


def test_sibling_pairs_are_found_once_through_shared_households():
    frame = pd.DataFrame(
        {
            "household_id": ["h1", "h1", "h2", "h2", "h1"],
            "start_date": pd.to_datetime(["2020-01-01"] * 4 + ["2022-01-01"]),
            "end_date": pd.to_datetime([None] * 5),
        }
    )
    m = Memberships.from_table(frame, np.array([0, 1, 0, 1, 2]))  # 0 and 1 share h1 and h2
    decision, sibling = m.sibling_pairs(np.array([0, 2]), np.array([44_000, 44_000]))
    # day 44,000 is 2020-06-20: child 0's sibling is 1, once; child 2 has not joined yet
    assert decision.tolist() == [0] and sibling.tolist() == [1]


def test_slicing_the_expansion_changes_nothing():
    """The second expansion runs in slices (a household with thousands of past members must
    not exhaust memory); any slice size gives the same pairs."""
    rng = np.random.default_rng(4)
    n = 400
    start = pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    frame = pd.DataFrame(
        {
            "household_id": rng.choice(["h1", "h2", "h3"], n),  # big households, many moves
            "start_date": start,
            "end_date": end.where(rng.random(n) < 0.7),
        }
    )
    m = Memberships.from_table(frame, rng.integers(0, 150, n))
    child, day = rng.integers(0, 150, 300), rng.integers(42_000, 44_500, 300)
    whole = m.sibling_pairs(child, day)
    assert len(whole[0]) > 1_000
    for chunk in (1, 7, 1_000):
        sliced = m.sibling_pairs(child, day, chunk=chunk)
        assert (whole[0] == sliced[0]).all() and (whole[1] == sliced[1]).all()


def test_a_member_missing_from_the_children_table_never_counts_whatever_the_decisions():
    """Siblings come from the children table (as in the snapshot), so asking for contact
    decision points as well does not change a referral's household features."""
    tables = _tables([*MEMBERSHIPS, _m(9, "S", "h1", "2015-01-01")])
    tables["contacts"] = conform(
        pd.DataFrame(
            [{"contact_id": "ks", "child_id": "S", "contact_date": T("2021-02-01"), "source": "6"}]
        ),
        "contacts",
    )
    for contacts_too in (False, True):
        settings = Settings(features={"include_contacts_as_decisions": contacts_too})
        t = build_feature_table(tables, REFERENCE, settings).set_index("decision_id")
        assert t.at["RA", "household_contacts_365d"] == 0, contacts_too
