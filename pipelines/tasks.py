"""The steps of the flows: each one calls a room's plain functions and reads or writes files.

Conventions (they make caching by input digest correct):
- an argument typed ``Path`` is an *input*: its content enters the cache key;
- a location the step writes to is passed as ``str``: only its name enters the key;
- every step returns a small JSON-able summary with ``outputs`` (what it wrote, where).

Tests call these functions directly (``step.fn``), without Prefect.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from frontdoor.pipelines.steps import step, with_output_digests
from frontdoor.settings import Settings

# ---------------------------------------------------------------------------- synth, ingest, features


@step("synthesise", sections=("synth",), code=("frontdoor.synth", "frontdoor.records"))
def synth_step(settings: Settings, out: str) -> dict:
    """A synthetic council (raw council ids, as a council's own extract would hold them)."""
    from frontdoor.synth.run import synthesise

    council, _ = synthesise(settings, Path(out))
    return with_output_digests(
        {
            "outputs": {"raw": str(out)},
            "children": int(settings.synth.children),
            "tables": {name: int(len(frame)) for name, frame in council.tables.items()},
        }
    )


@step(
    "ingest",
    sections=("ingest", "privacy", "paths"),
    code=("frontdoor.ingest", "frontdoor.records"),
)
def ingest_step(settings: Settings, sources: Path, out: str) -> dict:
    """Council extracts in ``sources`` -> pseudonymised canonical tables in ``out``."""
    from frontdoor.ingest.run import ingest_sources

    report = ingest_sources([sources], Path(out), settings)
    summary = report.as_dict()
    tables = {
        name: {k: int(v) for k, v in c.items() if isinstance(v, int) and not isinstance(v, bool)}
        for name, c in summary["tables"].items()
    }
    return with_output_digests(
        {
            "outputs": {"canonical": str(out)},
            "reference_date": summary["reference_date"],
            "tables": tables,
            "totals": summary["totals"],
            "balanced": bool(summary["balanced"]),
            "quarantine": str(settings.resolve(settings.paths.quarantine)),
        }
    )


@step(
    "build-features",
    sections=("features", "paths"),
    code=("frontdoor.features", "frontdoor.records"),
)
def features_step(settings: Settings, canonical: Path, truth: Path, out: str) -> dict:
    """Canonical tables -> the point-in-time feature table (one row per decision)."""
    from frontdoor.features.build import build_feature_table, label_summary
    from frontdoor.records import store
    from frontdoor.records.feature_table import TRUTH_FILE, write_feature_table

    tables = store.read_tables(canonical)
    reference = store.reference_date(canonical)
    truth_file = truth / TRUTH_FILE
    truth_frame = pd.read_parquet(truth_file) if truth_file.exists() else None
    table = build_feature_table(tables, reference, settings, truth_frame)
    write_feature_table(table, Path(out))
    return with_output_digests(
        {
            "outputs": {"features": str(out)},
            "reference_date": reference.isoformat(),
            **label_summary(table),
        }
    )


# ---------------------------------------------------------------------------- training


def _version_exists(settings: Settings, label: str, version: str) -> bool:
    from frontdoor.models.registry import get_version

    try:
        get_version(settings, label, version)
    except Exception:  # noqa: BLE001 - any failure to find it means: train again
        return False
    return True


@step("prepare-tracking", sections=("tracking",), cache=False)
def tracking_step(settings: Settings, labels: list[str]) -> dict:
    """Create the MLflow store and the experiments once, before training tasks run in parallel:
    two processes creating a fresh SQLite store (or the same experiment) at once collide."""
    from frontdoor.models.tracking import ensure_experiment

    experiments = {label: ensure_experiment(settings, label) for label in labels}
    return {"outputs": {}, "experiments": experiments}


def _registered(settings: Settings, summary: dict) -> bool:
    return _version_exists(settings, summary["label"], summary["model_version"])


def _write_pickle(value: object, out: str) -> None:
    """A fold's or a backtest's result, for the next step (maybe on another Dask worker, so on
    the shared file system; pseudonymised rows only, like the feature table it came from)."""
    import pickle

    from frontdoor.records.store import atomic_write_bytes

    atomic_write_bytes(Path(out), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _read_pickle(path: Path):
    import pickle

    return pickle.loads(Path(path).read_bytes())


@step(
    "train-fold",
    sections=("models", "features"),
    code=("frontdoor.models", "frontdoor.features", "frontdoor.records"),
)
def fold_step(settings: Settings, features: Path, label: str, fold: int, out: str) -> dict:
    """One temporal fold of a label's backtest (fit, calibrate, band, score its test window,
    evaluate), independent of the others; its result is written to ``out``."""
    from frontdoor.models.train import fit_fold, training_data
    from frontdoor.records.feature_table import read_feature_table

    data = training_data(read_feature_table(features), label, settings)
    result = fit_fold(data, fold, settings)
    _write_pickle(result, out)
    return with_output_digests(
        {
            "outputs": {f"fold{fold}": str(out)},
            "label": label,
            "fold": int(fold),
            "test_rows": int(len(result.predictions)),
            "seconds": round(sum(result.seconds.values()), 2),
        }
    )


@step(
    "backtest",
    sections=("models", "features"),
    code=("frontdoor.models", "frontdoor.features", "frontdoor.records"),
)
def backtest_step(
    settings: Settings, features: Path, label: str, folds: list[Path], out: str
) -> dict:
    """A label's fold results combined (pooled metrics with paired bootstrap CIs) with the
    deployable model trained on the newest labels: ``models.train.backtest``'s result."""
    from frontdoor.models.train import combine_folds, training_data
    from frontdoor.records.feature_table import read_feature_table

    data = training_data(read_feature_table(features), label, settings)
    result = combine_folds(data, [_read_pickle(p) for p in folds], settings)
    _write_pickle(result, out)
    return with_output_digests(
        {
            "outputs": {"backtest": str(out)},
            "label": label,
            "folds": len(result.folds),
            "auc": float(result.metric(result.deployed.kind, "auc")["value"]),
        }
    )


@step(
    "train",
    sections=("models", "features", "tracking"),
    check=_registered,
    code=("frontdoor.models", "frontdoor.features", "frontdoor.records"),
)
def train_step(settings: Settings, features: Path, label: str, backtest: Path) -> dict:
    """Log a label's backtest to MLflow and register a version aliased ``challenger``."""
    from frontdoor.models.tracking import log_run
    from frontdoor.models.train import summary_table
    from frontdoor.records.feature_table import read_feature_table

    table = read_feature_table(features)
    result = _read_pickle(backtest)
    if result.label != label:
        raise ValueError(f"{backtest} holds the backtest of {result.label}, not {label}")
    record = log_run(result, table, settings, source=str(features))
    kind = result.deployed.kind
    metrics = {
        "auc": result.metric(kind, "auc")["value"],
        "auc_rule": result.metric("rule", "auc")["value"],
    }
    folds = summary_table(result)
    return {
        "outputs": {},
        "label": label,
        "run_id": record.run_id,
        "model_name": record.model_name,
        "model_version": record.model_version,
        "model_uri": record.model_uri,
        "estimator": kind,
        "folds": len(result.folds),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "fold_table": folds.astype(object).where(folds.notna(), None).to_dict("records"),
        "registered": {"label": label, "version": record.model_version},
    }


# ---------------------------------------------------------------------------- scoring


def latest_month(dates: pd.Series, as_of: date | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The calendar month holding the newest decision (or ``as_of``): first and last day."""
    end = pd.Timestamp(as_of) if as_of else pd.to_datetime(dates).max()
    start = end.to_period("M").start_time
    return start.normalize(), end.normalize()


@step(
    "score",
    sections=("models", "tracking", "review"),
    code=("frontdoor.models", "frontdoor.records"),
)
def score_step(settings: Settings, features: Path, label: str, version: str, out: str) -> dict:
    """Score the newest month of referrals with a registered model version; write the scores."""
    from frontdoor.models.registry import load_pyfunc, model_name
    from frontdoor.models.scoring import score_referrals
    from frontdoor.records.feature_table import read_feature_table
    from frontdoor.records.store import atomic_write_parquet

    table = read_feature_table(features)
    if "decision_kind" in table:
        table = table[table["decision_kind"] == "referral"]
    start, end = latest_month(table["decision_date"])
    newest = table[(table["decision_date"] >= start) & (table["decision_date"] <= end)]
    model = load_pyfunc(settings, label, version)
    scored = score_referrals(
        model,
        newest,
        label=label,
        model_name=model_name(settings, label),
        model_version=str(version),
        scored_at=datetime.now(),
    )
    atomic_write_parquet(scored, Path(out))
    bands = scored["band"].value_counts().to_dict()
    return with_output_digests(
        {
            "outputs": {"scores": str(out)},
            "label": label,
            "model_version": str(version),
            "month": start.strftime("%Y-%m"),
            "scored": int(len(scored)),
            "bands": {str(k): int(v) for k, v in bands.items()},
            "flagged": int(scored["band"].isin(settings.review.flagged_bands).sum()),
        }
    )


@step("fill-review-queue", sections=("review",), cache=False)
def queue_step(settings: Settings, scores: Path) -> dict:
    """Load scored referrals into the review store (idempotent: known rows are skipped)."""
    from frontdoor.records.disclosure import redact_url
    from frontdoor.review.store import load_scored_referrals

    scored = pd.read_parquet(scores)
    added = load_scored_referrals(settings, scored)
    return {
        "outputs": {},
        "loaded": int(added),
        "offered": int(len(scored)),
        "flagged": int(scored["band"].isin(settings.review.flagged_bands).sum()),
        "database": redact_url(settings.review.database_url.get_secret_value()).split("///")[-1],
    }


@step("resolve-model", sections=("tracking",), cache=False)
def resolve_model_step(settings: Settings, label: str, alias: str) -> dict:
    """The version an alias points at now (read every run: an alias moves on promotion)."""
    from frontdoor.models.registry import get_version

    version = get_version(settings, label, alias)
    return {"outputs": {}, "label": label, "alias": alias, "version": str(version.version)}


# ---------------------------------------------------------------------------- audit, promotion


def _audited(settings: Settings, summary: dict) -> bool:
    from frontdoor.models.registry import version_tags

    if not _version_exists(settings, summary["label"], summary["model_version"]):
        return False
    tags = version_tags(settings, summary["label"], summary["model_version"])
    return tags.get("fairness_audit") in ("pass", "fail")


@step(
    "audit",
    sections=("fairness", "privacy", "tracking"),
    check=_audited,
    code=("frontdoor.governance", "frontdoor.models", "frontdoor.records"),
)
def audit_step(settings: Settings, label: str, version: str, out: str) -> dict:
    """Fairness audit of a registered version (its run's test predictions) and the gate;
    the published (suppressed) audit goes to MLflow and to ``out``."""
    from frontdoor.governance.fairness.publish import write_audit
    from frontdoor.governance.promotion import audit_model_version

    audited = audit_model_version(settings, label, version)
    title = f"{audited.model_name} version {audited.version}"
    json_path, html_path = write_audit(
        audited.audit, Path(out), settings.privacy.suppress_counts_up_to, title, audited.gate
    )
    gate = audited.gate
    return with_output_digests(
        {
            "outputs": {"audit_json": str(json_path), "audit_html": str(html_path)},
            "label": label,
            "model_name": audited.model_name,
            "model_version": audited.version,
            "run_id": audited.run_id,
            "gate_passed": bool(gate.passed),
            "gate_summary": gate.summary(),
            "checks": len(gate.checks),
            "failures": len(gate.failures),
            "inconclusive": len(gate.inconclusive),
        }
    )


@step(
    "report",
    sections=("models", "fairness", "privacy", "tracking"),
    check=_audited,
    code=("frontdoor.governance", "frontdoor.models", "frontdoor.records"),
)
def report_step(settings: Settings, label: str, version: str, features: Path, out: str) -> dict:
    """The governance report (model card, fairness, explanations, ATRS record) as HTML + JSON,
    also logged to the version's MLflow run."""
    from frontdoor.governance.report import build_report

    built = build_report(settings, label, str(version), Path(out), features=features)
    return with_output_digests(
        {
            "outputs": {"report_html": str(built.html_path), "atrs_json": str(built.atrs_path)},
            "label": label,
            "model_name": built.model_name,
            "model_version": built.version,
            "gate_passed": bool(built.gate_passed),
        }
    )


@step("promote", sections=("tracking",), cache=False)
def promote_step(
    settings: Settings,
    label: str,
    version: str,
    gate_passed: bool,
    override_rationale: str | None = None,
    by: str | None = None,
) -> dict:
    """Point ``champion`` at the version if its gate passed; with a failed gate, only with a
    written override rationale (recorded on the version and its run)."""
    from frontdoor.governance.promotion import promote

    if not gate_passed and not override_rationale:
        return {
            "outputs": {},
            "label": label,
            "model_version": str(version),
            "promoted": False,
            "how": "not promoted: the fairness gate failed and no override was given",
        }
    done = promote(settings, label, version, override_rationale=override_rationale, by=by)
    how = (
        f"promoted by OVERRIDE of a failed fairness gate ({done.by}): {override_rationale}"
        if done.overridden
        else "promoted: the fairness gate passed"
    )
    return {
        "outputs": {},
        "label": label,
        "model_version": done.version,
        "previous_champion": done.previous_champion,
        "promoted": True,
        "overridden": bool(done.overridden),
        "how": how,
    }


# ---------------------------------------------------------------------------- monitoring


def _train_window(settings: Settings, run_id: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    from frontdoor.models.tracking import client

    params = client(settings).get_run(run_id).data.params
    start, end = params["deployed_train_window"].split("..")
    return pd.Timestamp(start), pd.Timestamp(end)


def _calibration_end(settings: Settings, run_id: str) -> pd.Timestamp | None:
    """The end of the deployed model's calibration window, as logged on its training run (None
    for a run logged before it was recorded: the monitor then audits no fairness)."""
    from frontdoor.models.tracking import client

    value = client(settings).get_run(run_id).data.params.get("deployed_calibration_end")
    return pd.Timestamp(value) if value else None


@step("monitor", sections=("pipelines", "fairness", "review", "tracking"), cache=False)
def monitor_step(settings: Settings, features: Path, label: str, version: str, out: str) -> dict:
    """Drift, flag rates, recent fairness and agreement for a model version; written to ``out``
    as tables fit to publish (small counts shown as ``c``)."""
    import json

    from frontdoor import REVIEW_NOTICE
    from frontdoor.governance.fairness.publish import published_audit
    from frontdoor.governance.monitoring import (
        build_monitor_report,
        publish_agreement,
        publish_flag_rates,
    )
    from frontdoor.models.registry import get_version, load_native
    from frontdoor.records.disclosure import shown_count
    from frontdoor.records.feature_table import read_feature_table
    from frontdoor.records.store import atomic_write_text
    from frontdoor.review.store import export_decisions

    table = read_feature_table(features)
    mv = get_version(settings, label, version)
    model = load_native(settings, label, version)
    decisions = export_decisions(settings)
    decisions = decisions[decisions["label"] == label] if len(decisions) else decisions
    as_of = pd.to_datetime(table["decision_date"]).max()
    up_to = settings.privacy.suppress_counts_up_to
    calibration_end = _calibration_end(settings, mv.run_id)
    report = build_monitor_report(
        table,
        model,
        decisions,
        label=label,
        as_of=as_of,
        train_window=_train_window(settings, mv.run_id),
        flagged_bands=list(settings.review.flagged_bands),
        band_order=list(settings.models.band_names),
        window_days=settings.pipelines.monitor_window_days,
        label_window_days=settings.features.label_window_days,
        fairness=settings.fairness,
        alert=settings.pipelines.psi_alert,
        calibration_end=calibration_end,
        up_to=up_to,
    )
    folder = Path(out) / f"{report.as_of}-{label}-v{mv.version}"
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "feature_drift": folder / "feature_drift.csv",
        "flag_rates": folder / "flag_rates.csv",
        "flag_rates_by_group": folder / "flag_rates_by_group.csv",
        "agreement": folder / "agreement.csv",
        "summary": folder / "summary.json",
    }

    def write_csv(frame: pd.DataFrame, path: Path) -> None:  # every table carries the notice
        atomic_write_text(path, frame.assign(notice=REVIEW_NOTICE).to_csv(index=False))

    bands = list(settings.models.band_names)
    write_csv(report.feature_drift, written["feature_drift"])
    write_csv(publish_flag_rates(report.flag_rates, bands, up_to), written["flag_rates"])
    by_group = report.flag_rates_by_group
    write_csv(
        publish_flag_rates(by_group, bands, up_to, within=["month", "characteristic"])
        if len(by_group)
        else pd.DataFrame(),
        written["flag_rates_by_group"],
    )
    write_csv(publish_agreement(report.agreement, up_to), written["agreement"])
    fairness_rows = None
    if report.fairness is not None and report.fairness_audit is not None:
        written["fairness"] = folder / "fairness_recent.csv"
        write_csv(report.fairness, written["fairness"])
        written["fairness_audit"] = folder / "fairness_recent.json"
        atomic_write_text(
            written["fairness_audit"],
            json.dumps(
                published_audit(report.fairness_audit, up_to, report.fairness_gate),
                indent=2,
                default=str,
                ensure_ascii=False,
            ),
        )
        fairness_rows = len(report.fairness)
    headline = report.headline()
    headline["decisions_reviewed"] = shown_count(headline["decisions_reviewed"], up_to)
    summary = {
        "notice": REVIEW_NOTICE,
        **headline,
        "label": label,
        "model_version": str(mv.version),
        "score_drift": {
            **report.score_drift,
            **{k: shown_count(report.score_drift[k], up_to) for k in ("reference_n", "recent_n")},
        },
        "alerts": report.alerts,
        "fairness_groups": fairness_rows,
        "fairness_calibration_end": calibration_end.date().isoformat()
        if calibration_end is not None
        else None,
        "fairness_note": report.fairness_note,
        "fairness_gate": report.fairness_gate.summary() if report.fairness_gate else None,
    }
    atomic_write_text(written["summary"], json.dumps(summary, indent=2, default=str))
    top = report.feature_drift.head(10)
    return {
        "outputs": {k: str(v) for k, v in written.items()},
        **summary,
        "top_drift": top[["feature", "psi", "status"]].to_dict("records"),
    }


# ---------------------------------------------------------------------------- demo users

DEMO_USERS = (
    ("manager.a", "reviewer"),
    ("datascientist", "data_scientist"),
    ("governance", "governance"),
    ("admin", "admin"),
)


@step("demo-users", sections=("review",), cache=False)
def demo_users_step(settings: Settings) -> dict:
    """Demo mode only: one user per role of the review app, with generated passwords kept in
    a local file readable only by its owner (never printed to logs or artifacts)."""
    import json
    import os
    import secrets

    from frontdoor.review.auth import add_user, list_users
    from frontdoor.review.store import ready_engine

    if not settings.demo_mode:
        raise ValueError("demo users are created in demo mode only (settings.demo_mode)")
    engine = ready_engine(settings)
    path = settings.resolve(settings.paths.keys) / "demo-users.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    existing = {u["username"] for u in list_users(engine)}
    created = []
    for username, role in DEMO_USERS:
        if username in existing:
            continue
        password = secrets.token_urlsafe(12)
        add_user(settings, engine, username, role, password, by="frontdoor demo")
        saved[username] = {"role": role, "password": password}
        created.append(username)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    return {
        "outputs": {"users_file": str(path)},
        "created": created,
        "users": {u: saved[u]["role"] for u, _ in DEMO_USERS if u in saved},
    }
