"""Benchmark: which selection rule makes ``frontdoor tune`` robust to its own noise?

One seeded search per test fold (``models.tune.search_windows``, exactly the search
``frontdoor tune`` runs: the same inner windows, space, trials and seed), then every selection
rule (``models.tune.select``: best, one_se, shrink) chooses from the same trials, and each
fold's choice is backtested beside the untuned settings (``fit_fold``), printing the same
per-fold and pooled paired intervals as ``frontdoor tune --select RULE`` (identical figures:
the search is seeded and the rule only reads its trials). Run:

    PYTHONPATH=. .venv/bin/python benchmarks/tune_select.py --features DIR/features.parquet
        [--trials 40] [--space wide] [--inner-windows 1] [--seed N] [--labels ...]

The feature table is only read; MLflow is not written. No timing is asserted; this prints
figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--labels", nargs="*", default=None)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--space", default="wide")
    parser.add_argument("--inner-windows", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None, help="search seed (models.seed)")
    parser.add_argument("--rules", nargs="*", default=None)
    args = parser.parse_args()

    import pandas as pd

    from frontdoor.models.train import fit_fold, training_data
    from frontdoor.models.tune import (
        SELECTIONS,
        _with_lightgbm,
        inner_folds,
        search_windows,
        select,
        side_by_side,
    )
    from frontdoor.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="tune_select_"))
    settings = Settings(
        paths={"root": str(root)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        tracking={"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
    )
    seed = settings.models.seed if args.seed is None else args.seed
    rules = args.rules or list(SELECTIONS)
    table = pd.read_parquet(args.features)
    for label in args.labels or settings.models.labels:
        data = training_data(table, label, settings)
        untuned, tuned = [], {r: [] for r in rules}
        for fold in data.folds:
            t0 = time.perf_counter()
            inners = inner_folds(data, fold, settings, args.inner_windows)
            search = search_windows(
                data, inners, settings, args.trials, seed + fold.fold, args.space
            )
            t_search = time.perf_counter() - t0
            untuned.append(fit_fold(data, fold, settings))
            fitted: dict[str, object] = {}
            for rule in rules:
                t0 = time.perf_counter()
                chosen, inner = select(search, rule, settings, seed + fold.fold)
                t_select = time.perf_counter() - t0
                key = repr(sorted(chosen.items()))
                if key not in fitted:
                    fitted[key] = fit_fold(data, fold, _with_lightgbm(settings, chosen))
                tuned[rule].append(fitted[key])
                shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in chosen.items()}
                boost = chosen["n_estimators"] * chosen["learning_rate"]
                print(
                    f"{label} fold {fold.fold} {rule}: inner {inner['untuned']:.4f} -> "
                    f"{inner['chosen']:.4f}; trees x rate {boost:.2f}; {shown} "
                    f"(search {t_search:.0f} s, select {t_select:.1f} s)",
                    flush=True,
                )
        for rule in rules:
            frame = side_by_side(untuned, tuned[rule], settings, seed)
            print(
                f"== {label}, select {rule}: AUC untuned vs tuned, same test rows (paired 95% CI)"
            )
            print(frame.round(4).to_string(index=False), flush=True)


if __name__ == "__main__":
    main()
