"""Bias knobs: each changes what it says it changes, by about its size; off, groups are alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.records.codes import ETHNICITY_MAJOR_GROUP, FACTOR_GROUPS, factor_list
from frontdoor.synth.chain import STATE_BITS, build_model
from frontdoor.synth.council import generate
from tests.support.synth import child_index, council_settings

KNOB_CHILDREN = 40_000
CONCERN_CODES = {
    c for g in ("neglect", "domestic_abuse", "parental_mental_health") for c in FACTOR_GROUPS[g]
}


def _group_of(tables, frame):
    eth = frame["child_id"].map(tables["children"].set_index("child_id")["ethnicity"])
    return eth.map(ETHNICITY_MAJOR_GROUP)


@pytest.fixture(scope="module")
def surveillance_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("surveillance")
    off = generate(council_settings(root, KNOB_CHILDREN, seed=3))
    on = generate(
        council_settings(root, KNOB_CHILDREN, seed=3, surveillance_bias={"enabled": True})
    )
    return off, on


@pytest.fixture(scope="module")
def recording_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("recording")
    off = generate(council_settings(root, KNOB_CHILDREN, seed=4), keep_latent=True)
    on = generate(
        council_settings(root, KNOB_CHILDREN, seed=4, under_recording_bias={"enabled": True}),
        keep_latent=True,
    )
    return off, on


def _police_referrals(council, group: str, police: bool = True) -> int:
    ref = council.tables["referrals"]
    in_group = _group_of(council.tables, ref) == group
    return int((in_group & ((ref["source"] == "6") == police)).sum())


@pytest.mark.slow
def test_surveillance_bias_multiplies_the_groups_police_referrals(surveillance_pair):
    off, on = surveillance_pair
    knob = on.manifest["bias"]["surveillance_bias"]
    assert knob["enabled"] and knob["source"] == "police" and knob["rate_multiplier"] == 1.6
    group = knob["ethnicity_major_group"]
    ratio = _police_referrals(on, group) / _police_referrals(off, group)
    assert 1.4 < ratio < 1.75, ratio  # about the multiplier (same children, same needs)
    other_sources = _police_referrals(on, group, police=False) / _police_referrals(
        off, group, False
    )
    assert 0.85 < other_sources < 1.15, other_sources
    others = _police_referrals(on, "White") / _police_referrals(off, "White")
    assert 0.9 < others < 1.1, others


@pytest.mark.slow
def test_surveillance_bias_shows_up_in_the_groups_labels(surveillance_pair):
    """Same children, same need: more police referrals mean more re-referrals (label bias)."""
    off, on = surveillance_pair
    group = on.manifest["bias"]["surveillance_bias"]["ethnicity_major_group"]

    def group_mean(council, column):
        ref = council.tables["referrals"].merge(council.ground_truth, on="referral_id")
        return ref.loc[_group_of(council.tables, ref) == group, column].mean()

    assert group_mean(on, "p_rereferral_12m") > group_mean(off, "p_rereferral_12m") + 0.02

    # while the other groups' labels do not move
    def white_mean(council):
        ref = council.tables["referrals"].merge(council.ground_truth, on="referral_id")
        return ref.loc[_group_of(council.tables, ref) == "White", "p_rereferral_12m"].mean()

    assert abs(white_mean(on) - white_mean(off)) < 0.01


def test_surveillance_knob_is_the_only_group_difference_in_the_rates():
    neutral = build_model()
    assert np.array_equal(neutral.referral_rates[:, :, 0], neutral.referral_rates[:, :, 1])
    biased = build_model("police", 1.6)
    police = 0  # FAMILIES[0]
    ratio = biased.referral_rates[:, :, 1, ..., police] / np.where(
        biased.referral_rates[:, :, 0, ..., police] > 0,
        biased.referral_rates[:, :, 0, ..., police],
        1,
    )
    live = biased.referral_rates[:, :, 0, ..., police] > 0
    assert np.allclose(ratio[live], 1.6)
    assert np.array_equal(
        biased.referral_rates[:, :, 1, ..., 1:], biased.referral_rates[:, :, 0, ..., 1:]
    )


@pytest.mark.slow
def test_under_recording_changes_only_the_groups_factors(recording_pair):
    off, on = recording_pair
    group = on.manifest["bias"]["under_recording_bias"]["ethnicity_major_group"]
    for name in off.tables:
        if name not in ("assessments", "contacts"):
            pd.testing.assert_frame_equal(off.tables[name], on.tables[name])
    pd.testing.assert_frame_equal(off.ground_truth, on.ground_truth)  # need is unchanged
    # The front door also records the group's presenting concerns less completely.
    k_off, k_on = off.tables["contacts"], on.tables["contacts"]
    concerns = "presenting_concerns"
    pd.testing.assert_frame_equal(k_off.drop(columns=concerns), k_on.drop(columns=concerns))
    theirs = (_group_of(off.tables, k_off) == group).to_numpy()
    assert (k_off.loc[~theirs, concerns] == k_on.loc[~theirs, concerns]).all()
    named = k_on.loc[theirs, concerns].ne("21").mean() / k_off.loc[theirs, concerns].ne("21").mean()
    assert named < 0.75, named
    a_off, a_on = off.tables["assessments"], on.tables["assessments"]
    pd.testing.assert_frame_equal(a_off.drop(columns="factors"), a_on.drop(columns="factors"))
    mine = (_group_of(off.tables, a_off) == group).to_numpy()
    assert (a_off.loc[~mine, "factors"] == a_on.loc[~mine, "factors"]).all()

    def concern_rate(frame):
        return frame["factors"].map(lambda v: bool(CONCERN_CODES & set(factor_list(v)))).mean()

    ratio = concern_rate(a_on[mine]) / concern_rate(a_off[mine])
    expected = on.manifest["bias"]["under_recording_bias"]["recording_rate"] / 0.85
    assert expected - 0.15 < ratio < expected + 0.15, (ratio, expected)


def _assessment_states(council) -> pd.DataFrame:
    """Each assessment with the latent state of its referral's month."""
    t = council.tables
    m = t["assessments"].merge(t["referrals"][["child_id", "referral_date"]], on="child_id")
    gap = (m["start_date"] - m["referral_date"]).dt.days
    m = m[(gap >= 0) & (gap <= 3)].drop_duplicates("assessment_id")
    start = np.datetime64(council.manifest["window_start"], "M")
    month = (m["referral_date"].to_numpy().astype("datetime64[M]") - start).astype(int)
    state = council.latent[month, child_index(m["child_id"])]
    return m.assign(neglect=STATE_BITS[state][:, 0], group=_group_of(t, m).to_numpy())


@pytest.mark.slow
def test_under_recording_lowers_recording_given_the_true_state(recording_pair):
    off, on = recording_pair
    group = on.manifest["bias"]["under_recording_bias"]["ethnicity_major_group"]
    rate = on.manifest["bias"]["under_recording_bias"]["recording_rate"]
    for council, expected in ((off, 0.85), (on, rate)):
        a = _assessment_states(council)
        neg = a[a["neglect"] & (a["group"] == group)]
        recorded = neg["factors"].map(lambda v: "16A" in factor_list(v)).mean()
        assert abs(recorded - expected) < 0.12, (recorded, expected, len(neg))


def test_with_knobs_off_groups_are_treated_alike_given_need(mid_council):
    """Referral rate per child-month given the latent state, and recording, by ethnic group."""
    t = mid_council.tables
    latent = mid_council.latent
    alive = latent != 255
    concern = STATE_BITS[np.where(alive, latent, 0)][..., :5].any(axis=-1)
    on_plan = STATE_BITS[np.where(alive, latent, 0)][..., 5]
    n_children = latent.shape[1]
    ids = pd.Series([f"C{i + 1:07d}" for i in range(n_children)])
    eth = ids.map(t["children"].set_index("child_id")["ethnicity"])  # only known children
    # Children never known to the front door have no ethnicity here: use the known ones.
    known = eth.notna().to_numpy()
    group = eth.map(ETHNICITY_MAJOR_GROUP).to_numpy()
    ref = t["referrals"]
    start = np.datetime64(mid_council.manifest["window_start"], "M")
    month = (ref["referral_date"].to_numpy().astype("datetime64[M]") - start).astype(int)
    counts = np.zeros_like(latent, dtype=np.int32)
    np.add.at(counts, (month, child_index(ref["child_id"])), 1)
    rates = {}
    for g in ("White", "Asian", "Black"):
        cols = known & (group == g)
        for c in (False, True):
            cell = alive[:, cols] & (concern[:, cols] == c) & ~on_plan[:, cols]
            rates[(g, c)] = counts[:, cols][cell].sum() / cell.sum()
    for g in ("Asian", "Black"):
        for c in (False, True):
            ratio = rates[(g, c)] / rates[("White", c)]
            assert 0.7 < ratio < 1.4, (g, c, ratio, rates)
    a = _assessment_states(mid_council)
    neg = a[a["neglect"]]
    by_group = neg.groupby("group")["factors"].apply(lambda s: s.map(lambda v: "16A" in v).mean())
    assert abs(by_group["White"] - 0.85) < 0.08
    assert abs(by_group.get("Asian", by_group["White"]) - by_group["White"]) < 0.2
