"""Temporal splits as data (like triage's timechop): train, calibrate, wait, then test.

Each fold is a row you can print and test. Reading one fold left to right:

    train window  ->  calibration window  ->  gap (>= label window)  ->  test window

The gap is as long as the label window: a decision's label is only known ``gap_days`` after
it, so at the start of the test window the newest decision whose outcome is known is one
``gap_days`` earlier. No training or calibration label can see into the test period, and no
child's future informs its past. Several rolling origins step back by the test length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from frontdoor.settings import Settings


class SplitError(ValueError):
    """The data are too short in time for the configured splits."""


@dataclass(frozen=True)
class Fold:
    """One rolling origin. Windows are half-open: start <= date < end."""

    fold: int  # 0 is the oldest origin
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    calibration_start: pd.Timestamp
    calibration_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    label_window_days: int

    @property
    def gap_days(self) -> int:
        return int((self.test_start - self.calibration_end).days)

    def masks(self, dates: pd.Series) -> dict[str, pd.Series]:
        """Boolean masks of the rows in each window."""
        d = pd.to_datetime(dates)
        return {
            "train": (d >= self.train_start) & (d < self.train_end),
            "calibration": (d >= self.calibration_start) & (d < self.calibration_end),
            "test": (d >= self.test_start) & (d < self.test_end),
        }

    def as_row(self) -> dict:
        row = asdict(self)
        row["gap_days"] = self.gap_days
        return row


def _months(n: int) -> pd.DateOffset:
    return pd.DateOffset(months=n)


def make_folds(decision_dates: pd.Series, settings: Settings) -> list[Fold]:
    """Rolling-origin folds over the labelled decision dates given.

    Pass the dates of decisions whose label is known (not censored). The newest test window
    ends the day after the last of them; each older fold steps back by ``test_months``.
    Train windows are clipped at the first decision date; a fold with no training time left
    is an error, not silently dropped.
    """
    cfg = settings.models.splits
    window = settings.features.label_window_days
    gap = max(cfg.gap_days, window)
    dates = pd.to_datetime(pd.Series(decision_dates)).dropna()
    if dates.empty:
        raise SplitError("No labelled decision dates to split.")
    first = dates.min().normalize()
    anchor = dates.max().normalize() + pd.Timedelta(days=1)
    folds: list[Fold] = []
    for back in range(cfg.folds):
        test_end = anchor - _months(back * cfg.test_months)
        test_start = test_end - _months(cfg.test_months)
        calibration_end = test_start - pd.Timedelta(days=gap)
        calibration_start = calibration_end - _months(cfg.calibration_months)
        train_end = calibration_start
        train_start = max(first, train_end - _months(12 * cfg.train_years))
        if train_end <= first or (train_end - train_start).days < 90:
            raise SplitError(
                f"Fold {back} needs training decisions before {train_end.date()}, but the data "
                f"start on {first.date()}: use fewer folds, shorter windows or longer data "
                f"(train {cfg.train_years}y + calibration {cfg.calibration_months}m + gap "
                f"{gap}d + test {cfg.test_months}m x {cfg.folds} folds)."
            )
        folds.append(
            Fold(
                fold=0,
                train_start=train_start,
                train_end=train_end,
                calibration_start=calibration_start,
                calibration_end=calibration_end,
                test_start=test_start,
                test_end=test_end,
                label_window_days=window,
            )
        )
    folds.reverse()
    return [Fold(**{**asdict(f), "fold": i}) for i, f in enumerate(folds)]


def folds_table(folds: list[Fold], decision_dates: pd.Series | None = None) -> pd.DataFrame:
    """The folds as a table (dates as ISO strings), with row counts when dates are given."""
    rows = []
    for f in folds:
        row = {
            "fold": "deploy" if f.fold < 0 else str(f.fold),
            "train": f"{f.train_start.date()} .. {f.train_end.date()}",
            "calibration": f"{f.calibration_start.date()} .. {f.calibration_end.date()}",
            "gap_days": f.gap_days,
            "test": f"{f.test_start.date()} .. {f.test_end.date()}",
        }
        if decision_dates is not None:
            for name, mask in f.masks(decision_dates).items():
                row[f"n_{name}"] = int(mask.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def deployment_fold(decision_dates: pd.Series, settings: Settings) -> Fold:
    """The windows of the model to deploy: trained like every fold, on the newest labels.

    Its calibration window ends the day after the last labelled decision; its "test" window is
    the future it will score (starting one label window later, when the extract was taken).
    """
    cfg = settings.models.splits
    window = settings.features.label_window_days
    gap = max(cfg.gap_days, window)
    dates = pd.to_datetime(pd.Series(decision_dates)).dropna()
    if dates.empty:
        raise SplitError("No labelled decision dates to train on.")
    first = dates.min().normalize()
    calibration_end = dates.max().normalize() + pd.Timedelta(days=1)
    calibration_start = calibration_end - _months(cfg.calibration_months)
    train_start = max(first, calibration_start - _months(12 * cfg.train_years))
    if calibration_start <= first:
        raise SplitError("Not enough labelled history to train the model to deploy.")
    test_start = calibration_end + pd.Timedelta(days=gap)
    return Fold(
        fold=-1,
        train_start=train_start,
        train_end=calibration_start,
        calibration_start=calibration_start,
        calibration_end=calibration_end,
        test_start=test_start,
        test_end=test_start + _months(cfg.test_months),
        label_window_days=window,
    )
