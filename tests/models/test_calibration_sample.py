"""The cross-fitted calibration sample (``models.calibration_sample="cross_fitted"``): the
calibrator also sees the training window's out-of-fold margins, split by child."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.models.encoding import InputEncoder
from frontdoor.models.stats import roc_auc
from frontdoor.models.train import (
    child_parts,
    cross_fitted_margins,
    feature_columns,
    fit_model,
    labelled,
)
from tests.support import make_settings

LABEL = "escalation_12m"


def test_every_child_is_in_one_part_whatever_its_pseudonym():
    rng = np.random.default_rng(0)
    children = pd.Series(rng.integers(0, 300, 2000)).map(lambda c: f"child-{c}")
    parts = child_parts(children, 5)
    assert (pd.Series(parts).groupby(children.to_numpy()).nunique() == 1).all()
    counts = np.bincount(parts, minlength=5)
    assert counts.min() > 0.6 * counts.mean()
    renamed = children.map(lambda c: f"other-key-{hash(c) % 10**9}-{c[::-1]}")
    np.testing.assert_array_equal(child_parts(renamed, 5), parts)


def test_a_child_never_informs_its_own_out_of_fold_margin(toy_table, tmp_path):
    """An attacker's check: each child's rows repeated with identical features and a coin-flip
    outcome shared by the child. A flexible model that saw the child's other rows memorises
    them (out-of-fold AUC near 1); split by child, nothing is learnable (AUC near 0.5)."""
    settings = make_settings(
        tmp_path,
        models={
            "lightgbm": {
                "n_estimators": 100,
                "learning_rate": 0.2,
                "num_leaves": 63,
                "min_child_samples": 2,
                "subsample": 1.0,
                "colsample_bytree": 1.0,
                "monotone": False,
            }
        },
    )
    rows = (
        labelled(toy_table, LABEL).drop_duplicates("child_id").head(601)
    )  # 601: copies fall in different parts by row
    columns = feature_columns(rows, settings)
    coin = np.random.default_rng(1).integers(0, 2, len(rows))
    repeated = pd.concat([rows.assign(**{LABEL: coin})] * 4, ignore_index=True)
    X = InputEncoder().fit(repeated[columns]).transform(repeated[columns])
    y = repeated[LABEL].astype(int)
    margin, outcome = cross_fitted_margins("lightgbm", X, y, repeated["child_id"], settings)
    assert abs(roc_auc(outcome, margin) - 0.5) < 0.08
    by_row = cross_fitted_margins(
        "lightgbm", X, y, pd.Series(np.arange(len(y))), settings
    )  # every row its own "child": the leak the split by child prevents
    assert roc_auc(by_row[1], by_row[0]) > 0.9


@pytest.mark.parametrize("kind", ["lightgbm", "logistic"])
def test_the_calibrator_sees_training_and_calibration_windows(toy_table, tmp_path, kind):
    rows = labelled(toy_table, LABEL)
    train, cal = rows.iloc[:2000], rows.iloc[2000:2600]
    models = {"lightgbm": {"n_estimators": 40}}
    window = make_settings(tmp_path / "w", models={**models, "calibration_sample": "window"})
    crossed = make_settings(
        tmp_path / "c",
        models={**models, "calibration_sample": "cross_fitted", "calibration_history_months": None},
    )
    columns = feature_columns(rows, window)
    alone = fit_model(kind, train, cal, LABEL, columns, window)
    both = fit_model(kind, train, cal, LABEL, columns, crossed)
    assert alone.estimator.calibrator_.n_calibration_ == len(cal)
    assert both.estimator.calibrator_.n_calibration_ == len(train) + len(cal)
    # the base model is the same; only the map from margin to probability changes
    np.testing.assert_array_equal(alone.margin(cal), both.margin(cal))
    assert not np.array_equal(alone.predict_proba(cal), both.predict_proba(cal))
    # the default: only the training window's newest 12 months join
    newest = fit_model(
        kind, train, cal, LABEL, columns, make_settings(tmp_path / "n", models=models)
    )
    dates = pd.to_datetime(train["decision_date"])
    recent = int((dates >= dates.max() - pd.DateOffset(months=12)).sum())
    assert 0 < recent < len(train)
    assert newest.estimator.calibrator_.n_calibration_ == recent + len(cal)


def test_an_unknown_calibration_sample_is_refused(toy_table, tmp_path):
    rows = labelled(toy_table, LABEL)
    settings = make_settings(tmp_path, models={"calibration_sample": "everything"})
    with pytest.raises(ValueError, match="calibration_sample"):
        fit_model(
            "logistic",
            rows.iloc[:500],
            rows.iloc[500:800],
            LABEL,
            feature_columns(rows, settings),
            settings,
        )
