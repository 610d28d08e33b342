"""Risk bands fixed on the training distribution.

The band edges are quantiles of the model's margin (log-odds) over the training referrals
(by default the 50th, 80th and 95th percentiles: low / medium / high / very high). They are
fixed when the model is trained and travel with it, so a band means the same thing on every
day the model is used: "very high" is the top 5% of the referrals it learned from.

Why the margin and not the calibrated probability: calibration is monotone, so the order is the
same, but isotonic calibration has flat steps; an edge that falls on a step would push the whole
step into the higher band (a "top 5%" band holding 20%). The margin has no ties. The probability
range of each band is reported beside it (``table(to_probability)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from frontdoor.models.stats import cluster_sampler, divide, percentile_interval

# The backtest's figures per band (`backtest_outcomes`), beside the band table's ranges.
OUTCOME_COLUMNS = [
    "test_referrals",
    "test_outcomes",
    "observed_rate",
    "observed_low",
    "observed_high",
    "mean_probability",
]


class Bands(BaseEstimator):
    def __init__(self, quantiles=(0.5, 0.8, 0.95), names=("low", "medium", "high", "very high")):
        self.quantiles = quantiles
        self.names = names

    def fit(self, scores, y=None):
        q = list(self.quantiles)
        if len(self.names) != len(q) + 1:
            raise ValueError("There must be one more band name than band edges.")
        if q != sorted(q) or not all(0.0 < v < 1.0 for v in q):
            raise ValueError("Band edges must be increasing quantiles strictly between 0 and 1.")
        s = np.asarray(scores, dtype=float)
        self.edges_ = np.quantile(s[~np.isnan(s)], q)
        return self

    def transform(self, scores) -> np.ndarray:
        idx = np.searchsorted(self.edges_, np.asarray(scores, dtype=float), side="right")
        return np.asarray(self.names, dtype=object)[idx]

    def table(self, to_probability=None) -> pd.DataFrame:
        """Each band with its score range (lower edge inclusive) and, given the calibration map,
        its probability range."""
        lows = np.array([-np.inf, *self.edges_])
        highs = np.array([*self.edges_, np.inf])
        qs = [0.0, *self.quantiles]
        qe = [*self.quantiles, 1.0]
        out = pd.DataFrame(
            {
                "band": list(self.names),
                "training_share": np.round(np.subtract(qe, qs), 4),
                "from_score": lows,
                "to_score": highs,
            }
        )
        if to_probability is not None:
            out["from_probability"] = [0.0, *to_probability(self.edges_)]
            out["to_probability"] = [*to_probability(self.edges_), 1.0]
        return out


def backtest_outcomes(
    predictions: pd.DataFrame,
    names: list[str] | tuple[str, ...],
    *,
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """What happened to past referrals in each band, on the backtest's pooled test folds.

    ``predictions``: one row per test referral with ``band``, ``y`` (the outcome), ``probability``
    and ``child_id``. Each fold's rows carry the band of that fold's own model, against the edges
    it fixed on its own training window (``train.fit_fold``): a backtest of the design, in which
    every model is banded on its own past, not the deployed model's edges applied to referrals
    it was trained on. Returns one row per band name, in order: the test referrals, those with
    the outcome, the observed rate with a 95% interval resampling children
    (``stats.cluster_sampler``: whole children drawn with all their test referrals, numbered in
    order of first appearance, so the resamples do not depend on the pseudonyms; every band from
    the same resamples) and the mean estimated probability. A band without test referrals has
    NaN rates."""
    band = predictions["band"].astype(str).to_numpy()
    y = predictions["y"].to_numpy(dtype=float)
    p = predictions["probability"].to_numpy(dtype=float)
    members = np.array([band == name for name in names], dtype=float)  # bands x rows
    n = members.sum(axis=1)
    positives = members @ y
    draw = cluster_sampler(len(y), predictions["child_id"].to_numpy())
    rng = np.random.default_rng(seed)
    replicates = np.empty((samples, len(names)))
    for r in range(samples):
        counts = np.bincount(draw(rng), minlength=len(y)).astype(float)
        replicates[r] = divide(members @ (counts * y), members @ counts)
    intervals = [percentile_interval(replicates[:, b]) for b in range(len(names))]
    return pd.DataFrame(
        {
            "band": list(names),
            "test_referrals": n.astype(int),
            "test_outcomes": np.round(positives).astype(int),
            "observed_rate": divide(positives, n),
            "observed_low": [lo for lo, _ in intervals],
            "observed_high": [hi for _, hi in intervals],
            "mean_probability": divide(members @ p, n),
        }
    )
