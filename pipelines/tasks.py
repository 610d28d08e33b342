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
    versions = store.read_versions(canonical)
    table = build_feature_table(tables, reference, settings, truth_frame, versions=versions)
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
    from frontdoor.models.registry import load_promoted, model_name
    from frontdoor.models.scoring import flag_mask, score_referrals
    from frontdoor.records.feature_table import read_feature_table
    from frontdoor.records.store import atomic_write_parquet

    table = read_feature_table(features)
    if "decision_kind" in table:
        table = table[table["decision_kind"] == "referral"]
    start, end = latest_month(table["decision_date"])
    newest = table[(table["decision_date"] >= start) & (table["decision_date"] <= end)]
    model, _ = load_promoted(settings, label, version)  # only the log's champion scores
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
            "flagged": int(flag_mask(scored["band"], settings.review.flagged_bands).sum()),
        }
    )


@step("fill-review-queue", sections=("review",), cache=False)
def queue_step(settings: Settings, scores: Path) -> dict:
    """Load scored referrals into the review store (idempotent: known rows are skipped)."""
    from frontdoor.models.registry import promoted_version
    from frontdoor.models.scoring import flag_mask
    from frontdoor.records.disclosure import redact_url
    from frontdoor.review.store import load_scored_referrals

    scored = pd.read_parquet(scores)
    for (label, version), _ in scored.groupby(["label", "model_version"]):
        promoted_version(settings, str(label), str(version))  # the queue takes the champion's only
    added = load_scored_referrals(settings, scored)
    return {
        "outputs": {},
        "loaded": int(added),
        "offered": int(len(scored)),
        "flagged": int(flag_mask(scored["band"], settings.review.flagged_bands).sum()),
        "database": redact_url(settings.review.database_url.get_secret_value()).split("///")[-1],
    }


@step("resolve-model", sections=("tracking",), cache=False)
def resolve_model_step(settings: Settings, label: str, alias: str) -> dict:
    """The version an alias points at now (read every run: an alias moves on promotion)."""
    from frontdoor.models.registry import CHAMPION, get_version, promoted_version
    from frontdoor.pipelines.preflight import require_model

    require_model(settings, label, alias)  # a missing store, model or alias: say which, fail
    # the champion is the version the promotion log names: a hand-moved alias is refused here
    version = (promoted_version if alias == CHAMPION else get_version)(settings, label, alias)
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
    from frontdoor.governance.version_audit import audit_model_version

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


@step("promote", sections=("tracking", "governance", "review"), cache=False)
def promote_step(
    settings: Settings,
    label: str,
    version: str,
    features: Path,
    override_rationale: str | None = None,
    by: str | None = None,
) -> dict:
    """Promote the version through its guards (``governance.promotion.promote_or_refuse``):
    the gate (or a recorded override), non-inferiority to the champion, sane bands."""
    from frontdoor.governance.promotion import promote_or_refuse

    return {
        "outputs": {},
        **promote_or_refuse(settings, label, version, features, override_rationale, by),
    }


# ---------------------------------------------------------------------------- monitoring


@step(
    "monitor", sections=("pipelines", "fairness", "review", "tracking", "governance"), cache=False
)
def monitor_step(settings: Settings, features: Path, label: str, version: str, out: str) -> dict:
    """Drift, flag rates, calibration, recent fairness and agreement for a model version
    (``governance.monitor_run``); written to ``out`` as tables fit to publish."""
    from frontdoor.governance.monitor_run import run_monitor
    from frontdoor.review.store import export_decisions

    return run_monitor(settings, features, label, version, out, export_decisions(settings))


# ---------------------------------------------------------------------------- demo users

DEMO_USERS = (
    ("manager.a", "reviewer"),
    ("team.manager", "team_manager"),  # claims, releases and reassigns cases (allocation)
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
