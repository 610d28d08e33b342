"""The monitor's recent fairness uses only decisions after the deployed model's calibration end,
read from the training run; the run's logged settings carry no credentials."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from frontdoor.governance.monitoring import MonitorRules, MonitorWindow, build_monitor_report
from frontdoor.models.run import train_and_register
from frontdoor.models.tracking import client
from frontdoor.settings.fairness import FairnessSettings
from frontdoor.settings.governance import GovernanceSettings
from tests.support import make_settings

pytestmark = pytest.mark.slow

SMALL = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 40}, "explain_sample": 200}
SECRET_URL = "postgresql+psycopg://frontdoor:s3cret-pw@db.example:5432/frontdoor"


@pytest.fixture(scope="module")
def trained(toy_table, tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("monitor"), models=SMALL, review={"database_url": SECRET_URL}
    )
    result, record = train_and_register(toy_table, "escalation_12m", settings)
    return settings, result, record


def test_run_logs_the_deployment_windows_and_no_password(trained, tmp_path):
    settings, result, record = trained
    run = client(settings).get_run(record.run_id)
    end = result.deployment.calibration_end.date().isoformat()
    assert run.data.params["deployed_calibration_end"] == end
    local = client(settings).download_artifacts(record.run_id, "config", str(tmp_path))
    windows = json.loads((tmp_path / "config" / "deployment_windows.json").read_text())
    assert windows["calibration_end"] == end and local
    logged = (tmp_path / "config" / "settings.json").read_text()
    assert "s3cret-pw" not in logged
    assert json.loads(logged)["review"]["database_url"] == (
        "postgresql+psycopg://***@db.example:5432/frontdoor"
    )


def _report(result, table, calibration_end):
    model = result.deployed
    dates = pd.to_datetime(table["decision_date"])
    window = MonitorWindow(
        label="escalation_12m",
        as_of=dates.max(),
        train_window=(result.deployment.train_start, result.deployment.train_end),
        window_days=3650,
        label_window_days=365,
        calibration_end=calibration_end,
    )
    rules = MonitorRules(
        flagged_bands=["high", "very high"],
        band_order=list(model.bands.names),
        fairness=FairnessSettings(bootstrap_samples=20, min_group_size=30),
        governance=GovernanceSettings(),
    )
    return build_monitor_report(table, model, pd.DataFrame(), window, rules)


def test_monitor_never_audits_the_models_own_calibration_rows(trained, toy_table):
    _, result, _ = trained
    cal_end = result.deployment.calibration_end
    # the deployed model was calibrated on the newest labels: nothing after it is labelled yet
    report = _report(result, toy_table, cal_end)
    assert report.fairness is None and report.fairness_audit is None
    assert "not audited yet" in report.fairness_note and str(cal_end.date()) in report.fairness_note
    # no recorded calibration end: said plainly, nothing audited
    unknown = _report(result, toy_table, None)
    assert unknown.fairness is None and "not recorded" in unknown.fairness_note
    # with an earlier end (a model deployed long ago), only the decisions after it are audited
    earlier = cal_end - pd.Timedelta(days=900)
    report = _report(result, toy_table, earlier)
    dates = pd.to_datetime(toy_table["decision_date"])
    labelled = toy_table["escalation_12m"].notna()
    if "censored" in toy_table:
        labelled &= ~toy_table["censored"].astype(bool)
    last_known = dates.max() - pd.Timedelta(days=365)
    expected = int((labelled & (dates >= earlier) & (dates <= last_known)).sum())
    assert report.fairness_audit is not None
    assert report.fairness_audit.overall.counts["n"] == expected
    assert expected < int((labelled & (dates <= last_known)).sum())
