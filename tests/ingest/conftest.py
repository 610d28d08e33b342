"""Makes this folder's helpers (``ingest_workbooks``, ``ingest_corpus``) importable by its tests."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)
