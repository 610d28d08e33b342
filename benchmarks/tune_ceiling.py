"""Benchmark: how much could tuning LightGBM recover at most? A hindsight ceiling, not a result.

One seeded search (``models.tune.search_windows``, the same space and tree counts as
``frontdoor tune``) chooses a single setting on the mean AUC of the backtest's own test windows
(each fold's model trained on its training window, as the backtest trains it; the AUC of the
margin, which the strictly increasing calibration map leaves as it is). It sees the answers,
so its gain over the configured settings is an upper bound on what an honest search
(``frontdoor tune``, which sees only each test window's past) can find on these folds; the
search's own selection inflates it further. Prints, per label, the chosen setting and per fold
the untuned and chosen AUC with the paired 95% interval resampling children. With
``--evaluate JSON`` it searches nothing and scores the given setting instead (say, one chosen
in hindsight on another council: out of sample there). Run:

    PYTHONPATH=. .venv/bin/python benchmarks/tune_ceiling.py [--children 50000] [--cache DIR]
        [--seed N] [--trials 100] [--space wide] [--evaluate '{"n_estimators": 250, ...}']

No timing is asserted; this prints figures.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def _scored(data, fold, settings, params: dict, trees: int):
    """A fold's test rows with the margin of a model fitted on its training window (as
    ``auc_difference`` reads them: the margin's AUC is the calibrated probability's)."""
    from frontdoor.models.estimators import MonotoneLightGBM

    cfg = settings.models
    masks = fold.masks(data.rows["decision_date"])
    train, test = data.rows[masks["train"]], data.rows[masks["test"]]
    base = {**cfg.lightgbm.model_dump(), **params, "n_estimators": trees}
    model = MonotoneLightGBM(**base, random_state=cfg.seed, n_jobs=cfg.n_jobs)
    model.fit(train[data.columns], train[data.label].astype(int))
    out = test[["decision_id", "child_id"]].copy()
    out["y"] = test[data.label].astype(int).to_numpy()
    out["probability"] = model.decision_function(test[data.columns])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--labels", nargs="*", default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--space", default="wide")
    parser.add_argument("--seed", type=int, default=None, help="the council's seed")
    parser.add_argument("--evaluate", default=None, help="a setting (JSON) to score, no search")
    args = parser.parse_args()

    from benchmarks.oracle_gap import council_table
    from frontdoor.models.train import training_data
    from frontdoor.models.tune import auc_difference, search_windows

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
        if args.evaluate:
            chosen, what = json.loads(args.evaluate), "given setting"
        else:
            chosen, _ = search_windows(
                data, folds, settings, args.trials, settings.models.seed, args.space
            )
            what = f"hindsight choice over {args.trials} trials"
        shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in chosen.items()}
        print(f"== {label}: {what} ({time.perf_counter() - t0:.0f} s): {shown}")
        base, best = [], []
        for f in folds:
            a = _scored(data, f, settings, {}, configured)
            b = _scored(data, f, settings, chosen, chosen["n_estimators"])
            d = auc_difference(a, b, settings.models.bootstrap_samples, settings.models.seed)
            base.append(d["untuned"])
            best.append(d["tuned"])
            print(
                f"  fold {f.fold}: untuned {d['untuned']:.4f} -> {d['tuned']:.4f} "
                f"({d['difference']:+.4f}, paired 95% CI {d['ci_low']:+.4f} to {d['ci_high']:+.4f})"
            )
        diff = np.array(best) - np.array(base)
        print(f"  mean over folds: {np.mean(base):.4f} -> {np.mean(best):.4f} ({diff.mean():+.4f})")


if __name__ == "__main__":
    main()
