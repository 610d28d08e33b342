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
stopping, on the inner windows' mean AUC. The search keeps every trial at every tree count
(``Search``) and a rule chooses among them (``select``: the best, or the one-SE rule and its
variants, measured in docs/models.md's third round). Each fold's chosen settings are then backtested on its
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
SELECTIONS = ("best", "one_se", "one_se_trees", "shrink", "consensus")
CONSENSUS = 5  # trials whose median settings the consensus rule chooses
DEFAULT_SELECTION = "best"  # measured: docs/models.md, "Third round"
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
    rule: str = DEFAULT_SELECTION
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


def window_margins(
    data: TrainingData, inner: Fold, settings: Settings, params: dict, counts: list[int]
) -> np.ndarray:
    """A validation fold's test-window margins at each tree count (counts x rows), from one fit
    on its training window."""
    cfg = settings.models
    masks = inner.masks(data.rows["decision_date"])
    train, test = data.rows[masks["train"]], data.rows[masks["test"]]
    base = {**cfg.lightgbm.model_dump(), **params, "n_estimators": max(counts)}
    model = MonotoneLightGBM(**base, random_state=cfg.seed, n_jobs=cfg.n_jobs)
    model.fit(train[data.columns], train[data.label].astype(int))
    X = test[data.columns]
    return np.array([model.decision_function_at(X, n) for n in counts])


@dataclass
class Search:
    """Every setting one search scored: a row per trial and tree count (``trial``, its settings,
    ``n_estimators``, ``auc``: the mean over the inner windows, ``boosting``: trees x learning
    rate), and per inner window its labels, children and every candidate's margins, for a
    bootstrap of the selection."""

    candidates: pd.DataFrame
    labels: list[np.ndarray]
    children: list[np.ndarray]
    margins: list[np.ndarray]  # per window: candidates x rows
    keys: list[str]  # the searched settings (with n_estimators)


def _objective(data, inners, settings, space, max_trees, found: list):
    configured = settings.models.lightgbm.n_estimators
    ys = [
        data.rows[i.masks(data.rows["decision_date"])["test"]][data.label].to_numpy(float)
        for i in inners
    ]

    def score(trial) -> float:
        params = _suggest(trial, space)
        counts = _tree_counts(params["learning_rate"], configured, max_trees)
        margins = [window_margins(data, i, settings, params, counts) for i in inners]
        mean = np.mean(
            [[roc_auc(y, m) for m in ms] for y, ms in zip(ys, margins, strict=True)], axis=0
        )
        found.append((trial.number, params, counts, mean, margins))
        best = int(np.argmax(mean))  # the first of equals: the fewest trees
        trial.set_user_attr("n_estimators", counts[best])
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
) -> Search:
    """Every setting a seeded search (TPE on the best tree count's mean AUC over validation
    ``windows``; the configured settings are the first trial) scores, at every tree count."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    lgbm = settings.models.lightgbm
    keys = _suggest_keys(space)
    study.enqueue_trial({k: getattr(lgbm, k) for k in keys})  # always tried
    found: list = []
    study.optimize(_objective(data, windows, settings, space, max_trees, found), trials)
    rows = [
        {"trial": number, **params, "n_estimators": n, "auc": float(auc)}
        for number, params, counts, mean, _ in found
        for n, auc in zip(counts, mean, strict=True)
    ]
    candidates = pd.DataFrame(rows)
    candidates["boosting"] = candidates["n_estimators"] * candidates["learning_rate"]
    masks = [w.masks(data.rows["decision_date"])["test"] for w in windows]
    return Search(
        candidates=candidates,
        labels=[data.rows[m][data.label].to_numpy(float) for m in masks],
        children=[data.rows[m]["child_id"].to_numpy() for m in masks],
        margins=[np.concatenate([f[4][w] for f in found]) for w in range(len(windows))],
        keys=keys + ["n_estimators"],
    )


def window_aucs(search: Search) -> np.ndarray:
    """Every candidate's AUC on each window on its own: candidates x windows (the row means
    are ``search.candidates["auc"]``)."""
    return np.column_stack(
        [[roc_auc(y, m) for m in ms] for y, ms in zip(search.labels, search.margins, strict=True)]
    )


def leave_one_out_choices(scores: np.ndarray) -> list[int]:
    """For each window k (a column of ``scores``, candidates x windows), the candidate with the
    best mean score on the *other* windows (the first of equals: the fewest trees of a trial).
    Column k is never read for window k's choice: a hindsight that is out of sample on k."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError("Leaving one window out needs a candidates x windows table, 2+ windows.")
    return [int(np.delete(scores, k, axis=1).mean(axis=1).argmax()) for k in range(scores.shape[1])]


def candidate(search: Search, i: int) -> dict:
    """Candidate ``i``'s settings (each column's own type: LightGBM wants plain ints)."""
    return {k: _plain(search.candidates[k].iloc[i]) for k in search.keys}


def _untuned_row(search: Search, settings: Settings) -> int:
    first = search.candidates[search.candidates["trial"] == 0]
    at = first.index[first["n_estimators"] == settings.models.lightgbm.n_estimators]
    return int(at[0]) if len(at) else -1


class _PairedDraws:
    """The same bootstrap resamples (children, each window on its own) for every candidate: the
    mean AUC over the windows of candidate i on each resample."""

    def __init__(self, search: Search, samples: int, seed: int):
        rng = np.random.default_rng(seed)
        self.search = search
        draws = [
            cluster_sampler(len(y), c) for y, c in zip(search.labels, search.children, strict=True)
        ]
        self.idx = [[d(rng) for _ in range(samples)] for d in draws]

    def __call__(self, i: int) -> np.ndarray:
        s = self.search
        per_window = [
            [roc_auc(y[ix], m[i][ix]) for ix in idx]
            for y, m, idx in zip(s.labels, s.margins, self.idx, strict=True)
        ]
        return np.mean(per_window, axis=0)


def select(
    search: Search, rule: str, settings: Settings, seed: int
) -> tuple[dict, dict[str, float]]:
    """One search's choice by ``rule``, with the inner AUCs of the untuned and the chosen.

    ``best``: the highest inner AUC (the first trial and fewest trees of equals). ``one_se``:
    the least boosting candidate (smallest trees x learning rate, then fewest leaves) whose inner
    AUC is within one standard error of the best's, the SE of their difference from a paired
    bootstrap resampling each inner window's children (``models.bootstrap_samples``).
    ``shrink``: the best only if its inner gain over the untuned exceeds that gain's SE (same
    bootstrap), else the untuned settings. ``consensus``: each setting's median over the
    ``CONSENSUS`` trials with the highest inner AUC (each at its best tree count; whole numbers
    rounded, trees to a multiple of TREE_STEP): not itself scored, so its inner AUC is NaN.
    ``one_se_trees``: the best trial's settings at the fewest trees within one SE of its best
    tree count (the one-SE rule on the number of trees only, like early stopping)."""
    if rule not in SELECTIONS:
        raise ValueError(f"Unknown selection rule {rule!r}; use one of {SELECTIONS}")
    table = search.candidates
    best = int(table["auc"].to_numpy().argmax())
    untuned = _untuned_row(search, settings)
    auc_untuned = float(table["auc"].iloc[untuned]) if untuned >= 0 else float("nan")
    if rule == "consensus":
        return _consensus(table, search.keys), {"untuned": auc_untuned, "chosen": float("nan")}
    pick = best
    if rule != "best":
        draws = _PairedDraws(search, settings.models.bootstrap_samples, seed)
        at_best = draws(best)
        if rule == "shrink":
            if untuned < 0:  # `_check_untuned_is_scored` refuses this before a search
                raise ValueError("shrink: the untuned settings were not scored in this search")
            gain = table["auc"].iloc[best] - table["auc"].iloc[untuned]
            pick = best if gain > np.std(at_best - draws(untuned), ddof=1) else untuned
        else:
            within = (
                table if rule == "one_se" else table[table["trial"] == table["trial"].iloc[best]]
            )
            pick = _least_boosting_within_one_se(within, settings, best, at_best, draws)
    return candidate(search, pick), {
        "untuned": auc_untuned,
        "chosen": float(table["auc"].iloc[pick]),
    }


def _consensus(table: pd.DataFrame, keys: list[str]) -> dict:
    tops = table.loc[table.groupby("trial")["auc"].idxmax()].nlargest(CONSENSUS, "auc")
    chosen = {}
    for k in keys:
        median = float(tops[k].median())
        if k == "n_estimators":
            chosen[k] = max(TREE_STEP, int(round(median / TREE_STEP)) * TREE_STEP)
        elif pd.api.types.is_integer_dtype(table[k]):
            chosen[k] = int(round(median))
        else:
            chosen[k] = median
    return chosen


def _least_boosting_within_one_se(table, settings, best, at_best, draws) -> int:
    """The least boosting row of ``table`` (a part of the candidates, with the best) within one
    paired SE of the best: its candidate number."""
    leaves = table.get("num_leaves", pd.Series(settings.models.lightgbm.num_leaves, table.index))
    order = np.lexsort((-table["auc"].to_numpy(), leaves.to_numpy(), table["boosting"].to_numpy()))
    top = table["auc"].loc[best]
    for i in table.index[order]:  # least boosting first: the first within one SE is chosen
        if i == best:
            return best
        se = np.std(at_best - draws(int(i)), ddof=1)
        if top - table["auc"].loc[i] <= se:
            return int(i)
    return best


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def search_fold(
    data: TrainingData,
    fold: Fold,
    settings: Settings,
    trials: int,
    seed: int,
    space: str,
    inner_windows: int = 1,
    max_trees: int = MAX_TREES,
    rule: str = "best",
) -> tuple[dict, dict[str, float]]:
    """The settings a seeded search chooses by ``rule`` (``select``) for one test fold on its
    inner windows (``inner_folds``), with the inner AUCs (mean over the inner windows) of the
    untuned settings and of the choice."""
    _check_untuned_is_scored(rule, settings, max_trees)  # before the search, not after it
    inners = inner_folds(data, fold, settings, inner_windows)
    search = search_windows(data, inners, settings, trials, seed + fold.fold, space, max_trees)
    return select(search, rule, settings, seed + fold.fold)


def _check_untuned_is_scored(rule: str, settings: Settings, max_trees: int) -> None:
    """``shrink`` compares the best with the untuned settings on the inner windows, so their
    tree count must be one the first trial scores (within the learning rate's tree budget)."""
    lgbm = settings.models.lightgbm
    if rule == "shrink" and lgbm.n_estimators not in _tree_counts(
        lgbm.learning_rate, lgbm.n_estimators, max_trees
    ):
        raise ValueError(
            f"--select shrink compares with the untuned settings, but their {lgbm.n_estimators} "
            f"trees at learning rate {lgbm.learning_rate} exceed the search's budget "
            f"(trees x rate <= {TREE_BUDGET:g}, at most {max_trees} trees): choose another rule "
            "or fewer configured trees."
        )


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


def side_by_side(untuned: list, tuned: list, settings: Settings, seed: int) -> pd.DataFrame:
    """Per fold (``fit_fold`` results, in fold order) and pooled over the folds' test rows: AUC
    untuned, tuned and the difference with its paired interval resampling children."""
    rows = []
    samples = settings.models.bootstrap_samples
    for a, b in zip(untuned, tuned, strict=True):
        k = a.fold.fold
        d = auc_difference(a.predictions, b.predictions, samples, seed + k)
        rows.append({"fold": str(k), **d})
    pooled = [pd.concat([r.predictions for r in rs], ignore_index=True) for rs in (untuned, tuned)]
    rows.append({"fold": "overall", **auc_difference(*pooled, samples, seed)})
    return pd.DataFrame(rows)


def tune(
    table: pd.DataFrame,
    label: str,
    settings: Settings,
    trials: int = 12,
    seed: int | None = None,
    space: str = "wide",
    inner_windows: int = 1,
    max_trees: int = MAX_TREES,
    rule: str = DEFAULT_SELECTION,
) -> TuneResult:
    """Search each fold's settings on its past, choose by ``rule`` (``select``), then backtest
    untuned and tuned side by side."""
    if space not in SPACES:
        raise ValueError(f"Unknown search space {space!r}; use one of {SPACES}")
    if rule not in SELECTIONS:
        raise ValueError(f"Unknown selection rule {rule!r}; use one of {SELECTIONS}")
    seed = settings.models.seed if seed is None else seed
    data = training_data(table, label, settings)
    chosen, inner = {}, {}
    untuned_results, tuned_results = [], []
    for fold in data.folds:
        chosen[fold.fold], inner[fold.fold] = search_fold(
            data, fold, settings, trials, seed, space, inner_windows, max_trees, rule
        )
        untuned_results.append(fit_fold(data, fold, settings))
        tuned_results.append(fit_fold(data, fold, _with_lightgbm(settings, chosen[fold.fold])))
    untuned = combine_folds(data, untuned_results, settings)
    tuned = combine_folds(
        data, tuned_results, _with_lightgbm(settings, chosen[data.folds[-1].fold])
    )
    return TuneResult(
        label=label,
        untuned={
            k: getattr(settings.models.lightgbm, k) for k in ["n_estimators", *_suggest_keys(space)]
        },
        chosen=chosen,
        inner_auc=inner,
        comparison=side_by_side(untuned_results, tuned_results, settings, seed),
        trials=trials,
        seed=seed,
        inner_windows=inner_windows,
        rule=rule,
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
                if np.isfinite(v):  # a consensus choice is not scored inside
                    mlflow.log_metric(f"fold{fold}/inner_auc_{k}", float(v))
        params["trials_per_fold"] = result.trials
        params["inner_windows"] = result.inner_windows
        params["select"] = result.rule
        mlflow.log_params(params)
        for row in result.comparison.to_dict("records"):
            prefix = "" if row["fold"] == "overall" else f"fold{row['fold']}/"
            for k in ("untuned", "tuned", "difference", "ci_low", "ci_high"):
                name = f"auc_{k}" if k in ("untuned", "tuned") else f"auc_tuned_minus_untuned_{k}"
                if k == "difference":
                    name = "auc_tuned_minus_untuned"
                mlflow.log_metric(f"{prefix}{name}", float(row[k]))
        return run.info.run_id
