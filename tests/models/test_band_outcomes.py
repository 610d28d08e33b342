"""The backtest's figures per band (issue 15), against a hand computation on a small table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.models.bands import OUTCOME_COLUMNS, backtest_outcomes

NAMES = ["low", "medium", "high", "very high"]


def _table() -> pd.DataFrame:
    # 5 children: "a" twice in low, "b" in low and high, "c" and "d" in high, "e" twice in very
    # high; nobody in medium
    return pd.DataFrame(
        {
            "child_id": ["a", "a", "b", "b", "c", "d", "e", "e"],
            "band": ["low", "low", "low", "high", "high", "high", "very high", "very high"],
            "y": [0, 1, 0, 1, 1, 0, 1, 1],
            "probability": [0.10, 0.20, 0.30, 0.50, 0.60, 0.70, 0.80, 0.90],
        }
    )


def _by_hand(table: pd.DataFrame, samples: int, seed: int) -> np.ndarray:
    """Each replicate draws as many children as there are, with replacement (numbered in order
    of first appearance), each with all its rows; then each band's rate on the drawn rows."""
    children = list(dict.fromkeys(table["child_id"]))
    rng = np.random.default_rng(seed)
    out = np.full((samples, len(NAMES)), np.nan)
    for r in range(samples):
        drawn = rng.integers(0, len(children), len(children))
        rows = pd.concat([table[table["child_id"] == children[i]] for i in drawn])
        for b, name in enumerate(NAMES):
            part = rows[rows["band"] == name]
            if len(part):
                out[r, b] = part["y"].mean()
    return out


def test_each_bands_figures_match_a_hand_computation():
    table = _table()
    got = backtest_outcomes(table, NAMES, samples=300, seed=11).set_index("band")
    assert list(got.columns) == OUTCOME_COLUMNS
    assert got["test_referrals"].to_dict() == {"low": 3, "medium": 0, "high": 3, "very high": 2}
    assert got["test_outcomes"].to_dict() == {"low": 1, "medium": 0, "high": 2, "very high": 2}
    assert got.loc["low", "observed_rate"] == pytest.approx(1 / 3)
    assert got.loc["high", "observed_rate"] == pytest.approx(2 / 3)
    assert got.loc["very high", "observed_rate"] == 1.0
    assert got.loc["low", "mean_probability"] == pytest.approx(0.2)
    assert got.loc["high", "mean_probability"] == pytest.approx(0.6)
    assert got.loc["very high", "mean_probability"] == pytest.approx(0.85)
    # a band no test referral fell in has no rate, never 0
    assert got.loc["medium", ["observed_rate", "observed_low", "observed_high"]].isna().all()
    hand = _by_hand(table, 300, 11)
    for b, name in enumerate(NAMES):
        finite = hand[:, b][np.isfinite(hand[:, b])]
        if not finite.size:
            continue
        lo, hi = np.percentile(finite, [2.5, 97.5])
        assert got.loc[name, "observed_low"] == pytest.approx(lo)
        assert got.loc[name, "observed_high"] == pytest.approx(hi)
    # "low" has two children with rates 1/2 and 0: its interval spans them, the rest is fixed
    assert got.loc["low", "observed_low"] == 0.0 and got.loc["low", "observed_high"] >= 0.5
    assert got.loc["very high", ["observed_low", "observed_high"]].tolist() == [1.0, 1.0]


def _council(children: int = 60, seed: int = 0) -> pd.DataFrame:
    """Children with one to three test referrals each, in bands, with outcomes."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in rng.permutation(children):
        for _ in range(int(rng.integers(1, 4))):
            band = NAMES[int(rng.integers(0, len(NAMES)))]
            p = 0.2 + 0.2 * NAMES.index(band)
            rows.append({"child_id": f"p{c:03d}", "band": band, "y": int(rng.random() < p)})
    table = pd.DataFrame(rows)
    table["probability"] = 0.2 + 0.2 * table["band"].map(NAMES.index)
    return table


def test_the_resamples_do_not_depend_on_the_pseudonyms():
    """Children are numbered in order of first appearance, never by sorting their pseudonyms:
    the same records under another key (here one that reverses their sorted order) give the
    same intervals. (Numbered by sorting, the two keys draw different children: measured, the
    intervals then differ.)"""
    table = _council()
    ids = sorted(table["child_id"].unique())
    renamed = table.assign(child_id=table["child_id"].map(dict(zip(ids, ids[::-1], strict=True))))
    first = backtest_outcomes(table, NAMES, samples=200, seed=3)
    second = backtest_outcomes(renamed, NAMES, samples=200, seed=3)
    pd.testing.assert_frame_equal(first, second)
    assert (first["observed_low"] < first["observed_rate"]).all()
    assert (first["observed_rate"] < first["observed_high"]).all()
