"""One monitoring run: the model in use, the feature table and the managers' decisions in;
tables fit to publish (small counts shown as ``c``) and a summary out.

The ``monitor`` flow's task calls `run_monitor` and nothing else, so the monitor's logic lives
here, in the governance room, and is tested without Prefect.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from frontdoor import REVIEW_NOTICE
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.monitoring import (
    MonitorReport,
    MonitorRules,
    MonitorWindow,
    build_monitor_report,
    publish_agreement,
    publish_calibration,
    publish_flag_rates,
)
from frontdoor.models import registry
from frontdoor.models.tracking import client
from frontdoor.records.disclosure import shown_count
from frontdoor.records.feature_table import read_feature_table
from frontdoor.records.store import atomic_write_text
from frontdoor.settings import Settings


def deployment_window(settings: Settings, run_id: str):
    """The deployed model's training window and calibration end, as logged on its run (the
    calibration end is None for a run logged before it was recorded)."""
    params = client(settings).get_run(run_id).data.params
    start, end = params["deployed_train_window"].split("..")
    cal_end = params.get("deployed_calibration_end")
    return (pd.Timestamp(start), pd.Timestamp(end)), (pd.Timestamp(cal_end) if cal_end else None)


def monitor_window(settings: Settings, label: str, run_id: str, as_of) -> MonitorWindow:
    train_window, calibration_end = deployment_window(settings, run_id)
    return MonitorWindow(
        label=label,
        as_of=pd.Timestamp(as_of),
        train_window=train_window,
        window_days=settings.pipelines.monitor_window_days,
        label_window_days=settings.features.label_window_days,
        calibration_end=calibration_end,
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Every published table carries the notice that the model flags and never decides."""
    atomic_write_text(path, frame.assign(notice=REVIEW_NOTICE).to_csv(index=False))


def write_tables(report: MonitorReport, rules: MonitorRules, folder: Path) -> dict[str, Path]:
    """The monitor's tables, each through the disclosure rule, written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    up_to, bands = rules.up_to, rules.band_order
    written = {
        "feature_drift": folder / "feature_drift.csv",
        "flag_rates": folder / "flag_rates.csv",
        "flag_rates_by_group": folder / "flag_rates_by_group.csv",
        "agreement": folder / "agreement.csv",
        "calibration": folder / "calibration_drift.csv",
    }
    _write_csv(report.feature_drift, written["feature_drift"])
    _write_csv(publish_flag_rates(report.flag_rates, bands, up_to), written["flag_rates"])
    by_group = report.flag_rates_by_group
    _write_csv(
        publish_flag_rates(by_group, bands, up_to, within=["month", "characteristic"])
        if len(by_group)
        else pd.DataFrame(),
        written["flag_rates_by_group"],
    )
    _write_csv(publish_agreement(report.agreement, up_to), written["agreement"])
    calibration = report.calibration if report.calibration is not None else pd.DataFrame()
    _write_csv(publish_calibration(calibration, up_to), written["calibration"])
    if report.fairness is not None and report.fairness_audit is not None:
        written["fairness"] = folder / "fairness_recent.csv"
        _write_csv(report.fairness, written["fairness"])
        written["fairness_audit"] = folder / "fairness_recent.json"
        record = published_audit(report.fairness_audit, up_to, report.fairness_gate)
        atomic_write_text(
            written["fairness_audit"],
            json.dumps(record, indent=2, default=str, ensure_ascii=False),
        )
    return written


def summary_of(report: MonitorReport, window: MonitorWindow, version: str, up_to: int) -> dict:
    """The run's summary, every count through the disclosure rule."""
    headline = report.headline()
    headline["decisions_reviewed"] = shown_count(headline["decisions_reviewed"], up_to)
    cal_end = window.calibration_end
    return {
        "notice": REVIEW_NOTICE,
        **headline,
        "label": window.label,
        "model_version": str(version),
        "score_drift": {
            **report.score_drift,
            **{k: shown_count(report.score_drift[k], up_to) for k in ("reference_n", "recent_n")},
        },
        "alerts": report.alerts,
        "overrides": {k: shown_count(v, up_to) for k, v in (report.revisions or {}).items()},
        "fairness_groups": len(report.fairness) if report.fairness is not None else None,
        "fairness_calibration_end": cal_end.date().isoformat() if cal_end is not None else None,
        "fairness_note": report.fairness_note,
        "fairness_gate": report.fairness_gate.summary() if report.fairness_gate else None,
    }


def run_monitor(
    settings: Settings, features: Path, label: str, version: str, out: str, decisions: pd.DataFrame
) -> dict:
    """Drift, flag rates, calibration drift, recent fairness, agreement and overrides for a
    model version, written under ``out`` as tables fit to publish; returns the summary."""
    table = read_feature_table(features)
    mv = registry.get_version(settings, label, version)
    model = registry.load_native(settings, label, mv.version)
    if len(decisions):
        decisions = decisions[decisions["label"] == label]
    window = monitor_window(
        settings, label, mv.run_id, pd.to_datetime(table["decision_date"]).max()
    )
    rules = MonitorRules.from_settings(settings)
    report = build_monitor_report(table, model, decisions, window, rules)
    folder = Path(out) / f"{report.as_of}-{label}-v{mv.version}"
    written = write_tables(report, rules, folder)
    summary = summary_of(report, window, str(mv.version), rules.up_to)
    written["summary"] = folder / "summary.json"
    atomic_write_text(written["summary"], json.dumps(summary, indent=2, default=str))
    top = report.feature_drift.head(10)
    return {
        "outputs": {k: str(v) for k, v in written.items()},
        **summary,
        "top_drift": top[["feature", "psi", "status"]].to_dict("records"),
    }
