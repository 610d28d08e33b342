"""The deployable model: a calibrated estimator, its bands and how to explain it, in one object.

This is what is pickled inside the MLflow pyfunc and what scoring uses. Given the feature
columns of some referrals it returns, for each, the calibrated probability, the band and the
reasons (JSON list of ``records.scores.Reason``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.models.bands import Bands
from frontdoor.models.calibration import CalibratedModel
from frontdoor.models.encoding import InputEncoder
from frontdoor.models.explain import reasons_json

OUTPUT_COLUMNS = ["probability", "band", "reasons_json"]


class FrontDoorModel:
    """A trained, calibrated, banded model for one label."""

    def __init__(
        self,
        label: str,
        kind: str,
        estimator: CalibratedModel,
        bands: Bands,
        top_reasons: int = 3,
        encoder: InputEncoder | None = None,
    ):
        self.label = label
        self.kind = kind
        self.estimator = estimator
        self.bands = bands
        self.top_reasons = top_reasons
        self.encoder = encoder

    @property
    def input_columns(self) -> list[str]:
        """The feature-table columns the model reads (before encoding)."""
        if self.encoder is None:
            return self.feature_names
        return [str(n) for n in self.encoder.feature_names_in_]

    @property
    def feature_names(self) -> list[str]:
        """The estimator's columns (after encoding): what contributions and reasons are about."""
        return [str(n) for n in self.estimator.get_feature_names_out()]

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The estimator's columns, in order, as float64 (missing values stay NaN)."""
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise ValueError(f"The frame lacks the model's feature columns: {missing}")
        if self.encoder is not None:
            return self.encoder.transform(frame[self.input_columns])
        return frame[self.feature_names].astype("float64")

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.estimator.decision_function(self.inputs(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(self.inputs(frame))[:, 1]

    def band(self, frame: pd.DataFrame) -> np.ndarray:
        return self.bands.transform(self.margin(frame)).astype(str)

    def band_table(self) -> pd.DataFrame:
        """The bands with their margin and probability ranges (fixed on the training window)."""
        return self.bands.table(self.estimator.calibrator_.predict)

    def contributions(self, frame: pd.DataFrame) -> tuple[np.ndarray, float]:
        return self.estimator.contributions(self.inputs(frame))

    def score_frame(self, frame: pd.DataFrame, with_reasons: bool = True) -> pd.DataFrame:
        """Probability, band and reasons for each row (index preserved)."""
        X = self.inputs(frame)
        margin = self.estimator.decision_function(X)
        p = self.estimator.calibrator_.predict(margin)
        out = pd.DataFrame(
            {"probability": p, "band": self.bands.transform(margin).astype(str)},
            index=frame.index,
        )
        if with_reasons:
            contrib, _ = self.estimator.contributions(X)
            out["reasons_json"] = reasons_json(contrib, X, self.top_reasons)
        return out
