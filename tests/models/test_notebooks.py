"""The three notebooks run top to bottom on a small council, so they never rot (jupytext + nbclient)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from conftest import TEST_KEY
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9]*.py"))


def test_there_are_three_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    small = {
        "FRONTDOOR_CONFIG": str(tmp_path / "none.yaml"),
        "FRONTDOOR_PATHS__ROOT": str(tmp_path),
        "FRONTDOOR_PRIVACY__PSEUDONYM_KEY": TEST_KEY,
        "FRONTDOOR_DEMO_MODE": "true",  # as before demo mode became opt-in (issue 16)
        "FRONTDOOR_TRACKING__TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "FRONTDOOR_SYNTH__CHILDREN": "6000",
        "FRONTDOOR_MODELS__BOOTSTRAP_SAMPLES": "20",
        "FRONTDOOR_MODELS__LIGHTGBM__N_ESTIMATORS": "60",
        "FRONTDOOR_MODELS__LIGHTGBM__MIN_CHILD_SAMPLES": "20",
        "MPLBACKEND": "Agg",
    }
    for key, value in small.items():
        monkeypatch.setenv(key, value)
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") in ("execute_result", "display_data") for o in outputs)
