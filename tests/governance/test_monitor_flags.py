"""The monitor flags and bands referrals exactly as scoring does (one function), and its other
measures on data whose answer is known.

Finding of issue 14: the monitor applied the band edges (log-odds) to probabilities, so
``flag_rates.csv`` showed every referral flagged while the score flow flagged 46 of 192."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.governance import monitoring as mon
from frontdoor.governance.monitor_run import monitor_window, run_monitor
from frontdoor.models import registry
from frontdoor.pipelines.tasks import score_step
from frontdoor.settings.governance import GovernanceSettings
from tests.support.governance import LABEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def in_use(governed):
    settings, features, good, _, _ = governed
    return settings, features, good


def test_the_monitors_flag_rates_equal_the_score_flows_for_the_same_model_and_month(
    in_use, tmp_path
):
    settings, features, version = in_use
    scored = score_step.fn(settings, features, LABEL, version, str(tmp_path / "scored.parquet"))
    summary = run_monitor(
        settings, features, LABEL, version, str(tmp_path / "monitor"), pd.DataFrame()
    )
    rates = pd.read_csv(summary["outputs"]["flag_rates"], dtype=str)
    month = rates[rates["month"] == scored.month].iloc[0]
    assert int(month["scored"]) == scored.scored
    assert int(month["flagged"]) == scored.flagged
    assert 0 < scored.flagged < scored.scored  # not every referral (the old defect)
    for band, count in scored.bands.items():
        if month[f"share_{band}"] != "c":  # small counts are published as c
            assert float(month[f"share_{band}"]) == pytest.approx(count / scored.scored)
    # unpublished, every band: the monitor's own figures for that month
    mv = registry.get_version(settings, LABEL, version)
    table = pd.read_parquet(features)
    window = monitor_window(
        settings, LABEL, mv.run_id, pd.to_datetime(table["decision_date"]).max()
    )
    rules = mon.MonitorRules.from_settings(settings)
    model = registry.load_native(settings, LABEL, version)
    report = mon.build_monitor_report(table, model, pd.DataFrame(), window, rules)
    row = report.flag_rates.set_index("month").loc[scored.month]
    assert int(row["flagged"]) == scored.flagged and int(row["scored"]) == scored.scored
    for band, count in scored.bands.items():
        assert row[f"share_{band}"] == pytest.approx(count / scored.scored)


def test_the_monitor_bands_every_month_as_the_model_does(in_use, governance_table):
    settings, _, version = in_use
    model = registry.load_native(settings, LABEL, version)
    window = mon.MonitorWindow(
        label=LABEL,
        as_of=pd.to_datetime(governance_table["decision_date"]).max(),
        train_window=(pd.Timestamp("2020-01-01"), pd.Timestamp("2023-01-01")),
    )
    rules = mon.MonitorRules.from_settings(settings)
    year, _ = mon.scored_year(governance_table, model, window, rules)
    assert (year["band"].to_numpy() == model.band(year)).all()
    report = mon.build_monitor_report(governance_table, model, pd.DataFrame(), window, rules)
    overall = report.flag_rates["flagged"].sum() / report.flag_rates["scored"].sum()
    assert overall == pytest.approx(np.isin(model.band(year), rules.flagged_bands).mean())
    assert 0.05 < overall < 0.6


def test_calibration_drift_per_month_on_matured_outcomes_only():
    frame = pd.DataFrame(
        {
            "decision_date": pd.to_datetime(["2025-01-05"] * 4 + ["2025-02-03"] * 3),
            "probability": [0.2, 0.2, 0.4, 0.4, 0.5, 0.5, 0.5],
            "y": [1, 0, 1, 1, 1, np.nan, np.nan],
            "censored": [False, False, False, False, False, True, False],
        }
    )
    out = mon.calibration_drift(frame, "y", pd.Timestamp("2025-01-01")).set_index("month")
    assert out.loc["2025-01", "matured"] == 4 and out.loc["2025-02", "matured"] == 1
    assert out.loc["2025-01", "observed"] == pytest.approx(0.75)
    assert out.loc["2025-01", "predicted"] == pytest.approx(0.3)
    assert out.loc["2025-01", "gap"] == pytest.approx(0.45)
    published = mon.publish_calibration(out.reset_index(), up_to=5).set_index("month")
    assert (
        published.loc["2025-01", "with_outcome"] == "c" and published.loc["2025-01", "gap"] == "c"
    )


def _report(flagged_share: float, agree: float, n: int = 200) -> mon.MonitorReport:
    rates = pd.DataFrame({"month": ["2025-01"], "scored": [n], "flagged": [int(n * flagged_share)]})
    rates["flag_rate"] = rates["flagged"] / rates["scored"]
    agreement = pd.DataFrame(
        [{"dimension": "overall", "group": "all", "decisions": n, "agreed": int(n * agree)}]
    )
    agreement["agreement_rate"] = agreement["agreed"] / agreement["decisions"]
    return mon.MonitorReport(
        as_of="2025-02-01",
        feature_drift=pd.DataFrame(columns=["feature", "psi", "status"]),
        score_drift={},
        flag_rates=rates,
        flag_rates_by_group=pd.DataFrame(),
        fairness=None,
        agreement=agreement,
        alerts=[],
        calibration=pd.DataFrame(
            {
                "month": ["2025-01"],
                "matured": [n],
                "observed": [0.5],
                "predicted": [0.3],
                "gap": [0.2],
            }
        ),
    )


def test_use_alerts_follow_the_configured_lines():
    rules = mon.MonitorRules(
        flagged_bands=["high"],
        band_order=["low", "high"],
        fairness=None,
        governance=GovernanceSettings(),
        training_flag_rate=0.2,
    )
    alerts = mon.use_alerts(_report(0.9, 0.3), rules)
    assert len(alerts) == 3
    assert any("90% of referrals flagged" in a for a in alerts)
    assert any("calibration drift" in a for a in alerts)
    assert any("agreed with 30%" in a for a in alerts)
    steady = mon.use_alerts(_report(0.2, 0.9), rules)  # flag rate as trained, managers agree
    assert len(steady) == 1 and "calibration drift" in steady[0]
    quiet = mon.MonitorRules(
        flagged_bands=["high"],
        band_order=["low", "high"],
        fairness=None,
        governance=GovernanceSettings(
            calibration_drift_alert=0.5, flag_rate_change_alert=5, agreement_alert=0.1
        ),
        training_flag_rate=0.2,
    )
    assert mon.use_alerts(_report(0.9, 0.3), quiet) == []
    assert mon.use_alerts(_report(0.9, 0.3, n=10), rules) == []  # too few to alert on
