"""The backtest as independent folds: each fold fitted on its own (as a Dask worker does, from
its own copy of the table, its result pickled), then combined, equals the single call."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from frontdoor.models.train import backtest, combine_folds, fit_fold, training_data
from tests.support import make_settings

pytestmark = pytest.mark.slow

SMALL = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 40}, "seed": 7}


def test_folds_fitted_apart_then_combined_equal_the_single_backtest(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    whole = backtest(toy_table, "escalation_12m", settings)

    results = []
    for i in reversed(range(settings.models.splits.folds)):
        # each fold from its own shuffled copy of the table, its result through pickle
        own = training_data(toy_table.sample(frac=1.0, random_state=i), "escalation_12m", settings)
        results.append(pickle.loads(pickle.dumps(fit_fold(own, i, settings))))
    data = training_data(toy_table, "escalation_12m", settings)
    composed = combine_folds(data, results, settings)

    pd.testing.assert_frame_equal(composed.metrics, whole.metrics)
    pd.testing.assert_frame_equal(composed.overall, whole.overall)
    pd.testing.assert_frame_equal(composed.predictions, whole.predictions)
    assert [f.fold for f in composed.folds] == [f.fold for f in whole.folds]
    assert composed.deployment == whole.deployment
    rows = toy_table[toy_table["escalation_12m"].isna()].head(50)
    np.testing.assert_array_equal(
        composed.deployed.predict_proba(rows), whole.deployed.predict_proba(rows)
    )
    pd.testing.assert_frame_equal(composed.explain_rows, whole.explain_rows)
    assert composed.metric("lightgbm", "auc") == whole.metric("lightgbm", "auc")


def test_combining_refuses_missing_or_foreign_folds(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    data = training_data(toy_table, "escalation_12m", settings)
    one = fit_fold(data, 0, settings)
    with pytest.raises(ValueError, match=r"fold results \[0\] do not match"):
        combine_folds(data, [one], settings)
    shorter = training_data(toy_table.iloc[:3000], "escalation_12m", settings)
    foreign = [fit_fold(data, f, settings) for f in (1, 2)]
    with pytest.raises(ValueError, match="do not match the folds"):
        combine_folds(shorter, [one, *foreign], settings)
