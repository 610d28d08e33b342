"""The estimators: a scorecard logistic regression, monotone LightGBM and the current-practice rule.

All follow scikit-learn's conventions (``fit``/``predict_proba``, fitted attributes end in
``_``, ``get_feature_names_out``) and expose the same two extra methods the rest of the room
relies on: ``decision_function`` (the margin, on the log-odds scale) and ``contributions``
(per-row, per-feature additive contributions and a base value whose sum is the margin).
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from frontdoor.models import declared


def _frame(X, columns: list[str] | None = None) -> pd.DataFrame:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=columns)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"The input lacks the model's feature columns: {missing}")
        frame = frame[columns]
    return frame.astype("float64")


def _longest(values: np.ndarray) -> float:
    """The fill of a "days since" feature that never happened: the longest gap seen; 0 for a
    column empty in training, as ``keep_empty_features`` fills the others (a callable
    strategy's NaN would drop the column instead, and the scorecard's frame would lose it)."""
    return float(np.max(values)) if values.size else 0.0


def _impute_and_standardise(columns: list[str]) -> Pipeline:
    """Fill missing values from training, then standardise, keeping the columns' order.

    A "days since the last ..." feature is missing when it never happened: filled with the
    longest gap seen in training (never = longer ago than anything); any other with the median;
    a column empty in training with 0 (``keep_empty_features``).
    """
    never = [c for c in columns if declared.missing_means_never(c)]
    others = [c for c in columns if c not in never]
    impute = ColumnTransformer(
        [
            ("never", SimpleImputer(strategy=_longest, keep_empty_features=True), never),
            ("median", SimpleImputer(strategy="median", keep_empty_features=True), others),
        ],
        verbose_feature_names_out=False,
    )
    steps = [
        ("impute", impute),
        ("order", FunctionTransformer(itemgetter(columns))),  # back to the model's order
        ("scale", StandardScaler()),
    ]
    return Pipeline(steps).set_output(transform="pandas")


def sign_constrained_logistic(
    z: np.ndarray, y: np.ndarray, signs: list[int], C: float, max_iter: int
) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression (scikit-learn's objective: C x log-loss + |w|^2 / 2)
    with each coefficient kept on its declared side (+1: >= 0, -1: <= 0, 0: free).

    Why: overlapping windows (7, 90, 365 days) are collinear, and an unconstrained fit gives some
    of them the opposite sign ("8 contacts from the police: lowers"). scikit-learn's
    LogisticRegression has no bounds, so the same objective goes to scipy's L-BFGS-B."""
    from scipy.optimize import minimize

    y = np.asarray(y, dtype=float)
    n_features = z.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        m = z @ w + b
        value = C * float(np.sum(np.logaddexp(0.0, m) - y * m)) + 0.5 * float(w @ w)
        residual = C * (1.0 / (1.0 + np.exp(-m)) - y)
        return value, np.r_[z.T @ residual + w, residual.sum()]

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    fitted = minimize(
        loss,
        np.zeros(n_features + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None)],
        options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-12},
    )
    return fitted.x[:-1].copy(), float(fitted.x[-1])


def _sigmoid(margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-margin))


class _MarginModel(ClassifierMixin, BaseEstimator):
    """Shared behaviour: probabilities from the margin, feature names out."""

    def predict_proba(self, X) -> np.ndarray:
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.feature_names_in_, dtype=object)


class ScorecardLogistic(_MarginModel):
    """L2-regularised logistic regression on standardised features: a readable scorecard.

    Missing values are filled from training and the features standardised by a scikit-learn
    pipeline (``prepare_``; fills in ``fill_values_``, see ``_impute_and_standardise``). The
    contribution of a feature is its coefficient times its standardised value, so the base
    value is the intercept (the margin of an average referral) and the sum is exact.
    """

    def __init__(
        self,
        C: float = 0.5,
        max_iter: int = 2000,
        sign_constrained: bool = True,
        random_state: int | None = None,
    ):
        self.C = C
        self.max_iter = max_iter
        self.sign_constrained = sign_constrained
        self.random_state = random_state

    def fit(self, X, y):
        frame = _frame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.prepare_ = _impute_and_standardise(list(frame.columns)).fit(frame)
        impute = self.prepare_.named_steps["impute"]
        fills = pd.concat(
            [
                pd.Series(t.statistics_, index=t.feature_names_in_)
                for t in (impute.named_transformers_[n] for n in ("never", "median"))
                if hasattr(t, "statistics_")
            ]
        )
        self.fill_values_ = fills.reindex(frame.columns)
        scaler = self.prepare_.named_steps["scale"]
        self.mean_, self.scale_ = scaler.mean_, scaler.scale_
        z, target = self._standardised(frame), np.asarray(y, dtype=int)
        if self.sign_constrained:
            signs = [declared.monotone(c) for c in frame.columns]
            self.coef_, self.intercept_ = sign_constrained_logistic(
                z, target, signs, self.C, self.max_iter
            )
            self.classes_ = np.array([0, 1])
            return self
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        lr.fit(z, target)
        self.classes_ = lr.classes_
        self.coef_ = lr.coef_[0].copy()
        self.intercept_ = float(lr.intercept_[0])
        return self

    def reference_values(self) -> np.ndarray:
        """The referral every contribution is measured against: the training means (a feature
        above its mean raises the score exactly when its coefficient is positive)."""
        return np.asarray(self.mean_, dtype=float)

    def _standardised(self, X) -> np.ndarray:
        frame = _frame(X, list(self.feature_names_in_))
        return self.prepare_.transform(frame).to_numpy()

    def decision_function(self, X) -> np.ndarray:
        return self._standardised(X) @ self.coef_ + self.intercept_

    def contributions(self, X) -> tuple[np.ndarray, float]:
        return self._standardised(X) * self.coef_, self.intercept_

    def scorecard(self) -> pd.DataFrame:
        """Coefficients per standard deviation and per unit, with odds ratios, largest first."""
        per_unit = self.coef_ / self.scale_
        card = pd.DataFrame(
            {
                "feature": self.feature_names_in_,
                "family": [declared.family(n) for n in self.feature_names_in_],
                "coef_per_sd": self.coef_,
                "odds_ratio_per_sd": np.exp(self.coef_),
                "coef_per_unit": per_unit,
                "odds_ratio_per_unit": np.exp(per_unit),
                "training_mean": self.mean_,
                "training_sd": self.scale_,
                "fill_value": self.fill_values_.to_numpy(),
            }
        )
        card["direction"] = np.where(card["coef_per_sd"] >= 0, "raises", "lowers")
        order = card["coef_per_sd"].abs().sort_values(ascending=False).index
        return card.loc[order].reset_index(drop=True)


class MonotoneLightGBM(_MarginModel):
    """LightGBM whose direction follows the declarations where the domain is clear.

    With ``monotone=True`` each feature's constraint is its declared direction (+1: more
    earlier referrals never lowers the risk). The resolved constraints are kept in
    ``monotone_constraints_``. Explanations are TreeSHAP values on the log-odds scale.
    """

    def __init__(
        self,
        n_estimators: int = 400,
        learning_rate: float = 0.03,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        subsample: float = 0.8,
        subsample_freq: int = 1,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        min_split_gain: float = 0.0,
        monotone: bool = True,
        random_state: int | None = None,
        n_jobs: int = 1,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.min_split_gain = min_split_gain
        self.monotone = monotone
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y):
        import lightgbm as lgb

        frame = _frame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        # "never" (a missing "days since") is longer ago than anything seen, so the constraint
        # orders it too; LightGBM would otherwise send missing values to either side.
        never = [c for c in frame.columns if declared.missing_means_never(c)]
        self.never_fill_ = (frame[never].max().fillna(0.0) + 1.0).to_dict()
        frame = frame.fillna(self.never_fill_)
        self.reference_ = frame.median().fillna(0.0).to_numpy()
        self.monotone_constraints_ = [
            declared.monotone(n) if self.monotone else 0 for n in frame.columns
        ]
        self.model_ = lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=self.subsample_freq,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            min_split_gain=self.min_split_gain,
            monotone_constraints=self.monotone_constraints_,
            # "advanced" breaks the constraints in LightGBM 4.7 (measured: a -1 feature raised the
            # margin by 0.019); "intermediate" keeps them and is tighter than "basic".
            monotone_constraints_method="intermediate",
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_col_wise=True,
            verbose=-1,
        )
        self.model_.fit(frame, np.asarray(y, dtype=int))
        self.classes_ = self.model_.classes_
        return self

    def _inputs(self, X) -> pd.DataFrame:
        return _frame(X, list(self.feature_names_in_)).fillna(self.never_fill_)

    def decision_function(self, X) -> np.ndarray:
        return self.model_.predict(self._inputs(X), raw_score=True)

    def decision_function_at(self, X, n_trees: int) -> np.ndarray:
        """The margin of the first ``n_trees`` trees: what the same settings with
        ``n_estimators=n_trees`` would give (boosting and its seeded bagging are sequential), so
        one fit scores every tree count (the tuning search's early-stopping-like counts).
        Exactly so while every round adds a tree; with ``min_split_gain`` > 0 a round may add
        none, and the first n trees are then more rounds than a fit of n (docs/models.md)."""
        if not 1 <= n_trees <= self.n_estimators:
            raise ValueError(f"n_trees must be 1..{self.n_estimators}, not {n_trees}")
        return self.model_.predict(self._inputs(X), raw_score=True, num_iteration=n_trees)

    def reference_values(self) -> np.ndarray:
        """The referral every contribution is measured against: the training medians."""
        return np.asarray(self.reference_, dtype=float)

    def _explainer(self):
        """TreeSHAP against one reference referral (the training medians), interventional.

        Why not the default (path-dependent) TreeSHAP: with one reference point each SHAP value
        averages differences f(x with this feature) - f(x with the reference's), and the model
        is monotone in every constrained feature, so a feature above the reference never
        lowers the score when declared to raise it (and vice versa): no reason contradicts its
        declared direction. The sum is still exact: base value f(reference) + contributions =
        margin."""
        cached = self.__dict__.get("_shap_explainer")
        if cached is None:
            import shap

            reference = pd.DataFrame([self.reference_], columns=list(self.feature_names_in_))
            cached = shap.TreeExplainer(
                self.model_.booster_,
                data=reference,
                feature_perturbation="interventional",
                model_output="raw",
            )
            self.__dict__["_shap_explainer"] = cached
        return cached

    def contributions(self, X) -> tuple[np.ndarray, float]:
        frame = self._inputs(X)
        explainer = self._explainer()
        # called, not .shap_values(): the current API (the old one warns for every LightGBM
        # binary model); the same numbers, as an Explanation
        values = explainer(frame).values
        if values.ndim == 3:  # one slice per class: keep the positive class
            values = values[..., -1]
        base = explainer.expected_value
        base = float(np.ravel(base)[-1])
        return np.asarray(values, dtype=float), base

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_shap_explainer", None)
        return state

    def feature_importance(self) -> pd.DataFrame:
        booster = self.model_.booster_
        return pd.DataFrame(
            {
                "feature": self.feature_names_in_,
                "gain": booster.feature_importance("gain"),
                "splits": booster.feature_importance("split"),
                "monotone": self.monotone_constraints_,
            }
        ).sort_values("gain", ascending=False, ignore_index=True)


class CurrentPracticeRule(_MarginModel):
    """The rule to beat: flag when a child has ``min_count`` or more referrals in 12 months.

    Its score is the flag itself (1.0 or 0.0); there is nothing to fit but the column check.
    """

    def __init__(self, feature: str = "referrals_365d", min_count: int = 2):
        self.feature = feature
        self.min_count = min_count

    def fit(self, X, y=None):
        frame = _frame(X)
        if self.feature not in frame.columns:
            raise ValueError(
                f"The current-practice rule needs the feature {self.feature!r}; "
                "set models.current_practice_rule_feature."
            )
        self.feature_names_in_ = np.asarray([self.feature], dtype=object)
        self.n_features_in_ = 1
        self.classes_ = np.array([0, 1])
        return self

    def flags(self, X) -> np.ndarray:
        values = _frame(X, [self.feature])[self.feature].fillna(0.0).to_numpy()
        return (values >= self.min_count).astype(float)

    def predict_proba(self, X) -> np.ndarray:
        f = self.flags(X)
        return np.column_stack([1.0 - f, f])

    def decision_function(self, X) -> np.ndarray:
        return self.flags(X)
