"""Tuning: validated only on each test window's past, with the test folds' gap and as much
training as that past allows; logged beside the untuned settings; both backtests side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.models.estimators import MonotoneLightGBM
from frontdoor.models.splits import SplitError
from frontdoor.models.stats import roc_auc
from frontdoor.models.train import training_data
from frontdoor.models.tune import (
    Search,
    _check_untuned_is_scored,
    _PairedDraws,
    inner_folds,
    leave_one_out_choices,
    log_tuning,
    search_fold,
    select,
    tune,
    window_aucs,
)
from tests.support import make_settings

pytestmark = pytest.mark.slow

SMALL = {"bootstrap_samples": 20, "lightgbm": {"n_estimators": 60}, "explain_sample": 100}
SIGNAL = "referrals_365d"  # declared +1: a planted count that follows the label is usable


def test_inner_folds_see_only_the_past_with_the_same_gap_and_all_of_it(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    data = training_data(toy_table, "escalation_12m", settings)
    dates = data.rows["decision_date"]
    for fold in data.folds:
        inners = inner_folds(data, fold, settings, windows=2)
        assert len(inners) == 2 and inners[0].test_end == inners[1].test_start  # newest last
        # the newest validation window ends where the fold's calibration window ends: every
        # inner label is known when the test window opens (one label window later)
        assert inners[-1].test_end == fold.calibration_end < fold.test_start
        for inner in inners:
            assert inner.gap_days == fold.gap_days
            # as large as the past allows: from the first labelled decision to one gap before
            assert inner.train_start == dates.min().normalize()
            assert inner.train_end + pd.Timedelta(days=fold.gap_days) == inner.test_start
            used = inner.masks(dates)
            assert not used["calibration"].any()  # the margin's AUC needs no calibration
            for mask in used.values():
                assert (dates[mask] < fold.calibration_end).all()
    with pytest.raises(SplitError, match="fewer inner windows"):
        inner_folds(data, data.folds[0], settings, windows=12)


def _planted(table: pd.DataFrame, rows: pd.Series, label: str) -> pd.DataFrame:
    """The table with a perfect signal of the label planted in ``rows``: the signal feature is
    50 for every positive, 0 for every negative, and half the labels are flipped to match."""
    out = table.copy()
    flip = rows & (np.arange(len(out)) % 2 == 0)
    out.loc[flip, label] = 1.0 - out.loc[flip, label]
    out.loc[rows, SIGNAL] = 50.0 * out.loc[rows, label]
    return out


def test_the_search_cannot_see_a_signal_planted_after_its_test_window_opens(toy_table, tmp_path):
    """An adversary plants a perfect signal (and changes labels) in every decision whose label
    is not known before the fold's test window opens: the search's every score and choice stay
    bit for bit the same. The same signal planted in the two months just before is seen, so the
    check can fail: a boundary one label window later would change the search."""
    settings = make_settings(tmp_path, models=SMALL)
    label = "escalation_12m"
    dates = pd.to_datetime(toy_table["decision_date"])
    fold = training_data(toy_table, label, settings).folds[1]

    def search(table):
        data = training_data(table, label, settings)
        assert data.folds[1] == fold  # the folds depend on the dates only
        return search_fold(data, fold, settings, 3, 1, "wide", inner_windows=2, max_trees=100)

    clean = search(toy_table)
    late = dates >= fold.calibration_end  # labelled on or after the test window opens
    assert late.sum() > 1000
    assert search(_planted(toy_table, late, label)) == clean
    month = (dates >= fold.calibration_end - pd.Timedelta(days=60)) & ~late
    seen = search(_planted(toy_table, month, label))
    assert seen[1]["untuned"] > clean[1]["untuned"]  # the planted months are validated on


def test_one_fit_scores_every_tree_count_as_a_fit_with_fewer_trees_would(toy_table):
    label = "escalation_12m"
    X = toy_table.drop(columns=[c for c in toy_table.columns if not c.startswith("referrals")])
    y = toy_table[label].fillna(0).astype(int)
    many = MonotoneLightGBM(n_estimators=80, num_leaves=5, random_state=3).fit(X, y)
    few = MonotoneLightGBM(n_estimators=30, num_leaves=5, random_state=3).fit(X, y)
    assert np.array_equal(many.decision_function_at(X, 30), few.decision_function(X))
    assert not np.array_equal(many.decision_function(X), few.decision_function(X))
    with pytest.raises(ValueError, match="n_trees"):
        many.decision_function_at(X, 81)


def test_the_first_n_trees_are_a_fit_of_n_rounds_unless_a_round_adds_no_tree():
    """decision_function_at(n) reads the first n trees. With min_split_gain > 0 a round where
    no split gains enough adds no tree, so a fit of n rounds holds fewer than n trees and the
    first n trees of a longer fit are more rounds (docs/models.md, tuning): the search's tree
    count then boosts slightly more than its refit. Pinned so the docs cannot drift."""
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame(
        {
            "referrals_365d": rng.poisson(1, n).astype(float),
            "contacts_90d": rng.poisson(2, n).astype(float),
            "age_years": rng.integers(0, 18, n).astype(float),
        }
    )
    logit = 0.4 * X["referrals_365d"] + 0.2 * X["contacts_90d"] - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    def fit(rounds: int, gain: float) -> MonotoneLightGBM:
        return MonotoneLightGBM(
            n_estimators=rounds, subsample=1.0, min_split_gain=gain, random_state=7
        ).fit(X, y)

    for gain in (0.0, 0.5):
        short, long = fit(100, gain), fit(300, gain)
        trees = short.model_.booster_.num_trees()
        assert np.array_equal(long.decision_function_at(X, 50), fit(50, gain).decision_function(X))
        same = np.array_equal(long.decision_function_at(X, 100), short.decision_function(X))
        if gain == 0.0:
            assert trees == 100 and same
        else:  # some rounds added no tree: the first 100 trees are more than 100 rounds
            assert trees < 100 and not same
            assert np.array_equal(long.decision_function_at(X, trees), short.decision_function(X))


def test_tune_reports_untuned_and_tuned_side_by_side_and_logs_both(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    result = tune(toy_table, "escalation_12m", settings, trials=3, seed=1, max_trees=100)
    assert list(result.comparison["fold"]) == ["0", "1", "2", "overall"]
    for row in result.comparison.itertuples():
        assert row.tuned - row.untuned == pytest.approx(row.difference)
        assert row.ci_low <= row.difference <= row.ci_high
    for fold, chosen in result.chosen.items():
        assert set(chosen) == set(result.untuned)  # the wide space, with the number of trees
        assert 25 <= chosen["n_estimators"] <= 100
        # the untuned settings (at their own tree count) are scored, so the choice is never
        # worse inside
        assert result.inner_auc[fold]["chosen"] >= result.inner_auc[fold]["untuned"]
    data = training_data(toy_table, "escalation_12m", settings)
    again = search_fold(data, data.folds[2], settings, 3, 1, "wide", max_trees=100)
    assert again == (result.chosen[2], result.inner_auc[2])  # seeded
    run_id = log_tuning(result, settings)
    from frontdoor.models.tracking import client

    run = client(settings).get_run(run_id)
    assert run.data.params["untuned.n_estimators"] == "60"
    assert "tuned.fold2.num_leaves" in run.data.params
    assert "auc_tuned_minus_untuned" in run.data.metrics
    assert "fold2/inner_auc_chosen" in run.data.metrics


def _crafted_search(rng: np.random.Generator) -> Search:
    """A trial table on one validation window of 1,500 children: the untuned settings (trial 0,
    500 trees at 0.02), the best (trial 1, boosting 15), two settings that boost less and score
    a little lower (boosting 2, with 15 and with 5 leaves), the least boosting, far lower, and
    the best trial at fewer trees, a little lower."""
    n = 1500
    y = (rng.random(n) < 0.3).astype(float)
    signal = y + rng.normal(0, 1.2, n)

    def near(sd: float) -> np.ndarray:
        return signal + rng.normal(0, sd, n)

    rows = [  # trial, learning rate, trees, leaves, margins
        (0, 0.02, 500, 31, near(0.1)),
        (1, 0.05, 300, 31, signal),
        (2, 0.02, 100, 15, near(0.1)),
        (3, 0.04, 50, 5, near(0.1)),
        (4, 0.02, 25, 3, rng.normal(0, 1, n) + 0.3 * y),
        (1, 0.05, 150, 31, near(0.05)),  # the best trial with fewer trees
    ]
    table = pd.DataFrame(
        [
            {"trial": t, "learning_rate": r, "num_leaves": k, "n_estimators": m}
            for t, r, m, k, _ in rows
        ]
    )
    table["auc"] = [roc_auc(y, r[-1]) for r in rows]
    table["boosting"] = table["n_estimators"] * table["learning_rate"]
    margins = np.array([r[-1] for r in rows])
    return Search(
        table, [y], [np.arange(n)], [margins], ["learning_rate", "num_leaves", "n_estimators"]
    )


def test_one_se_picks_the_least_boosting_setting_within_one_standard_error_of_the_best(tmp_path):
    settings = make_settings(tmp_path, models={"bootstrap_samples": 200})
    search = _crafted_search(np.random.default_rng(20))
    auc = search.candidates["auc"].to_numpy()
    assert auc.argmax() == 1 and auc[2] < auc[1] and auc[3] < auc[1]  # the best is trial 1
    # the premises, on the rule's own paired resamples: trials 2 and 3 (boosting 2) are within
    # one SE of the best, trial 4 (boosting 0.5) is not
    draws = _PairedDraws(search, 200, 5)
    se = {i: np.std(draws(1) - draws(i), ddof=1) for i in (2, 3, 4, 5)}
    assert 0 < auc[1] - auc[2] <= se[2] and 0 < auc[1] - auc[3] <= se[3]
    assert 0 < auc[1] - auc[5] <= se[5]
    assert auc[1] - auc[4] > se[4]
    best, _ = select(search, "best", settings, 5)
    assert best == {"learning_rate": 0.05, "num_leaves": 31, "n_estimators": 300}
    one_se, inner = select(search, "one_se", settings, 5)
    # least boosting within one SE, and of the two with boosting 2, the fewer leaves
    assert one_se == {"learning_rate": 0.04, "num_leaves": 5, "n_estimators": 50}
    assert inner == {"untuned": auc[0], "chosen": auc[3]}
    assert all(type(v) in (int, float) for v in one_se.values())  # LightGBM wants plain ints
    # the one-SE rule on the best trial's tree counts only: its fewer trees
    assert select(search, "one_se_trees", settings, 5)[0]["n_estimators"] == 150
    # shrink keeps the untuned settings: the best's inner gain over them is within one SE
    assert auc[1] - auc[0] <= np.std(draws(1) - draws(0), ddof=1)
    assert select(search, "shrink", settings, 5)[0]["n_estimators"] == 500
    # consensus: each setting's median over the five best trials (here all five), not scored
    consensus, inner = select(search, "consensus", settings, 5)
    assert consensus == {"learning_rate": 0.02, "num_leaves": 15, "n_estimators": 100}
    assert np.isnan(inner["chosen"])
    with pytest.raises(ValueError, match="selection rule"):
        select(search, "median", settings, 5)
    # shrink needs the untuned settings' inner score: without it, a clear refusal (before any
    # search, in search_fold), never a comparison with another row
    unscored = Search(
        search.candidates[search.candidates["trial"] != 0].reset_index(drop=True),
        search.labels,
        search.children,
        [search.margins[0][1:]],
        search.keys,
    )
    with pytest.raises(ValueError, match="untuned settings were not scored"):
        select(unscored, "shrink", settings, 5)
    heavy = make_settings(tmp_path, models={"lightgbm": {"n_estimators": 2000}})
    with pytest.raises(ValueError, match="2000 trees at learning rate 0.02 exceed"):
        _check_untuned_is_scored("shrink", heavy, 1000)
    _check_untuned_is_scored("best", heavy, 1000)  # the other rules need no untuned score


def test_leave_one_fold_out_chooses_each_fold_on_the_other_folds_only():
    """A crafted candidates x folds AUC table: candidate k (0-2) is the best on fold k alone (a
    choice that peeks at the held-out fold takes it), candidate 6 the best on all three (the
    in-sample choice), and candidates 3, 4, 5 the best on the two folds other than 0, 1, 2. The
    honest choice for fold k is 3 + k; then the held-out column is overwritten at random and no
    choice for that fold moves."""
    scores = np.array(
        [
            [0.80, 0.50, 0.50],  # best on fold 0 alone
            [0.50, 0.80, 0.50],
            [0.50, 0.50, 0.80],
            [0.50, 0.72, 0.72],  # best on folds 1 and 2: fold 0's honest choice
            [0.72, 0.50, 0.71],  # folds 0 and 2
            [0.71, 0.71, 0.50],  # folds 0 and 1
            [0.70, 0.70, 0.70],  # the best on all three (in sample)
        ]
    )
    assert leave_one_out_choices(scores) == [3, 4, 5]
    assert scores.mean(axis=1).argmax() == 6  # not what any fold's honest choice is
    assert [int(scores[:, k].argmax()) for k in range(3)] == [0, 1, 2]  # peeking's choices
    rng = np.random.default_rng(3)
    for k in range(3):
        for _ in range(20):
            peeked = scores.copy()
            peeked[:, k] = rng.random(len(scores))
            assert leave_one_out_choices(peeked)[k] == 3 + k
    # the first of equal candidates (a trial's fewest trees), and two folds read one another
    assert leave_one_out_choices(np.array([[0.6, 0.7], [0.6, 0.7], [0.9, 0.1]])) == [0, 2]
    with pytest.raises(ValueError, match="2\\+ windows"):
        leave_one_out_choices(scores[:, :1])


def test_window_aucs_are_each_candidates_auc_on_each_window_and_average_to_its_score():
    rng = np.random.default_rng(8)
    ys = [(rng.random(n) < 0.3).astype(float) for n in (400, 600)]
    margins = [np.array([y + rng.normal(0, sd, len(y)) for sd in (0.5, 2.0)]) for y in ys]
    aucs = np.array(
        [[roc_auc(y, m[i]) for y, m in zip(ys, margins, strict=True)] for i in range(2)]
    )
    table = pd.DataFrame({"trial": [0, 1], "n_estimators": [100, 100], "auc": aucs.mean(axis=1)})
    search = Search(table, ys, [np.arange(len(y)) for y in ys], margins, ["n_estimators"])
    got = window_aucs(search)
    assert got.shape == (2, 2) and np.array_equal(got, aucs)
    assert got[0, 0] > got[1, 0] and got[0, 1] > got[1, 1]  # the less noisy margin ranks better
    assert np.allclose(got.mean(axis=1), search.candidates["auc"])


def test_tune_command_searches_the_trees_only_on_two_inner_windows_and_logs_it(toy_table, tmp_path):
    """``frontdoor tune --space trees --inner-windows 2 --select one_se`` end to end: the real
    command on a feature table file, logged to a real MLflow store."""
    from typer.testing import CliRunner

    from frontdoor.cli import app
    from frontdoor.models.tracking import client

    features = tmp_path / "features.parquet"
    toy_table.to_parquet(features)
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"paths:\n  root: {tmp_path}\n"
        "privacy:\n  pseudonym_key: test-key-not-secret-0123456789abcdef\n"
        f"tracking:\n  tracking_uri: sqlite:///{tmp_path / 'mlflow.db'}\n"
        "models:\n  bootstrap_samples: 20\n  explain_sample: 100\n"
        "  lightgbm:\n    n_estimators: 60\n    num_leaves: 5\n    learning_rate: 0.08\n",
        encoding="utf-8",
    )
    args = ["--config", str(config), "tune", "--features", str(features), "--trials", "1"]
    args += ["--label", "escalation_12m", "--space", "trees", "--inner-windows", "2"]
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, [*args, "--select", "one_se"])
    assert result.exit_code == 0, result.output
    assert "escalation_12m: AUC untuned vs tuned" in result.output
    assert "overall" in result.output and "chosen (one_se) fold 0:" in result.output
    run_id = result.output.split("MLflow run ")[1].split()[0]
    params = client(make_settings(tmp_path)).get_run(run_id).data.params
    assert params["inner_windows"] == "2" and params["select"] == "one_se"
    # the trees space: each fold chose a learning rate and a tree count, nothing else
    assert {k for k in params if k.startswith("tuned.fold0.")} == {
        "tuned.fold0.learning_rate",
        "tuned.fold0.n_estimators",
    }
    assert params["untuned.n_estimators"] == "60" and "untuned.num_leaves" not in params
