"""Estimators, calibration, bands and reasons on a small frame in the features room's shape."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from frontdoor.features.declarations import describe, feature_names, get
from frontdoor.models.bands import Bands
from frontdoor.models.calibration import CalibratedModel, MarginCalibrator
from frontdoor.models.estimators import CurrentPracticeRule, MonotoneLightGBM, ScorecardLogistic
from frontdoor.models.explain import reasons_for_row, reasons_json
from frontdoor.models.stats import expected_calibration_error
from frontdoor.records.scores import reasons_from_json


@pytest.fixture(scope="module")
def data(toy_table):
    rows = toy_table[toy_table["escalation_12m"].notna()]
    X = rows[feature_names()].astype(float)
    y = rows["escalation_12m"].astype(int)
    return X, y


@pytest.fixture(scope="module")
def lgbm(data):
    X, y = data
    return MonotoneLightGBM(n_estimators=60, random_state=1).fit(X, y)


@pytest.fixture(scope="module")
def logistic(data):
    X, y = data
    return ScorecardLogistic(C=0.5).fit(X, y)


def test_contributions_plus_base_equal_the_margin(data, lgbm, logistic):
    X, _ = data
    for model in (lgbm, logistic):
        contrib, base = model.contributions(X.iloc[:300])
        assert contrib.shape == (300, X.shape[1])
        np.testing.assert_allclose(
            contrib.sum(axis=1) + base, model.decision_function(X.iloc[:300]), atol=1e-6
        )


def test_lightgbm_follows_declared_directions(data, lgbm):
    X, _ = data
    assert lgbm.monotone_constraints_ == [get(n).monotone for n in X.columns]
    assert any(c == 1 for c in lgbm.monotone_constraints_)
    # raising a feature declared +1 never lowers the margin; raising a -1 one never raises it
    base = X.iloc[:500].copy()
    before = lgbm.decision_function(base)
    constrained = [n for n, c in zip(X.columns, lgbm.monotone_constraints_, strict=True) if c]
    assert {"referrals_365d", "days_since_last_referral"} <= set(constrained)
    for name in constrained:
        bumped = base.copy()
        bumped[name] = bumped[name].fillna(0) + 5
        start = base.copy()
        start[name] = start[name].fillna(0)
        diff = lgbm.decision_function(bumped) - lgbm.decision_function(start)
        if get(name).monotone > 0:
            assert (diff >= -1e-12).all()
        elif get(name).monotone < 0:
            assert (diff <= 1e-12).all()
    assert len(before) == 500


def test_unconstrained_when_configured(data):
    X, y = data
    model = MonotoneLightGBM(n_estimators=10, monotone=False).fit(X, y)
    assert set(model.monotone_constraints_) == {0}


def test_sklearn_conventions(data, lgbm, logistic):
    X, _ = data
    for model in (lgbm, logistic):
        assert list(model.get_feature_names_out()) == list(X.columns)
        fresh = clone(model)
        assert not any(k.endswith("_") and not k.startswith("_") for k in vars(fresh))
        p = model.predict_proba(X.iloc[:10])
        assert p.shape == (10, 2) and np.allclose(p.sum(axis=1), 1)
    with pytest.raises(ValueError, match="lacks the model's feature columns"):
        lgbm.decision_function(X.drop(columns=["referrals_365d"]))


def test_scorecard_reads_as_odds_ratios(logistic):
    card = logistic.scorecard()
    assert list(card.columns[:3]) == ["feature", "family", "coef_per_sd"]
    assert np.allclose(card["odds_ratio_per_sd"], np.exp(card["coef_per_sd"]))
    assert card["coef_per_sd"].abs().is_monotonic_decreasing
    assert set(card["direction"]) <= {"raises", "lowers"}


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibration_on_a_later_slice_fixes_a_shifted_base_rate(data, lgbm, method):
    X, y = data
    # a later slice where the outcome is rarer than the model learned: calibration must follow
    later = X.iloc[: len(X) // 2]
    rng = np.random.default_rng(3)
    p_true = lgbm.predict_proba(later)[:, 1] * 0.5
    y_later = (rng.random(len(later)) < p_true).astype(int)
    raw = lgbm.predict_proba(later)[:, 1]
    calibrated = CalibratedModel(lgbm, method=method).fit(later, y_later)
    p = calibrated.predict_proba(later)[:, 1]
    assert expected_calibration_error(y_later, p) < expected_calibration_error(y_later, raw) / 2
    assert abs(p.mean() - y_later.mean()) < 0.02
    # a monotone map: the ranking (and so the reasons' direction) is unchanged
    order = np.argsort(calibrated.decision_function(later))
    assert (np.diff(p[order]) >= -1e-12).all()


def test_calibrator_refuses_one_class_and_unknown_methods():
    with pytest.raises(ValueError, match="one outcome class"):
        MarginCalibrator().fit([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="Unknown calibration method"):
        MarginCalibrator("beta").fit([0.1, 0.2], [0, 1])


def test_bands_fixed_on_training_quantiles():
    rng = np.random.default_rng(0)
    train = rng.beta(2, 8, 10_000)
    bands = Bands().fit(train)
    shares = pd.Series(bands.transform(train)).value_counts(normalize=True)
    assert shares["low"] == pytest.approx(0.5, abs=0.01)
    assert shares["medium"] == pytest.approx(0.3, abs=0.01)
    assert shares["high"] == pytest.approx(0.15, abs=0.01)
    assert shares["very high"] == pytest.approx(0.05, abs=0.01)
    # fixed: a later population with higher risk lands in higher bands, edges unchanged
    edges = bands.edges_.copy()
    later = pd.Series(bands.transform(train + 0.1)).value_counts(normalize=True)
    assert later["very high"] > 0.1
    assert np.array_equal(edges, bands.edges_)
    table = bands.table(lambda m: np.clip(m, 0, 1))
    assert list(table["band"]) == ["low", "medium", "high", "very high"]
    assert table["from_probability"].iloc[0] == 0.0 and table["to_probability"].iloc[-1] == 1.0
    assert table["training_share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one more band name"):
        Bands(quantiles=(0.5,), names=("a", "b", "c")).fit(train)


def test_current_practice_rule():
    X = pd.DataFrame({"referrals_365d": [0, 1, 2, 5, np.nan]})
    rule = CurrentPracticeRule(min_count=2).fit(X)
    assert rule.flags(X).tolist() == [0, 0, 1, 1, 0]
    with pytest.raises(ValueError, match="current_practice_rule_feature"):
        CurrentPracticeRule(feature="nope").fit(X)


def test_reasons_are_declared_sentences_with_directions(data, lgbm):
    X, _ = data
    row = X.iloc[:50]
    contrib, _ = lgbm.contributions(row)
    texts = reasons_json(contrib, row, top_k=3)
    for r, text in enumerate(texts):
        reasons = reasons_from_json(text)
        assert 1 <= len(reasons) <= 6
        raising = [x for x in reasons if x.direction == "raises"]
        lowering = [x for x in reasons if x.direction == "lowers"]
        assert len(raising) <= 3 and len(lowering) <= 3
        assert all(x.contribution > 0 for x in raising)
        assert all(x.contribution < 0 for x in lowering)
        # the biggest raiser is the row's largest positive contribution
        if raising:
            top = int(np.argmax(contrib[r]))
            assert raising[0].feature == X.columns[top]
        for x in reasons:
            assert x.sentence == f"{describe(x.feature, x.value)}: {x.direction}"
            assert x.family == get(x.feature).family
    assert json.loads(texts[0])[0]["sentence"].endswith(("raises", "lowers"))


def test_reasons_name_a_concrete_value():
    names = ["da_notifications_365d", "referrals_365d"]
    reasons = reasons_for_row(np.array([0.8, -0.2]), np.array([4.0, 0.0]), names, top_k=3)
    assert reasons[0].direction == "raises"
    assert reasons[0].sentence.startswith("4 ") and reasons[0].sentence.endswith(": raises")
    assert reasons[1].direction == "lowers"
    # all-zero contributions still say what the score rests on
    assert len(reasons_for_row(np.zeros(2), np.array([0.0, 0.0]), names)) == 1


def test_the_scorecard_fits_when_a_feature_is_empty_in_training(data):
    """A small council's cross-fitted part can hold no value at all of a "days since" feature
    (found by the full suite on a 1,500-child council: the scorecard's imputer dropped the
    column and the fit crashed). Every column is kept, filled with 0 like any empty column, and
    the model still scores rows that do have a value."""
    X, y = data
    never = next(c for c in X.columns if c.startswith("days_since"))
    empty = X.assign(**{never: np.nan, "referrals_365d": np.nan})
    model = ScorecardLogistic(C=0.5).fit(empty, y)
    assert list(model.get_feature_names_out()) == list(X.columns)
    margins = model.decision_function(X.iloc[:50])
    assert margins.shape == (50,) and np.isfinite(margins).all()
