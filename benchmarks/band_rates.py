"""Benchmark: what happened to past referrals in each band (issue 15), on the default council.

Backtests the registered model as configured (`models.train.backtest`) on a feature table and
prints, per label and band, the band table a run logs (`model_card/bands.csv`): the share of
training referrals and the probability range of the deployed model's bands, then on the pooled
test folds (each fold's rows in its own model's bands) the test referrals, the observed outcome
rate with its 95% interval resampling children, and the mean estimated probability; and
whether the observed rates rise from band to band. Run:

    PYTHONPATH=. .venv/bin/python benchmarks/band_rates.py --features DIR/features.parquet
        [--labels escalation_12m rereferral_12m]

(``benchmarks/calibration.py --cache DIR`` writes ``DIR/features.parquet``.) No timing is
asserted; this prints figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--labels", nargs="*", default=None)
    args = parser.parse_args()

    from frontdoor.models.train import backtest
    from frontdoor.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="band_rates_"))
    settings = Settings(
        paths={"root": str(root)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        tracking={"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
    )
    table = pd.read_parquet(args.features)
    for label in args.labels or settings.models.labels:
        t0 = time.perf_counter()
        result = backtest(table, label, settings)
        bands = result.band_table()
        print(
            f"\n{label}: {len(result.predictions):,} pooled test referrals, "
            f"{len(result.folds)} folds, {settings.models.bootstrap_samples} resamples "
            f"({time.perf_counter() - t0:.0f} s)"
        )
        print(
            f"{'band':<10} {'train':>6} {'p from':>7} {'p to':>6} {'test n':>7} "
            f"{'observed (95% CI)':>24} {'mean p':>7}"
        )
        for b in bands.itertuples(index=False):
            print(
                f"{b.band:<10} {b.training_share:>6.0%} {b.from_probability:>7.3f} "
                f"{b.to_probability:>6.3f} {b.test_referrals:>7,} "
                f"{b.observed_rate:>8.3f} ({b.observed_low:.3f} to {b.observed_high:.3f}) "
                f"{b.mean_probability:>7.3f}"
            )
        rates = bands["observed_rate"].to_numpy(dtype=float)
        rising = bool(np.all(np.diff(rates) > 0))
        print(f"observed rates rise strictly from band to band: {'yes' if rising else 'NO'}")
        for fold in result.folds:
            pred = fold.predictions
            by_band = pred.groupby("band")["y"].mean().reindex(settings.models.band_names)
            print(
                f"  fold {fold.fold.fold}: "
                + " / ".join(f"{v:.3f}" for v in by_band.to_numpy(dtype=float))
            )


if __name__ == "__main__":
    main()
