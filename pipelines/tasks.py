"""The steps of the flows: each one calls a room's plain function and returns a typed result.

Conventions (they make caching by input digest correct):
- an argument typed ``Path`` is an *input*: its content enters the cache key;
- a location the step writes to is passed as ``str``: only its name enters the key;
- a result names the files it wrote in ``WRITES`` (see ``pipelines.steps.Result``).

Tests call these functions directly (``step.fn``), without Prefect.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

import pandas as pd

from frontdoor.features.run import build_and_write
from frontdoor.governance.audits import audit_version
from frontdoor.governance.monitor_run import run_monitor
from frontdoor.governance.promotion import promote_or_refuse
from frontdoor.governance.report import build_report
from frontdoor.ingest.run import ingest_sources
from frontdoor.models import registry
from frontdoor.models.scoring import flag_mask, score_referrals
from frontdoor.models.tracking import ensure_experiment, log_run
from frontdoor.models.train import combine_folds, fit_fold, summary_table, training_data
from frontdoor.pipelines.preflight import require_model
from frontdoor.pipelines.steps import Result, step
from frontdoor.records.disclosure import redact_url
from frontdoor.records.feature_table import TRUTH_FILE, read_feature_table
from frontdoor.records.store import atomic_write_bytes, atomic_write_parquet
from frontdoor.review.band_outcomes import load_band_outcomes
from frontdoor.review.demo_users import create_demo_users
from frontdoor.review.store import export_decisions, load_scored_referrals
from frontdoor.settings import Settings
from frontdoor.synth.run import synthesise

# ---------------------------------------------------------------------------- synth, ingest, features


@dataclass(kw_only=True)
class Synthesised(Result):
    WRITES: ClassVar = ("raw",)
    raw: str
    children: int
    tables: dict[str, int]


@step("synthesise", sections=("synth",), code=("frontdoor.synth", "frontdoor.records"))
def synth_step(settings: Settings, out: str) -> Synthesised:
    """A synthetic council (raw council ids, as a council's own extract would hold them)."""
    council, _ = synthesise(settings, Path(out))
    tables = {name: len(frame) for name, frame in council.tables.items()}
    return Synthesised(raw=str(out), children=settings.synth.children, tables=tables).sealed()


@dataclass(kw_only=True)
class Ingested(Result):
    WRITES: ClassVar = ("canonical",)
    canonical: str
    reference_date: str
    tables: dict[str, dict[str, int]]  # per table: read, loaded, quarantined, ...
    totals: dict[str, int]
    balanced: bool
    quarantine: str


@step(
    "ingest",
    sections=("ingest", "privacy", "paths"),
    code=("frontdoor.ingest", "frontdoor.records"),
)
def ingest_step(settings: Settings, sources: Path, out: str) -> Ingested:
    """Council extracts in ``sources`` -> pseudonymised canonical tables in ``out``."""
    summary = ingest_sources([sources], Path(out), settings).as_dict()
    tables = {
        name: {k: int(v) for k, v in c.items() if isinstance(v, int) and not isinstance(v, bool)}
        for name, c in summary["tables"].items()
    }
    return Ingested(
        canonical=str(out),
        reference_date=summary["reference_date"],
        tables=tables,
        totals=summary["totals"],
        balanced=bool(summary["balanced"]),
        quarantine=str(settings.resolve(settings.paths.quarantine)),
    ).sealed()


@dataclass(kw_only=True)
class BuiltFeatures(Result):
    WRITES: ClassVar = ("features",)
    features: str
    reference_date: str
    decisions: int
    censored: int
    labelled: int
    columns: int  # declared features in the table
    rates: dict[str, float]  # each label's rate among the labelled
    without_household: int | None = None  # dated memberships: decisions with no household


@step(
    "build-features",
    sections=("features", "paths"),
    code=("frontdoor.features", "frontdoor.records"),
)
def features_step(settings: Settings, canonical: Path, truth: Path, out: str) -> BuiltFeatures:
    """Canonical tables -> the point-in-time feature table (one row per decision)."""
    truth_file = truth / TRUTH_FILE
    truth_frame = pd.read_parquet(truth_file) if truth_file.exists() else None
    s = build_and_write(canonical, Path(out), settings, truth_frame)
    return BuiltFeatures(
        features=str(out),
        reference_date=s["reference_date"],
        decisions=s["decisions"],
        censored=s["censored"],
        labelled=s["labelled"],
        columns=s["features"],
        rates={k: v for k, v in s.items() if k.endswith("_rate")},
        without_household=s.get("decisions_without_household"),
    ).sealed()


# ---------------------------------------------------------------------------- training


def _write_pickle(value: object, out: str) -> None:
    """A fold's or a backtest's result, for the next step (maybe on another Dask worker, so on
    the shared file system; pseudonymised rows only, like the feature table it came from)."""
    atomic_write_bytes(Path(out), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _read_pickle(path: Path):
    return pickle.loads(Path(path).read_bytes())


@dataclass(kw_only=True)
class Tracked(Result):
    experiments: dict[str, str]


@step("prepare-tracking", sections=("tracking",), cache=False)
def tracking_step(settings: Settings, labels: list[str]) -> Tracked:
    """Create the MLflow store and the experiments once, before training tasks run in parallel:
    two processes creating a fresh SQLite store (or the same experiment) at once collide."""
    return Tracked(experiments={label: ensure_experiment(settings, label) for label in labels})


@dataclass(kw_only=True)
class Fold(Result):
    WRITES: ClassVar = ("fold_file",)
    fold_file: str
    label: str
    fold: int
    test_rows: int
    seconds: float


@step(
    "train-fold",
    sections=("models", "features"),
    code=("frontdoor.models", "frontdoor.features", "frontdoor.records"),
)
def fold_step(settings: Settings, features: Path, label: str, fold: int, out: str) -> Fold:
    """One temporal fold of a label's backtest (fit, calibrate, band, score its test window,
    evaluate), independent of the others; its result is written to ``out``."""
    data = training_data(read_feature_table(features), label, settings)
    result = fit_fold(data, fold, settings)
    _write_pickle(result, out)
    seconds = round(sum(result.seconds.values()), 2)
    return Fold(
        fold_file=str(out),
        label=label,
        fold=fold,
        test_rows=len(result.predictions),
        seconds=seconds,
    ).sealed()


@dataclass(kw_only=True)
class Backtested(Result):
    WRITES: ClassVar = ("backtest",)
    backtest: str
    label: str
    folds: int
    auc: float


@step(
    "backtest",
    sections=("models", "features"),
    code=("frontdoor.models", "frontdoor.features", "frontdoor.records"),
)
def backtest_step(
    settings: Settings, features: Path, label: str, folds: list[Path], out: str
) -> Backtested:
    """A label's fold results combined (pooled metrics with paired bootstrap CIs) with the
    deployable model trained on the newest labels: ``models.train.backtest``'s result."""
    data = training_data(read_feature_table(features), label, settings)
    result = combine_folds(data, [_read_pickle(p) for p in folds], settings)
    _write_pickle(result, out)
    auc = float(result.metric(result.deployed.kind, "auc")["value"])
    return Backtested(backtest=str(out), label=label, folds=len(result.folds), auc=auc).sealed()


@dataclass(kw_only=True)
class Trained(Result):
    label: str
    run_id: str
    model_name: str
    model_version: str
    model_uri: str
    estimator: str
    folds: int
    auc: float
    auc_rule: float  # the current-practice rule's
    fold_table: list[dict]


def _registered(settings: Settings, trained: Trained) -> bool:
    return _version_exists(settings, trained.label, trained.model_version)


def _version_exists(settings: Settings, label: str, version: str) -> bool:
    try:
        registry.get_version(settings, label, version)
    except Exception:  # noqa: BLE001 - any failure to find it means: train again
        return False
    return True


@step(
    "train",
    sections=("models", "features", "tracking"),
    check=_registered,
    code=("frontdoor.models", "frontdoor.features", "frontdoor.records"),
)
def train_step(settings: Settings, features: Path, label: str, backtest: Path) -> Trained:
    """Log a label's backtest to MLflow and register a version aliased ``challenger``."""
    result = _read_pickle(backtest)
    if result.label != label:
        raise ValueError(f"{backtest} holds the backtest of {result.label}, not {label}")
    record = log_run(result, read_feature_table(features), settings, source=str(features))
    folds = summary_table(result)
    return Trained(
        label=label,
        run_id=record.run_id,
        model_name=record.model_name,
        model_version=record.model_version,
        model_uri=record.model_uri,
        estimator=result.deployed.kind,
        folds=len(result.folds),
        auc=float(result.metric(result.deployed.kind, "auc")["value"]),
        auc_rule=float(result.metric("rule", "auc")["value"]),
        fold_table=folds.astype(object).where(folds.notna(), None).to_dict("records"),
    )


# ---------------------------------------------------------------------------- scoring


def latest_month(dates: pd.Series, as_of: date | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The calendar month holding the newest decision (or ``as_of``): first and last day."""
    end = pd.Timestamp(as_of) if as_of else pd.to_datetime(dates).max()
    start = end.to_period("M").start_time
    return start.normalize(), end.normalize()


@dataclass(kw_only=True)
class Resolved(Result):
    label: str
    alias: str
    version: str


@step("resolve-model", sections=("tracking",), cache=False)
def resolve_model_step(settings: Settings, label: str, alias: str) -> Resolved:
    """The version an alias points at now (read every run: an alias moves on promotion)."""
    require_model(settings, label, alias)  # a missing store, model or alias: say which, fail
    # the champion is the version the promotion log names: a hand-moved alias is refused here
    find = registry.promoted_version if alias == registry.CHAMPION else registry.get_version
    version = str(find(settings, label, alias).version)
    return Resolved(label=label, alias=alias, version=version)


@dataclass(kw_only=True)
class Scored(Result):
    WRITES: ClassVar = ("scores",)
    scores: str
    label: str
    model_version: str
    month: str
    scored: int
    bands: dict[str, int]
    flagged: int


@step(
    "score",
    sections=("models", "tracking", "review"),
    code=("frontdoor.models", "frontdoor.records"),
)
def score_step(settings: Settings, features: Path, label: str, version: str, out: str) -> Scored:
    """Score the newest month of referrals with a registered model version; write the scores."""
    table = read_feature_table(features)
    if "decision_kind" in table:
        table = table[table["decision_kind"] == "referral"]
    start, end = latest_month(table["decision_date"])
    newest = table[(table["decision_date"] >= start) & (table["decision_date"] <= end)]
    model, _ = registry.load_promoted(settings, label, version)  # only the log's champion scores
    scored = score_referrals(
        model,
        newest,
        label=label,
        model_name=registry.model_name(settings, label),
        model_version=str(version),
        scored_at=datetime.now(),
    )
    atomic_write_parquet(scored, Path(out))
    return Scored(
        scores=str(out),
        label=label,
        model_version=str(version),
        month=start.strftime("%Y-%m"),
        scored=len(scored),
        bands={str(k): int(v) for k, v in scored["band"].value_counts().items()},
        flagged=int(flag_mask(scored["band"], settings.review.flagged_bands).sum()),
    ).sealed()


@dataclass(kw_only=True)
class Queued(Result):
    loaded: int
    offered: int
    flagged: int
    database: str
    band_figures: int = 0  # rows of the versions' backtest figures per band newly stored


@step("fill-review-queue", sections=("review",), cache=False)
def queue_step(settings: Settings, scores: Path) -> Queued:
    """Load scored referrals into the review store (idempotent: known rows are skipped), with
    each scoring version's backtest figures per band, for the case page."""
    scored = pd.read_parquet(scores)
    figures = 0
    for (label, version), _ in scored.groupby(["label", "model_version"]):
        registry.promoted_version(settings, str(label), str(version))  # the champion's only
        bands = registry.band_outcomes(settings, str(label), str(version))
        if bands is not None:
            figures += load_band_outcomes(settings, bands)
    return Queued(
        band_figures=figures,
        loaded=int(load_scored_referrals(settings, scored)),
        offered=len(scored),
        flagged=int(flag_mask(scored["band"], settings.review.flagged_bands).sum()),
        database=redact_url(settings.review.database_url.get_secret_value()).split("///")[-1],
    )


# ---------------------------------------------------------------------------- audit, promotion


def _audited(settings: Settings, result: Audited | Reported) -> bool:
    if not _version_exists(settings, result.label, result.model_version):
        return False
    tags = registry.version_tags(settings, result.label, result.model_version)
    return tags.get("fairness_audit") in ("pass", "fail")


@dataclass(kw_only=True)
class Audited(Result):
    WRITES: ClassVar = ("audit_json", "audit_html")
    audit_json: str
    audit_html: str
    label: str
    model_name: str
    model_version: str
    run_id: str
    gate_passed: bool
    gate_summary: str
    checks: int
    failures: int
    inconclusive: int


@step(
    "audit",
    sections=("fairness", "privacy", "tracking"),
    check=_audited,
    code=("frontdoor.governance", "frontdoor.models", "frontdoor.records"),
)
def audit_step(settings: Settings, label: str, version: str, out: str) -> Audited:
    """Fairness audit of a registered version (its run's test predictions) and the gate;
    the published (suppressed) audit goes to MLflow and to ``out``."""
    done = audit_version(settings, label, version, Path(out))
    audited, gate = done.audited, done.audited.gate
    return Audited(
        audit_json=str(done.json_path),
        audit_html=str(done.html_path),
        label=label,
        model_name=audited.model_name,
        model_version=audited.version,
        run_id=audited.run_id,
        gate_passed=bool(gate.passed),
        gate_summary=gate.summary(),
        checks=len(gate.checks),
        failures=len(gate.failures),
        inconclusive=len(gate.inconclusive),
    ).sealed()


@dataclass(kw_only=True)
class Reported(Result):
    WRITES: ClassVar = ("report_html", "atrs_json")
    report_html: str
    atrs_json: str
    label: str
    model_name: str
    model_version: str
    gate_passed: bool


@step(
    "report",
    sections=("models", "fairness", "privacy", "tracking"),
    check=_audited,
    code=("frontdoor.governance", "frontdoor.models", "frontdoor.records"),
)
def report_step(settings: Settings, label: str, version: str, features: Path, out: str) -> Reported:
    """The governance report (model card, fairness, explanations, ATRS record) as HTML + JSON,
    also logged to the version's MLflow run."""
    built = build_report(settings, label, str(version), Path(out), features=features)
    return Reported(
        report_html=str(built.html_path),
        atrs_json=str(built.atrs_path),
        label=label,
        model_name=built.model_name,
        model_version=built.version,
        gate_passed=bool(built.gate_passed),
    ).sealed()


@dataclass(kw_only=True)
class Promoted(Result):
    label: str
    model_version: str
    promoted: bool
    how: str
    overridden: bool = False
    already: bool = False
    previous_champion: str | None = None
    checks: list | None = None  # the guards' results


@step("promote", sections=("tracking", "governance", "review"), cache=False)
def promote_step(
    settings: Settings,
    label: str,
    version: str,
    features: Path,
    override_rationale: str | None = None,
    by: str | None = None,
) -> Promoted:
    """Promote the version through its guards (``governance.promotion.promote_or_refuse``):
    the gate (or a recorded override), non-inferiority to the champion, sane bands."""
    return Promoted(**promote_or_refuse(settings, label, version, features, override_rationale, by))


# ---------------------------------------------------------------------------- monitoring, demo users


@dataclass(kw_only=True)
class Monitored(Result):
    files: dict[str, str]
    summary: dict  # as written to summary.json (small counts shown as c)
    top_drift: list[dict] = field(default_factory=list)

    def written(self) -> dict[str, str]:
        return dict(self.files)


@step(
    "monitor", sections=("pipelines", "fairness", "review", "tracking", "governance"), cache=False
)
def monitor_step(
    settings: Settings, features: Path, label: str, version: str, out: str
) -> Monitored:
    """Drift, flag rates, calibration, recent fairness and agreement for a model version
    (``governance.monitor_run``); written to ``out`` as tables fit to publish."""
    summary = run_monitor(settings, features, label, version, out, export_decisions(settings))
    files, top = summary.pop("outputs"), summary.pop("top_drift")
    return Monitored(files=files, summary=summary, top_drift=top)


@dataclass(kw_only=True)
class DemoUsers(Result):
    WRITES: ClassVar = ("users_file",)
    users_file: str
    created: list[str]
    users: dict[str, str]  # username -> role


@step("demo-users", sections=("review",), cache=False)
def demo_users_step(settings: Settings) -> DemoUsers:
    """Demo mode only: one user per role of the review app, with generated passwords kept in
    a local file readable only by its owner (never printed to logs or artifacts)."""
    made = create_demo_users(settings)
    return DemoUsers(users_file=str(made.users_file), created=made.created, users=made.roles)
