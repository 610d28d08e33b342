"""The notebooks run top to bottom on a tiny demo's output and show their figures.

A tiny demo's output (the council's tables, its feature table, two registered versions in
MLflow, an audit), made by the room functions the demo flow calls, is what they read; each
notebook is executed by a real Jupyter kernel (jupytext + nbclient) with the backend a notebook
gets (inline: no MPLBACKEND forced), and must leave PNG figures in its outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.support.settings import TEST_KEY

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebooks")]

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9]*.py"))
# The figures each notebook draws (a notebook that shows fewer has lost its plots).
FIGURES = {"01": 3, "02": 6, "03": 4}


def png_outputs(notebook: nbformat.NotebookNode) -> int:
    """How many figures an executed notebook shows (image/png outputs)."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def execute(notebook: nbformat.NotebookNode, folder: Path, env: dict[str, str]) -> None:
    """Run every cell in a real kernel started with ``env`` (an error in a cell raises)."""
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=env)


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """What a tiny demo leaves in its folder, made by the same room functions its flow calls
    (without starting Prefect): the synthetic council ingested, the feature table at its
    default path, two trained and registered versions in MLflow, the first one audited. Returns
    the folder and the environment a notebook of it runs in (FRONTDOOR_CONFIG)."""
    from frontdoor.features.run import build_and_write
    from frontdoor.governance.version_audit import audit_model_version
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.models.run import train_and_register
    from frontdoor.records.feature_table import default_feature_path, read_truth
    from frontdoor.settings import load_settings
    from frontdoor.synth.council import generate, write_council

    root = tmp_path_factory.mktemp("demo")
    config = root / "frontdoor.yaml"
    config.write_text(
        "demo_mode: true\n"  # the demo's own setting (demo mode is opt-in, issue 16)
        f"paths: {{root: '{root}'}}\n"
        f"privacy: {{pseudonym_key: {TEST_KEY}}}\n"
        f"tracking: {{tracking_uri: 'sqlite:///{root}/mlflow.db'}}\n"
        f"review: {{database_url: 'sqlite:///{root}/review.db'}}\n"
        "synth: {children: 3000}\n"
        "models: {bootstrap_samples: 20, explain_sample: 300, "
        "lightgbm: {n_estimators: 60, min_child_samples: 20}}\n"
        "fairness: {bootstrap_samples: 20}\n",
        encoding="utf-8",
    )
    settings = load_settings(config)
    raw = write_council(generate(settings), settings.resolve(settings.paths.synthetic))
    canonical = settings.resolve(settings.paths.canonical)
    ingest_sources([raw], canonical, settings)
    features = default_feature_path(settings)
    build_and_write(canonical, features, settings, read_truth(settings))
    label = settings.models.primary_label
    table = pd.read_parquet(features)
    for _ in range(2):  # two versions to compare
        train_and_register(table, label, settings, source=features)
    audit_model_version(settings, label, "1")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDOOR_", "MPLBACKEND"))}
    return root, env | {"FRONTDOOR_CONFIG": str(config)}


def test_there_are_three_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == sorted(FIGURES)


def test_a_notebook_without_figures_is_caught(tmp_path):
    """The check below can fail: the same plot under a non-interactive backend shows nothing."""
    source = "# %%\nimport matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()\n"
    env = dict(os.environ)
    shown = jupytext.reads(source, fmt="py:percent")
    execute(shown, tmp_path, {k: v for k, v in env.items() if k != "MPLBACKEND"})
    hidden = jupytext.reads(source, fmt="py:percent")
    execute(hidden, tmp_path, env | {"MPLBACKEND": "Agg"})
    assert png_outputs(shown) == 1
    assert png_outputs(hidden) == 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_demo_output_and_shows_its_figures(path: Path, demo_output):
    root, env = demo_output
    notebook = jupytext.read(path)
    execute(notebook, root, env)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    figures = png_outputs(notebook)
    assert figures >= FIGURES[path.name[:2]], f"{path.name} shows {figures} figures"
