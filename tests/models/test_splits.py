"""Temporal splits: no overlap, the gap respected, test after train, no child's future in its past."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from frontdoor.models.splits import SplitError, deployment_fold, folds_table, make_folds
from tests.support import make_settings


def _dates(start="2020-04-01", end="2025-03-31", n=2000):
    days = pd.date_range(start, end, freq="D")
    return pd.Series(days[:: max(1, len(days) // n)]).reset_index(drop=True)


def _check_fold(f, dates, window):
    assert f.train_start < f.train_end <= f.calibration_start < f.calibration_end
    assert f.calibration_end < f.test_start < f.test_end
    assert f.gap_days >= window
    masks = f.masks(dates)
    assert not (masks["train"] & masks["calibration"]).any()
    assert not (masks["train"] & masks["test"]).any()
    assert not (masks["calibration"] & masks["test"]).any()
    known = dates[masks["train"] | masks["calibration"]]
    # every training or calibration label window closes before the test window opens
    assert (known + pd.Timedelta(days=window) <= f.test_start).all()
    assert dates[masks["test"]].min() >= known.max()


def test_default_folds_respect_time(tmp_path):
    settings = make_settings(tmp_path)
    dates = _dates()
    folds = make_folds(dates, settings)
    assert len(folds) == settings.models.splits.folds
    for f in folds:
        _check_fold(f, dates, settings.features.label_window_days)
        assert f.masks(dates)["train"].sum() > 0 and f.masks(dates)["test"].sum() > 0
    # rolling origins: each fold's test window starts one test length after the previous
    starts = [f.test_start for f in folds]
    assert starts == sorted(starts)
    assert folds[-1].test_end == dates.max() + pd.Timedelta(days=1)
    assert [f.fold for f in folds] == list(range(len(folds)))


def test_gap_is_never_shorter_than_the_label_window(tmp_path):
    settings = make_settings(
        tmp_path, models={"splits": {"gap_days": 30}}, features={"label_window_days": 200}
    )
    for f in make_folds(_dates(), settings):
        assert f.gap_days >= 200


def test_deployment_fold_uses_the_newest_labels(tmp_path):
    settings = make_settings(tmp_path)
    dates = _dates()
    d = deployment_fold(dates, settings)
    assert d.calibration_end == dates.max() + pd.Timedelta(days=1)
    assert d.test_start - d.calibration_end >= pd.Timedelta(days=365)
    assert d.train_end == d.calibration_start
    table = folds_table([*make_folds(dates, settings), d], dates)
    assert list(table["fold"]) == ["0", "1", "2", "deploy"]
    assert {"train", "calibration", "gap_days", "test", "n_train", "n_test"} <= set(table.columns)


def test_too_short_history_is_an_error_naming_the_windows(tmp_path):
    settings = make_settings(tmp_path)
    with pytest.raises(SplitError, match="fewer folds"):
        make_folds(_dates("2023-01-01", "2025-03-31"), settings)


@hsettings(max_examples=40, deadline=None)
@given(
    train_years=st.integers(1, 3),
    test_months=st.integers(1, 12),
    calibration_months=st.integers(1, 12),
    folds=st.integers(1, 4),
    window=st.integers(30, 400),
)
def test_folds_hold_for_any_configuration(
    tmp_path_factory, train_years, test_months, calibration_months, folds, window
):
    settings = make_settings(
        tmp_path_factory.mktemp("s"),
        models={
            "splits": {
                "train_years": train_years,
                "test_months": test_months,
                "calibration_months": calibration_months,
                "folds": folds,
                "gap_days": window,
            }
        },
        features={"label_window_days": window},
    )
    dates = _dates("2016-01-01", "2025-03-31", 3000)
    for f in make_folds(dates, settings):
        _check_fold(f, dates, window)
