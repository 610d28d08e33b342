"""The models tests' shared data: a toy feature table (tests.support.feature_table), once."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.feature_table import toy_feature_table


@pytest.fixture(scope="session")
def toy_table() -> pd.DataFrame:
    return toy_feature_table(4000, seed=0)
