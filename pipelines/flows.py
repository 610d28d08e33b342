"""The Prefect flows a council runs. Each is thin: it composes the steps in
``pipelines.tasks`` (themselves thin calls into the rooms) with one fan-out helper,
``steps.run_steps``, and leaves Markdown and table artifacts summarising the run.

Flows take ``settings`` (in process) or ``config`` (a YAML path, for deployments whose
parameters must be JSON). With no Prefect API configured they run on a temporary local server:
nothing to install.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow

from frontdoor.governance.report import report_folder, report_path
from frontdoor.models.run import feature_table_path, tune_labels
from frontdoor.pipelines import artifacts
from frontdoor.pipelines import tasks as t
from frontdoor.pipelines.preflight import require_extracts, scheduled_settings
from frontdoor.pipelines.steps import StepRun, run_one, run_steps
from frontdoor.settings import Settings

DEMO_OVERRIDE = (
    "Demo mode on a synthetic council: the model is promoted so that the review queue can be "
    "shown end to end. Synthetic data only; this override must never be used for a real council."
)
DEMO_OVERRIDE_BY = "frontdoor demo (synthetic data)"
RETRAIN_BY = "scheduled retrain flow (automatic: promoted only if every guard passed)"


def _settings(settings: dict | None, config: str | None, root: str | None = None) -> Settings:
    """Flows take the settings as a plain mapping (``Settings.model_dump()``; secrets stay
    ``SecretStr`` and show masked in Prefect) or the path of a YAML configuration, read in
    the project ``root`` a deployment names (``pipelines.preflight.scheduled_settings``)."""
    if settings is None:
        return scheduled_settings(config, root)
    return Settings.model_validate(settings)


def council_settings(settings: Settings, council: str) -> Settings:
    """A council's own copy of the settings in consortium mode: its own folders under
    ``data/councils/<council>/`` and its own registered models (``<prefix>-<council>-<label>``)."""
    base = Path(settings.paths.data) / "councils" / council
    pipelines = settings.pipelines
    if pipelines.extracts is not None:
        pipelines = pipelines.model_copy(update={"extracts": pipelines.extracts / council})
    folders = ("canonical", "quarantine", "truth", "features", "scores", "reports", "monitoring")
    paths = settings.paths.model_copy(
        update={"synthetic": settings.paths.synthetic / council, **{f: base / f for f in folders}}
    )
    tracking = settings.tracking.model_copy(
        update={"model_name_prefix": f"{settings.tracking.model_name_prefix}-{council}"}
    )
    return settings.model_copy(
        update={"paths": paths, "tracking": tracking, "pipelines": pipelines}
    )


@dataclass(frozen=True)
class Where:
    """The folders and files one council's flows read and write."""

    raw: Path
    canonical: Path
    truth: Path
    features: Path
    training: Path  # fold and backtest results
    scores: Path
    monitoring: Path

    @classmethod
    def of(cls, settings: Settings) -> Where:
        r, p = settings.resolve, settings.paths
        return cls(
            raw=r(settings.pipelines.extracts or p.synthetic),
            canonical=r(p.canonical),
            truth=r(p.truth),
            features=r(p.features) / "features.parquet",
            training=r(p.features).parent / "training",
            scores=r(p.scores),
            monitoring=r(p.monitoring),
        )


@dataclass(frozen=True)
class Scope:
    """What a flow works on: the council (``name`` empty), or one council of a consortium."""

    name: str
    settings: Settings
    where: Where


def scopes(settings: Settings) -> list[Scope]:
    councils = settings.pipelines.councils
    own = [(c, council_settings(settings, c)) for c in councils] or [("", settings)]
    return [Scope(name, s, Where.of(s)) for name, s in own]


def _labels(settings: Settings, labels: list[str] | None) -> list[str]:
    return list(labels) if labels else [settings.models.primary_label]


# ---------------------------------------------------------------------------- what flows compose


@dataclass
class Governed:
    """A registered version's audit, governance report and promotion (and its training, when
    the same flow trained it)."""

    audit: t.Audited
    report: t.Reported | None
    promotion: t.Promoted
    train: t.Trained | None = None


@dataclass
class FlowResult:
    """What a flow did: its steps (ran or from the cache) and each step's typed result, by
    council ("" for a single council)."""

    steps: list[StepRun] = field(default_factory=list)
    ingest: dict[str, t.Ingested] = field(default_factory=dict)
    features: dict[str, t.BuiltFeatures] = field(default_factory=dict)
    train: list[t.Trained] = field(default_factory=list)
    models: list[Governed] = field(default_factory=list)
    score: dict[str, t.Scored] = field(default_factory=dict)
    queue: dict[str, t.Queued] = field(default_factory=dict)
    monitor: dict[str, t.Monitored] = field(default_factory=dict)
    synth: t.Synthesised | None = None
    users: t.DemoUsers | None = None
    tuned: dict[str, dict] = field(default_factory=dict)  # by label: run id, AUCs side by side


def ingest(done: FlowResult, each: list[Scope]) -> None:
    jobs = [
        (s.name, s.settings, {"sources": s.where.raw, "out": str(s.where.canonical)}) for s in each
    ]
    done.ingest = dict(
        zip([s.name for s in each], run_steps(done.steps, t.ingest_step, jobs), strict=True)
    )


def build_features(done: FlowResult, each: list[Scope]) -> None:
    jobs = [
        (
            s.name,
            s.settings,
            {"canonical": s.where.canonical, "truth": s.where.truth, "out": str(s.where.features)},
        )
        for s in each
    ]
    built = run_steps(done.steps, t.features_step, jobs)
    done.features = dict(zip([s.name for s in each], built, strict=True))


def prepare(settings: Settings, done: FlowResult) -> None:
    """Ingest, then build features: for the council, or every council of a consortium in
    parallel. Extracts must be there first (an empty folder is a mistake, not an empty month)."""
    each = scopes(settings)
    for s in each:
        require_extracts(s.settings, s.where.raw)
    ingest(done, each)
    build_features(done, each)


def train(
    settings: Settings, done: FlowResult, labels: list[str]
) -> list[tuple[Settings, t.Trained]]:
    """Per council and label: one task per temporal fold (every fold of every label and council
    in parallel on the flow's task runner), one combining task per label, then the MLflow run
    and the registered version. Returns each version with the settings it belongs to."""
    jobs = []
    for s in scopes(settings):
        for label in labels:
            folder = s.where.training / label
            folds = [folder / f"fold{i}.pkl" for i in range(s.settings.models.splits.folds)]
            note = "/".join(x for x in (s.name, label) if x)
            given = {"features": s.where.features, "label": label}
            jobs.append((note, s.settings, given, folds, folder / "backtest.pkl"))
    fold_jobs = [
        (f"{note} fold {i}", own, {**given, "fold": i, "out": str(out)})
        for note, own, given, folds, _ in jobs
        for i, out in enumerate(folds)
    ]
    run_steps(done.steps, t.fold_step, fold_jobs)
    combine = [(n, own, {**g, "folds": folds, "out": str(b)}) for n, own, g, folds, b in jobs]
    combined = run_steps(done.steps, t.backtest_step, combine)
    if len(jobs) > 1:  # parallel training: the MLflow store and experiments made first, once
        for s in scopes(settings):
            run_one(done.steps, t.tracking_step, s.settings, labels=list(labels))
    register = [
        (note, own, {**given, "backtest": Path(c.backtest)})
        for (note, own, given, _, _), c in zip(jobs, combined, strict=True)
    ]
    trained = run_steps(done.steps, t.train_step, register)
    done.train += trained
    return [(own, tr) for (_, own, _), tr in zip(register, trained, strict=True)]


def govern(
    settings: Settings,
    steps: list[StepRun],
    label: str,
    version: str,
    override_rationale: str | None = None,
    by: str | None = None,
    promote: bool = True,
) -> Governed:
    """Audit (fairness + gate), promote through the guards, then write the governance report
    (after the promotion, so the report carries the promotion record)."""
    features = Where.of(settings).features
    out = report_folder(settings, label, version)
    given = {"label": label, "version": version}
    audited = run_one(steps, t.audit_step, settings, label, **given, out=str(out))
    if not promote:
        refused = t.Promoted(**given, promoted=False, how="promotion not requested")
        return Governed(audited, None, refused)
    why = {"override_rationale": override_rationale, "by": by}
    promoted = run_one(steps, t.promote_step, settings, label, **given, features=features, **why)
    out = report_path(settings, label, version)
    reported = run_one(
        steps, t.report_step, settings, label, **given, features=features, out=str(out)
    )
    return Governed(audited, reported, promoted)


def train_and_govern(
    settings: Settings, done: FlowResult, labels: list[str], override: str | None, by: str
) -> None:
    """Train every label, then audit, promote and report each version it registered."""
    for own, tr in train(settings, done, labels):
        governed = govern(own, done.steps, tr.label, tr.model_version, override, by)
        governed.train = tr
        done.models.append(governed)
    artifacts.train_summary(done.train, done.steps)
    for m in done.models:
        artifacts.audit_summary(m, done.steps)


def score(settings: Settings, done: FlowResult, name: str, label: str, alias: str) -> None:
    """Score the newest month with the version ``alias`` points at; fill the review queue."""
    w = Where.of(settings)
    version = run_one(done.steps, t.resolve_model_step, settings, label=label, alias=alias).version
    out = w.scores / f"scored-{label}-v{version}.parquet"
    given = {"features": w.features, "label": label, "version": version, "out": str(out)}
    scored = run_one(done.steps, t.score_step, settings, **given)
    done.score[name] = scored
    done.queue[name] = run_one(done.steps, t.queue_step, settings, scores=Path(scored.scores))
    up_to = settings.privacy.suppress_counts_up_to
    artifacts.score_summary(scored, done.queue[name], done.steps, up_to)


# ---------------------------------------------------------------------------- the flows


@flow(name="ingest")
def ingest_flow(settings: dict | None = None, config: str | None = None) -> FlowResult:
    """Council extracts -> pseudonymised canonical tables (one task per council when pooled)."""
    settings = _settings(settings, config)
    done = FlowResult()
    ingest(done, scopes(settings))
    artifacts.ingest_summary(done.ingest, done.steps, settings.privacy.suppress_counts_up_to)
    return done


@flow(name="build-features")
def build_features_flow(settings: dict | None = None, config: str | None = None) -> FlowResult:
    """Canonical tables -> point-in-time feature table (one task per council when pooled)."""
    settings = _settings(settings, config)
    done = FlowResult()
    build_features(done, scopes(settings))
    artifacts.features_summary(done.features, done.steps, settings.privacy.suppress_counts_up_to)
    return done


@flow(name="train")
def train_flow(
    settings: dict | None = None, config: str | None = None, labels: list[str] | None = None
) -> FlowResult:
    """Backtest, log to MLflow and register a version aliased ``challenger`` for each label."""
    settings = _settings(settings, config)
    done = FlowResult()
    train(settings, done, _labels(settings, labels))
    artifacts.train_summary(done.train, done.steps)
    return done


@flow(name="tune")
def tune_flow(
    settings: dict | None = None,
    config: str | None = None,
    labels: list[str] | None = None,
    trials: int = 40,
    seed: int | None = None,
    space: str = "wide",
    inner_windows: int = 1,
    select: str = "best",
) -> FlowResult:
    """Choose LightGBM's settings on each test window's past and log them beside the untuned
    (``models.run.tune_labels``); returns each label's side-by-side AUCs."""
    settings = _settings(settings, config)
    path = feature_table_path(settings)
    done = FlowResult()
    chosen = _labels(settings, labels)
    for result, run_id in tune_labels(
        settings, path, chosen, trials, seed, space, inner_windows, select
    ):
        comparison = result.comparison.to_dict("records")
        done.tuned[result.label] = {"run_id": run_id, "comparison": comparison}
    return done


@flow(name="audit")
def audit_flow(
    settings: dict | None = None,
    config: str | None = None,
    label: str | None = None,
    version: str = "challenger",
    promote: bool = True,
    override_rationale: str | None = None,
    by: str | None = None,
) -> FlowResult:
    """Fairness audit and gate of a registered version (default: the challenger); promote it to
    champion when the gate passed (or with a recorded override rationale)."""
    settings = _settings(settings, config)
    done = FlowResult()
    label = label or settings.models.primary_label
    resolved = run_one(done.steps, t.resolve_model_step, settings, label=label, alias=str(version))
    governed = govern(
        settings, done.steps, label, resolved.version, override_rationale, by, promote
    )
    done.models.append(governed)
    artifacts.audit_summary(governed, done.steps)
    return done


@flow(name="retrain")
def retrain_flow(
    settings: dict | None = None, config: str | None = None, root: str | None = None
) -> FlowResult:
    """The monthly job: features from the newest extract, training, the audit and the gate.

    Promotion here never overrides a failed gate: a person does that, with a rationale."""
    settings = _settings(settings, config, root)
    done = FlowResult()
    prepare(settings, done)
    train_and_govern(settings, done, _labels(settings, settings.models.labels), None, RETRAIN_BY)
    artifacts.retrain_summary(done.models, done.steps)
    return done


@flow(name="score")
def score_flow(
    settings: dict | None = None,
    config: str | None = None,
    label: str | None = None,
    alias: str = "champion",
    root: str | None = None,
) -> FlowResult:
    """The nightly job: score the newest referrals with the champion (probability, band,
    reasons) and put them in the review queue. The flag is a prompt for review, not a decision."""
    settings = _settings(settings, config, root)
    done = FlowResult()
    prepare(settings, done)
    for s in scopes(settings):
        score(s.settings, done, s.name, label or settings.models.primary_label, alias)
    return done


@flow(name="monitor")
def monitor_flow(
    settings: dict | None = None,
    config: str | None = None,
    label: str | None = None,
    alias: str = "champion",
    root: str | None = None,
) -> FlowResult:
    """The weekly job: drift of inputs and scores, flag rates, fairness on recently labelled
    referrals, and managers' agreement with the flags, by band and group."""
    settings = _settings(settings, config, root)
    done = FlowResult()
    label = label or settings.models.primary_label
    for s in scopes(settings):
        version = run_one(
            done.steps, t.resolve_model_step, s.settings, label=label, alias=alias
        ).version
        given = {"features": s.where.features, "label": label, "version": version}
        monitored = run_one(
            done.steps, t.monitor_step, s.settings, **given, out=str(s.where.monitoring)
        )
        done.monitor[s.name] = monitored
        artifacts.monitor_summary(monitored, done.steps, settings.privacy.suppress_counts_up_to)
    return done


@flow(name="demo")
def demo_flow(
    settings: dict | None = None, config: str | None = None, labels: list[str] | None = None
) -> FlowResult:
    """The whole job on a synthetic council: synthesise, ingest, build features, train, audit,
    report, register and promote (through the gate, or in demo mode by a recorded override),
    score the latest month, fill the review queue and create demo users."""
    settings = _settings(settings, config)
    if not settings.demo_mode:
        raise ValueError("the demo runs in demo mode only (settings.demo_mode is false)")
    if settings.pipelines.councils:
        raise ValueError("the demo makes one synthetic council: leave pipelines.councils empty")
    done = FlowResult()
    labels = _labels(settings, labels)
    done.synth = run_one(done.steps, t.synth_step, settings, out=str(Where.of(settings).raw))
    prepare(settings, done)
    train_and_govern(settings, done, labels, DEMO_OVERRIDE, DEMO_OVERRIDE_BY)
    score(settings, done, "", labels[0], "champion")
    done.users = run_one(done.steps, t.demo_users_step, settings)
    artifacts.demo_summary(done, settings.privacy.suppress_counts_up_to)
    return done


FLOWS = {
    "ingest": ingest_flow,
    "build-features": build_features_flow,
    "train": train_flow,
    "tune": tune_flow,
    "audit": audit_flow,
    "retrain": retrain_flow,
    "score": score_flow,
    "monitor": monitor_flow,
    "demo": demo_flow,
}
