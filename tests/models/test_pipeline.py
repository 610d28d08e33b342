"""The real pipeline on a small synthetic council: synth -> features -> train -> score -> CLI."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.models import registry
from frontdoor.models.splits import make_folds
from frontdoor.models.train import backtest, labelled
from frontdoor.records.pseudonymise import is_pseudonym
from tests.support import make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def council(shared_council):
    """The session's small council (6,000 children) through synth -> ingest -> features."""
    table = shared_council.features
    assert table["decision_id"].map(is_pseudonym).all()
    assert table["truth_escalation_12m"].notna().all()
    return shared_council.settings, table, shared_council.features_path


def test_folds_on_the_council_keep_every_label_out_of_the_test_window(council):
    settings, table, _ = council
    for label in settings.models.labels:
        rows = labelled(table, label)
        for f in make_folds(rows["decision_date"], settings):
            m = f.masks(rows["decision_date"])
            known = rows.loc[m["train"] | m["calibration"], "decision_date"]
            assert (known + pd.Timedelta(days=365) <= f.test_start).all()
            assert m["test"].sum() > 50


def test_backtest_on_the_council_beats_the_rule_and_knows_its_oracle(council):
    settings, table, _ = council
    result = backtest(table, "escalation_12m", settings)
    assert result.has_oracle
    lgbm = result.metric("lightgbm", "auc")["value"]
    rule = result.metric("rule", "auc")["value"]
    oracle = result.metric("oracle", "auc")["value"]
    assert 0.5 < lgbm <= oracle + 0.05
    assert lgbm > rule
    assert result.metric("lightgbm", "ece")["value"] < 0.1


def test_cli_splits_train_score(council, tmp_path):
    settings, _, path = council
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"demo_mode: true\npaths: {{root: '{tmp_path}'}}\n"
        "privacy: {pseudonym_key: test-key-not-secret-0123456789abcdef}\n"
        f"tracking: {{tracking_uri: 'sqlite:///{tmp_path}/mlflow.db'}}\n"
        "models: {bootstrap_samples: 20, explain_sample: 200, "
        "lightgbm: {n_estimators: 40, min_child_samples: 20}}\n"
    )
    runner = CliRunner(env={"COLUMNS": "250"})
    out = runner.invoke(app, ["--config", str(config), "splits", "--features", str(path)])
    assert out.exit_code == 0, out.output
    assert "deploy" in out.output and "gap_days" in out.output
    out = runner.invoke(
        app,
        ["--config", str(config), "train", "--features", str(path), "--label", "escalation_12m"],
    )
    assert out.exit_code == 0, out.output
    assert "version 1" in out.output and "challenger" in out.output
    assert "oracle_auc" in out.output
    target = tmp_path / "scores.parquet"
    out = runner.invoke(
        app,
        [
            "--config",
            str(config),
            "score",
            "--features",
            str(path),
            "--model",
            "challenger",
            "--out",
            str(target),
        ],
    )
    # a challenger never promoted does not score referrals (tests/governance: the champion does)
    assert out.exit_code == 1 and "has ever been promoted" in out.output, out.output
    assert not target.exists()
    missing = runner.invoke(
        app, ["--config", str(config), "score", "--features", str(path), "--model", "champion"]
    )
    assert missing.exit_code != 0
    local = make_settings(tmp_path)
    assert registry.get_version(local, "escalation_12m", "challenger").version in (1, "1")
