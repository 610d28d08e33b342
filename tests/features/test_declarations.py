"""The declarations: complete, consistent with the data contract, and well worded."""

from __future__ import annotations

import math

import pytest

from frontdoor.features import declarations as d
from frontdoor.records.contract import TABLES


def test_every_issue_family_is_covered():
    fams = d.families()
    for family in ("repeat_contacts", "neglect", "domestic_abuse", "other_history", "household"):
        assert len(fams[family]) >= 5, family
    names = set(d.feature_names())
    for required in (
        "referrals_30d",
        "referrals_90d",
        "referrals_365d",
        "referrals_all",
        "contacts_30d",
        "contacts_all",
        "days_since_last_referral",
        "earlier_rereferrals_all",
        "police_contacts_365d",
        "school_contacts_365d",
        "health_contacts_365d",
        "neglect_assessments_all",
        "neglect_cp_plans_all",
        "days_since_neglect_identified",
        "household_neglect_assessments_all",
        "nfa_assessments_all",
        "assessments_730d",
        "da_notifications_90d",
        "da_notifications_365d",
        "da_notifications_all",
        "da_high_risk_all",
        "da_marac_referrals_all",
        "days_since_last_da_incident",
        "da_assessments_all",
        "household_da_notifications_all",
        "parental_mental_health_assessments_all",
        "parental_alcohol_assessments_all",
        "parental_drugs_assessments_all",
        "s47_enquiries_all",
        "cp_plans_all",
        "early_help_episodes_all",
        "age_at_decision",
    ):
        assert required in names, required


def test_knowledge_dates_come_from_the_contract():
    for f in d.FEATURES:
        if f.agg != "age_years":
            assert f.knowledge_date == TABLES[f.source].knowledge_date, f.name


def test_get_and_names():
    assert d.get("da_notifications_365d").window_days == 365
    assert d.get("da_notifications_all").window_days is None
    assert len(d.feature_names()) == len(set(d.feature_names())) == len(d.FEATURES)
    with pytest.raises(KeyError, match="no feature named"):
        d.get("nope")


def test_monotone_directions():
    for f in d.FEATURES:
        if f.agg == "days_since_last":
            assert f.monotone == -1, f.name
        elif f.agg in ("count", "any"):
            assert f.monotone == 1, f.name
    assert d.get("age_at_decision").monotone == 0


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        (
            "da_notifications_365d",
            3.0,
            "3 police domestic-abuse notifications in the 12 months before this referral",
        ),
        ("referrals_all", 1, "1 referral before this referral"),
        ("referrals_all", 2, "2 referrals before this referral"),
        ("s47_enquiries_all", 1.0, "1 earlier Section 47 enquiry before this referral"),
        (
            "household_da_notifications_365d",
            1,
            "1 police domestic-abuse notification in siblings' records in the 12 months "
            "before this referral",
        ),
        ("days_since_last_referral", 12.0, "12 days since the child's last referral"),
        ("days_since_last_referral", 1, "1 day since the child's last referral"),
        (
            "days_since_last_referral",
            math.nan,
            "No earlier referral of the child (never referred before)",
        ),
        ("days_since_household_referral", None, "No sibling referred before (never)"),
        ("age_at_decision", 7.0, "The child was 7 years old at this referral"),
        ("ever_cp_plan", 1, "Earlier child protection plan: yes"),
        ("ever_cp_plan", 0, "Earlier child protection plan: no"),
    ],
)
def test_describe(name, value, sentence):
    assert d.describe(name, value) == sentence


def test_every_count_reads_well_for_one():
    for f in d.FEATURES:
        if f.agg == "count":
            one, many = d.describe(f.name, 1), d.describe(f.name, 3)
            assert one != many.replace("3", "1", 1), f.name  # the noun became singular
            assert " 1 " not in one and "enquirie " not in one, f.name


def test_describe_never_shows_decimals_for_whole_numbers():
    for f in d.FEATURES:
        text = d.describe(f.name, 4.0)
        assert "4.0" not in text and "{value}" not in text, f.name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agg": "median"}, "unknown aggregation"),
        ({"source": "nowhere"}, "unknown source"),
        ({"knowledge_date": "start_date"}, "not the contract's"),
        ({"where": {"colour": ("red",)}}, "no column 'colour'"),
        ({"says": "no slot"}, "needs a {value} slot"),
        ({"window_days": 0}, "at least one day"),
        ({"scope": "street"}, "unknown scope"),
    ],
)
def test_bad_declarations_are_refused(change, message):
    good = d.get("da_notifications_365d")
    fields = {k: getattr(good, k) for k in good.__dataclass_fields__}
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        d.validate_declarations((d.Feature(**fields),))


def test_duplicate_names_are_refused():
    f = d.get("referrals_all")
    with pytest.raises(ValueError, match="declared twice"):
        d.validate_declarations((f, f))


def test_declarations_pickle_and_hash():
    import pickle

    for f in d.FEATURES:
        assert pickle.loads(pickle.dumps(f)) == f
    assert len(set(d.FEATURES)) == len(d.FEATURES)
