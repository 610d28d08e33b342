"""The oracle: exact chain algebra, informative, calibrated against realised labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from frontdoor.synth.chain import build_model
from frontdoor.synth.tables import scheduled_escalation
from frontdoor.synth.truth import chain_step, s47_delay_pmf, window_fractions
from tests.support.synth import realised_labels, uncensored

LABELS = (("rereferral_12m", "p_rereferral_12m"), ("escalation_12m", "p_escalation_12m"))


@pytest.mark.parametrize("plan", [False, True])
def test_structured_chain_step_equals_the_dense_transition(plan):
    model = build_model("police", 1.6)
    rng = np.random.default_rng(0)
    n = 300
    v = rng.random((n, 3, 64))
    dec = rng.integers(0, 10, n)
    age = rng.integers(0, 19, n)
    dense = (model.transition_plan if plan else model.transition)[age, dec]
    expected = np.einsum("nij,nxj->nxi", dense, v)
    np.testing.assert_allclose(chain_step(model, v, dec, age, plan), expected, atol=1e-12)
    assert np.allclose(model.transition.sum(axis=-1), 1.0)
    assert np.allclose(model.transition_plan.sum(axis=-1), 1.0)


def test_window_fractions_at_the_edges():
    first = np.datetime64("2020-04", "M")
    # A referral on 1 April 2020: 365 days later is 1 April 2021 (month 12, day 1).
    day = np.array([np.datetime64("2020-04-01", "D").astype(np.int64)])
    f12_rr, f11, f12 = window_fractions(day, np.array([0]), first)
    assert f12_rr[0] == pytest.approx(1 / 30)
    delays, pmf = s47_delay_pmf()
    assert delays.min() >= 1 and pmf.sum() == pytest.approx(1.0)
    assert 0.0 < f11[0] < 1.0 and f12[0] == 0.0
    # On 30 April 2020 the window runs to 30 April 2021: month 12 wholly inside.
    day = np.array([np.datetime64("2020-04-30", "D").astype(np.int64)])
    f12_rr, f11, f12 = window_fractions(day, np.array([0]), first)
    assert f12_rr[0] == pytest.approx(1.0)
    assert f11[0] == pytest.approx(1.0)


def test_oracle_is_informative_but_not_perfect(mid_council):
    data = uncensored(mid_council)
    assert len(data) > 2_000
    for label, col in LABELS:
        auc = roc_auc_score(data[label], data[col])
        assert 0.62 < auc < 0.95, (label, auc)


def test_oracle_is_calibrated_on_average(mid_council):
    data = uncensored(mid_council)
    for label, col in LABELS:
        rate, mean_p = data[label].mean(), data[col].mean()
        se = np.sqrt(mean_p * (1 - mean_p) / len(data))
        assert abs(rate - mean_p) < 4 * se + 0.005, (label, rate, mean_p)


def test_oracle_is_calibrated_by_decile(mid_council):
    data = uncensored(mid_council)
    for label, col in LABELS:
        bins = pd.qcut(data[col].rank(method="first"), 10, labels=False)
        g = data.groupby(bins).agg(y=(label, "mean"), p=(col, "mean"), n=(label, "size"))
        se = np.sqrt(g["p"] * (1 - g["p"]) / g["n"]).clip(lower=0.005)
        z = (g["y"] - g["p"]) / se
        assert (z.abs() < 4).all(), (label, g.assign(z=z))
        assert g["p"].is_monotonic_increasing
        assert g["y"].iloc[-1] > 3 * g["y"].iloc[0]  # the top decile is far riskier


def test_escalation_already_scheduled_is_found():
    child = np.array([1, 1, 1, 2, 2])
    day = np.array([100, 110, 140, 100, 130])
    # Referral 0 of child 1 has a Section 47 on day 112: referral 1 (day 110) precedes it.
    s47_day = np.array([112, 0, 0, 105, 0])
    has_s47 = np.array([True, False, False, True, False])
    plan_day = np.array([0, 0, 0, 131, 0])  # child 2's plan starts after its next referral
    has_plan = np.array([False, False, False, True, False])
    got = scheduled_escalation(child, day, ((s47_day, has_s47), (plan_day, has_plan)))
    assert got.tolist() == [False, True, False, False, True]


def test_certain_escalations_are_realised(mid_council):
    data = realised_labels(mid_council.tables).merge(mid_council.ground_truth, on="referral_id")
    end = pd.Timestamp(mid_council.manifest["reference_date"])
    data = data[data["referral_date"] <= end - pd.Timedelta(days=40)]
    certain = data[data["p_escalation_12m"] >= 1.0]
    assert certain["escalation_12m"].all()
    # and the realised escalations of the least likely referrals are rare
    assert data.loc[data["p_escalation_12m"] < 0.1, "escalation_12m"].mean() < 0.1
