"""The MLflow pyfunc: feature columns in; probability, band and reasons out.

Logged as *models from code* (MLflow 3's recommended way): the model's code is the file
``models/pyfunc_code.py`` (which names `FrontDoorPyfunc` with ``mlflow.models.set_model``) and
the fitted ``FrontDoorModel`` travels as an artifact (``bundle``), read in ``load_context``; no
cloudpickled Python object is stored. Numeric inputs are cast to float64 (and strings encoded)
before predicting, so integer columns, missing values and pandas dtypes do not trip the model;
it never sees a pandas ``category`` column.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from frontdoor.models.bundle import OUTPUT_COLUMNS, FrontDoorModel

BUNDLE = "bundle"  # the artifact key of the pickled FrontDoorModel
CODE_FILE = Path(__file__).with_name("pyfunc_code.py")


class FrontDoorPyfunc(mlflow.pyfunc.PythonModel):
    def __init__(self, model: FrontDoorModel | None = None):
        self.model = model

    def load_context(self, context) -> None:
        if self.model is None:
            self.model = read_bundle(Path(context.artifacts[BUNDLE]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        return self.model.score_frame(frame)[OUTPUT_COLUMNS].reset_index(drop=True)


def write_bundle(model: FrontDoorModel, path: Path) -> Path:
    path.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return path


def read_bundle(path: Path) -> FrontDoorModel:
    model = pickle.loads(Path(path).read_bytes())
    if not isinstance(model, FrontDoorModel):
        raise TypeError(f"{path} does not hold a FrontDoorModel")
    return model


def pip_requirements() -> list[str]:
    """Pinned to what is installed (inferring them costs seconds and lists unrelated packages)."""
    from importlib.metadata import version

    names = ["mlflow", "pandas", "numpy", "scikit-learn", "lightgbm", "shap", "pandera"]
    return [f"{n}=={version(n)}" for n in names]
