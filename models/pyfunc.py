"""The MLflow pyfunc: feature columns in; probability, band and reasons out.

The fitted ``FrontDoorModel`` is pickled inside the python model (cloudpickle). Numeric inputs
are cast to float64 (and strings encoded) before predicting, so integer columns, missing values
and pandas dtypes do not trip the model; it never sees a pandas ``category`` column.
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from frontdoor.models.bundle import OUTPUT_COLUMNS, FrontDoorModel


class FrontDoorPyfunc(mlflow.pyfunc.PythonModel):
    def __init__(self, model: FrontDoorModel):
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        return self.model.score_frame(frame)[OUTPUT_COLUMNS].reset_index(drop=True)


def pip_requirements() -> list[str]:
    """Pinned to what is installed (inferring them costs seconds and lists unrelated packages)."""
    from importlib.metadata import version

    names = [
        "mlflow",
        "pandas",
        "numpy",
        "scikit-learn",
        "lightgbm",
        "shap",
        "pandera",
        "cloudpickle",
    ]
    return [f"{n}=={version(n)}" for n in names]
