"""Achieved rates: England's figures within tolerance, and the rate function itself."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from frontdoor.synth.council import generate
from frontdoor.synth.rates import (
    TARGETS,
    achieved_rates,
    rereferral_share,
    top_factor_groups,
    within_targets,
)
from tests.support.synth import council_settings


@pytest.mark.slow
def test_a_mid_sized_council_matches_englands_rates(tmp_path):
    council = generate(council_settings(tmp_path, 60_000, seed=20261126))
    rates = council.manifest["achieved_rates"]
    ok = within_targets(rates)
    assert all(ok.values()), {k: (rates.get(k), TARGETS.get(k)) for k, v in ok.items() if not v}
    assert set(top_factor_groups(rates)) == {"domestic_abuse", "parental_mental_health"}
    assert 0.15 < council.manifest["ground_truth_mean"]["p_rereferral_12m"] < 0.3


def test_rates_of_the_small_council_are_in_a_plausible_range(small_council):
    rates = small_council.manifest["achieved_rates"]
    assert 380 < rates["referrals_per_10k"] < 680
    assert 0.12 < rates["rereferral_share"] < 0.34
    assert 0.25 < rates["cp_neglect_share"] < 0.75
    assert rates["contacts_per_10k"] > rates["referrals_per_10k"] > rates["s47_per_10k"]
    assert rates["s47_per_10k"] > rates["cp_plans_per_10k"] > 0


def test_rereferral_share_counts_previous_referrals_within_365_days():
    ref = pd.DataFrame(
        {
            "child_id": ["a", "a", "a", "b", "b", "c"],
            "referral_date": pd.to_datetime(
                ["2021-01-01", "2021-06-01", "2022-07-01", "2021-01-01", "2022-01-01", "2021-03-01"]
            ),
        }
    )
    # a: 2nd is a re-referral (151 d), 3rd is not (395 d); b: 2nd exactly 365 d -> yes; c: no.
    assert rereferral_share(ref) == pytest.approx(2 / 6)
    assert rereferral_share(ref, pd.Timestamp("2021-05-01")) == pytest.approx(2 / 3)


def test_achieved_rates_from_tables(small_council):
    m = small_council.manifest
    rates = achieved_rates(
        small_council.tables,
        m["child_population"],
        date.fromisoformat(m["window_start"]),
        date.fromisoformat(m["reference_date"]),
    )
    for key, value in m["achieved_rates"].items():
        assert rates[key] == pytest.approx(value, rel=1e-4, abs=1e-3)
    years = 6
    expected = len(small_council.tables["referrals"]) / m["child_population"] / years * 10_000
    assert rates["referrals_per_10k"] == pytest.approx(expected, rel=0.01)
