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

``"spline"`` (the default): the log-odds of the outcome are a continuous piecewise-linear,
strictly increasing function of the margin, with ``knots`` interior knots at equal-mass quantiles
of the calibration margins (Platt is the case of no knots). Why: on the default council the
true log-odds (the oracle's) rise steeply with the margin over its lowest third (children with
little history) and flatly above it, a shape no logistic line can follow: Platt fitted to the
oracle's own probabilities on the test rows still leaves an ECE against them of 0.039
(escalation) and 0.026 (re-referral), where two knots leave 0.009 and 0.016 (docs/models.md,
"Third session"). Each segment's slope is kept at least ``min_slope`` (bounded maximum
likelihood, scipy's L-BFGS-B), so the map never ties two referrals (no AUC lost within a
window, unlike isotonic steps) and never reaches 0 or 1 inside the range.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("isotonic", "sigmoid", "spline")
_EPS = 1e-6


def spline_basis(margin: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Columns: 1, then the length of the margin inside each segment between consecutive knots
    (the outer two unbounded), so that log-odds = coef @ columns is piecewise linear with the
    segments' slopes as coefficients."""
    m = np.asarray(margin, dtype=float).reshape(-1)
    cols = [np.ones_like(m), np.minimum(m, knots[0]) - knots[0]]
    cols += [np.clip(m, lo, hi) - lo for lo, hi in zip(knots[:-1], knots[1:], strict=True)]
    cols.append(np.maximum(m, knots[-1]) - knots[-1])
    return np.column_stack(cols)


def fit_spline(
    margin: np.ndarray,
    y: np.ndarray,
    knots: np.ndarray,
    min_slope: float,
    sample_weight: np.ndarray | None = None,
):
    """Maximum-likelihood intercept and segment slopes, every slope at least ``min_slope``
    (each row's log-likelihood weighted by ``sample_weight``, when given)."""
    X = spline_basis(margin, knots)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)

    def loss(coef):
        z = X @ coef
        return float(np.sum(w * (np.logaddexp(0.0, z) - y * z))), X.T @ (w * (expit(z) - y))

    start = np.r_[0.0, np.ones(X.shape[1] - 1)]
    bounds = [(None, None)] + [(min_slope, None)] * (X.shape[1] - 1)
    fit = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return fit.x


class MarginCalibrator(BaseEstimator):
    """Isotonic regression, Platt scaling or a monotone linear spline of the margin (log-odds)
    onto observed outcomes (``knots`` and ``min_slope`` apply to the spline)."""

    def __init__(self, method: str = "isotonic", knots: int = 2, min_slope: float = 1e-3):
        self.method = method
        self.knots = knots
        self.min_slope = min_slope

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
        elif self.method == "spline":
            if self.knots < 1 or self.min_slope <= 0:
                raise ValueError("A spline calibrator needs knots >= 1 and min_slope > 0.")
            self.knots_ = np.quantile(m, np.linspace(0.0, 1.0, self.knots + 2)[1:-1])
            if np.any(np.diff(self.knots_) <= 0):
                raise ValueError(
                    "The calibration margins have too few distinct values for the knots."
                )
            self.coef_ = fit_spline(m, y, self.knots_, self.min_slope)
        else:
            self.platt_ = LogisticRegression(C=1e6, max_iter=1000).fit(m.reshape(-1, 1), y)
        self.n_calibration_ = len(y)
        return self

    def predict(self, margin) -> np.ndarray:
        m = np.asarray(margin, dtype=float).reshape(-1)
        if self.method == "isotonic":
            p = self.isotonic_.predict(m)
        elif self.method == "spline":
            p = expit(spline_basis(m, self.knots_) @ self.coef_)
        else:
            p = self.platt_.predict_proba(m.reshape(-1, 1))[:, 1]
        return np.clip(p, _EPS, 1.0 - _EPS)


class CalibratedModel(BaseEstimator):
    """A fitted margin model plus the calibrator fitted on a later window."""

    def __init__(self, base=None, method: str = "isotonic", knots: int = 2):
        self.base = base
        self.method = method
        self.knots = knots

    def fit(self, X, y, extra_margin=None, extra_y=None):
        """Calibrate on the margins of ``X`` (the later window), plus, when given, margins
        already computed elsewhere (``extra_margin``: out-of-fold margins of the training
        window, ``models.train.cross_fitted_margins``) with their outcomes ``extra_y``."""
        margin = self.base.decision_function(X)
        y = np.asarray(y, dtype=float).reshape(-1)
        if extra_margin is not None:
            margin = np.concatenate([np.asarray(extra_margin, dtype=float).reshape(-1), margin])
            y = np.concatenate([np.asarray(extra_y, dtype=float).reshape(-1), y])
        self.calibrator_ = MarginCalibrator(self.method, knots=self.knots).fit(margin, y)
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
