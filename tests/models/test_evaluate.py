"""Metrics equal scikit-learn's; bootstrap intervals bracket the point; the oracle gap is paired."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from frontdoor.models.evaluate import (
    average_precision,
    brier,
    capacity_flags,
    evaluate_scorers,
    metric_set,
)
from frontdoor.models.stats import expected_calibration_error, reliability_table, roc_auc


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(5)
    n = 3000
    truth = rng.beta(2, 6, n)
    y = (rng.random(n) < truth).astype(float)
    model = np.clip(truth + rng.normal(0, 0.08, n), 0.001, 0.999)
    rule = (truth > 0.4).astype(float)
    return y, truth, np.round(model, 2), rule


def test_ranking_metrics_match_sklearn_with_ties(scored):
    y, _, model, _ = scored
    assert roc_auc(y, model) == pytest.approx(roc_auc_score(y, model), abs=1e-12)
    assert average_precision(y, model) == pytest.approx(
        average_precision_score(y, model), abs=1e-12
    )
    assert brier(y, model) == pytest.approx(brier_score_loss(y, model), abs=1e-12)


def test_ece_is_zero_when_calibrated_per_bin_and_known_otherwise():
    y = np.array([0, 1, 0, 1, 1, 1, 0, 0, 0, 0], dtype=float)
    p = np.array([0.5, 0.5, 0.5, 0.5, 0.95, 0.95, 0.05, 0.05, 0.05, 0.05])
    # bins: 0.5 -> observed 0.5 (gap 0); 0.95 -> observed 1 (gap .05 x 2); 0.05 -> 0 (.05 x 4)
    assert expected_calibration_error(y, p) == pytest.approx((0.1 + 0.2) / 10)
    table = reliability_table(y, p, bins=2)
    assert table["n"].sum() == 10


def test_capacity_and_rule_lift():
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0], dtype=float)
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.05, 0.01])
    rule = np.array([1, 0, 1, 1, 0, 0, 0, 0], dtype=float)
    m = metric_set(y, p, k=2, rule_flags=rule.astype(bool))
    assert m["precision_at_capacity"] == 1.0
    assert m["recall_at_capacity"] == pytest.approx(2 / 3)
    assert m["flag_rate_at_capacity"] == pytest.approx(2 / 8)
    # the rule flags 3 with 1 positive; the model's top 3 hold 2 positives: lift 2
    assert m["lift_over_rule"] == pytest.approx(2.0)
    r = metric_set(y, rule, k=2, rule_flags=None, is_rule=True)
    assert r["flag_rate_at_capacity"] == pytest.approx(3 / 8)
    # a probability's calibration line is reported; a rule's 0/1 flags have none
    assert np.isfinite(m["calibration_intercept"]) and np.isfinite(m["calibration_slope"])
    assert np.isnan(r["calibration_intercept"]) and np.isnan(r["calibration_slope"])
    assert capacity_flags(26, 60, 10_000) == 1560
    assert capacity_flags(26, 60, 100) == 100


def test_bootstrap_intervals_and_paired_oracle_gap(scored):
    y, truth, model, rule = scored
    table = evaluate_scorers(
        y, {"lightgbm": model, "rule": rule, "oracle": truth}, k=300, bootstrap=100, seed=1
    )
    auc = table[(table.scorer == "lightgbm") & (table.metric == "auc")].iloc[0]
    assert auc.ci_low < auc.value < auc.ci_high
    assert auc.value == pytest.approx(roc_auc_score(y, model))
    gap = table[(table.scorer == "gap:lightgbm") & (table.metric == "auc")].iloc[0]
    oracle = table[(table.scorer == "oracle") & (table.metric == "auc")].iloc[0]
    assert gap.value == pytest.approx(oracle.value - auc.value)
    # paired: the gap's interval is narrower than either AUC's own interval
    assert (gap.ci_high - gap.ci_low) < (auc.ci_high - auc.ci_low)
    again = evaluate_scorers(
        y, {"lightgbm": model, "rule": rule, "oracle": truth}, k=300, bootstrap=100, seed=1
    )
    assert again.equals(table)


def test_flagging_at_a_threshold_instead_of_capacity():
    y = np.array([1, 0, 1, 0, 0], dtype=float)
    p = np.array([0.9, 0.6, 0.55, 0.2, 0.1])
    m = metric_set(y, p, k=None, rule_flags=None, threshold=0.5)
    assert m["flag_rate_at_capacity"] == pytest.approx(3 / 5)
    assert m["precision_at_capacity"] == pytest.approx(2 / 3)
    assert m["recall_at_capacity"] == 1.0
    table = evaluate_scorers(y, {"m": p}, k=1, threshold=0.5, bootstrap=5, oracle=None)
    rate = table[(table.scorer == "m") & (table.metric == "flag_rate_at_capacity")].iloc[0]
    assert rate.value == pytest.approx(3 / 5)


def test_resampling_children_keeps_their_referrals_together_and_widens_intervals():
    from frontdoor.models.stats import cluster_sampler

    rng = np.random.default_rng(3)
    # five referrals each, one outcome and nearly one score per child (their histories match)
    children = np.repeat(np.arange(200), 5)
    y = np.repeat(rng.random(200) < 0.3, 5).astype(float)
    p = np.clip(y * 0.2 + np.repeat(rng.random(200), 5) * 0.8 + rng.random(1000) * 0.01, 0, 1)
    idx = cluster_sampler(1000, children)(np.random.default_rng(0))
    drawn = children[idx]
    assert len(idx) == 1000  # 200 children drawn, each with all five referrals
    assert (np.bincount(drawn, minlength=200) % 5 == 0).all()

    def width(clusters):
        t = evaluate_scorers(
            y, {"m": p}, k=100, oracle=None, rule=None, bootstrap=200, clusters=clusters
        )
        row = t[(t.scorer == "m") & (t.metric == "auc")].iloc[0]
        return row.ci_high - row.ci_low

    assert width(children) > 1.5 * width(None)  # about sqrt(5) = 2.2 times
