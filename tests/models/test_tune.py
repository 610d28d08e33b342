"""Tuning: validated only on each test window's past, with the test folds' gap and as much
training as that past allows; logged beside the untuned settings; both backtests side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.models.estimators import MonotoneLightGBM
from frontdoor.models.splits import SplitError
from frontdoor.models.train import training_data
from frontdoor.models.tune import inner_folds, log_tuning, search_fold, tune
from tests.support import make_settings

pytestmark = pytest.mark.slow

SMALL = {"bootstrap_samples": 20, "lightgbm": {"n_estimators": 60}, "explain_sample": 100}
SIGNAL = "referrals_365d"  # declared +1: a planted count that follows the label is usable


def test_inner_folds_see_only_the_past_with_the_same_gap_and_all_of_it(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    data = training_data(toy_table, "escalation_12m", settings)
    dates = data.rows["decision_date"]
    for fold in data.folds:
        inners = inner_folds(data, fold, settings, windows=2)
        assert len(inners) == 2 and inners[0].test_end == inners[1].test_start  # newest last
        # the newest validation window ends where the fold's calibration window ends: every
        # inner label is known when the test window opens (one label window later)
        assert inners[-1].test_end == fold.calibration_end < fold.test_start
        for inner in inners:
            assert inner.gap_days == fold.gap_days
            # as large as the past allows: from the first labelled decision to one gap before
            assert inner.train_start == dates.min().normalize()
            assert inner.train_end + pd.Timedelta(days=fold.gap_days) == inner.test_start
            used = inner.masks(dates)
            assert not used["calibration"].any()  # the margin's AUC needs no calibration
            for mask in used.values():
                assert (dates[mask] < fold.calibration_end).all()
    with pytest.raises(SplitError, match="fewer inner windows"):
        inner_folds(data, data.folds[0], settings, windows=12)


def _planted(table: pd.DataFrame, rows: pd.Series, label: str) -> pd.DataFrame:
    """The table with a perfect signal of the label planted in ``rows``: the signal feature is
    50 for every positive, 0 for every negative, and half the labels are flipped to match."""
    out = table.copy()
    flip = rows & (np.arange(len(out)) % 2 == 0)
    out.loc[flip, label] = 1.0 - out.loc[flip, label]
    out.loc[rows, SIGNAL] = 50.0 * out.loc[rows, label]
    return out


def test_the_search_cannot_see_a_signal_planted_after_its_test_window_opens(toy_table, tmp_path):
    """An adversary plants a perfect signal (and changes labels) in every decision whose label
    is not known before the fold's test window opens: the search's every score and choice stay
    bit for bit the same. The same signal planted in the two months just before is seen, so the
    check can fail: a boundary one label window later would change the search."""
    settings = make_settings(tmp_path, models=SMALL)
    label = "escalation_12m"
    dates = pd.to_datetime(toy_table["decision_date"])
    fold = training_data(toy_table, label, settings).folds[1]

    def search(table):
        data = training_data(table, label, settings)
        assert data.folds[1] == fold  # the folds depend on the dates only
        return search_fold(data, fold, settings, 3, 1, "wide", inner_windows=2, max_trees=100)

    clean = search(toy_table)
    late = dates >= fold.calibration_end  # labelled on or after the test window opens
    assert late.sum() > 1000
    assert search(_planted(toy_table, late, label)) == clean
    month = (dates >= fold.calibration_end - pd.Timedelta(days=60)) & ~late
    seen = search(_planted(toy_table, month, label))
    assert seen[1]["untuned"] > clean[1]["untuned"]  # the planted months are validated on


def test_one_fit_scores_every_tree_count_as_a_fit_with_fewer_trees_would(toy_table):
    label = "escalation_12m"
    X = toy_table.drop(columns=[c for c in toy_table.columns if not c.startswith("referrals")])
    y = toy_table[label].fillna(0).astype(int)
    many = MonotoneLightGBM(n_estimators=80, num_leaves=5, random_state=3).fit(X, y)
    few = MonotoneLightGBM(n_estimators=30, num_leaves=5, random_state=3).fit(X, y)
    assert np.array_equal(many.decision_function_at(X, 30), few.decision_function(X))
    assert not np.array_equal(many.decision_function(X), few.decision_function(X))
    with pytest.raises(ValueError, match="n_trees"):
        many.decision_function_at(X, 81)


def test_tune_reports_untuned_and_tuned_side_by_side_and_logs_both(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    result = tune(toy_table, "escalation_12m", settings, trials=3, seed=1, max_trees=100)
    assert list(result.comparison["fold"]) == ["0", "1", "2", "overall"]
    for row in result.comparison.itertuples():
        assert row.tuned - row.untuned == pytest.approx(row.difference)
        assert row.ci_low <= row.difference <= row.ci_high
    for fold, chosen in result.chosen.items():
        assert set(chosen) == set(result.untuned)  # the wide space, with the number of trees
        assert 25 <= chosen["n_estimators"] <= 100
        # the untuned settings (at their own tree count) are scored, so the choice is never
        # worse inside
        assert result.inner_auc[fold]["chosen"] >= result.inner_auc[fold]["untuned"]
    data = training_data(toy_table, "escalation_12m", settings)
    again = search_fold(data, data.folds[2], settings, 3, 1, "wide", max_trees=100)
    assert again == (result.chosen[2], result.inner_auc[2])  # seeded
    run_id = log_tuning(result, settings)
    from frontdoor.models.tracking import client

    run = client(settings).get_run(run_id)
    assert run.data.params["untuned.n_estimators"] == "60"
    assert "tuned.fold2.num_leaves" in run.data.params
    assert "auc_tuned_minus_untuned" in run.data.metrics
    assert "fold2/inner_auc_chosen" in run.data.metrics
