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
