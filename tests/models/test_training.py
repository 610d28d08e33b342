"""Training end to end on a small frame, with a real MLflow store (SQLite in a temp folder)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.models import registry
from frontdoor.models.run import train_and_register
from frontdoor.models.scoring import score_referrals
from frontdoor.models.train import backtest, labelled, summary_table
from frontdoor.records.pseudonymise import is_pseudonym
from frontdoor.records.scores import SCORED_REFERRAL_COLUMNS, reasons_from_json
from tests.support import make_settings

pytestmark = pytest.mark.slow

SMALL = {
    "bootstrap_samples": 30,
    "lightgbm": {"n_estimators": 60},
    "explain_sample": 300,
    "calibration_method": "isotonic",
}


@pytest.fixture(scope="module")
def trained(toy_table, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("train"), models=SMALL)
    result, record = train_and_register(toy_table, "escalation_12m", settings)
    return settings, result, record


def test_backtest_scores_every_test_row_once_per_fold(trained, toy_table):
    _, result, _ = trained
    pred = result.predictions
    assert set(pred["fold"]) == {0, 1, 2}
    assert not pred.duplicated(["fold", "decision_id"]).any()
    for f in result.folds:
        test = pred[pred.fold == f.fold.fold]
        assert test["decision_date"].min() >= f.fold.test_start
        assert test["decision_date"].max() < f.fold.test_end
    assert pred["probability"].between(0, 1).all()
    assert set(pred["band"]) <= {"low", "medium", "high", "very high"}
    summary = summary_table(result)
    assert list(summary["fold"]) == ["0", "1", "2", "overall"]
    assert summary["oracle_auc"].str.match(r"0\.\d{3} \(").all()


def test_run_logs_everything_and_registers_a_challenger(trained):
    settings, result, record = trained
    from frontdoor.models.tracking import client

    c = client(settings)
    run = c.get_run(record.run_id)
    assert run.data.params["models.calibration_method"] == "isotonic"
    assert run.data.tags["git_commit"]
    assert run.data.tags["package.lightgbm"]
    assert "lightgbm_auc" in run.data.metrics and "lightgbm_auc_ci_low" in run.data.metrics
    assert "fold/lightgbm_auc" in run.data.metrics  # per fold, the fold as the step (#14)
    assert "oracle_gap_lightgbm_auc" in run.data.metrics
    assert run.data.metrics["lightgbm_auc"] == pytest.approx(
        result.metric("lightgbm", "auc")["value"]
    )
    assert len(run.inputs.dataset_inputs) == 1
    assert run.inputs.dataset_inputs[0].dataset.digest
    artifacts = {a.path for a in c.list_artifacts(record.run_id)}
    assert {"plots", "metrics", "predictions", "model_card", "config"} <= artifacts
    plots = {a.path for a in c.list_artifacts(record.run_id, "plots")}
    assert plots == {
        "plots/roc.png",
        "plots/precision_recall.png",
        "plots/calibration.png",
        "plots/shap_summary.png",
    }
    card = {a.path for a in c.list_artifacts(record.run_id, "model_card")}
    assert "model_card/feature_catalogue.md" in card and "model_card/scorecard_logistic.csv" in card
    v = registry.get_version(settings, "escalation_12m", "challenger")
    assert str(v.version) == record.model_version
    assert registry.run_id_of(settings, "escalation_12m", "challenger") == record.run_id
    assert v.tags["estimator"] == "lightgbm" and v.tags["fairness_audit"] == "pending"
    assert "not a decision" in v.description and record.run_id in v.description
    registry.set_version_tags(settings, "escalation_12m", v.version, {"reviewed": "yes"})
    assert registry.version_tags(settings, "escalation_12m", v.version)["reviewed"] == "yes"


def test_the_band_table_carries_the_backtests_figures_per_band(trained, toy_table):
    """Issue 15: per band, on the pooled test folds, the test referrals, the observed rate with
    its interval and the mean estimate, in model_card/bands.csv and as MLflow metrics; each
    fold's test rows carry the band of that fold's own model."""
    from frontdoor.models.tracking import client

    settings, result, record = trained
    pred = result.predictions
    rows = labelled(toy_table, "escalation_12m")
    for f in result.folds:
        test = rows[f.fold.masks(rows["decision_date"])["test"]]
        own = f.models["lightgbm"].band(test)
        assert (pred.loc[pred["fold"] == f.fold.fold, "band"].to_numpy() == own).all()
    hand = pred.groupby("band").agg(n=("y", "size"), pos=("y", "sum"), p=("probability", "mean"))
    logged = registry.band_table(settings, record.run_id).set_index("band")
    metrics = client(settings).get_run(record.run_id).data.metrics
    assert list(logged.index) == ["low", "medium", "high", "very high"]
    assert {"training_share", "from_probability", "to_probability"} <= set(logged.columns)
    for band, h in hand.iterrows():
        row = logged.loc[band]
        assert row["test_referrals"] == h["n"] and row["test_outcomes"] == h["pos"]
        assert row["observed_rate"] == pytest.approx(h["pos"] / h["n"])
        assert row["mean_probability"] == pytest.approx(h["p"])
        assert row["observed_low"] <= row["observed_rate"] <= row["observed_high"]
        key = f"band_{band.replace(' ', '_')}"
        assert metrics[f"{key}_test_referrals"] == h["n"]
        assert metrics[f"{key}_observed_rate"] == pytest.approx(h["pos"] / h["n"])
        assert metrics[f"{key}_observed_rate_ci_low"] == pytest.approx(row["observed_low"])
        assert metrics[f"{key}_mean_probability"] == pytest.approx(h["p"])
    carried = registry.band_outcomes(settings, "escalation_12m", record.model_version)
    assert set(carried["model_version"]) == {record.model_version}
    assert carried.set_index("band")["test_referrals"].to_dict() == (
        logged["test_referrals"].to_dict()
    )


def test_test_predictions_for_the_fairness_audit(trained):
    settings, result, record = trained
    pred = registry.test_predictions(settings, record.run_id)
    assert len(pred) == len(result.predictions)
    for column in (
        "decision_id",
        "child_id",
        "y",
        "probability",
        "band",
        "flag_at_capacity",
        "sex",
        "ethnicity_group",
        "age_band",
        "idaci_quintile",
        "oracle_probability",
    ):
        assert column in pred.columns
    assert pred["decision_id"].map(is_pseudonym).all()
    assert pred["child_id"].map(is_pseudonym).all()
    metrics = registry.run_metrics(settings, record.run_id)
    assert set(metrics["fold"]) == {"0", "1", "2", "overall"}


def test_pyfunc_returns_probability_band_and_reasons(trained, toy_table):
    settings, result, record = trained
    pyfunc = registry.load_pyfunc(settings, "escalation_12m", "challenger")
    rows = toy_table[toy_table["escalation_12m"].isna()].head(20)
    out = pyfunc.predict(rows[result.columns])
    assert list(out.columns) == ["probability", "band", "reasons_json"]
    native = registry.load_native(settings, "escalation_12m", record.model_version)
    np.testing.assert_allclose(out["probability"], native.predict_proba(rows), rtol=1e-12)
    np.testing.assert_allclose(out["probability"], result.deployed.predict_proba(rows))
    for text in out["reasons_json"]:
        assert reasons_from_json(text)


def test_score_referrals_in_the_shared_shape(trained, toy_table):
    settings, result, record = trained
    rows = toy_table[toy_table["escalation_12m"].isna()].head(25)
    pyfunc = registry.load_pyfunc(settings, "escalation_12m", "challenger")
    for model in (pyfunc, result.deployed):
        scored = score_referrals(
            model,
            rows,
            label="escalation_12m",
            model_name=record.model_name,
            model_version=record.model_version,
        )
        assert list(scored.columns) == SCORED_REFERRAL_COLUMNS
        assert len(scored) == 25
        assert (scored["decision_id"].to_numpy() == rows["decision_id"].to_numpy()).all()
    # margins: contributions plus base equal the deployed model's margin, row by row
    contrib, base = result.deployed.contributions(rows)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, result.deployed.margin(rows), atol=1e-6)
    empty = score_referrals(
        result.deployed, rows.iloc[:0], label="escalation_12m", model_name="m", model_version="1"
    )
    assert empty.empty and list(empty.columns) == SCORED_REFERRAL_COLUMNS


def test_same_data_and_seed_give_identical_metrics(toy_table, tmp_path):
    a = make_settings(tmp_path / "a", models=SMALL)
    b = make_settings(tmp_path / "b", models=SMALL)
    first, rec_a = train_and_register(toy_table, "rereferral_12m", a)
    second, rec_b = train_and_register(
        toy_table.sample(frac=1.0, random_state=3), "rereferral_12m", b
    )
    pd.testing.assert_frame_equal(first.metrics, second.metrics)
    ma = registry.run_metrics(a, rec_a.run_id)
    mb = registry.run_metrics(b, rec_b.run_id)
    pd.testing.assert_frame_equal(ma, mb)
    other = backtest(
        toy_table, "rereferral_12m", make_settings(tmp_path / "c", models={**SMALL, "seed": 99})
    )
    assert not other.metrics["value"].equals(first.metrics["value"])


def test_sensitive_inputs_are_encoded_when_configured(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL, features={"use_sensitive_as_inputs": True})
    result, record = train_and_register(toy_table, "escalation_12m", settings)
    model = result.deployed
    assert "sex" in model.input_columns and "sex=F" in model.feature_names
    assert "ethnicity_group=Black" in model.feature_names
    rows = toy_table[toy_table["escalation_12m"].isna()].head(10)
    pyfunc = registry.load_pyfunc(settings, "escalation_12m", "challenger")
    scored = score_referrals(
        pyfunc,
        rows,
        label="escalation_12m",
        model_name=record.model_name,
        model_version=record.model_version,
    )
    np.testing.assert_allclose(scored["probability"], model.predict_proba(rows))
    contrib, base = model.contributions(rows)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, model.margin(rows), atol=1e-6)


def test_raw_identifiers_never_reach_mlflow(toy_table, tmp_path):
    from frontdoor.models.tracking import NotPseudonymisedError, log_run

    settings = make_settings(tmp_path, models=SMALL, demo_mode=False)
    raw = toy_table.copy()
    newest_labelled = raw[raw["escalation_12m"].notna()]["decision_date"].idxmax()
    raw.loc[newest_labelled, "child_id"] = "LA-CHILD-000123"
    result = backtest(raw, "escalation_12m", settings)
    with pytest.raises(NotPseudonymisedError, match="child_id"):
        log_run(result, raw, settings)
    assert not (tmp_path / "mlruns").exists()
    # a synthetic demo council is not personal data: warned, not refused
    with pytest.warns(UserWarning, match="demo mode: 1 of"):
        log_run(result, raw, settings.model_copy(update={"demo_mode": True}))


def test_bands_keep_their_training_shares_despite_isotonic_steps(trained, toy_table):
    _, result, _ = trained
    model = result.deployed
    rows = labelled(toy_table, "escalation_12m")
    train = rows[result.deployment.masks(rows["decision_date"])["train"]]
    shares = pd.Series(model.band(train)).value_counts(normalize=True)
    for band, share in zip(model.bands.names, (0.5, 0.3, 0.15, 0.05), strict=True):
        assert shares[band] == pytest.approx(share, abs=0.01)
    table = model.band_table()
    assert table["from_probability"].is_monotonic_increasing


def test_the_scorecard_can_be_the_registered_model(toy_table, tmp_path):
    settings = make_settings(tmp_path, models={**SMALL, "registered_estimator": "logistic"})
    result, record = train_and_register(toy_table, "rereferral_12m", settings)
    assert result.deployed.kind == "logistic"
    assert "gap_logistic" in summary_table(result).columns
    v = registry.get_version(settings, "rereferral_12m", "challenger")
    assert v.tags["estimator"] == "logistic"
    from frontdoor.models.tracking import client

    card = {a.path for a in client(settings).list_artifacts(record.run_id, "model_card")}
    assert "model_card/scorecard_deployed.csv" in card
    native = registry.load_native(settings, "rereferral_12m", "challenger")
    rows = toy_table.head(30)
    contrib, base = native.contributions(rows)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, native.margin(rows), atol=1e-9)
