"""Test support: settings, contract-valid tables, councils and servers shared by the tests.

Import from here (``from tests.support import make_settings``), never from ``conftest``:

- ``tests.support.settings``: isolated settings (tmp folder, test key, sqlite MLflow store);
- ``tests.support.tables``: THE generator of small contract-valid canonical tables (raw ids),
  tables from hand-written rows, and what ingestion should make of them;
- ``tests.support.features``: random histories and the slow reference oracle of every feature;
- ``tests.support.feature_table``: a toy feature table with a known true probability;
- ``tests.support.fairness``, ``tests.support.synth``: those rooms' test data and checks;
- ``tests.support.ingest_workbooks``, ``tests.support.ingest_corpus``: Annex A workbooks and
  the malformed-extract corpus;
- ``tests.support.postgres``, ``tests.support.servers``: a throwaway PostgreSQL cluster and a
  real ``mlflow server`` on loopback;
- ``tests.support.review``: signing in to the review app in tests.
"""

from tests.support.settings import SMALL, TEST_KEY, make_settings, small_settings

__all__ = ["SMALL", "TEST_KEY", "make_settings", "small_settings"]
