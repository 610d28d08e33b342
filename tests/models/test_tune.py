"""Tuning: validated only on each test window's past, with the test folds' gap; logged beside
the untuned settings; the backtest of both side by side."""

from __future__ import annotations

import pytest
from conftest import make_settings

from frontdoor.models.train import training_data
from frontdoor.models.tune import inner_fold, log_tuning, tune

pytestmark = pytest.mark.slow

SMALL = {"bootstrap_samples": 20, "lightgbm": {"n_estimators": 60}, "explain_sample": 100}


def test_inner_folds_see_only_the_past_with_the_same_gap(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    data = training_data(toy_table, "escalation_12m", settings)
    for fold in data.folds:
        inner = inner_fold(data, fold, settings)
        # every inner label is known when the test window opens: nothing at or after the
        # fold's calibration end, which is one label window before its test window
        assert inner.test_end <= fold.calibration_end < fold.test_start
        assert inner.gap_days == fold.gap_days
        used = inner.masks(data.rows["decision_date"])
        for mask in used.values():
            assert (data.rows.loc[mask, "decision_date"] < fold.calibration_end).all()


def test_tune_reports_untuned_and_tuned_side_by_side_and_logs_both(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    result = tune(toy_table, "escalation_12m", settings, trials=3, seed=1)
    assert list(result.comparison["fold"]) == ["0", "1", "2", "overall"]
    for row in result.comparison.itertuples():
        assert row.tuned - row.untuned == pytest.approx(row.difference)
        assert row.ci_low <= row.difference <= row.ci_high
    for fold, chosen in result.chosen.items():
        assert set(chosen) == {"n_estimators", "learning_rate"}
        # the untuned settings are one of the trials, so the choice is never worse inside
        assert result.inner_auc[fold]["chosen"] >= result.inner_auc[fold]["untuned"]
    again = tune(toy_table, "escalation_12m", settings, trials=3, seed=1)
    assert again.chosen == result.chosen  # seeded
    run_id = log_tuning(result, settings)
    from frontdoor.models.tracking import client

    run = client(settings).get_run(run_id)
    assert run.data.params["untuned.n_estimators"] == "60"
    assert "tuned.fold2.n_estimators" in run.data.params
    assert "auc_tuned_minus_untuned" in run.data.metrics
