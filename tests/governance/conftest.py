"""A real trained, registered and audited model on the toy feature table, shared by the
governance tests (real MLflow store in a temporary folder, real promotion log)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

_spec = importlib.util.spec_from_file_location("models_toy", HERE.parent / "models" / "conftest.py")
models_toy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(models_toy)
toy_feature_table = models_toy.toy_feature_table

FAST = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 60}, "explain_sample": 200}
POOR = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 3, "num_leaves": 2}, "explain_sample": 200}


@pytest.fixture(scope="session")
def governance_table():
    return toy_feature_table(4000, seed=0)
