"""The gap to the oracle and the learning curve in the governance report (issue 15).

Read from what ``frontdoor oracle-gap`` logged to the model's run (``models.oracle_gap``): the
decomposition (oracle, ceiling of the records, floor of estimation, the model), the learning
curve with its plot, and the one sentence that tells the council whether it has enough history
for a model to be worth using. Nothing is computed here.
"""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from frontdoor.models.oracle_gap import ARTIFACTS
from frontdoor.models.tracking import client
from frontdoor.settings import Settings

COMPONENT_TEXT = {
    "oracle": "the oracle: the generator's true probability, the best any model could do",
    "ceiling": "the ceiling of the records: the oracle predicted from the records alone, "
    "with unlimited data",
    "floor": "the floor of estimation: the same model trained on this council's decisions, "
    "but given perfect information",
    "model": "this model",
}


def _fetch(run_id: str, artifact: str, folder: Path) -> Path | None:
    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=artifact, dst_path=str(folder)
            )
        )
    except Exception:  # not logged for this run
        return None


def _table(path: Path | None) -> pd.DataFrame | None:
    if path is None or not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame(data["data"], columns=data["columns"])


def oracle_gap_section(settings: Settings, run_id: str) -> dict | None:
    """What the report's oracle-gap section shows, or None when the run has none logged."""
    client(settings)  # the run's tracking URI for the downloads
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        decomposition = _table(_fetch(run_id, ARTIFACTS["decomposition"], folder))
        curve = _table(_fetch(run_id, ARTIFACTS["curve"], folder))
        plot = _fetch(run_id, ARTIFACTS["plot"], folder)
        sentence = _fetch(run_id, ARTIFACTS["sentence"], folder)
        if decomposition is None or curve is None:
            return None
        image = (
            "data:image/png;base64," + base64.b64encode(plot.read_bytes()).decode("ascii")
            if plot is not None and plot.exists()
            else None
        )
        sentence_text = sentence.read_text(encoding="utf-8") if sentence is not None else ""
    # MLflow appends a re-logged table to the old one: the newest rows are the ones that count
    decomposition = decomposition.drop_duplicates("component", keep="last")
    curve = curve.drop_duplicates("fraction", keep="last")
    d = decomposition.set_index("component")
    rows = [
        {"component": c, "text": COMPONENT_TEXT.get(c, c), **d.loc[c].to_dict()} for c in d.index
    ]
    auc = d["auc"]
    return {
        "rows": rows,
        "total": float(auc["oracle"] - auc["model"]),
        "missing": float(auc["oracle"] - auc["ceiling"]),
        "too_little": float(auc["ceiling"] - auc["model"]),
        "floor_gap": float(auc["oracle"] - auc["floor"]),
        # the model's gap is told apart from noise only when its interval excludes 0
        "gap_clear": bool(d.loc["model", "gap_low"] > 0),
        "gap_low": float(d.loc["model", "gap_low"]),
        "gap_high": float(d.loc["model", "gap_high"]),
        "curve": curve.to_dict("records"),
        "plot": image,
        "sentence": sentence_text,
    }
