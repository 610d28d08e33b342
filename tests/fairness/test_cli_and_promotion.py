"""`frontdoor audit` on any scores, and auditing + promoting registered versions (real MLflow)."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.governance.fairness.tracking import TAG_GATE, metric_key_part
from frontdoor.governance.promotion import PromotionRefused, promote
from frontdoor.governance.version_audit import audit_model_version
from frontdoor.models import registry
from frontdoor.models.promotion_log import promotion_log
from frontdoor.models.tracking import client
from tests.support import make_settings
from tests.support.fairness import predictions, register_predictions

runner = CliRunner()


def vendor_scores(n: int = 2500, seed: int = 3) -> pd.DataFrame:
    """A vendor's 0-100 risk score; in area 'East' half its positives score low (missed)."""
    rng = np.random.default_rng(seed)
    area = rng.choice(["North", "South", "East", "Tiny"], n, p=[0.45, 0.332, 0.21, 0.008])
    risk = rng.integers(0, 100, n)
    outcome = (rng.random(n) < risk / 140).astype(int)
    missed = (area == "East") & (outcome == 1) & (rng.random(n) < 0.5)
    risk = np.where(missed, rng.integers(0, 20, n), risk)
    # 'Tiny' (too few to assess): no outcome and none flagged, so no small count of it forces
    # a large group's counts to be hidden with it (secondary suppression)
    outcome = np.where(area == "Tiny", 0, outcome)
    risk = np.where(area == "Tiny", 0, risk)
    return pd.DataFrame(
        {
            "vendor_score": risk,
            "outcome": outcome,
            "area": area,
            "band": rng.choice(["01", "02"], n),
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_audit_any_scores_file(tmp_path, suffix):
    frame = vendor_scores()
    path = tmp_path / f"scores{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "audit",
            "--scores",
            str(path),
            "--score",
            "vendor_score",
            "--label",
            "outcome",
            "--threshold",
            "60",
            "--group",
            "area",
            "--group",
            "band",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "prompt for professional review" in result.output and "East" in result.output
    record = json.loads((out / "audit.json").read_text())
    groups = record["characteristics"]["area"]["groups"]
    assert set(groups) == {"North", "South", "East", "Tiny"}
    assert set(record["characteristics"]["band"]["groups"]) == {"01", "02"}  # own values, as text
    assert record["characteristics"]["area"]["reference"] == "North"
    assert groups["Tiny"]["metrics"] == "too few to assess"
    flagged = frame["vendor_score"] >= 60
    east = frame["area"] == "East"
    positives = (frame["outcome"] == 1) & east
    assert groups["East"]["metrics"]["fnr"]["value"] == pytest.approx(
        (positives & ~flagged).sum() / positives.sum(), abs=1e-4
    )
    assert groups["East"]["disparities"]["fnr"]["value"] > 1.25
    assert record["overall"]["counts"]["n"] == len(frame)
    assert (
        record["score_is_probability"] is False
        and "calibration_gap" not in groups["East"]["metrics"]
    )
    assert record["gate"]["passed"] is False
    html = (out / "audit.html").read_text()
    assert '<img src="data:image/png;base64,' in html and "prompt for professional review" in html


def test_audit_refuses_bad_labels_and_missing_options(tmp_path):
    frame = vendor_scores().assign(outcome=lambda f: f["outcome"].astype(str).replace({"1": "yes"}))
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    args = [
        "audit",
        "--scores",
        str(path),
        "--score",
        "vendor_score",
        "--label",
        "outcome",
        "--threshold",
        "60",
        "--group",
        "area",
        "--out",
        str(tmp_path / "o"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "must hold 0 or 1" in result.output and "scores.csv" in result.output
    result = runner.invoke(app, ["audit", "--scores", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--score" in result.output


def test_reference_group_can_be_chosen(tmp_path):
    path = tmp_path / "scores.csv"
    vendor_scores().to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "audit",
            "--scores",
            str(path),
            "--score",
            "vendor_score",
            "--label",
            "outcome",
            "--threshold",
            "60",
            "--group",
            "area",
            "--reference",
            "area=South",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "audit.json").read_text())
    assert record["characteristics"]["area"]["reference"] == "South"
    assert (
        record["characteristics"]["area"]["groups"]["South"]["disparities"]["fnr"]["value"] == 1.0
    )


def test_sanitised_metric_names_are_unique():
    from frontdoor.governance.fairness.audit import GroupResult
    from frontdoor.governance.fairness.tracking import metric_keys

    class Two:
        groups = [GroupResult("age", "16+", {}, True), GroupResult("age", "16plus", {}, True)]

    assert sorted(metric_keys(Two).values()) == ["fairness/age/16plus", "fairness/age/16plus_2"]
    assert metric_key_part("16+") == "16plus"
    assert metric_key_part("White × Female") == "White_x_Female"
    assert metric_key_part("Not known or refused") == "Not_known_or_refused"
    assert metric_key_part("a/b (c)") == "a-b_c"


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_audit_logs_to_the_run_and_promotion_follows_the_gate(tmp_path):
    settings = make_settings(tmp_path, fairness={"bootstrap_samples": 100})
    label = "escalation_12m"
    fair = register_predictions(settings, predictions(n=5000, seed=1))
    unfair = register_predictions(
        settings, predictions(n=5000, seed=1, missed_group="Asian", missed_share=0.6)
    )
    never_audited = register_predictions(settings, predictions(n=500, seed=2))

    # No audit, no promotion, even with an override.
    with pytest.raises(PromotionRefused, match="no fairness audit"):
        promote(settings, label, never_audited, "We accept this for a pilot on purpose.", "A. Lead")

    done = audit_model_version(settings, label, fair)
    assert done.gate.passed, done.gate.summary()
    c = client(settings)
    run = c.get_run(done.run_id)
    assert run.data.tags[TAG_GATE] == "pass"
    # the per-group figures are one table artifact; a few headline figures are metrics
    table = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/fairness/audit_table.json")
    cells = {(r[0], r[1], r[2]) for r in table["data"]}
    assert ("ethnicity", "White", "fnr") in cells and ("age_band", "16plus", "fnr_ratio") in cells
    # intersections as far as the disclosure plan lets them be (their small cells hide others
    # across the hierarchy: tests/fairness/test_disclosure_attacker.py)
    assert any(c[0] == "ethnicity_x_sex" for c in cells)
    assert not [k for k in run.data.metrics if k.startswith("fairness/")]
    assert run.data.metrics["fairness_gate_passed"] == 1.0
    assert 0 < run.data.metrics["fairness_overall_fnr"] < 1
    files = {f.path for f in c.list_artifacts(done.run_id, "fairness")}
    assert files == {"fairness/audit.json", "fairness/audit.html", "fairness/audit_table.json"}
    assert registry.version_tags(settings, label, fair)[TAG_GATE] == "pass"

    # these versions hold test predictions but no model: the band check refuses them, and the
    # refusal names the guard (tests/governance promote real models through every guard)
    with pytest.raises(PromotionRefused, match="band check"):
        promote(settings, label, fair, by="Data lead")
    with pytest.raises(registry.NotPromoted):
        registry.promoted_version(settings, label, fair)

    bad = audit_model_version(settings, label, unfair)
    assert not bad.gate.passed
    assert any(f.group == "Asian" and f.metric == "fnr" for f in bad.gate.failures)
    with pytest.raises(PromotionRefused, match="who is promoting"):
        promote(settings, label, unfair)
    with pytest.raises(PromotionRefused, match="failed the fairness gate"):
        promote(settings, label, unfair, by="Data lead")
    with pytest.raises(PromotionRefused, match="at least 20"):
        promote(settings, label, unfair, "ok", "Data lead")
    why = "Interim: the current champion is worse for this group; mitigation plan M-12 agreed."
    with pytest.raises(PromotionRefused, match="band check"):  # an override covers the gate only
        promote(settings, label, unfair, why, "Head of MASH")
    rows = promotion_log(settings, c).history(registry.model_name(settings, label))
    assert [r["action"] for r in rows] == ["refused"] * len(rows) and len(rows) >= 4
    assert {r["by"] for r in rows} == {"A. Lead", "Data lead", "Head of MASH"}


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_promote_command_refuses_with_a_clear_message_and_exit_code(tmp_path):
    settings = make_settings(tmp_path)
    version = register_predictions(settings, predictions(n=400, seed=5))
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"demo_mode: true\npaths:\n  root: {tmp_path}\n"
        "privacy:\n  pseudonym_key: test-key-not-secret-0123456789abcdef\n"
        f"tracking:\n  tracking_uri: sqlite:///{tmp_path / 'mlflow.db'}\n"
        "fairness:\n  bootstrap_samples: 50\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["--config", str(config), "promote", version, "--label", "escalation_12m"]
    )
    assert result.exit_code == 1
    assert "promotion refused" in result.output and "--by NAME" in result.output
    by = ["--by", "Data lead"]
    result = runner.invoke(
        app, ["--config", str(config), "promote", version, "--label", "escalation_12m", *by]
    )
    assert result.exit_code == 1
    assert "promotion refused" in result.output and "no fairness audit" in result.output
    result = runner.invoke(
        app,
        ["--config", str(config), "audit", "--model-version", version, "--label", "escalation_12m"],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["--config", str(config), "promote", version, "--label", "escalation_12m", *by]
    )
    verdict = registry.version_tags(settings, "escalation_12m", version)[TAG_GATE]
    assert result.exit_code == 1  # no model in this version: the band check refuses it
    if verdict == "pass":
        assert "band check" in " ".join(result.output.split())
    else:
        assert "failed the fairness gate" in " ".join(result.output.split())
