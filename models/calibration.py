"""Calibration on a later slice of time: a map from the model's margin to a probability.

The base model is fitted on the training window; the calibrator is fitted on the margins of
the (later) calibration window, so the probabilities reflect how often flagged referrals
really led to the outcome afterwards. No resampling: class balance is left as it is.

Why not ``CalibratedClassifierCV(FrozenEstimator(base))``: measured on 3,000 margins
(scikit-learn 1.9.1) it does not give the same numbers. Its sigmoid is Platt's original, fitted to
smoothed targets ((n+ + 1)/(n+ + 2)), not the maximum-likelihood logistic fit of the outcomes:
probabilities differ by up to 5e-4 (the default method here is sigmoid). Its isotonic map returns
exact 0 and 1, which a case page would show as "no chance"; this one keeps them within 1e-6.
It also needs the feature frame, not the margin, while the bands' probability ranges and the
scoring path map margins. So the calibrator stays a thin wrapper over scikit-learn's own
``IsotonicRegression`` and ``LogisticRegression``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("isotonic", "sigmoid")
_EPS = 1e-6


class MarginCalibrator(BaseEstimator):
    """Isotonic regression or Platt scaling of the margin (log-odds) onto observed outcomes."""

    def __init__(self, method: str = "isotonic"):
        self.method = method

    def fit(self, margin, y):
        if self.method not in METHODS:
            raise ValueError(f"Unknown calibration method {self.method!r}; use one of {METHODS}")
        m = np.asarray(margin, dtype=float).reshape(-1)
        y = np.asarray(y, dtype=float).reshape(-1)
        if len(np.unique(y)) < 2:
            raise ValueError("The calibration window holds only one outcome class.")
        if self.method == "isotonic":
            self.isotonic_ = IsotonicRegression(
                y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip"
            ).fit(m, y)
        else:
            self.platt_ = LogisticRegression(C=1e6, max_iter=1000).fit(m.reshape(-1, 1), y)
        self.n_calibration_ = len(y)
        return self

    def predict(self, margin) -> np.ndarray:
        m = np.asarray(margin, dtype=float).reshape(-1)
        if self.method == "isotonic":
            p = self.isotonic_.predict(m)
        else:
            p = self.platt_.predict_proba(m.reshape(-1, 1))[:, 1]
        return np.clip(p, _EPS, 1.0 - _EPS)


class CalibratedModel(BaseEstimator):
    """A fitted margin model plus the calibrator fitted on a later window."""

    def __init__(self, base=None, method: str = "isotonic"):
        self.base = base
        self.method = method

    def fit(self, X, y, extra_margin=None, extra_y=None):
        """Calibrate on the margins of ``X`` (the later window), plus, when given, margins
        already computed elsewhere (``extra_margin``: out-of-fold margins of the training
        window, ``models.train.cross_fitted_margins``) with their outcomes ``extra_y``."""
        margin = self.base.decision_function(X)
        y = np.asarray(y, dtype=float).reshape(-1)
        if extra_margin is not None:
            margin = np.concatenate([np.asarray(extra_margin, dtype=float).reshape(-1), margin])
            y = np.concatenate([np.asarray(extra_y, dtype=float).reshape(-1), y])
        self.calibrator_ = MarginCalibrator(self.method).fit(margin, y)
        self.feature_names_in_ = self.base.feature_names_in_
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        return self.base.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        p = self.calibrator_.predict(self.base.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def contributions(self, X):
        return self.base.contributions(X)

    def get_feature_names_out(self, input_features=None):
        return self.base.get_feature_names_out(input_features)
