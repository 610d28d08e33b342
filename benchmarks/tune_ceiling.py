"""Benchmark: how much could tuning LightGBM recover at most? A hindsight ceiling, not a result.

One seeded search (``models.tune.search_windows``, the same space and tree counts as
``frontdoor tune``) chooses a single setting on the mean AUC of the backtest's own test windows
(each fold's model trained on its training window, as the backtest trains it; the AUC of the
margin, which Platt calibration leaves as it is). It sees the answers, so its gain over the
configured settings is an upper bound on what an honest search (``frontdoor tune``, which sees
only each test window's past) can find on these folds; the search's own selection inflates it
further. Prints, per label, the chosen setting and per fold the untuned and chosen AUC. Run:

    PYTHONPATH=. .venv/bin/python benchmarks/tune_ceiling.py [--children 50000] [--cache DIR]
        [--seed N] [--trials 100] [--space wide]

No timing is asserted; this prints figures.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--labels", nargs="*", default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--space", default="wide")
    parser.add_argument("--seed", type=int, default=None, help="the council's seed")
    args = parser.parse_args()

    from benchmarks.oracle_gap import council_table
    from frontdoor.models.train import training_data
    from frontdoor.models.tune import search_windows, window_aucs

    table, settings = council_table(args.children, args.cache, seed=args.seed)
    configured = settings.models.lightgbm.n_estimators
    for label in args.labels or settings.models.labels:
        data = training_data(table, label, settings)
        # the backtest's folds, scored on their test windows (no calibration: the margin's AUC)
        folds = [
            replace(f, calibration_start=f.train_end, calibration_end=f.train_end)
            for f in data.folds
        ]
        t0 = time.perf_counter()
        chosen, mean = search_windows(
            data, folds, settings, args.trials, settings.models.seed, args.space
        )
        trees = chosen["n_estimators"]
        best = [window_aucs(data, f, settings, chosen, [trees])[0] for f in folds]
        base = [window_aucs(data, f, settings, {}, [configured])[0] for f in folds]
        diff = np.array(best) - np.array(base)
        shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in chosen.items()}
        print(
            f"== {label}: hindsight choice over {args.trials} trials ({time.perf_counter() - t0:.0f} s)"
        )
        print(f"  chosen {shown}")
        for f, a, b, d in zip(data.folds, base, best, diff, strict=True):
            print(f"  fold {f.fold}: untuned {a:.4f} -> chosen {b:.4f} ({d:+.4f})")
        print(f"  mean over folds: {np.mean(base):.4f} -> {np.mean(best):.4f} ({diff.mean():+.4f})")


if __name__ == "__main__":
    main()
