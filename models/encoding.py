"""Model inputs as numbers: numeric columns pass through, string columns become indicators.

Only needed when sensitive characteristics are model inputs
(``features.use_sensitive_as_inputs``): ``sex`` and ``ethnicity_group`` are strings. Each
string column becomes one 0/1 column per category seen in training (``sex=F``), in place; a
category not seen in training, or a missing value, sets none of them. scikit-learn's
``OneHotEncoder`` in a ``ColumnTransformer`` with pandas output does the work; the categories
are the training's non-missing values as text, so a missing value is never a category. Never a
pandas ``category`` dtype (it breaks pyfunc).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder

SEPARATOR = "="


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _indicator_name(feature: str, category: str) -> str:
    return f"{feature}{SEPARATOR}{category}"


class InputEncoder(TransformerMixin, BaseEstimator):
    def fit(self, X: pd.DataFrame, y=None):
        frame = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.categories_ = {
            c: sorted(str(v) for v in frame[c].dropna().unique())
            for c in frame.columns
            if not _is_numeric(frame[c])
        }
        steps = [
            (
                c,
                OneHotEncoder(
                    categories=[self.categories_[c]],
                    handle_unknown="ignore",
                    sparse_output=False,
                    feature_name_combiner=_indicator_name,
                ),
                [c],
            )
            if c in self.categories_
            else (c, "passthrough", [c])
            for c in frame.columns
        ]
        self.transformer_ = ColumnTransformer(steps, verbose_feature_names_out=False)
        self.transformer_.set_output(transform="pandas").fit(self._as_text(frame))
        return self

    def _as_text(self, frame: pd.DataFrame) -> pd.DataFrame:
        """String columns as text (missing stays missing: never a category), numbers as floats."""
        out = {}
        for c in self.feature_names_in_:
            if c in self.categories_:
                out[c] = frame[c].astype(object).map(str).where(frame[c].notna(), np.nan)
            else:
                out[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
        return pd.DataFrame(out, index=frame.index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.transformer_.get_feature_names_out(), dtype=object)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(X)
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise ValueError(f"The input lacks the model's feature columns: {missing}")
        if not self.categories_:
            return frame[list(self.feature_names_in_)].astype("float64")
        return self.transformer_.transform(self._as_text(frame)).astype("float64")
