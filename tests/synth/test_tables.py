"""The synthetic council's tables: contract, round trip, integrity, ids, plausibility."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from frontdoor.records.contract import TABLES, validate
from frontdoor.records.store import read_manifest, read_tables, reference_date
from frontdoor.synth.council import (
    GROUND_TRUTH_DIR,
    GROUND_TRUTH_FILE,
    read_ground_truth,
    write_council,
)

EVENT_DATE = {
    "contacts": "contact_date",
    "referrals": "referral_date",
    "assessments": "start_date",
    "section47_enquiries": "start_date",
    "domestic_abuse_notifications": "notification_date",
}
SPELLS = ("cp_plans", "early_help_episodes")


def test_every_table_is_made_and_validates(small_council):
    assert set(small_council.tables) == set(TABLES)
    for name, frame in small_council.tables.items():
        assert len(frame) > 0, name
        validate(frame, name)  # raises on any schema error


def test_round_trip_through_the_store(small_council, tmp_path):
    write_council(small_council, tmp_path)
    back = read_tables(tmp_path)
    for name, frame in small_council.tables.items():
        validate(back[name], name)
        pd.testing.assert_frame_equal(
            back[name].reset_index(drop=True),
            frame.reset_index(drop=True),
            check_dtype=False,
            check_exact=True,
        )
    truth = read_ground_truth(tmp_path)
    assert (tmp_path / GROUND_TRUTH_DIR / GROUND_TRUTH_FILE).exists()
    assert not (tmp_path / GROUND_TRUTH_FILE).exists()  # never beside the tables
    pd.testing.assert_frame_equal(truth, small_council.ground_truth.reset_index(drop=True))
    manifest = read_manifest(tmp_path)
    assert str(reference_date(tmp_path)) == small_council.manifest["reference_date"]
    assert manifest["tables"]["referrals"] == len(small_council.tables["referrals"])
    for key in ("seed", "children", "years", "bias", "achieved_rates", "window_start"):
        assert key in manifest
    json.dumps(manifest)


def test_ids_are_raw_council_ids(small_council):
    t = small_council.tables
    assert t["children"]["child_id"].str.fullmatch(r"C\d{7}").all()
    assert t["children"]["household_id"].str.fullmatch(r"H\d{6}").all()
    prefixes = {"contacts": "K", "referrals": "R", "assessments": "A",
                "section47_enquiries": "S", "cp_plans": "P",
                "domestic_abuse_notifications": "D", "early_help_episodes": "E"}  # fmt: skip
    for name, prefix in prefixes.items():
        ids = t[name][TABLES[name].key]
        assert ids.str.fullmatch(prefix + r"\d{7}").all(), name
        assert ids.is_unique, name


def test_referential_integrity_and_dates(small_council):
    t = small_council.tables
    start = pd.Timestamp(small_council.manifest["window_start"])
    end = pd.Timestamp(small_council.manifest["reference_date"])
    children = t["children"].set_index("child_id")
    for name in TABLES:
        if name == "children":
            continue
        frame = t[name]
        assert frame["child_id"].isin(children.index).all(), name
        assert not frame.duplicated(list(TABLES[name].dedupe_on)).any(), name
        for col in TABLES[name].date_columns:
            assert (frame[col].dropna() <= end).all(), (name, col)
    for name, col in EVENT_DATE.items():
        assert (t[name][col] >= start).all(), name
    for name in SPELLS:
        spell = t[name]
        closed = spell["end_date"].notna()
        assert (spell.loc[closed, "end_date"] >= spell.loc[closed, "start_date"]).all(), name
        assert (spell["end_date"].isna() | (spell["end_date"] >= start)).all(), name
    a = t["assessments"]
    done = a["authorisation_date"].notna()
    assert (a.loc[done, "authorisation_date"] >= a.loc[done, "start_date"]).all()
    assert a.loc[~done, "outcome"].isna().all()
    assert 0 < (~done).sum() < 0.05 * len(a)  # a few still unauthorised near the end
    s = t["section47_enquiries"]
    held = s["icpc_date"].notna()
    assert (s.loc[held, "icpc_date"] > s.loc[held, "start_date"]).all()
    # Children are born before, and under 18 at, every event of theirs.
    for name, col in EVENT_DATE.items():
        born = t[name]["child_id"].map(children["birth_month"])
        age_days = (t[name][col] - born).dt.days
        assert (age_days >= 0).all() and (age_days < 18 * 366).all(), name


def test_section47_starts_after_a_referral_of_the_child(small_council):
    t = small_council.tables
    s47 = t["section47_enquiries"][["child_id", "start_date"]]
    start = pd.Timestamp(small_council.manifest["window_start"])
    s47 = s47[s47["start_date"] >= start + pd.Timedelta(days=20)]  # its referral is in the extract
    m = s47.merge(t["referrals"][["child_id", "referral_date"]], on="child_id")
    gap = (m["start_date"] - m["referral_date"]).dt.days
    ok = m[(gap >= 1) & (gap <= 13)].drop_duplicates(["child_id", "start_date"])
    assert len(ok) == len(s47.drop_duplicates(["child_id", "start_date"]))


def test_children_and_households_look_like_a_council(small_council):
    ch = small_council.tables["children"]
    assert (ch["birth_month"].dt.day == 1).all()
    assert set(ch["sex"]) <= {"M", "F", "U"}
    assert ch["ethnicity"].value_counts(normalize=True).get("WBRI", 0) > 0.45
    assert ch["ethnicity"].nunique() >= 12
    assert 0.01 < ch["disability"].mean() < 0.15
    sizes = ch.groupby("household_id").size()
    assert sizes.max() >= 3 and (sizes >= 2).mean() > 0.2  # siblings share a household
    assert ch.groupby("household_id")["idaci_decile"].nunique().max() == 1
    assert ch["idaci_decile"].between(1, 10).all()


def test_sources_factors_categories_and_dash_levels_are_used(small_council):
    t = small_council.tables
    sources = t["referrals"]["source"].value_counts(normalize=True)
    for code in ("6", "2A", "9"):
        assert code in sources.index
    assert sources.index[0] == "6"  # police refer most, as in England
    assert any(s.startswith("3") for s in sources.index)
    assert any(s.startswith("5") for s in sources.index)
    assert any(s.startswith("1") for s in sources.index)
    factors = t["assessments"]["factors"].str.split(",").explode().value_counts()
    for code in ("16A", "3B", "4B", "1B", "2B", "21"):
        assert code in factors.index, code
    assert set(t["cp_plans"]["initial_category"]) >= {"NEG", "EMO", "PHY"}
    assert set(t["domestic_abuse_notifications"]["dash_risk"]) == {"standard", "medium", "high"}
    da = t["domestic_abuse_notifications"]
    assert da.loc[da["dash_risk"] == "high", "marac_referral"].mean() > 0.5
    assert set(t["referrals"]["outcome"]) == {"nfa", "assessment"}


def test_children_on_a_plan_are_rarely_re_referred(small_council):
    t = small_council.tables
    m = t["referrals"][["child_id", "referral_date"]].merge(
        t["cp_plans"][["child_id", "start_date", "end_date"]], on="child_id"
    )
    end = m["end_date"].fillna(pd.Timestamp.max)
    during = ((m["referral_date"] > m["start_date"]) & (m["referral_date"] < end)).sum()
    assert during < 0.02 * len(t["referrals"])


def test_ground_truth_has_one_probability_pair_per_referral(small_council):
    gt = small_council.ground_truth
    assert list(gt.columns) == ["referral_id", "p_rereferral_12m", "p_escalation_12m"]
    assert set(gt["referral_id"]) == set(small_council.tables["referrals"]["referral_id"])
    for col in ("p_rereferral_12m", "p_escalation_12m"):
        assert gt[col].between(0, 1).all()
        assert gt[col].nunique() > 50  # a genuine spread, not a constant
    assert np.isfinite(gt[["p_rereferral_12m", "p_escalation_12m"]].to_numpy()).all()


@pytest.mark.parametrize("children", [1, 40])
def test_tiny_councils_still_make_valid_tables(children, tmp_path):
    from frontdoor.synth.council import generate
    from tests.support.synth import council_settings

    council = generate(council_settings(tmp_path, children, years=2))
    for name in TABLES:
        validate(council.tables[name], name)
    write_council(council, tmp_path / "out")
    assert (tmp_path / "out" / "manifest.json").exists()
