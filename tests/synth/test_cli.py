"""`frontdoor synth` writes a council and prints rows and rates."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.records.contract import TABLES


def test_synth_command_writes_and_reports(tmp_path):
    out = tmp_path / "council"
    result = CliRunner().invoke(
        app,
        ["synth", "--children", "1500", "--years", "3", "--seed", "5", "--out", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for name in TABLES:
        assert (out / f"{name}.parquet").exists()
        assert name in result.output
    assert (out / "ground_truth" / "ground_truth.parquet").exists()
    assert "Achieved rates" in result.output
    assert "re-referral" in result.output or "previous" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["children"] == 1500 and manifest["years"] == 3 and manifest["seed"] == 5
    assert manifest["bias"]["surveillance_bias"]["enabled"] is False


def test_synth_command_switches_the_knobs(tmp_path):
    out = tmp_path / "biased"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--children",
            "800",
            "--years",
            "2",
            "--out",
            str(out),
            "--surveillance-bias",
            "--under-recording-bias",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    bias = json.loads((out / "manifest.json").read_text())["bias"]
    assert bias["surveillance_bias"]["enabled"] and bias["under_recording_bias"]["enabled"]
