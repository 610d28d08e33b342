"""The monitor's plain functions, on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.governance import monitoring as mon
from frontdoor.settings.fairness import FairnessSettings


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 20_000)
    same = rng.normal(0, 1, 20_000)
    small = rng.normal(0.2, 1, 20_000)
    large = rng.normal(1.0, 1, 20_000)
    assert mon.psi(ref, same) < 0.01
    assert 0.02 < mon.psi(ref, small) < mon.psi(ref, large)
    assert mon.psi(ref, large) > 0.25
    assert mon.psi_status(mon.psi(ref, large)) == "significant shift"
    assert mon.psi_status(mon.psi(ref, same)) == "stable"


def test_psi_matches_the_textbook_formula_on_a_count_feature():
    ref = np.array([0] * 50 + [1] * 30 + [2] * 20)
    new = np.array([0] * 30 + [1] * 30 + [2] * 40)
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.3, 0.4])
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert mon.psi(ref, new) == pytest.approx(expected, rel=1e-3)


def test_psi_counts_missing_values_as_their_own_bin():
    ref = np.array([1.0] * 90 + [np.nan] * 10)
    new = np.array([1.0] * 50 + [np.nan] * 50)
    assert mon.psi(ref, new) > 0.25


def test_feature_drift_ranks_the_shifted_feature_first():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"a": rng.poisson(1, 5000), "b": rng.poisson(1, 5000)})
    new = pd.DataFrame({"a": rng.poisson(1, 5000), "b": rng.poisson(3, 5000)})
    drift = mon.feature_drift(ref, new, ["a", "b"])
    assert list(drift["feature"]) == ["b", "a"]
    assert drift.loc[0, "status"] == "significant shift"
    assert drift.loc[1, "status"] == "stable"


def test_flag_rates_per_month_and_group():
    scored = pd.DataFrame(
        {
            "referral_date": pd.to_datetime(
                ["2026-01-03", "2026-01-20", "2026-01-21", "2026-02-02"]
            ),
            "band": ["high", "low", "very high", "low"],
            "sex": ["F", "M", "F", None],
        }
    )
    order = ["low", "medium", "high", "very high"]
    rates = mon.flag_rates(scored, order, ["high", "very high"])
    jan = rates[rates["month"] == "2026-01"].iloc[0]
    assert jan["scored"] == 3 and jan["flagged"] == 2
    assert jan["flag_rate"] == pytest.approx(2 / 3)
    assert jan["share_low"] == pytest.approx(1 / 3)
    by = mon.flag_rates(scored, order, ["high", "very high"], by="sex")
    assert set(by["sex"]) == {"F", "M", "Not recorded"}
    assert by.loc[(by["month"] == "2026-01") & (by["sex"] == "F"), "flag_rate"].item() == 1.0


def test_recent_labelled_keeps_only_decisions_whose_outcome_is_known():
    table = pd.DataFrame(
        {
            "decision_date": pd.to_datetime(
                ["2024-01-01", "2025-01-10", "2025-03-01", "2025-12-01"]
            ),
            "escalation_12m": [1.0, 0.0, 1.0, np.nan],
            "censored": [False, False, False, True],
        }
    )
    recent = mon.recent_labelled(table, "escalation_12m", pd.Timestamp("2026-03-31"), 365, 90)
    # known outcome means decided by 2025-03-31; recent means within 90 days before that
    assert list(recent["decision_date"].dt.strftime("%Y-%m-%d")) == ["2025-01-10", "2025-03-01"]


def test_decision_agreement_by_band_and_group_uses_the_decision_in_force():
    decisions = pd.DataFrame(
        {
            "decision_id": ["d1", "d1", "d2", "d3"],
            "band": ["high", "high", "very high", "low"],
            "agrees": [False, True, True, False],
            "is_latest": [False, True, True, True],
        }
    )
    groups = pd.DataFrame({"decision_id": ["d1", "d2", "d3"], "sex": ["F", "F", "M"]})
    out = mon.decision_agreement(decisions, groups, ["sex"])
    overall = out[out["dimension"] == "overall"].iloc[0]
    assert overall["decisions"] == 3 and overall["agreed"] == 2
    high = out[(out["dimension"] == "band") & (out["group"] == "high")].iloc[0]
    assert high["agreement_rate"] == 1.0  # the superseded disagreement no longer counts
    f = out[(out["dimension"] == "sex") & (out["group"] == "F")].iloc[0]
    assert f["decisions"] == 2 and f["agreement_rate"] == 1.0
    assert mon.decision_agreement(decisions.iloc[0:0]).empty


def test_recent_fairness_runs_the_fairness_audit_and_alerts_on_a_disparity():
    rng = np.random.default_rng(3)
    n = 4000
    group = rng.choice(["A", "B"], n)
    y = rng.binomial(1, 0.3, n)
    # group B's positives are mostly scored low: its false negative rate is far higher than A's
    caught = rng.uniform(0, 1, n) < np.where(group == "A", 0.8, 0.3)
    score = np.where((y == 1) & caught, 0.8, 0.1) + rng.uniform(0, 0.05, n)
    frame = pd.DataFrame({"y": y, "p": score, "g": group})
    settings = FairnessSettings(bootstrap_samples=20)
    audit = mon.recent_fairness(
        frame,
        label="y",
        score="p",
        characteristics={"ethnicity": "g"},
        settings=settings,
        threshold=0.5,
    )
    table = audit.to_frame()
    b = table[(table["characteristic"] == "ethnicity") & (table["group"] == "B")].iloc[0]
    assert b["fnr"] > 0.6 and b["fnr_ratio"] > 2
    from frontdoor.governance.gate import evaluate_gate

    gate = evaluate_gate(audit, settings)
    assert not gate.passed
    drift = pd.DataFrame(columns=["feature", "psi", "status"])
    alerts = mon.alerts_for(drift, {"status": "stable"}, gate)
    assert any("FNR" in a and "group B" in a for a in alerts)
    assert mon.alerts_for(drift, {"status": "stable"}, None) == []


def test_published_fairness_hides_every_figure_of_a_tiny_group():
    rng = np.random.default_rng(5)
    n = 600
    # B is the smallest group beside T, so it is the one hidden to protect T (total - A - B = 4);
    # A's counts stay shown, so its rates are published in full.
    group = np.array(["A"] * 400 + ["B"] * 196 + ["T"] * 4)
    y = rng.binomial(1, 0.4, n)
    y[-4:] = [1, 1, 0, 0]
    score = np.clip(0.5 * y + rng.uniform(0, 0.6, n), 0, 1)
    frame = pd.DataFrame({"y": y, "p": score, "g": group})
    audit = mon.recent_fairness(
        frame,
        label="y",
        score="p",
        characteristics={"ethnicity": "g"},
        settings=FairnessSettings(bootstrap_samples=20),
        threshold=0.5,
    )
    raw = audit.to_frame()
    tiny_raw = raw[(raw["characteristic"] == "ethnicity") & (raw["group"] == "T")].iloc[0]
    assert tiny_raw["n"] == 4  # the unsuppressed frame would publish it
    table = mon.published_fairness(audit, up_to=5)
    tiny = table[(table["characteristic"] == "ethnicity") & (table["group"] == "T")].iloc[0]
    assert tiny["n"] == "c"
    for column in ("flag_rate", "fnr", "fpr", "fnr_ratio", "fpr_ratio"):
        assert tiny[column] in ("c", "too few to assess"), column
    # secondary suppression: the next smallest group's size is hidden too (total - rest = 4),
    # and its rates, which would give its counts back (the disclosure module decides)
    b = table[(table["characteristic"] == "ethnicity") & (table["group"] == "B")].iloc[0]
    assert b["n"] == "c"
    for column in ("flag_rate", "fnr", "fpr"):
        assert b[column] == "c", column
    a = table[(table["characteristic"] == "ethnicity") & (table["group"] == "A")].iloc[0]
    assert a["n"] == 400
    for column in ("flag_rate", "fnr", "fpr"):
        assert isinstance(a[column], float), column
    raw_a = raw[(raw["characteristic"] == "ethnicity") & (raw["group"] == "A")].iloc[0]
    assert a["fpr"] == pytest.approx(raw_a["fpr"], abs=5e-4)


def test_publish_flag_rates_hides_shares_and_flag_rates_that_give_counts_back():
    frame = pd.DataFrame(
        {
            "month": ["2025-01", "2025-02"],
            "scored": [40, 100],
            "flagged": [37, 50],
            "flag_rate": [37 / 40, 0.5],
            "share_low": [0.05, 0.5],  # 2 of 40
            "share_high": [0.95, 0.5],
        }
    )
    out = mon.publish_flag_rates(frame, ["low", "high"], up_to=5)
    jan, feb = out.iloc[0], out.iloc[1]
    assert jan["scored"] == 40
    assert jan["flagged"] == "c" and jan["flag_rate"] == "c"  # 40 - 37 = 3 not flagged
    assert jan["share_low"] == "c" and jan["share_high"] == "c"  # 2 and, by subtraction, 38
    assert feb["flagged"] == 50 and feb["share_low"] == 0.5 and feb["flag_rate"] == 0.5
    assert not any(c.startswith("_n_") for c in out.columns)


def test_publish_flag_rates_by_group_hides_a_group_the_month_total_gives_back():
    frame = pd.DataFrame(
        {
            "month": ["2025-01"] * 3,
            "characteristic": ["sex"] * 3,
            "group": ["F", "M", "U"],
            "scored": [50, 60, 3],
            "flagged": [10, 12, 0],
            "flag_rate": [0.2, 0.2, 0.0],
            "share_low": [0.8, 0.8, 1.0],
            "share_high": [0.2, 0.2, 0.0],
        }
    )
    out = mon.publish_flag_rates(frame, ["low", "high"], 5, within=["month", "characteristic"])
    assert out.loc[2, "scored"] == "c" and out.loc[0, "scored"] == "c"  # secondary: F (50)
    assert out.loc[1, "scored"] == 60


def test_publish_agreement_hides_agreements_given_back_by_disagreements():
    agreement = pd.DataFrame(
        {
            "dimension": ["overall", "band", "band"],
            "group": ["all", "high", "very high"],
            "decisions": [49, 9, 40],
            "agreed": [40, 6, 34],
            "agreement_rate": [40 / 49, 6 / 9, 34 / 40],
        }
    )
    out = mon.publish_agreement(agreement, up_to=5)
    high = out[out["group"] == "high"].iloc[0]
    assert high["agreed"] == "c" and high["agreement_rate"] == "c"  # 9 - 6 = 3 disagreed
    very_high = out[out["group"] == "very high"].iloc[0]
    assert very_high["agreed"] == "c"  # else 40 - 34 = 6 agreed in high would follow
    overall = out[out["dimension"] == "overall"].iloc[0]
    assert overall["decisions"] == 49 and overall["agreed"] == 40


def test_alerts_show_c_for_a_figure_the_fairness_room_suppresses():
    rng = np.random.default_rng(4)
    n = 4000
    group = np.where(np.arange(n) < 2000, "A", "B")
    y = rng.binomial(1, 0.3, n)
    score = np.where(y == 1, 0.9, np.where(rng.uniform(0, 1, n) < 0.3, 0.8, 0.1))
    negatives_b = np.flatnonzero((group == "B") & (y == 0))
    score[negatives_b] = 0.1
    score[negatives_b[:3]] = 0.8  # B: exactly 3 false positives, A: about 30% of negatives
    frame = pd.DataFrame({"y": y, "p": score, "g": group})
    settings = FairnessSettings(bootstrap_samples=20)
    audit = mon.recent_fairness(
        frame,
        label="y",
        score="p",
        characteristics={"ethnicity": "g"},
        settings=settings,
        threshold=0.5,
    )
    from frontdoor.governance.gate import evaluate_gate

    gate = evaluate_gate(audit, settings)
    drift = pd.DataFrame(columns=["feature", "psi", "status"])
    raw = mon.alerts_for(drift, {"status": "stable"}, gate)
    fpr = [a for a in raw if a.startswith("FPR") and "group B" in a]
    assert fpr and "c (figures suppressed" not in fpr[0]
    published = mon.alerts_for(drift, {"status": "stable"}, gate, audit, up_to=5)
    fpr = [a for a in published if a.startswith("FPR") and "group B" in a]
    assert fpr and "c (figures suppressed: small numbers)" in fpr[0]
