"""The governance report for one model version: a model card and an ATRS record in one HTML file.

Self-contained (CSS and images inlined as base64), readable offline and printable. Written to
``paths.reports`` (or ``--out``), with the ATRS record as JSON beside it, and both logged to the
model's MLflow run under ``governance/``. It shows only pseudonyms, no free text, and small
counts as ``c``; every page carries ``frontdoor.REVIEW_NOTICE``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd

from frontdoor import REVIEW_NOTICE, __version__
from frontdoor.features.declarations import FEATURES
from frontdoor.governance.atrs import SECTION_TITLES, atrs_json, build_atrs
from frontdoor.governance.fairness.publish import published_audit, write_board_audit
from frontdoor.governance.fairness.render import css, environment, figures
from frontdoor.governance.fairness.tracking import TAG_AUDIT_RUN, TAG_GATE
from frontdoor.governance.promotion import audit_flags, audit_model_version, audit_predictions
from frontdoor.models import registry
from frontdoor.models.evaluate import METRICS
from frontdoor.models.tracking import CHAMPION, client
from frontdoor.records.disclosure import restricted_dir, shown_count, shown_parts
from frontdoor.settings import Settings

ARTIFACT_DIR = "governance"
LABEL_TEXT = {
    "escalation_12m": "a Section 47 enquiry or a child protection plan within 12 months",
    "rereferral_12m": "a new referral within 12 months",
}
PLOTS = {
    "roc": ("plots/roc.png", "ROC curves on the test periods"),
    "pr": ("plots/precision_recall.png", "Precision against recall"),
    "calibration": ("plots/calibration.png", "Calibration: observed against predicted"),
    "shap": ("plots/shap_summary.png", "SHAP summary (global explanations)"),
}
PERFORMANCE_METRICS = METRICS  # the evaluation's metrics, in its order


@dataclass
class ReportResult:
    html_path: Path
    atrs_path: Path
    run_id: str
    model_name: str
    version: str
    gate_passed: bool


def _download(run_id: str, path: str, folder: Path) -> Path | None:
    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=str(folder)
            )
        )
    except Exception:  # an artifact this run did not log
        return None


def _image(run_id: str, path: str, folder: Path) -> str | None:
    local = _download(run_id, path, folder)
    if local is None or not local.exists():
        return None
    return "data:image/png;base64," + base64.b64encode(local.read_bytes()).decode("ascii")


def _csv(run_id: str, path: str, folder: Path) -> pd.DataFrame | None:
    local = _download(run_id, path, folder)
    return pd.read_csv(local) if local is not None and local.exists() else None


def _fmt(v, digits: int = 3) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "n/a" if f != f else f"{f:.{digits}f}"


def performance_rows(metrics: pd.DataFrame | None) -> list[dict]:
    """Overall performance with 95% intervals, one row per scorer."""
    if metrics is None or metrics.empty:
        return []
    overall = metrics[metrics["fold"].astype(str) == "overall"]
    rows = []
    for scorer, part in overall.groupby("scorer", sort=False):
        cells = {}
        for r in part.itertuples(index=False):
            if r.metric in PERFORMANCE_METRICS:
                ci = "" if pd.isna(r.ci_low) else f"{_fmt(r.ci_low)}–{_fmt(r.ci_high)}"
                cells[r.metric] = {"value": _fmt(r.value), "ci": ci}
        rows.append({"scorer": str(scorer), "cells": cells})
    return rows


def data_summary(pred: pd.DataFrame, up_to: int) -> list[dict]:
    """Per test fold: dates, decisions, outcome rate (counts 1..5 suppressed)."""
    rows = []
    for fold, part in pred.groupby("fold"):
        dates = pd.to_datetime(part["decision_date"])
        n, pos = len(part), int(part["y"].sum())
        flagged = int(part.get("flag_at_capacity", pd.Series(dtype=bool)).sum())
        # a part shown beside its total gives its complement back: hide both when either is small
        with_outcome = shown_parts(n, {"pos": pos}, up_to)["pos"]
        flagged_shown = shown_parts(n, {"flagged": flagged}, up_to)["flagged"]
        rate = "c" if with_outcome == "c" else _fmt(pos / n)
        rows.append(
            {
                "fold": str(fold),
                "from": str(dates.min().date()),
                "to": str(dates.max().date()),
                "decisions": shown_count(n, up_to),
                "with_outcome": with_outcome,
                "rate": rate,
                "flagged": flagged_shown,
            }
        )
    return rows


def feature_rows(importance: pd.DataFrame | None, top: int = 15) -> list[dict]:
    """Global importance (mean |SHAP|) with each feature's declared meaning."""
    if importance is None or importance.empty:
        return []
    says = {f.name: f.says.replace("{value}", "N") for f in FEATURES}
    value_col = next(
        (
            c
            for c in importance.columns
            if c != "feature" and pd.api.types.is_numeric_dtype(importance[c])
        ),
        None,
    )
    rows = []
    for r in importance.head(top).to_dict("records"):
        rows.append(
            {
                "feature": r["feature"],
                "importance": _fmt(r.get(value_col)),
                "says": says.get(r["feature"], ""),
            }
        )
    return rows


def example_cases(
    settings: Settings,
    label: str,
    ref: str,
    pred: pd.DataFrame,
    features: Path | None,
    synthetic: bool,
) -> tuple[list[dict], str]:
    """Three synthetic example cases with their reasons: a high score, one at the flag line, a low one."""
    if not synthetic:
        return [], "Example cases are shown only when the model was trained on synthetic data."
    if features is None:
        from frontdoor.records.feature_table import default_feature_path

        features = default_feature_path(settings)
    if not Path(features).exists():
        return (
            [],
            f"No feature table at {features}: example cases need the synthetic feature table.",
        )
    table = pd.read_parquet(features)
    flags, _ = audit_flags(pred, settings)  # the same flags as the audit
    pred = pred.assign(audit_flag=flags.to_numpy())
    latest = pred[pred["fold"] == pred["fold"].max()].sort_values("probability", ascending=False)
    if latest.empty:
        return [], "No test predictions to draw examples from."
    flagged = latest[latest["audit_flag"]]
    picks = [latest.iloc[0]]
    if not flagged.empty:
        picks.append(flagged.iloc[-1])
    picks.append(latest.iloc[len(latest) // 2])
    ids = [p["decision_id"] for p in picks]
    rows = (
        table[table["decision_id"].isin(ids)]
        .drop_duplicates("decision_id")
        .set_index("decision_id")
        .loc[[i for i in dict.fromkeys(ids) if i in set(table["decision_id"])]]
    )
    if rows.empty:
        return [], "The example decisions are not in the feature table given."
    model = registry.load_native(settings, label, ref)
    scored = model.score_frame(rows.reset_index())
    outcome = dict(zip(pred["decision_id"], pred["y"], strict=False))
    out = []
    for decision_id, (_, s) in zip(rows.index, scored.iterrows(), strict=True):
        reasons = json.loads(s["reasons_json"])
        out.append(
            {
                "decision": str(decision_id)[:12] + "…",
                "probability": _fmt(s["probability"]),
                "band": str(s["band"]),
                "reasons": [f"{r['sentence']}" for r in reasons],
                "outcome": "yes" if int(outcome.get(decision_id, 0)) else "no",
            }
        )
    return (
        out,
        "Synthetic referrals from the latest test period, chosen by their test score (the highest, "
        "the last flagged, the median) and explained by this registered model, so the probability "
        "shown can differ from the test score (pseudonymised decision ids, shortened).",
    )


def champion_changes(settings: Settings, label: str, mv, run, metrics: pd.DataFrame | None) -> dict:
    """What differs from the current champion: version, estimator, windows, metrics, gate."""
    try:
        champ = registry.get_version(settings, label, CHAMPION)
    except Exception:
        return {
            "text": "There is no champion yet: this would be the first model promoted.",
            "rows": [],
        }
    if str(champ.version) == str(mv.version):
        return {"text": "This version is the current champion.", "rows": []}
    c = client(settings)
    crun = c.get_run(champ.run_id)
    rows = [
        {"what": "version", "champion": str(champ.version), "this": str(mv.version)},
        {
            "what": "estimator",
            "champion": crun.data.tags.get("estimator", "?"),
            "this": run.data.tags.get("estimator", "?"),
        },
        {
            "what": "training window",
            "champion": crun.data.params.get("deployed_train_window", "?"),
            "this": run.data.params.get("deployed_train_window", "?"),
        },
        {
            "what": "features",
            "champion": crun.data.params.get("n_features", "?"),
            "this": run.data.params.get("n_features", "?"),
        },
        {
            "what": "fairness gate",
            "champion": champ.tags.get(TAG_GATE, "not audited"),
            "this": mv.tags.get(TAG_GATE, "not audited"),
        },
    ]
    kind = run.data.tags.get("estimator", "lightgbm")
    for m in ("auc", "average_precision", "brier", "ece", "precision_at_capacity"):
        key = f"{kind}_{m}"
        ckey = f"{crun.data.tags.get('estimator', kind)}_{m}"
        rows.append(
            {
                "what": m,
                "champion": _fmt(crun.data.metrics.get(ckey)),
                "this": _fmt(run.data.metrics.get(key)),
            }
        )
    return {"text": f"Compared with the current champion, version {champ.version}.", "rows": rows}


def gather(settings: Settings, label: str, ref: str, features: Path | None = None) -> dict:
    """Everything the report shows, read from the registry, the run and its artifacts."""
    mv = registry.get_version(settings, label, ref)
    c = client(settings)
    run = c.get_run(mv.run_id)
    up_to = settings.privacy.suppress_counts_up_to
    pred = registry.test_predictions(settings, mv.run_id)
    if mv.tags.get(TAG_GATE) in ("pass", "fail") and mv.tags.get(TAG_AUDIT_RUN) == mv.run_id:
        audit, gate = audit_predictions(pred, settings)  # same data and seed: the logged numbers
    else:
        done = audit_model_version(settings, label, mv.version)
        audit, gate = done.audit, done.gate
        mv = registry.get_version(settings, label, mv.version)
    record = published_audit(audit, up_to, gate)
    record["method"]["gated_metrics"] = list(settings.fairness.gated_metrics)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = {k: (_image(mv.run_id, p, folder), title) for k, (p, title) in PLOTS.items()}
        importance = _csv(mv.run_id, "model_card/global_importance.csv", folder)
        bands = _csv(mv.run_id, "model_card/bands.csv", folder)
        splits = _csv(mv.run_id, "metrics/splits.csv", folder)
    try:
        metrics = registry.run_metrics(settings, mv.run_id)
    except Exception:
        metrics = None
    synthetic = run.data.tags.get("has_oracle") == "True" or "oracle_probability" in pred
    examples, examples_note = example_cases(
        settings, label, str(mv.version), pred, features, synthetic
    )
    kind = run.data.tags.get("estimator", "unknown")
    auc = run.data.metrics.get(f"{kind}_auc")
    label_text = LABEL_TEXT.get(label, label)
    dates = pd.to_datetime(pred["decision_date"])
    n_rows = None
    for d in run.inputs.dataset_inputs if run.inputs else []:
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            n_rows = json.loads(d.dataset.profile).get("num_rows")
    n_features = run.data.params.get("n_features", "?")
    rule_n = settings.models.current_practice_rule_min_referrals_12m
    facts = {
        "label_text": label_text,
        "rule_text": f"flag when {rule_n} or more referrals in the previous 12 months",
        "model_description": (
            f"A {kind} model estimates, for each referral, the probability of {label_text}, from "
            f"{n_features} features of the child's and household's earlier records (only what was "
            "known before the referral date). Probabilities are calibrated on a later period than "
            "the model was fitted on and grouped in bands; each score carries the reasons that "
            "raise and lower it (SHAP contributions rendered as sentences)."
        ),
        "scale_text": (
            f"Every new referral is scored (nightly by default). Review capacity is "
            f"{settings.models.review_capacity_per_week} referrals a week; the highest scores up to "
            "that capacity are flagged."
        ),
        "architecture_text": (
            "Council extracts (Annex A, CIN census, police notifications) are ingested, validated "
            "and pseudonymised; point-in-time features are computed; the model is trained, "
            "calibrated, audited and registered in MLflow; Prefect flows score new referrals into "
            "a review queue used in a browser by MASH managers."
        ),
        "maintenance_text": (
            "Retrained monthly on the newest complete outcomes; every version is audited for "
            "fairness and promoted only through the gate (or a recorded override); drift and "
            "managers' agreement are monitored weekly."
        ),
        "model_id_text": f"{mv.name}, version {mv.version} (MLflow run {mv.run_id})",
        "model_type_text": f"{kind} binary classifier (calibrated); task: flag referrals for review by predicted {label_text}.",
        "performance_text": (
            f"Overall test AUC {_fmt(auc)} across {pred['fold'].nunique()} rolling test periods; "
            "see the model card for intervals, calibration and the comparison with the "
            "current-practice rule."
        ),
        "data_text": "The council's own children's social care records: contacts, referrals, assessments (with factors), Section 47 enquiries, child protection plans, early help and police domestic-abuse notifications.",
        "data_dates_text": (
            f"Test decisions from {dates.min().date()} to {dates.max().date()} "
            f"({shown_count(len(pred), up_to)} decisions); labelled decisions used: "
            f"{n_rows if n_rows is not None else 'see the run'}; the deployed model's training window: "
            f"{run.data.params.get('deployed_train_window', 'see the run')}."
        ),
        "features_text": f"{n_features} declared features (see the feature catalogue): repeat contacts and re-referrals, cumulative neglect, prior domestic abuse, other history, household history, the child's age.",
        "fairness_text": f"Gate {'passed' if gate.passed else 'FAILED'}: {gate.summary()}. Rule: {gate.rule}",
    }
    sections = build_atrs(facts)
    meta = {
        "model": {"name": mv.name, "version": str(mv.version), "run_id": mv.run_id, "label": label},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "frontdoor_version": __version__,
    }
    return {
        "mv": mv,
        "run": run,
        "label": label,
        "label_text": label_text,
        "kind": kind,
        "audit": audit,
        "gate": gate,
        "record": record,
        "figures": figures(audit, up_to),
        "images": images,
        "importance": feature_rows(importance),
        "bands": bands.round(3).to_dict("records") if bands is not None else [],
        "splits": splits.to_dict("records") if splits is not None else [],
        "data": data_summary(pred, up_to),
        "performance": performance_rows(metrics),
        "examples": examples,
        "examples_note": examples_note,
        "changes": champion_changes(settings, label, mv, run, metrics),
        "facts": facts,
        "atrs_sections": sections,
        "atrs": atrs_json(sections, meta),
        "meta": meta,
    }


def render(context: dict) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(
        **context,
        css=css(),
        notice=REVIEW_NOTICE,
        section_titles=SECTION_TITLES,
        promotion={k: v for k, v in context["mv"].tags.items() if k.startswith("promotion.")},
    )


def build_report(
    settings: Settings, label: str, ref: str, out: Path | None = None, features: Path | None = None
) -> ReportResult:
    """Write the HTML report and the ATRS JSON (public: small numbers suppressed), log both to the
    version's MLflow run, and write the board's restricted audit (every figure) under
    ``paths.restricted``, outside the public reports folder and never logged."""
    try:
        context = gather(settings, label, ref, features)
    except Exception as error:
        if "RESOURCE_DOES_NOT_EXIST" in str(error) or "not found" in str(error).lower():
            raise LookupError(
                f"No version {ref} of {registry.model_name(settings, label)}: {error}"
            ) from error
        raise
    mv = context["mv"]
    if out is None:
        out = settings.resolve(settings.paths.reports) / f"{mv.name}-v{mv.version}.html"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(context), encoding="utf-8")
    atrs_path = out.with_name(out.stem + "-atrs.json")
    atrs_path.write_text(
        json.dumps(context["atrs"], indent=2, ensure_ascii=False), encoding="utf-8"
    )
    board = restricted_dir(settings) / f"{mv.name}-v{mv.version}"
    write_board_audit(context["audit"], board, f"{mv.name} v{mv.version}", context["gate"])
    c = client(settings)
    c.log_artifact(mv.run_id, str(out), ARTIFACT_DIR)
    c.log_artifact(mv.run_id, str(atrs_path), ARTIFACT_DIR)
    c.set_model_version_tag(
        mv.name, str(mv.version), "governance_report", f"{ARTIFACT_DIR}/{out.name}"
    )
    return ReportResult(out, atrs_path, mv.run_id, mv.name, str(mv.version), context["gate"].passed)
