"""The Prefect flows a council runs. Each is thin: it composes the steps in ``pipelines.tasks``
(themselves thin calls into the rooms), records what ran and what came from the cache, and
leaves Markdown and table artifacts summarising the run.

Flows take ``settings`` (in process) or ``config`` (a YAML path, for deployments whose
parameters must be JSON). With no Prefect API configured they run on a temporary local server:
nothing to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from frontdoor.governance.report import report_folder, report_path
from frontdoor.pipelines import artifacts
from frontdoor.pipelines import tasks as t
from frontdoor.pipelines.preflight import require_extracts, scheduled_settings
from frontdoor.pipelines.steps import Ledger, run_step, submit_steps
from frontdoor.settings import Settings


def _shown(count: int, settings: Settings) -> str:
    """A count for a flow's summary: 1..privacy.suppress_counts_up_to shows as c."""
    return artifacts._fmt(artifacts.shown(count, settings.privacy.suppress_counts_up_to))


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
    paths = settings.paths.model_copy(
        update={
            "synthetic": settings.paths.synthetic / council,
            "canonical": base / "canonical",
            "quarantine": base / "quarantine",
            "truth": base / "truth",
            "features": base / "features",
            "scores": base / "scores",
            "reports": base / "reports",
            "monitoring": base / "monitoring",
        }
    )
    tracking = settings.tracking.model_copy(
        update={"model_name_prefix": f"{settings.tracking.model_name_prefix}-{council}"}
    )
    return settings.model_copy(
        update={"paths": paths, "tracking": tracking, "pipelines": pipelines}
    )


def _where(settings: Settings) -> dict[str, Path]:
    r, p = settings.resolve, settings.paths
    return {
        "raw": r(settings.pipelines.extracts or p.synthetic),
        "canonical": r(p.canonical),
        "truth": r(p.truth),
        "features": r(p.features) / "features.parquet",
        "training": r(p.features).parent / "training",  # fold and backtest results
        "scores": r(p.scores),
        "reports": r(p.reports),
        "monitoring": r(p.monitoring),
    }


def _labels(settings: Settings, labels: list[str] | None) -> list[str]:
    return list(labels) if labels else [settings.models.primary_label]


# ---------------------------------------------------------------------------- the flows


def ingest_and_features(settings: Settings, ledger: Ledger) -> dict[str, Any]:
    """Ingest then build features: for one council, or for every council in parallel."""
    councils = settings.pipelines.councils
    for _, own in _scopes(settings):
        require_extracts(own, _where(own)["raw"])
    if not councils:
        w = _where(settings)
        ing = run_step(ledger, t.ingest_step, settings, sources=w["raw"], out=str(w["canonical"]))
        feats = run_step(
            ledger,
            t.features_step,
            settings,
            canonical=w["canonical"],
            truth=w["truth"],
            out=str(w["features"]),
        )
        return {"ingest": ing, "features": feats}
    each = {c: council_settings(settings, c) for c in councils}
    where = {c: _where(s) for c, s in each.items()}
    ingested = submit_steps(
        ledger,
        t.ingest_step,
        [
            (
                c,
                {
                    "settings": each[c],
                    "sources": where[c]["raw"],
                    "out": str(where[c]["canonical"]),
                },
            )
            for c in councils
        ],
    )
    built = submit_steps(
        ledger,
        t.features_step,
        [
            (
                c,
                {
                    "settings": each[c],
                    "canonical": where[c]["canonical"],
                    "truth": where[c]["truth"],
                    "out": str(where[c]["features"]),
                },
            )
            for c in councils
        ],
    )
    return {
        "councils": {
            c: {"ingest": i, "features": f}
            for c, i, f in zip(councils, ingested, built, strict=True)
        }
    }


@flow(name="ingest")
def ingest_flow(settings: dict | None = None, config: str | None = None) -> dict:
    """Council extracts -> pseudonymised canonical tables (one task per council when pooled)."""
    settings = _settings(settings, config)
    ledger = Ledger()
    if settings.pipelines.councils:
        each = {c: council_settings(settings, c) for c in settings.pipelines.councils}
        jobs = [
            (c, {"settings": s, "sources": _where(s)["raw"], "out": str(_where(s)["canonical"])})
            for c, s in each.items()
        ]
        results = dict(zip(each, submit_steps(ledger, t.ingest_step, jobs), strict=True))
    else:
        w = _where(settings)
        results = {
            "": run_step(ledger, t.ingest_step, settings, sources=w["raw"], out=str(w["canonical"]))
        }
    artifacts.ingest_summary(results, ledger, settings.privacy.suppress_counts_up_to)
    return {"ingest": results, "steps": ledger.rows()}


@flow(name="build-features")
def build_features_flow(settings: dict | None = None, config: str | None = None) -> dict:
    """Canonical tables -> point-in-time feature table (one task per council when pooled)."""
    settings = _settings(settings, config)
    ledger = Ledger()
    jobs = [
        (
            council,
            {
                "settings": own,
                "canonical": _where(own)["canonical"],
                "truth": _where(own)["truth"],
                "out": str(_where(own)["features"]),
            },
        )
        for council, own in _scopes(settings)
    ]
    # submitted even for one council, so it runs where the task runner says (Dask included)
    results = submit_steps(ledger, t.features_step, jobs)
    if len(jobs) == 1:
        artifacts.features_summary(results[0], ledger, settings.privacy.suppress_counts_up_to)
        return {"features": results[0], "steps": ledger.rows()}
    return {
        "councils": {c: r for (c, _), r in zip(jobs, results, strict=True)},
        "steps": ledger.rows(),
    }


def _scopes(settings: Settings) -> list[tuple[str, Settings]]:
    """What a flow works on: the council, or each council of a consortium with its own settings."""
    councils = settings.pipelines.councils
    if not councils:
        return [("", settings)]
    return [(c, council_settings(settings, c)) for c in councils]


def _train(settings: Settings, ledger: Ledger, labels: list[str]) -> list[tuple[Settings, dict]]:
    """Training per council and label: one task per temporal fold (every fold of every label
    and council in parallel on the flow's task runner), one combining task per label, then the
    MLflow run and the registered version."""
    jobs = []
    for council, own in _scopes(settings):
        w = _where(own)
        for label in labels:
            folder = w["training"] / label
            folds = [folder / f"fold{i}.pkl" for i in range(own.models.splits.folds)]
            note = "/".join(x for x in (council, label) if x)
            jobs.append((note, own, label, w["features"], folds, folder / "backtest.pkl"))
    submit_steps(
        ledger,
        t.fold_step,
        [
            (
                f"{note} fold {i}",
                {"settings": own, "features": f, "label": label, "fold": i, "out": str(out)},
            )
            for note, own, label, f, folds, _ in jobs
            for i, out in enumerate(folds)
        ],
    )
    combined = submit_steps(
        ledger,
        t.backtest_step,
        [
            (note, {"settings": own, "features": f, "label": label, "folds": folds, "out": str(b)})
            for note, own, label, f, folds, b in jobs
        ],
    )
    register = [
        (
            note,
            {
                "settings": own,
                "features": f,
                "label": label,
                "backtest": Path(c["outputs"]["backtest"]),
            },
        )
        for (note, own, label, f, _, _), c in zip(jobs, combined, strict=True)
    ]
    if len(register) == 1:
        _, kw = register[0]
        own = kw.pop("settings")
        return [(own, run_step(ledger, t.train_step, own, **kw))]
    for _, own in _scopes(settings):
        run_step(ledger, t.tracking_step, own, labels=list(labels))
    results = submit_steps(ledger, t.train_step, register)
    return [(kw["settings"], r) for (_, kw), r in zip(register, results, strict=True)]


@flow(name="train")
def train_flow(
    settings: dict | None = None, config: str | None = None, labels: list[str] | None = None
) -> dict:
    """Backtest, log to MLflow and register a version aliased ``challenger`` for each label."""
    settings = _settings(settings, config)
    ledger = Ledger()
    trained = [r for _, r in _train(settings, ledger, _labels(settings, labels))]
    artifacts.train_summary(trained, ledger)
    return {"train": trained, "steps": ledger.rows()}


def _audit_and_promote(
    settings: Settings,
    ledger: Ledger,
    label: str,
    version: str,
    override_rationale: str | None,
    by: str | None,
) -> tuple[dict, dict, dict]:
    """Audit (fairness + gate), promote through the guards, then write the governance report
    (after the promotion, so the report carries the promotion record)."""
    w = _where(settings)
    out = report_folder(settings, label, str(version))
    audited = run_step(
        ledger, t.audit_step, settings, note=label, label=label, version=str(version), out=str(out)
    )
    promoted = run_step(
        ledger,
        t.promote_step,
        settings,
        note=label,
        label=label,
        version=str(version),
        features=w["features"],
        override_rationale=override_rationale,
        by=by,
    )
    reported = run_step(
        ledger,
        t.report_step,
        settings,
        note=label,
        label=label,
        version=str(version),
        features=w["features"],
        out=str(report_path(settings, label, str(version))),
    )
    return audited, reported, promoted


@flow(name="tune")
def tune_flow(
    settings: dict | None = None,
    config: str | None = None,
    labels: list[str] | None = None,
    trials: int = 12,
    seed: int | None = None,
) -> dict:
    """Choose LightGBM's settings on each test window's past and log them beside the untuned
    (``models.run.tune_labels``); returns each label's side-by-side AUCs."""
    from frontdoor.models.run import feature_table_path, tune_labels  # (start-up time)

    settings = _settings(settings, config)
    path = feature_table_path(settings)
    return {
        result.label: {"run_id": run_id, "comparison": result.comparison.to_dict("records")}
        for result, run_id in tune_labels(settings, path, _labels(settings, labels), trials, seed)
    }


@flow(name="audit")
def audit_flow(
    settings: dict | None = None,
    config: str | None = None,
    label: str | None = None,
    version: str = "challenger",
    promote: bool = True,
    override_rationale: str | None = None,
    by: str | None = None,
) -> dict:
    """Fairness audit and gate of a registered version (default: the challenger); promote it to
    champion when the gate passed (or with a recorded override rationale)."""
    settings = _settings(settings, config)
    ledger = Ledger()
    label = label or settings.models.primary_label
    resolved = run_step(ledger, t.resolve_model_step, settings, label=label, alias=str(version))
    number = resolved["version"]
    if promote:
        audited, reported, promoted = _audit_and_promote(
            settings, ledger, label, number, override_rationale, by
        )
    else:
        out = report_folder(settings, label, number)
        audited = run_step(
            ledger, t.audit_step, settings, label=label, version=number, out=str(out)
        )
        reported = None
        promoted = {"promoted": False, "how": "promotion not requested"}
    artifacts.audit_summary(audited, promoted, ledger, reported)
    return {"audit": audited, "report": reported, "promotion": promoted, "steps": ledger.rows()}


RETRAIN_BY = "scheduled retrain flow (automatic: promoted only if every guard passed)"


@flow(name="retrain")
def retrain_flow(
    settings: dict | None = None, config: str | None = None, root: str | None = None
) -> dict:
    """The monthly job: features from the newest extract, training, the audit and the gate.

    Promotion here never overrides a failed gate: a person does that, with a rationale."""
    settings = _settings(settings, config, root)
    ledger = Ledger()
    built = ingest_and_features(settings, ledger)
    trained = _train(settings, ledger, _labels(settings, settings.models.labels))
    results = []
    for own, tr in trained:
        audited, reported, promoted = _audit_and_promote(
            own, ledger, tr["label"], tr["model_version"], None, RETRAIN_BY
        )
        results.append({"train": tr, "audit": audited, "report": reported, "promotion": promoted})
    artifacts.train_summary([tr for _, tr in trained], ledger)
    for r in results:
        artifacts.audit_summary(r["audit"], r["promotion"], ledger, r["report"])
    artifacts.retrain_summary(results, ledger)
    return {"built": built, "models": results, "steps": ledger.rows()}


def _score(settings: Settings, ledger: Ledger, label: str, alias: str) -> tuple[dict, dict]:
    w = _where(settings)
    resolved = run_step(ledger, t.resolve_model_step, settings, label=label, alias=alias)
    version = resolved["version"]
    out = w["scores"] / f"scored-{label}-v{version}.parquet"
    scored = run_step(
        ledger,
        t.score_step,
        settings,
        features=w["features"],
        label=label,
        version=version,
        out=str(out),
    )
    queued = run_step(ledger, t.queue_step, settings, scores=Path(scored["outputs"]["scores"]))
    return scored, queued


@flow(name="score")
def score_flow(
    settings: dict | None = None,
    config: str | None = None,
    label: str | None = None,
    alias: str = "champion",
    root: str | None = None,
) -> dict:
    """The nightly job: score the newest referrals with the champion (probability, band,
    reasons) and put them in the review queue. The flag is a prompt for review, not a decision."""
    settings = _settings(settings, config, root)
    ledger = Ledger()
    built = ingest_and_features(settings, ledger)
    done = {}
    for council, own in _scopes(settings):
        scored, queued = _score(own, ledger, label or settings.models.primary_label, alias)
        artifacts.score_summary(scored, queued, ledger, settings.privacy.suppress_counts_up_to)
        done[council] = {"score": scored, "queue": queued}
    if list(done) == [""]:
        return {"built": built, **done[""], "steps": ledger.rows()}
    return {"built": built, "councils": done, "steps": ledger.rows()}


@flow(name="monitor")
def monitor_flow(
    settings: dict | None = None,
    config: str | None = None,
    label: str | None = None,
    alias: str = "champion",
    root: str | None = None,
) -> dict:
    """The weekly job: drift of inputs and scores, flag rates, fairness on recently labelled
    referrals, and managers' agreement with the flags, by band and group."""
    settings = _settings(settings, config, root)
    ledger = Ledger()
    label = label or settings.models.primary_label
    done = {}
    for council, own in _scopes(settings):
        resolved = run_step(ledger, t.resolve_model_step, own, label=label, alias=alias)
        w = _where(own)
        result = run_step(
            ledger,
            t.monitor_step,
            own,
            features=w["features"],
            label=label,
            version=resolved["version"],
            out=str(w["monitoring"]),
        )
        artifacts.monitor_summary(result, ledger, settings.privacy.suppress_counts_up_to)
        done[council] = result
    if list(done) == [""]:
        return {"monitor": done[""], "steps": ledger.rows()}
    return {"councils": done, "steps": ledger.rows()}


DEMO_OVERRIDE = (
    "Demo mode on a synthetic council: the model is promoted so that the review queue can be "
    "shown end to end. Synthetic data only; this override must never be used for a real council."
)
DEMO_OVERRIDE_BY = "frontdoor demo (synthetic data)"


@flow(name="demo")
def demo_flow(
    settings: dict | None = None, config: str | None = None, labels: list[str] | None = None
) -> dict:
    """The whole job on a synthetic council: synthesise, ingest, build features, train, audit,
    report, register and promote (through the gate, or in demo mode by a recorded override),
    score the latest month, fill the review queue and create demo users."""
    settings = _settings(settings, config)
    if not settings.demo_mode:
        raise ValueError("the demo runs in demo mode only (settings.demo_mode is false)")
    if settings.pipelines.councils:
        raise ValueError("the demo makes one synthetic council: leave pipelines.councils empty")
    ledger = Ledger()
    w = _where(settings)
    made = run_step(ledger, t.synth_step, settings, out=str(w["raw"]))
    built = ingest_and_features(settings, ledger)
    labels = _labels(settings, labels)
    trained = [r for _, r in _train(settings, ledger, labels)]
    models = []
    for tr in trained:
        audited, reported, promoted = _audit_and_promote(
            settings, ledger, tr["label"], tr["model_version"], DEMO_OVERRIDE, DEMO_OVERRIDE_BY
        )
        models.append({"train": tr, "audit": audited, "report": reported, "promotion": promoted})
    scored, queued = _score(settings, ledger, labels[0], "champion")
    users = run_step(ledger, t.demo_users_step, settings)
    lines = [
        f"- synthetic council: {made['children']:,} children",
        f"- feature table: {_shown(built['features']['decisions'], settings)} decisions",
        *[
            f"- {m['train']['label']}: version {m['train']['model_version']}, AUC "
            f"{m['train']['metrics']['auc']:.3f}; gate {'PASSED' if m['audit']['gate_passed'] else 'FAILED'}"
            f"; {m['promotion']['how']}"
            for m in models
        ],
        f"- scored {_shown(scored['scored'], settings)} referrals of {scored['month']}; "
        f"{_shown(queued['loaded'], settings)} newly in the review queue",
    ]
    artifacts.train_summary(trained, ledger)
    for m in models:
        artifacts.audit_summary(m["audit"], m["promotion"], ledger, m["report"])
    artifacts.score_summary(scored, queued, ledger, settings.privacy.suppress_counts_up_to)
    artifacts.demo_summary(lines, ledger)
    return {
        "synth": made,
        "built": built,
        "models": models,
        "score": scored,
        "queue": queued,
        "users": users,
        "steps": ledger.rows(),
    }


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

__all__ = [
    "FLOWS",
    "demo_flow",
    "audit_flow",
    "build_features_flow",
    "ingest_flow",
    "monitor_flow",
    "retrain_flow",
    "score_flow",
    "train_flow",
    "tune_flow",
]
