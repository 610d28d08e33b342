"""The shared statistics equal scikit-learn's where it has them; the count bootstrap resamples
whole children; the reliability tables count every row once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from frontdoor.models.encoding import InputEncoder
from frontdoor.models.stats import (
    calibration_line,
    cluster_counts,
    percentile_interval,
    reliability_table,
    replicate_auc,
    roc_auc,
)


def test_replicate_auc_equals_the_single_auc_and_sklearn_with_ties():
    rng = np.random.default_rng(11)
    y = (rng.random(2000) < 0.2).astype(float)
    p = np.round(np.clip(y * 0.2 + rng.random(2000) * 0.8, 0, 1), 2)  # many ties
    ones = np.ones((1, y.size))
    assert replicate_auc(ones, y, p)[0] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    # a replicate that counts a row twice is the AUC of the sample with that row duplicated
    counts = np.ones((1, y.size))
    counts[0, :50] = 2
    dup = np.r_[np.arange(y.size), np.arange(50)]
    assert replicate_auc(counts, y, p)[0] == pytest.approx(roc_auc(y[dup], p[dup]), abs=1e-12)


def test_count_bootstrap_draws_whole_children():
    children = np.repeat(np.arange(300), 4)
    blocks = list(cluster_counts(children.size, 120, np.random.default_rng(0), children, block=50))
    counts = np.vstack(blocks)
    assert counts.shape == (120, 1200) and [len(b) for b in blocks] == [50, 50, 20]
    assert (counts.sum(axis=1) == 1200).all()  # 300 children drawn, four referrals each
    per_child = counts.reshape(120, 300, 4)
    assert (per_child == per_child[:, :, :1]).all()  # a child's referrals drawn together
    assert percentile_interval(np.array([np.nan, np.nan])) == pytest.approx(
        (np.nan, np.nan), nan_ok=True
    )


def test_reliability_tables_count_every_row_once():
    rng = np.random.default_rng(2)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(float)
    for strategy in ("quantile", "uniform"):
        t = reliability_table(y, p, bins=10, strategy=strategy)
        assert t["n"].sum() == 1000
        assert (t["n"] * t["observed"]).sum() == pytest.approx(y.sum())
    uniform = reliability_table(y, p, strategy="uniform")
    assert (
        (uniform["predicted"] >= uniform["bin_low"]) & (uniform["predicted"] < uniform["bin_high"])
    ).all()
    with pytest.raises(ValueError, match="Unknown strategy"):
        reliability_table(y, p, strategy="kmeans")


def test_encoder_indicators_in_place_unknown_and_missing_set_none():
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan], "sex": ["M", "F", None], "b": [3, 4, 5]})
    enc = InputEncoder().fit(train)
    assert list(enc.get_feature_names_out()) == ["a", "sex=F", "sex=M", "b"]
    new = pd.DataFrame({"b": [1, 2], "sex": ["X", None], "a": [0.5, np.nan]}, index=[7, 9])
    out = enc.transform(new)
    assert list(out.columns) == ["a", "sex=F", "sex=M", "b"] and list(out.index) == [7, 9]
    assert (out[["sex=F", "sex=M"]].to_numpy() == 0).all()
    assert out.dtypes.eq("float64").all() and np.isnan(out.loc[9, "a"])
    with pytest.raises(ValueError, match="lacks the model's feature columns"):
        enc.transform(new.drop(columns=["sex"]))


def test_calibration_line_equals_sklearns_unpenalised_logistic_fit_and_recovers_a_known_line():
    """Newton's two-parameter fit is scikit-learn's maximum likelihood, and it finds the line
    that drew the outcomes: probabilities too compressed by a factor 0.6 on the log-odds come
    back with slope 1/0.6, and a shift of the log-odds by +0.5 with intercept -0.5."""
    rng = np.random.default_rng(3)
    for n, true_intercept, true_slope in ((300, 0.0, 1.0), (3000, -0.4, 1.3), (20000, 0.3, 0.7)):
        z = rng.normal(-0.6, 1.2, n)
        q = 1 / (1 + np.exp(-z))
        y = (rng.random(n) < 1 / (1 + np.exp(-(true_intercept + true_slope * z)))).astype(int)
        a, b = calibration_line(y, q)
        fit = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-12).fit(z.reshape(-1, 1), y)
        assert a == pytest.approx(fit.intercept_[0], abs=1e-6)
        assert b == pytest.approx(fit.coef_[0, 0], abs=1e-6)
    z = rng.normal(-0.6, 1.2, 200_000)
    compressed = 1 / (1 + np.exp(-(0.6 * z)))
    shifted = 1 / (1 + np.exp(-(z + 0.5)))
    y = (rng.random(z.size) < 1 / (1 + np.exp(-z))).astype(int)
    assert calibration_line(y, compressed)[1] == pytest.approx(1 / 0.6, abs=0.03)
    assert calibration_line(y, shifted)[0] == pytest.approx(-0.5, abs=0.03)
    assert np.isnan(calibration_line(np.ones(10), np.full(10, 0.3))).all()  # one class


def test_calibration_line_covers_0_and_1_for_probabilities_that_drew_the_outcomes():
    """By simulation at a backtest's size (3,000 referrals, 400 redraws): outcomes drawn from the
    probabilities themselves give a line whose intercept and slope centre on 0 and 1, so a
    calibrated model's line is not biased by the fit."""
    rng = np.random.default_rng(5)
    q = 1 / (1 + np.exp(-rng.normal(-0.8, 1.0, 3000)))
    lines = np.array(
        [calibration_line((rng.random(q.size) < q).astype(int), q) for _ in range(400)]
    )
    assert abs(lines[:, 0].mean()) < 0.02 and abs(lines[:, 1].mean() - 1) < 0.02
    assert 0.05 < lines[:, 1].std() < 0.2  # the spread a 3,000-referral test window has


@pytest.mark.slow  # 400 bootstraps of 200 resamples: about 45 s idle, 3 min at load 6
def test_the_calibration_lines_children_resampled_intervals_cover_the_truth_at_a_councils_size():
    """Coverage by simulation at the size users have (3,200 test referrals in 2,500 children,
    550 of them referred two or three times): outcomes drawn from the probabilities themselves
    (the true line is intercept 0, slope 1), a child's referrals sharing one uniform draw so
    their outcomes agree far more than chance. Over 200 datasets the 95% intervals of
    ``calibration_summary`` resampling children cover 0 and 1 within a binomial tolerance of
    0.95 (three standard errors); resampling referrals instead, they cover less on the same
    datasets (too narrow: a child referred twice counted as two)."""
    from frontdoor.models.stats import calibration_summary

    rng = np.random.default_rng(7)
    sizes = np.r_[np.ones(1950, int), np.full(400, 2), np.full(150, 3)]
    child = np.repeat(np.arange(sizes.size), sizes)
    assert child.size == 3200
    covered = {"children": [], "referrals": []}
    for i in range(200):
        z = np.repeat(rng.normal(-0.6, 0.6, sizes.size), sizes) + rng.normal(0, 0.4, child.size)
        q = 1 / (1 + np.exp(-z))
        y = (rng.random(sizes.size)[child] < q).astype(float)  # P(y = 1) = q, shared by child
        for name, clusters in (("children", child), ("referrals", None)):
            s = calibration_summary(y, q, None, clusters, samples=200, seed=i)
            (a_lo, a_hi), (b_lo, b_hi) = s["intercept_ci"], s["slope_ci"]
            covered[name].append((a_lo <= 0 <= a_hi, b_lo <= 1 <= b_hi))
    by_children = np.mean(covered["children"], axis=0)
    by_referrals = np.mean(covered["referrals"], axis=0)
    tolerance = 3 * np.sqrt(0.95 * 0.05 / 200)  # 0.046
    assert np.all(np.abs(by_children - 0.95) <= tolerance), by_children
    assert np.all(by_referrals < by_children), (by_referrals, by_children)


def test_equal_mass_calibration_error_weighs_every_tenth_of_the_referrals_alike():
    """Ten bins of equal count: zero when each tenth's mean prediction equals its outcome rate,
    and each tenth's gap weighted by its share (a tenth), however crowded the probabilities."""
    from frontdoor.models.stats import equal_mass_calibration_error

    p = np.repeat(np.linspace(0.05, 0.95, 10), 100)  # ten tenths, 100 rows each
    y = np.zeros_like(p)
    for k in range(10):  # each tenth's outcome rate equals its prediction
        y[k * 100 : k * 100 + round(p[k * 100] * 100)] = 1
    assert equal_mass_calibration_error(y, p) == pytest.approx(0.0, abs=1e-12)
    y_top_missed = y.copy()
    y_top_missed[900:1000] = 0  # the top tenth never has the outcome: its gap is 0.95
    assert equal_mass_calibration_error(y_top_missed, p) == pytest.approx(0.095)
