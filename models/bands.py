"""Risk bands fixed on the training distribution.

The band edges are quantiles of the calibrated probabilities of the training referrals
(by default the 50th, 80th and 95th percentiles: low / medium / high / very high). They are
fixed when the model is trained and travel with it, so a band means the same thing on every
day the model is used: "very high" is the top 5% of the referrals it learned from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator


class Bands(BaseEstimator):
    def __init__(self, quantiles=(0.5, 0.8, 0.95), names=("low", "medium", "high", "very high")):
        self.quantiles = quantiles
        self.names = names

    def fit(self, probabilities, y=None):
        q = list(self.quantiles)
        if len(self.names) != len(q) + 1:
            raise ValueError("There must be one more band name than band edges.")
        if q != sorted(q) or not all(0.0 < v < 1.0 for v in q):
            raise ValueError("Band edges must be increasing quantiles strictly between 0 and 1.")
        p = np.asarray(probabilities, dtype=float)
        self.edges_ = np.quantile(p[~np.isnan(p)], q)
        return self

    def transform(self, probabilities) -> np.ndarray:
        idx = np.searchsorted(self.edges_, np.asarray(probabilities, dtype=float), side="right")
        return np.asarray(self.names, dtype=object)[idx]

    def table(self) -> pd.DataFrame:
        """Each band with its probability range (lower edge inclusive)."""
        lows = [0.0, *self.edges_]
        highs = [*self.edges_, 1.0]
        qs = [0.0, *self.quantiles]
        qe = [*self.quantiles, 1.0]
        return pd.DataFrame(
            {
                "band": list(self.names),
                "from_probability": lows,
                "to_probability": highs,
                "training_share": np.round(np.subtract(qe, qs), 4),
            }
        )
