"""The shared statistics equal scikit-learn's where it has them; the count bootstrap resamples
whole children; the reliability tables count every row once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from frontdoor.models.encoding import InputEncoder
from frontdoor.models.stats import (
    cluster_counts,
    percentile_interval,
    reliability_table,
    replicate_auc,
    roc_auc,
)


def test_replicate_auc_equals_the_single_auc_and_sklearn_with_ties():
    rng = np.random.default_rng(11)
    y = (rng.random(2000) < 0.2).astype(float)
    p = np.round(np.clip(y * 0.2 + rng.random(2000) * 0.8, 0, 1), 2)  # many ties
    ones = np.ones((1, y.size))
    assert replicate_auc(ones, y, p)[0] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    # a replicate that counts a row twice is the AUC of the sample with that row duplicated
    counts = np.ones((1, y.size))
    counts[0, :50] = 2
    dup = np.r_[np.arange(y.size), np.arange(50)]
    assert replicate_auc(counts, y, p)[0] == pytest.approx(roc_auc(y[dup], p[dup]), abs=1e-12)


def test_count_bootstrap_draws_whole_children():
    children = np.repeat(np.arange(300), 4)
    blocks = list(cluster_counts(children.size, 120, np.random.default_rng(0), children, block=50))
    counts = np.vstack(blocks)
    assert counts.shape == (120, 1200) and [len(b) for b in blocks] == [50, 50, 20]
    assert (counts.sum(axis=1) == 1200).all()  # 300 children drawn, four referrals each
    per_child = counts.reshape(120, 300, 4)
    assert (per_child == per_child[:, :, :1]).all()  # a child's referrals drawn together
    assert percentile_interval(np.array([np.nan, np.nan])) == pytest.approx(
        (np.nan, np.nan), nan_ok=True
    )


def test_reliability_tables_count_every_row_once():
    rng = np.random.default_rng(2)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(float)
    for strategy in ("quantile", "uniform"):
        t = reliability_table(y, p, bins=10, strategy=strategy)
        assert t["n"].sum() == 1000
        assert (t["n"] * t["observed"]).sum() == pytest.approx(y.sum())
    uniform = reliability_table(y, p, strategy="uniform")
    assert (
        (uniform["predicted"] >= uniform["bin_low"]) & (uniform["predicted"] < uniform["bin_high"])
    ).all()
    with pytest.raises(ValueError, match="Unknown strategy"):
        reliability_table(y, p, strategy="kmeans")


def test_encoder_indicators_in_place_unknown_and_missing_set_none():
    train = pd.DataFrame({"a": [1.0, 2.0, np.nan], "sex": ["M", "F", None], "b": [3, 4, 5]})
    enc = InputEncoder().fit(train)
    assert list(enc.get_feature_names_out()) == ["a", "sex=F", "sex=M", "b"]
    new = pd.DataFrame({"b": [1, 2], "sex": ["X", None], "a": [0.5, np.nan]}, index=[7, 9])
    out = enc.transform(new)
    assert list(out.columns) == ["a", "sex=F", "sex=M", "b"] and list(out.index) == [7, 9]
    assert (out[["sex=F", "sex=M"]].to_numpy() == 0).all()
    assert out.dtypes.eq("float64").all() and np.isnan(out.loc[9, "a"])
    with pytest.raises(ValueError, match="lacks the model's feature columns"):
        enc.transform(new.drop(columns=["sex"]))
