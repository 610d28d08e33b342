"""Makes the fairness tests' helpers (fairness_helpers.py beside this file) importable."""

import sys
from pathlib import Path

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # after tests/, so `conftest` stays the shared one
