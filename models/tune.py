"""Tuning that does not fool itself: LightGBM's settings chosen on the past of each test window.

For each fold of the backtest, a seeded Optuna search (TPE) tries LightGBM settings on an inner
fold built by the same recipe as the test folds (``splits.make_folds`` with one fold) over the
decisions whose labels are known when that fold's test window opens (those before its
calibration window ends). The inner fold keeps the label-window gap: checks without it rate
settings that do not hold on a gapped test window (issue 15 measured it on unconstrained trees).
The score is the inner test window's AUC of the margin (a monotone calibration leaves AUC as it
is). Each fold's chosen settings are then backtested on its own test window beside the untuned
settings, with the paired difference's interval resampling children.

Kept small for two shared cores: by default only the number of trees and the learning rate are
searched (the number of trees moved AUC most in issue 15's search); ``space="wide"`` adds
leaves and minimum child samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from frontdoor.models.estimators import MonotoneLightGBM
from frontdoor.models.splits import Fold, make_folds
from frontdoor.models.stats import cluster_sampler, percentile_interval, roc_auc
from frontdoor.models.train import (
    Backtest,
    TrainingData,
    combine_folds,
    fit_fold,
    training_data,
)
from frontdoor.settings import Settings

SPACES = ("trees", "wide")


@dataclass
class TuneResult:
    label: str
    untuned: dict  # the configured LightGBM settings
    chosen: dict[int, dict]  # fold -> the settings its search chose
    inner_auc: dict[int, dict[str, float]]  # fold -> inner AUC of the untuned and the chosen
    comparison: pd.DataFrame  # fold (and "overall") x AUC untuned, tuned, difference with CI
    trials: int
    seed: int
    backtests: dict[str, Backtest] = field(default_factory=dict)


def _with_lightgbm(settings: Settings, params: dict) -> Settings:
    lgbm = settings.models.lightgbm.model_copy(update=params)
    return settings.model_copy(
        update={"models": settings.models.model_copy(update={"lightgbm": lgbm})}
    )


def inner_fold(data: TrainingData, fold: Fold, settings: Settings) -> Fold:
    """The validation fold for one test fold: the same recipe (train, calibrate, the label-window
    gap, test) on the decisions labelled before the fold's calibration window ends."""
    dates = data.rows["decision_date"]
    known = dates[dates < fold.calibration_end]
    one = settings.models.splits.model_copy(update={"folds": 1})
    inner = settings.model_copy(
        update={"models": settings.models.model_copy(update={"splits": one})}
    )
    return make_folds(known, inner)[0]


def _suggest(trial, space: str) -> dict:
    params = {
        "n_estimators": trial.suggest_int("n_estimators", 100, 800, step=50),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.06, log=True),
    }
    if space == "wide":
        params["num_leaves"] = trial.suggest_int("num_leaves", 3, 15)
        params["min_child_samples"] = trial.suggest_int("min_child_samples", 10, 120, log=True)
    return params


def _inner_auc(data: TrainingData, inner: Fold, settings: Settings, params: dict) -> float:
    cfg = settings.models
    masks = inner.masks(data.rows["decision_date"])
    train, test = data.rows[masks["train"]], data.rows[masks["test"]]
    base = {**cfg.lightgbm.model_dump(), **params}
    model = MonotoneLightGBM(**base, random_state=cfg.seed, n_jobs=cfg.n_jobs)
    model.fit(train[data.columns], train[data.label].astype(int))
    y = test[data.label].to_numpy(dtype=float)
    return roc_auc(y, model.decision_function(test[data.columns]))


def search_fold(
    data: TrainingData, fold: Fold, settings: Settings, trials: int, seed: int, space: str
) -> tuple[dict, dict[str, float]]:
    """The settings a seeded search chooses for one test fold, with the inner AUCs."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    inner = inner_fold(data, fold, settings)
    sampler = optuna.samplers.TPESampler(seed=seed + fold.fold)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    untuned = {k: getattr(settings.models.lightgbm, k) for k in _suggest_keys(space)}
    study.enqueue_trial(untuned)  # the configured settings are always one of the trials
    study.optimize(lambda t: _inner_auc(data, inner, settings, _suggest(t, space)), trials)
    return dict(study.best_params), {
        "untuned": float(study.trials[0].value),
        "chosen": float(study.best_value),
    }


def _suggest_keys(space: str) -> list[str]:
    keys = ["n_estimators", "learning_rate"]
    return keys + (["num_leaves", "min_child_samples"] if space == "wide" else [])


def auc_difference(
    pred_a: pd.DataFrame, pred_b: pd.DataFrame, samples: int, seed: int
) -> dict[str, float]:
    """AUC of b, of a and b - a on the same rows, with the paired interval resampling children."""
    y = pred_a["y"].to_numpy(dtype=float)
    pa, pb = pred_a["probability"].to_numpy(), pred_b["probability"].to_numpy()
    if not np.array_equal(pred_a["decision_id"].to_numpy(), pred_b["decision_id"].to_numpy()):
        raise ValueError("The two backtests did not score the same rows in the same order.")
    draw = cluster_sampler(len(y), pred_a["child_id"].to_numpy())
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(samples):
        idx = draw(rng)
        diffs.append(roc_auc(y[idx], pb[idx]) - roc_auc(y[idx], pa[idx]))
    lo, hi = percentile_interval(np.asarray(diffs))
    a, b = roc_auc(y, pa), roc_auc(y, pb)
    return {"untuned": a, "tuned": b, "difference": b - a, "ci_low": lo, "ci_high": hi}


def tune(
    table: pd.DataFrame,
    label: str,
    settings: Settings,
    trials: int = 12,
    seed: int | None = None,
    space: str = "trees",
) -> TuneResult:
    """Search each fold's settings on its past, then backtest untuned and tuned side by side."""
    if space not in SPACES:
        raise ValueError(f"Unknown search space {space!r}; use one of {SPACES}")
    seed = settings.models.seed if seed is None else seed
    data = training_data(table, label, settings)
    chosen, inner = {}, {}
    untuned_results, tuned_results = [], []
    for fold in data.folds:
        chosen[fold.fold], inner[fold.fold] = search_fold(data, fold, settings, trials, seed, space)
        untuned_results.append(fit_fold(data, fold, settings))
        tuned_results.append(fit_fold(data, fold, _with_lightgbm(settings, chosen[fold.fold])))
    untuned = combine_folds(data, untuned_results, settings)
    tuned = combine_folds(
        data, tuned_results, _with_lightgbm(settings, chosen[data.folds[-1].fold])
    )
    rows = []
    samples = settings.models.bootstrap_samples
    for fold in data.folds:
        a, b = (r.predictions for r in (untuned_results[fold.fold], tuned_results[fold.fold]))
        rows.append({"fold": str(fold.fold), **auc_difference(a, b, samples, seed + fold.fold)})
    rows.append(
        {"fold": "overall", **auc_difference(untuned.predictions, tuned.predictions, samples, seed)}
    )
    return TuneResult(
        label=label,
        untuned={k: getattr(settings.models.lightgbm, k) for k in _suggest_keys(space)},
        chosen=chosen,
        inner_auc=inner,
        comparison=pd.DataFrame(rows),
        trials=trials,
        seed=seed,
        backtests={"untuned": untuned, "tuned": tuned},
    )


def log_tuning(result: TuneResult, settings: Settings) -> str:
    """One MLflow run beside the label's training runs: the untuned and each fold's chosen
    settings as parameters, the side-by-side AUCs as metrics. Returns the run id."""
    import mlflow

    from frontdoor.models.tracking import client, ensure_experiment

    client(settings)
    experiment = ensure_experiment(settings, result.label)
    with mlflow.start_run(experiment_id=experiment, run_name=f"tune-{result.label}") as run:
        mlflow.set_tags({"kind": "tuning", "label": result.label, "seed": str(result.seed)})
        params = {f"untuned.{k}": v for k, v in result.untuned.items()}
        for fold, chosen in result.chosen.items():
            params.update({f"tuned.fold{fold}.{k}": v for k, v in chosen.items()})
        params["trials_per_fold"] = result.trials
        mlflow.log_params(params)
        for row in result.comparison.to_dict("records"):
            prefix = "" if row["fold"] == "overall" else f"fold{row['fold']}/"
            for k in ("untuned", "tuned", "difference", "ci_low", "ci_high"):
                name = f"auc_{k}" if k in ("untuned", "tuned") else f"auc_tuned_minus_untuned_{k}"
                if k == "difference":
                    name = "auc_tuned_minus_untuned"
                mlflow.log_metric(f"{prefix}{name}", float(row[k]))
        return run.info.run_id
