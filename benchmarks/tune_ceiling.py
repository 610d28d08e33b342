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
in hindsight on another council: out of sample there).

``--leave-one-fold-out``: an honest upper bound for any selection from the same search. The
one search scores every trial at every tree count on each test window separately (its
``Search`` keeps every candidate's margins per window, so no fit is repeated); for each fold k
the candidate with the best mean AUC on the *other* folds' test windows
(``models.tune.leave_one_out_choices``: twice an inner window's referrals, even from the future)
is backtested on fold k beside the untuned settings (``fit_fold``, calibrated), per fold and
pooled over the folds' test rows with the paired 95% interval resampling children
(``models.tune.side_by_side``, as ``frontdoor tune`` prints it); the in-sample choice (all
three folds) from the same search is printed beside it. ``--features`` reads a feature table
(only read) instead of building the council in ``--cache`` (which rewrites its
``features.parquet``). Run:

    PYTHONPATH=. .venv/bin/python benchmarks/tune_ceiling.py [--children 50000] [--cache DIR]
        [--features DIR/features.parquet] [--seed N] [--trials 100] [--space wide]
        [--search-seed N] [--evaluate '{"n_estimators": 250, ...}'] [--leave-one-fold-out]
        [--labels ...]

No timing is asserted; this prints figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
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


def _inputs(args):
    """The feature table and its settings: read from ``--features`` (only read; a temporary
    root, as ``benchmarks/tune_select.py``) or built by ``council_table`` (which writes its
    cache)."""
    if args.features is None:
        from benchmarks.oracle_gap import council_table

        return council_table(args.children, args.cache, seed=args.seed)
    import pandas as pd

    from frontdoor.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="tune_ceiling_"))
    settings = Settings(
        paths={"root": str(root)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        tracking={"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
    )
    return pd.read_parquet(args.features), settings


def _shown(params: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in params.items()}


def _hindsight(data, folds, settings, args) -> None:
    """One setting chosen on all the test windows' answers (or ``--evaluate``'s), refitted and
    scored on each fold beside the untuned settings."""
    from frontdoor.models.tune import auc_difference, search_windows, select

    configured = settings.models.lightgbm.n_estimators
    t0 = time.perf_counter()
    if args.evaluate:
        chosen, what = json.loads(args.evaluate), "given setting"
    else:
        sampler = settings.models.seed if args.search_seed is None else args.search_seed
        search = search_windows(data, folds, settings, args.trials, sampler, args.space)
        chosen, _ = select(search, "best", settings, settings.models.seed)
        what = f"hindsight choice over {args.trials} trials"
    print(f"== {data.label}: {what} ({time.perf_counter() - t0:.0f} s): {_shown(chosen)}")
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


def _choices(folds, settings, search):
    """The in-sample and the leave-one-fold-out choices (candidate numbers), printed with what
    each saw (the other folds' mean AUC) and what it gets on the held-out fold."""
    from frontdoor.models.tune import _untuned_row, candidate, leave_one_out_choices, window_aucs

    scores = window_aucs(search)
    untuned = _untuned_row(search, settings)
    inside = int(scores.mean(axis=1).argmax())  # select(search, "best"): the first of equals
    lofo = leave_one_out_choices(scores)
    n = len(scores)
    print(f"  {n} candidates (trial x tree count); untuned: candidate {untuned}")
    for w, (f, i) in enumerate(zip(folds, lofo, strict=True)):
        rest = [v for v in range(len(folds)) if v != w]
        rank = int((scores[:, w] > scores[i, w]).sum()) + 1
        own = int(scores[:, w].argmax())
        print(
            f"  fold {f.fold} left out: other folds' mean AUC untuned "
            f"{scores[untuned, rest].mean():.4f} -> chosen {scores[i, rest].mean():.4f}; on fold "
            f"{f.fold}: {scores[untuned, w]:.4f} -> {scores[i, w]:.4f} "
            f"({scores[i, w] - scores[untuned, w]:+.4f}; rank {rank} of {n}; the fold's own best "
            f"{scores[own, w] - scores[untuned, w]:+.4f}); trees x rate "
            f"{search.candidates['boosting'].iloc[i]:.2f}: {_shown(candidate(search, i))}"
        )
    diff = scores[inside] - scores[untuned]
    print(
        f"  in sample (all three folds): mean over folds {scores[untuned].mean():.4f} -> "
        f"{scores[inside].mean():.4f} ({diff.mean():+.4f}; folds "
        + ", ".join(f"{d:+.4f}" for d in diff)
        + f"); trees x rate {search.candidates['boosting'].iloc[inside]:.2f}: "
        f"{_shown(candidate(search, inside))}"
    )
    return scores, untuned, inside, lofo


def _leave_one_fold_out(data, folds, settings, args) -> None:
    """One seeded search scored on every test window; each fold scored with the setting chosen
    on the *other* folds' windows (and, for comparison, with the one chosen on all three): per
    fold and pooled over the folds' test rows, as ``frontdoor tune`` prints it (``fit_fold``
    backtests, calibrated, compared by ``side_by_side``)."""
    from frontdoor.models.train import fit_fold
    from frontdoor.models.tune import _with_lightgbm, candidate, search_windows, side_by_side

    seed = settings.models.seed
    t0 = time.perf_counter()
    sampler = seed if args.search_seed is None else args.search_seed
    search = search_windows(data, folds, settings, args.trials, sampler, args.space)
    print(
        f"== {data.label}: one search, {args.trials} trials, {args.space} space, seed {sampler}, "
        f"scored on each test window ({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    scores, untuned, inside, lofo = _choices(folds, settings, search)
    t0 = time.perf_counter()
    base = [fit_fold(data, f, settings) for f in data.folds]
    fitted: dict[tuple[int, int], object] = {}
    for name, picks in (("in sample", [inside] * len(folds)), ("leave one fold out", lofo)):
        tuned = []
        for w, (f, i) in enumerate(zip(data.folds, picks, strict=True)):
            if (w, i) not in fitted:
                fitted[w, i] = fit_fold(data, f, _with_lightgbm(settings, candidate(search, i)))
            tuned.append(fitted[w, i])
        frame = side_by_side(base, tuned, settings, seed)
        per_fold = frame[frame["fold"] != "overall"]
        # each backtest's AUC on its fold is the search's margin's (a strictly increasing map)
        off = max(
            np.abs(per_fold["untuned"].to_numpy() - scores[untuned]).max(),
            np.abs(per_fold["tuned"].to_numpy() - scores[picks, range(len(picks))]).max(),
        )
        print(f"== {data.label}, {name}: AUC untuned vs tuned, same test rows (paired 95% CI)")
        print(frame.round(4).to_string(index=False))
        print(
            f"  mean over folds: {per_fold['untuned'].mean():.4f} -> "
            f"{per_fold['tuned'].mean():.4f} ({per_fold['difference'].mean():+.4f}); the "
            f"backtests' fold AUCs differ from the search's by at most {off:.1e}",
            flush=True,
        )
    print(f"  backtests {time.perf_counter() - t0:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--labels", nargs="*", default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--features", type=Path, default=None, help="a feature table (read)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--space", default="wide")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the council's seed (with --cache; a --features table is its own)",
    )
    parser.add_argument(
        "--search-seed", type=int, default=None, help="the search's seed (models.seed unless given)"
    )
    parser.add_argument("--evaluate", default=None, help="a setting (JSON) to score, no search")
    parser.add_argument(
        "--leave-one-fold-out",
        action="store_true",
        help="each fold scored with the setting chosen on the other folds' test windows",
    )
    args = parser.parse_args()

    from frontdoor.models.train import training_data

    table, settings = _inputs(args)
    for label in args.labels or settings.models.labels:
        data = training_data(table, label, settings)
        # the backtest's folds, scored on their test windows (no calibration: the margin's AUC)
        folds = [
            replace(f, calibration_start=f.train_end, calibration_end=f.train_end)
            for f in data.folds
        ]
        if args.leave_one_fold_out and not args.evaluate:
            _leave_one_fold_out(data, folds, settings, args)
        else:
            _hindsight(data, folds, settings, args)


if __name__ == "__main__":
    main()
