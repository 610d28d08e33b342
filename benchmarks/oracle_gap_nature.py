"""Benchmark: what LightGBM's distance below the ceiling of the records is made of.

`benchmarks/oracle_gap.py --decompose` splits the gap to the oracle into missing information
(oracle - ceiling of the records) and the rest (ceiling - model). This asks what the rest is,
on each fold's own test window (the backtest's folds, the margin's AUC: the calibration map is
strictly increasing so it leaves AUC as it is), by changing one thing at a time:

- ``default``: the registered LightGBM as the backtest fits it (training window, labels);
- ``monotone_off`` / ``no_all_history`` (the 28+ "all history" features dropped) /
  ``leaves_15`` / ``leaves_31`` / ``trees_1000``: the model's constraints, drifting inputs and
  capacity;
- ``random_cv_labels``: no time order at all: 5 parts of children over every labelled decision
  (about 1.6 times the newest fold's training decisions, and the test windows' own period);
- ``bag_5_seeds``: five seeds' margins averaged (variance of the fit);
- ``other_label`` / ``either_label`` / ``own_plus_half_other``: the other label's outcomes as
  extra signal of the same hidden state (a model of the other label, of either label, and the
  sum of own margin and half the other's);
- ``regression_on_oracle``: the same training window and features, but the target is the
  oracle's probability instead of the 0/1 outcome (a LightGBM regression, the ceiling's
  settings): what the same data would give without the outcomes' coin flips;
- ``oracle``: the oracle's own AUC on the window.

Run (the council is cached in DIR, as `oracle_gap.py` builds it):

    PYTHONPATH=. .venv/bin/python benchmarks/oracle_gap_nature.py [--children 200000] [--cache DIR]

No timing is asserted; this prints figures (the same on every run: seeded).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def fold_scores(data, other, fold, settings) -> dict[str, float]:
    """Per design, the AUC on one fold's test window."""
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from frontdoor.models.estimators import MonotoneLightGBM
    from frontdoor.models.train import truth_column

    cfg, rows, cols, label = settings.models, data.rows, data.columns, data.label
    masks = fold.masks(rows["decision_date"])
    train, test = rows[masks["train"]], rows[masks["test"]]
    y, y_test = train[label].astype(int), test[label].astype(int)
    base = {**cfg.lightgbm.model_dump(), "random_state": cfg.seed, "n_jobs": cfg.n_jobs}

    def margin(params: dict, columns=cols, part=train, target=y):
        model = MonotoneLightGBM(**{**base, **params}).fit(part[columns], target)
        return model.decision_function(test[columns])

    out: dict[str, np.ndarray] = {"default": margin({})}
    out["monotone_off"] = margin({"monotone": False})
    out["no_all_history"] = margin({}, [c for c in cols if not c.endswith("_all")])
    out["leaves_15"] = margin({"num_leaves": 15})
    out["leaves_31"] = margin({"num_leaves": 31, "min_child_samples": 50})
    out["trees_1000"] = margin({"n_estimators": 1000})
    out["bag_5_seeds"] = np.mean(
        [out["default"], *(margin({"random_state": cfg.seed + s}) for s in range(1, 5))], axis=0
    )
    both = train[train[other].notna()]
    out["other_label"] = margin({}, part=both, target=both[other].astype(int))
    either = ((both[label].astype(int) + both[other].astype(int)) > 0).astype(int)
    out["either_label"] = margin({}, part=both, target=either)
    out["own_plus_half_other"] = out["default"] + 0.5 * out["other_label"]
    truth = truth_column(label)
    regression = lgb.LGBMRegressor(
        n_estimators=400,
        learning_rate=0.03,
        num_leaves=15,
        min_child_samples=40,
        n_jobs=cfg.n_jobs,
        verbose=-1,
    )
    regression.fit(train[cols].astype(float), train[truth].astype(float))
    out["regression_on_oracle"] = regression.predict(test[cols].astype(float))
    out["oracle"] = test[truth].astype(float).to_numpy()
    return {k: float(roc_auc_score(y_test, v)) for k, v in out.items()}


def random_cv(data, settings) -> list[float]:
    """LightGBM on labels, 5 parts of children over every labelled decision, no time order,
    scored on each fold's test window."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    from frontdoor.models.estimators import MonotoneLightGBM

    cfg, rows = settings.models, data.rows
    X, y = rows[data.columns], rows[data.label].astype(int).to_numpy()
    base = {**cfg.lightgbm.model_dump(), "random_state": cfg.seed, "n_jobs": cfg.n_jobs}
    scores = np.zeros(len(rows))
    for a, b in GroupKFold(5).split(X, y, rows["child_id"]):
        scores[b] = MonotoneLightGBM(**base).fit(X.iloc[a], y[a]).decision_function(X.iloc[b])
    tests = [f.masks(rows["decision_date"])["test"].to_numpy() for f in data.folds]
    return [float(roc_auc_score(y[t], scores[t])) for t in tests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=200_000)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from oracle_gap import council_table

    from frontdoor.models.train import training_data

    table, settings = council_table(args.children, args.cache)
    labels = list(settings.models.labels)
    for label in labels:
        other = next(x for x in labels if x != label)
        data = training_data(table, label, settings)
        per_fold = [fold_scores(data, other, f, settings) for f in data.folds]
        per_fold_cv = random_cv(data, settings)
        print(f"\n== {label}: AUC on each fold's test window; mean; mean minus default")
        default = np.mean([s["default"] for s in per_fold])
        rows = {k: [s[k] for s in per_fold] for k in per_fold[0]}
        rows["random_cv_labels"] = per_fold_cv
        for name, values in rows.items():
            cells = " ".join(f"{v:.4f}" for v in values)
            mean = float(np.mean(values))
            print(f"  {name:22s} {cells}  mean {mean:.4f}  ({mean - default:+.4f})")


if __name__ == "__main__":
    main()
