"""A real trained, registered and audited model on the toy feature table, shared by the
governance tests (real MLflow store in a temporary folder, real promotion log)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.feature_table import toy_feature_table

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))


@pytest.fixture(scope="session")
def governance_table():
    return toy_feature_table(4000, seed=0)


@pytest.fixture(scope="session")
def governed(governance_table, tmp_path_factory):
    """v1 (a sound model) promoted by a named person; v2 (3 trees of 2 leaves) trained and
    audited on the same table, so both have the same test referrals."""
    from governance_helpers import (
        FAST,
        LABEL,
        OVERRIDE,
        POOR,
        features_file,
        governed_settings,
        train_audit,
    )

    from frontdoor.governance.promotion import promote

    root = tmp_path_factory.mktemp("governed")
    settings = governed_settings(root, FAST)
    features = features_file(governance_table, settings)
    good = train_audit(governance_table, settings)
    first = promote(settings, LABEL, good, OVERRIDE, by="Head of data, test", features=features)
    poor = train_audit(governance_table, settings, models=POOR)
    return settings, features, good, poor, first
