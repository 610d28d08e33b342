"""Tuning that does not fool itself: LightGBM's settings chosen on the past of each test window.

For each fold of the backtest, a seeded Optuna search (TPE) tries LightGBM settings on inner
validation windows built from the decisions whose labels are known when that fold's test window
opens (those before its calibration window ends), with the same label-window gap as the test
folds: checks without it rate settings that do not hold on a gapped test window (issue 15
measured it on unconstrained trees). The inner windows resemble the outer fold as far as the
past allows (``inner_folds``): the newest validation window ends when the fold's calibration
window ends, and its model trains on *every* decision labelled a gap before it (the inner score
is the AUC of the margin, which a monotone calibration leaves as it is, so the inner fold needs
no calibration window of its own). The first search measured with a 6-month inner training
window chose 150 to 800 trees for folds trained on 2 to 3 years.

Each trial fits once with the most trees its learning rate allows and scores every tree count on
the way (``MonotoneLightGBM.decision_function_at``): the number of trees is chosen like early
stopping, on the inner windows' mean AUC. Each fold's chosen settings are then backtested on its
own test window beside the untuned settings, with the paired difference's interval resampling
children.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from frontdoor.models.estimators import MonotoneLightGBM
from frontdoor.models.splits import Fold, SplitError
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
MAX_TREES = 1000  # a trial's most trees (fewer when its learning rate is high: see _tree_counts)
TREE_BUDGET = 20.0  # trees x learning rate: twice the defaults' 500 x 0.02
TREE_STEP = 25  # tree counts scored per trial: every TREE_STEP trees, and the configured count


@dataclass
class TuneResult:
    label: str
    untuned: dict  # the configured LightGBM settings
    chosen: dict[int, dict]  # fold -> the settings its search chose
    inner_auc: dict[int, dict[str, float]]  # fold -> inner AUC of the untuned and the chosen
    comparison: pd.DataFrame  # fold (and "overall") x AUC untuned, tuned, difference with CI
    trials: int
    seed: int
    inner_windows: int = 1
    backtests: dict[str, Backtest] = field(default_factory=dict)


def _with_lightgbm(settings: Settings, params: dict) -> Settings:
    lgbm = settings.models.lightgbm.model_copy(update=params)
    return settings.model_copy(
        update={"models": settings.models.model_copy(update={"lightgbm": lgbm})}
    )


def inner_folds(data: TrainingData, fold: Fold, settings: Settings, windows: int = 1) -> list[Fold]:
    """The validation folds for one test fold, newest last, on the decisions labelled before the
    fold's calibration window ends (so known when its test window opens).

    The newest validation window is the last ``test_months`` before the fold's calibration end;
    each older one steps back by ``test_months``. Each trains on every labelled decision from the
    fold's own training start (clipped at ``train_years`` like the test folds) to one gap
    (the test folds' gap) before its validation window opens; its calibration window is empty."""
    cfg = settings.models.splits
    gap = pd.Timedelta(days=fold.gap_days)
    dates = data.rows["decision_date"]
    first = dates[dates < fold.calibration_end].min().normalize()
    found = []
    for back in range(windows):
        test_end = fold.calibration_end - pd.DateOffset(months=back * cfg.test_months)
        test_start = test_end - pd.DateOffset(months=cfg.test_months)
        train_end = test_start - gap
        train_start = max(first, train_end - pd.DateOffset(years=cfg.train_years))
        if (train_end - train_start).days < 90:
            raise SplitError(
                f"Fold {fold.fold}: inner window {back} would train on decisions before "
                f"{train_end.date()}, but the labelled data start on {first.date()}: use fewer "
                "inner windows."
            )
        found.append(
            Fold(
                fold=fold.fold,
                train_start=train_start,
                train_end=train_end,
                calibration_start=train_end,
                calibration_end=train_end,
                test_start=test_start,
                test_end=test_end,
                label_window_days=fold.label_window_days,
            )
        )
    return found[::-1]


def _suggest(trial, space: str) -> dict:
    """One trial's settings, except the number of trees (scored at every count: _tree_counts)."""
    params = {"learning_rate": trial.suggest_float("learning_rate", 0.01, 0.08, log=True)}
    if space == "wide":
        params.update(
            num_leaves=trial.suggest_int("num_leaves", 3, 31, log=True),
            min_child_samples=trial.suggest_int("min_child_samples", 10, 200, log=True),
            colsample_bytree=trial.suggest_float("colsample_bytree", 0.3, 1.0),
            subsample=trial.suggest_float("subsample", 0.5, 1.0),
            reg_lambda=trial.suggest_float("reg_lambda", 0.01, 30.0, log=True),
            min_split_gain=trial.suggest_float("min_split_gain", 0.0, 1.0),
        )
    return params


def _suggest_keys(space: str) -> list[str]:
    wide = ["num_leaves", "min_child_samples", "colsample_bytree", "subsample", "reg_lambda"]
    return ["learning_rate"] + (wide + ["min_split_gain"] if space == "wide" else [])


def _tree_counts(learning_rate: float, configured: int, max_trees: int) -> list[int]:
    """The tree counts a trial scores: every TREE_STEP up to the most its learning rate allows
    (TREE_BUDGET / learning rate, at most ``max_trees``), and the configured count if within."""
    most = min(max_trees, int(np.ceil(TREE_BUDGET / learning_rate / TREE_STEP)) * TREE_STEP)
    counts = set(range(TREE_STEP, most + 1, TREE_STEP)) | {most}
    if configured <= most:
        counts.add(configured)
    return sorted(counts)


def window_aucs(
    data: TrainingData, inner: Fold, settings: Settings, params: dict, counts: list[int]
) -> np.ndarray:
    """A validation fold's test-window AUC of the margin at each tree count, from one fit on
    its training window."""
    cfg = settings.models
    masks = inner.masks(data.rows["decision_date"])
    train, test = data.rows[masks["train"]], data.rows[masks["test"]]
    base = {**cfg.lightgbm.model_dump(), **params, "n_estimators": max(counts)}
    model = MonotoneLightGBM(**base, random_state=cfg.seed, n_jobs=cfg.n_jobs)
    model.fit(train[data.columns], train[data.label].astype(int))
    y = test[data.label].to_numpy(dtype=float)
    X = test[data.columns]
    return np.array([roc_auc(y, model.decision_function_at(X, n)) for n in counts])


def _objective(data, inners, settings, space, max_trees):
    configured = settings.models.lightgbm.n_estimators

    def score(trial) -> float:
        params = _suggest(trial, space)
        counts = _tree_counts(params["learning_rate"], configured, max_trees)
        mean = np.mean([window_aucs(data, i, settings, params, counts) for i in inners], axis=0)
        best = int(np.argmax(mean))  # the first of equals: the fewest trees
        trial.set_user_attr("n_estimators", counts[best])
        if configured in counts:
            trial.set_user_attr("auc_at_configured_trees", float(mean[counts.index(configured)]))
        return float(mean[best])

    return score


def search_windows(
    data: TrainingData,
    windows: list[Fold],
    settings: Settings,
    trials: int,
    seed: int,
    space: str,
    max_trees: int = MAX_TREES,
) -> tuple[dict, dict[str, float]]:
    """The settings a seeded search chooses on the mean AUC over validation ``windows`` (each
    trains on its training window, scores its test window), with the mean AUCs of the untuned
    settings (at their own tree count) and of the choice."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    lgbm = settings.models.lightgbm
    study.enqueue_trial({k: getattr(lgbm, k) for k in _suggest_keys(space)})  # always tried
    study.optimize(_objective(data, windows, settings, space, max_trees), trials)
    best = study.best_trial
    untuned = study.trials[0].user_attrs.get("auc_at_configured_trees", float("nan"))
    chosen = {**best.params, "n_estimators": best.user_attrs["n_estimators"]}
    return chosen, {"untuned": float(untuned), "chosen": float(best.value)}


def search_fold(
    data: TrainingData,
    fold: Fold,
    settings: Settings,
    trials: int,
    seed: int,
    space: str,
    inner_windows: int = 1,
    max_trees: int = MAX_TREES,
) -> tuple[dict, dict[str, float]]:
    """The settings a seeded search chooses for one test fold on its inner windows
    (``inner_folds``), with the inner AUCs (mean over the inner windows) of the untuned
    settings and of the choice."""
    inners = inner_folds(data, fold, settings, inner_windows)
    return search_windows(data, inners, settings, trials, seed + fold.fold, space, max_trees)


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
    space: str = "wide",
    inner_windows: int = 1,
    max_trees: int = MAX_TREES,
) -> TuneResult:
    """Search each fold's settings on its past, then backtest untuned and tuned side by side."""
    if space not in SPACES:
        raise ValueError(f"Unknown search space {space!r}; use one of {SPACES}")
    seed = settings.models.seed if seed is None else seed
    data = training_data(table, label, settings)
    chosen, inner = {}, {}
    untuned_results, tuned_results = [], []
    for fold in data.folds:
        chosen[fold.fold], inner[fold.fold] = search_fold(
            data, fold, settings, trials, seed, space, inner_windows, max_trees
        )
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
        untuned={
            k: getattr(settings.models.lightgbm, k) for k in ["n_estimators", *_suggest_keys(space)]
        },
        chosen=chosen,
        inner_auc=inner,
        comparison=pd.DataFrame(rows),
        trials=trials,
        seed=seed,
        inner_windows=inner_windows,
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
            for k, v in result.inner_auc[fold].items():
                mlflow.log_metric(f"fold{fold}/inner_auc_{k}", float(v))
        params["trials_per_fold"] = result.trials
        params["inner_windows"] = result.inner_windows
        mlflow.log_params(params)
        for row in result.comparison.to_dict("records"):
            prefix = "" if row["fold"] == "overall" else f"fold{row['fold']}/"
            for k in ("untuned", "tuned", "difference", "ci_low", "ci_high"):
                name = f"auc_{k}" if k in ("untuned", "tuned") else f"auc_tuned_minus_untuned_{k}"
                if k == "difference":
                    name = "auc_tuned_minus_untuned"
                mlflow.log_metric(f"{prefix}{name}", float(row[k]))
        return run.info.run_id
