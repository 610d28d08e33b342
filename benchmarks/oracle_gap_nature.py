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
- ``plus_scorecard``: LightGBM's and the sign-constrained scorecard's margins averaged, each
  standardised (two model families' errors averaged);
- ``other_label`` / ``either_label`` / ``own_plus_half_other``: the other label's outcomes as
  extra signal of the same hidden state (a model of the other label, of either label, and the
  sum of own margin and half the other's);
- ``poisson_later_events`` / ``poisson_later_contacts`` / ``own_plus_later_contacts``: a denser
  target from the same records: the child's later contacts, referrals, domestic-abuse
  notifications and Section 47 enquiries (or contacts alone) in the 365 days after the decision
  (matured like the labels), fitted by a monotone Poisson LightGBM of the same settings; and the
  own margin plus the contacts model's, each standardised;
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

LATER_EVENTS = {
    "contacts": ("contacts", "contact_date"),
    "referrals": ("referrals", "referral_date"),
    "domestic_abuse": ("domestic_abuse_notifications", "notification_date"),
    "section47": ("section47_enquiries", "start_date"),
}


def later_event_counts(rows, canonical: Path):
    """Per labelled decision, the child's events 1..365 days after it (as the labels count)."""
    import pandas as pd

    decisions = rows[["child_id", "decision_date"]].assign(row=np.arange(len(rows)))
    decisions["decision_date"] = pd.to_datetime(decisions["decision_date"])
    counts = {}
    for name, (table, column) in LATER_EVENTS.items():
        events = pd.read_parquet(canonical / f"{table}.parquet", columns=["child_id", column])
        joined = decisions.merge(events, on="child_id")
        days = (pd.to_datetime(joined[column]) - joined["decision_date"]).dt.days
        joined = joined[(days >= 1) & (days <= 365)]
        counts[name] = np.bincount(joined["row"], minlength=len(rows))
    return pd.DataFrame(counts, index=rows.index)


def poisson_margin(model, train, test, target, settings) -> np.ndarray:
    """Log of a monotone Poisson LightGBM's prediction, the settings and "never" fill of the
    fitted classifier ``model``."""
    import lightgbm as lgb

    p = settings.models.lightgbm
    regression = lgb.LGBMRegressor(
        objective="poisson",
        n_estimators=p.n_estimators,
        learning_rate=p.learning_rate,
        num_leaves=p.num_leaves,
        min_child_samples=p.min_child_samples,
        subsample=p.subsample,
        subsample_freq=p.subsample_freq,
        colsample_bytree=p.colsample_bytree,
        reg_lambda=p.reg_lambda,
        monotone_constraints=model.monotone_constraints_,
        monotone_constraints_method="intermediate",
        random_state=settings.models.seed,
        n_jobs=settings.models.n_jobs,
        deterministic=True,
        verbose=-1,
    )
    columns = list(model.feature_names_in_)
    regression.fit(train[columns].fillna(model.never_fill_), target)
    return np.log(regression.predict(test[columns].fillna(model.never_fill_)))


def _standard(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def fold_scores(data, other, fold, settings, later) -> dict[str, float]:
    """Per design, the AUC on one fold's test window."""
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from frontdoor.models.estimators import MonotoneLightGBM
    from frontdoor.models.train import make_estimator, truth_column

    cfg, rows, cols, label = settings.models, data.rows, data.columns, data.label
    masks = fold.masks(rows["decision_date"])
    train, test = rows[masks["train"]], rows[masks["test"]]
    y, y_test = train[label].astype(int), test[label].astype(int)
    base = {**cfg.lightgbm.model_dump(), "random_state": cfg.seed, "n_jobs": cfg.n_jobs}

    def margin(params: dict, columns=cols, part=train, target=y):
        model = MonotoneLightGBM(**{**base, **params}).fit(part[columns], target)
        return model.decision_function(test[columns])

    default = MonotoneLightGBM(**base).fit(train[cols], y)
    out: dict[str, np.ndarray] = {"default": default.decision_function(test[cols])}
    events = later.loc[train.index]
    out["poisson_later_events"] = poisson_margin(default, train, test, events.sum(axis=1), settings)
    out["poisson_later_contacts"] = poisson_margin(
        default, train, test, events["contacts"], settings
    )
    out["own_plus_later_contacts"] = _standard(out["default"]) + _standard(
        out["poisson_later_contacts"]
    )
    out["monotone_off"] = margin({"monotone": False})
    out["no_all_history"] = margin({}, [c for c in cols if not c.endswith("_all")])
    out["leaves_15"] = margin({"num_leaves": 15})
    out["leaves_31"] = margin({"num_leaves": 31, "min_child_samples": 50})
    out["trees_1000"] = margin({"n_estimators": 1000})
    out["bag_5_seeds"] = np.mean(
        [out["default"], *(margin({"random_state": cfg.seed + s}) for s in range(1, 5))], axis=0
    )
    scorecard = make_estimator("logistic", settings).fit(train[cols], y)
    out["plus_scorecard"] = _standard(out["default"]) + _standard(
        scorecard.decision_function(test[cols])
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
    canonical = Path(settings.paths.root) / "canonical"
    labels = list(settings.models.labels)
    for label in labels:
        other = next(x for x in labels if x != label)
        data = training_data(table, label, settings)
        later = later_event_counts(data.rows, canonical)
        per_fold = [fold_scores(data, other, f, settings, later) for f in data.folds]
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
