"""Model inputs as numbers: numeric columns pass through, string columns become indicators.

Only needed when sensitive characteristics are model inputs
(``features.use_sensitive_as_inputs``): ``sex`` and ``ethnicity_group`` are strings. Each
string column becomes one 0/1 column per category seen in training (``sex=F``); a category
not seen in training sets none of them. Never a pandas ``category`` dtype (it breaks pyfunc).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

SEPARATOR = "="


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


class InputEncoder(TransformerMixin, BaseEstimator):
    def fit(self, X: pd.DataFrame, y=None):
        frame = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.categories_ = {
            c: sorted(str(v) for v in frame[c].dropna().unique())
            for c in frame.columns
            if not _is_numeric(frame[c])
        }
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names: list[str] = []
        for c in self.feature_names_in_:
            if c in self.categories_:
                names += [f"{c}{SEPARATOR}{v}" for v in self.categories_[c]]
            else:
                names.append(c)
        return np.asarray(names, dtype=object)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(X)
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise ValueError(f"The input lacks the model's feature columns: {missing}")
        if not self.categories_:
            return frame[list(self.feature_names_in_)].astype("float64")
        out: dict[str, np.ndarray] = {}
        for c in self.feature_names_in_:
            if c in self.categories_:
                text = frame[c].astype(object).where(frame[c].notna(), None)
                for v in self.categories_[c]:
                    out[f"{c}{SEPARATOR}{v}"] = (text.astype(str) == v).to_numpy(dtype="float64")
            else:
                out[c] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64")
        return pd.DataFrame(out, index=frame.index)
