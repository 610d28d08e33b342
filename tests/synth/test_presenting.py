"""Presenting concerns on contacts: recorded from the concern that caused the contact (and
the others present), at the recording rate, and the contact behind a referral comes first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.records import codes
from frontdoor.synth import params as P
from frontdoor.synth.presenting import cause_weights, draw_cause, draw_presenting_concerns

N = 40_000
NEGLECT_ONLY, DA_ONLY, NEGLECT_AND_DA = 0b00001, 0b00010, 0b00011


def _share(values, code: str) -> float:
    return float(np.mean([code in codes.factor_list(v) for v in values]))


def test_the_cause_is_recorded_at_the_recording_rate_and_others_less_often():
    rng = np.random.default_rng(1)
    state = np.full(N, NEGLECT_AND_DA)
    recording = np.full(N, P.RECORDING_RATE)
    no_alcohol = np.zeros(N, dtype=bool)
    text = draw_presenting_concerns(np.full(N, 1), state, recording, no_alcohol, rng)  # DA
    assert abs(_share(text, "3B") - P.RECORDING_RATE) < 0.01
    assert abs(_share(text, "16A") - P.RECORDING_RATE * P.PRESENTING_CO_RECORD) < 0.01
    assert _share(text, "4B") < 0.02  # not present: only mistakes


def test_a_background_contact_rarely_names_a_concern_and_under_recording_lowers_all():
    rng = np.random.default_rng(2)
    none = np.zeros(N, dtype=np.int64)
    recording = np.full(N, P.RECORDING_RATE)
    text = draw_presenting_concerns(np.full(N, -1), none, recording, none.astype(bool), rng)
    assert np.mean(text == "21") > 0.93
    state = np.full(N, DA_ONLY)
    full = draw_presenting_concerns(np.full(N, 1), state, recording, none.astype(bool), rng)
    under = draw_presenting_concerns(np.full(N, 1), state, np.full(N, 0.4), none.astype(bool), rng)
    assert _share(under, "3B") < _share(full, "3B") - 0.4


def test_absent_concerns_never_cause_a_contact():
    family = np.full(4, P.FAMILIES.index("police"))
    state = np.array([0, NEGLECT_ONLY, DA_ONLY, NEGLECT_AND_DA])
    w = cause_weights(family, state, np.full(4, 4), np.zeros(4, dtype=bool), 2.6, 8.0)
    assert (w[:, 0] > 0).all()  # the background is always a possible cause
    assert (w[0, 1:] == 0).all() and w[1, 2] == 0 and w[2, 1] == 0
    # police contacts about a household with domestic abuse are mostly about it
    cause = draw_cause(np.repeat(w[2:3], N, axis=0), np.random.default_rng(3))
    assert np.mean(cause == 1) > 0.9


def test_the_contact_behind_each_referral_comes_0_to_3_days_before_it(small_council):
    t = small_council.tables
    refs, contacts = t["referrals"], t["contacts"]
    merged = refs.merge(contacts, on=["child_id", "source"], how="left")
    lag = (merged["referral_date"] - merged["contact_date"]).dt.days
    behind = merged[(lag >= 0) & (lag <= 3)]
    assert behind["referral_id"].nunique() >= 0.97 * len(refs)  # a few fall before the window
    first = behind.groupby("referral_id")["contact_date"].max()
    lags = (refs.set_index("referral_id")["referral_date"] - first).dt.days.dropna()
    share = pd.Series(lags).value_counts(normalize=True).sort_index()
    assert 0 < share.get(0, 0) < 0.5 and share.get(1, 0) > share.get(3, 0) > 0


def test_contacts_carry_valid_presenting_concerns(small_council):
    concerns = small_council.tables["contacts"]["presenting_concerns"]
    assert concerns.notna().all()
    allowed = set(codes.ASSESSMENT_FACTOR_CODES)
    assert all(set(codes.factor_list(v)) <= allowed for v in concerns.unique())
    assert 0.15 < (concerns == "21").mean() < 0.6
