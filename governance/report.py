"""The governance report for one model version, for a board to read in ten minutes.

Page one: what it predicts, for whom, how well (natural frequencies), the fairness gate with
what failed, the comparison with the champion and the promotion record. Then the comparison in
full (`governance.compare`), the model card (Mitchell et al. 2019 sections) and the ATRS record
(template 3.0, validated against its schema). A banner on every page when the data are
synthetic. The review app's look, printable to A4. Self-contained (CSS and images inlined as base64), readable offline and printable. Written to
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
from frontdoor.governance.board import (
    RECOMMENDATIONS,
    card_facts,
    caveats,
    how_well,
    preprocessing_text,
    promotion_record,
    training_by_group,
)
from frontdoor.governance.compare import compare
from frontdoor.governance.fairness.publish import published_audit, write_board_audit
from frontdoor.governance.fairness.render import TEMPLATES, css, environment
from frontdoor.governance.fairness.tracking import TAG_AUDIT_RUN, TAG_GATE
from frontdoor.governance.report_attribution import attribution_section
from frontdoor.governance.report_bands import band_rows
from frontdoor.governance.report_gate import gate_sections
from frontdoor.governance.report_oracle import oracle_gap_section
from frontdoor.governance.version_audit import audit_flags, audit_model_version, audit_predictions
from frontdoor.governance.wording import feature_phrase, metric_name
from frontdoor.models import registry
from frontdoor.models.evaluate import METRICS
from frontdoor.models.tracking import client
from frontdoor.records.disclosure import restricted_dir, shown_count, shown_parts
from frontdoor.records.feature_table import default_feature_path
from frontdoor.settings import Settings
from frontdoor.settings.label_words import label_words

ARTIFACT_DIR = "governance"
PLOTS = {
    "roc": ("plots/roc.png", "ROC curves on the test periods"),
    "pr": ("plots/precision_recall.png", "Precision against recall"),
    "calibration": ("plots/calibration.png", "Calibration: observed against predicted"),
    "shap": ("plots/shap_summary.png", "SHAP summary (global explanations)"),
}
PERFORMANCE_METRICS = METRICS  # the evaluation's metrics, in its order
KIND_TEXT = {
    "lightgbm": "gradient-boosted decision-tree model (LightGBM)",
    "logistic": "regularised logistic regression (a scorecard)",
}


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


def humanised_importance(importance: pd.DataFrame | None, top: int = 15) -> list[dict]:
    """Global importance with each feature as a phrase with its unit (no column names)."""
    return [
        {"phrase": feature_phrase(r["feature"]), "importance": r["importance"]}
        for r in feature_rows(importance, top)
    ]


def atrs_view(record: dict) -> list[tuple[str, list[list[tuple[str, dict]]]]]:
    """The record's sections as (title, tables of (attribute, field)) for the template."""

    def fields(block: dict) -> list[tuple[str, dict]]:
        return [(k, v) for k, v in block.items() if isinstance(v, dict) and "status" in v]

    def blocks(section: dict) -> list[list[tuple[str, dict]]]:
        out = [fields(section)] if fields(section) else []
        for value in section.values():
            if isinstance(value, list):
                out += [fields(item) for item in value]
        return out

    view = [(SECTION_TITLES["metadata"], blocks(record["metadata"]))]
    view.append((SECTION_TITLES["tier_1"], blocks(record["tier_1"])))
    for key, section in record["tier_2"].items():
        view.append((SECTION_TITLES[key], blocks(section)))
    view.append((SECTION_TITLES["dataset_cards"], [fields(c) for c in record["dataset_cards"]]))
    return view


def _scorer_text(scorer: str, kind: str) -> str:
    if scorer == kind:
        return "this model"
    if scorer == "rule":
        return "current-practice rule"
    if scorer.startswith("gap:"):
        return "oracle minus this model"
    return {"logistic": "scorecard", "lightgbm": "gradient-boosted trees", "oracle": "oracle"}.get(
        scorer, scorer
    )


def _evidence(settings: Settings, label: str, ref: str):
    """The version, its run, its test predictions and its audit (re-run on the same data and
    seed when it was audited: the same figures as logged)."""
    mv = registry.get_version(settings, label, ref)
    pred = registry.test_predictions(settings, mv.run_id)
    if mv.tags.get(TAG_GATE) in ("pass", "fail") and mv.tags.get(TAG_AUDIT_RUN) == mv.run_id:
        audit, gate = audit_predictions(
            pred, settings, registry.scored_referrals(settings, mv.run_id)
        )
    else:
        done = audit_model_version(settings, label, mv.version)
        audit, gate = done.audit, done.gate
        mv = registry.get_version(settings, label, mv.version)
    return mv, client(settings).get_run(mv.run_id), pred, audit, gate


def _run_files(mv) -> tuple[dict, pd.DataFrame | None, pd.DataFrame | None]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = {k: (_image(mv.run_id, p, folder), title) for k, (p, title) in PLOTS.items()}
        importance = _csv(mv.run_id, "model_card/global_importance.csv", folder)
        bands = _csv(mv.run_id, "model_card/bands.csv", folder)
    return images, importance, bands


def calibration_text(settings: Settings) -> str:
    """How the probabilities were calibrated, as configured (never a fixed sentence that a
    change of ``models.calibration_sample`` would make untrue)."""
    m = settings.models
    later = "on a later period than the model was fitted on"
    if m.calibration_sample != "cross_fitted":
        return f"calibrated {later}"
    months = m.calibration_history_months
    own = f"its newest {months} months of" if months else "all its"
    return (
        f"calibrated {later}, together with out-of-fold scores of {own} training referrals "
        f"({m.calibration_folds} parts, each scored by a model that did not see it)"
    )


def _facts(
    settings: Settings, label: str, mv, run, pred: pd.DataFrame, gate, synthetic: bool
) -> dict:
    """What the ATRS record and the card say, from the run."""
    up_to = settings.privacy.suppress_counts_up_to
    kind = run.data.tags.get("estimator", "unknown")
    auc = run.data.metrics.get(f"{kind}_auc")
    label_text = label_words(label).meaning
    dates = pd.to_datetime(pred["decision_date"])
    n_rows = None
    for d in run.inputs.dataset_inputs if run.inputs else []:
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            n_rows = json.loads(d.dataset.profile).get("num_rows")
    n_features = run.data.params.get("n_features", "?")
    rule_n = settings.models.current_practice_rule_min_referrals_12m
    records = (
        "records of a synthetic council generated for demonstration (no real child)"
        if synthetic
        else "the council's own children's social care records"
    )
    return {
        "title": f"{label_text[0].upper()}{label_text[1:]} flag",
        "synthetic": synthetic,
        "today": datetime.now(UTC).date().isoformat(),
        "label_text": label_text,
        "rule_text": f"flag when {rule_n} or more referrals in the previous 12 months",
        "model_description": (
            f"A {KIND_TEXT.get(kind, kind)} estimates, for each referral, the probability of "
            f"{label_text}, from {n_features} features of the child's and household's earlier "
            f"records (only what was known before the referral date). Probabilities are "
            f"{calibration_text(settings)} and grouped in bands; each score carries the reasons "
            "that raise and lower it."
        ),
        "scale_text": (
            "Every new referral is scored (nightly by default); referrals in the bands "
            f"{', '.join(settings.review.flagged_bands)} go to the review queue (review capacity "
            f"{settings.models.review_capacity_per_week} referrals a week)."
        ),
        "architecture_text": (
            "Council extracts (Annex A, CIN census, police notifications) are ingested, validated "
            "and pseudonymised; point-in-time features are computed; the model is trained, "
            "calibrated, audited and registered in MLflow; promotion is guarded and logged; "
            "Prefect flows score new referrals into a review queue used by MASH managers."
        ),
        "maintenance_text": (
            "Retrained monthly on the newest complete outcomes; every version is audited for "
            "fairness and promoted only through its guards (the gate or a recorded override, "
            "non-inferiority to the champion, sane bands); drift, calibration, flag rates by group "
            "and managers' agreement are monitored weekly."
        ),
        "model_name": mv.name,
        "model_version": str(mv.version),
        "model_task_text": f"Flag referrals for professional review by the predicted chance of {label_text}.",
        "output_text": "A calibrated probability, a band (low, medium, high, very high) and the top reasons raising and lowering it.",
        "model_type_text": f"{KIND_TEXT.get(kind, kind)}, calibrated ({settings.models.calibration_method}), banded on the training distribution.",
        "performance_text": (
            f"Test AUC {_fmt(auc)} across {pred['fold'].nunique()} rolling test periods; see the "
            "governance report for intervals, calibration and the comparison with the "
            "current-practice rule and with the champion."
        ),
        "dataset_name": f"Front-door feature table ({records})",
        "data_text": f"From {records}: contacts, referrals, assessments (with factors), Section 47 enquiries, child protection plans, early help and police domestic-abuse notifications.",
        "data_quantity_text": (
            f"{n_rows if n_rows is not None else 'see the run'} decisions with {n_features} "
            f"features; {shown_count(len(pred), up_to)} test decisions."
        ),
        "completeness_text": (
            "Every referral in the extract's period; referrals whose 12-month outcome had not ended "
            "are left out of training and testing (censored). Groups and their outcome rates are in "
            "the model card; sensitive characteristics with missing values are audited as 'Not "
            "recorded'."
        ),
        "collection_text": "Recorded by council staff in the case management system in the course of their work, and exported as statutory returns (Annex A, CIN census).",
        "cleaning_text": preprocessing_text(settings),
        "data_dates_text": (
            f"Test decisions from {dates.min().date()} to {dates.max().date()} "
            f"({shown_count(len(pred), up_to)} decisions); labelled decisions used: "
            f"{n_rows if n_rows is not None else 'see the run'}; the deployed model's training "
            f"window: {run.data.params.get('deployed_train_window', 'see the run').replace('..', ' to ')}."
        ),
        "features_text": f"{n_features} declared features (see the feature catalogue): repeat contacts and re-referrals, cumulative neglect, prior domestic abuse, other history, household history, the child's age. Sensitive characteristics are not inputs.",
        "fairness_text": f"Gate {'passed' if gate.passed else 'FAILED'}: {gate.summary()}. Rule: {gate.rule}",
        "audit_date": str(mv.tags.get("fairness.audited_at", datetime.now(UTC).isoformat()))[:10],
        "kind": kind,
        "auc": auc,
    }


def _board(settings: Settings, run, pred: pd.DataFrame, facts: dict) -> dict:
    up_to = settings.privacy.suppress_counts_up_to
    flags, _ = audit_flags(pred, settings)
    kind = facts["kind"]
    dates = pd.to_datetime(pred["decision_date"])
    return {
        "test_referrals": shown_count(len(pred), up_to),
        "test_from": str(dates.min().date()),
        "test_to": str(dates.max().date()),
        "how_well": how_well(
            pred, flags, list(settings.review.flagged_bands), up_to, facts["label_text"]
        ),
        "auc": facts["auc"],
        "auc_low": run.data.metrics.get(f"{kind}_auc_ci_low"),
        "auc_high": run.data.metrics.get(f"{kind}_auc_ci_high"),
    }


def gather(settings: Settings, label: str, ref: str, features: Path | None = None) -> dict:
    """Everything the report shows, read from the registry, the run, its artifacts and the
    promotion log."""
    mv, run, pred, audit, gate = _evidence(settings, label, ref)
    up_to = settings.privacy.suppress_counts_up_to
    record = published_audit(audit, up_to, gate)
    record["method"]["gated_metrics"] = list(settings.fairness.gated_metrics)
    images, importance, bands = _run_files(mv)
    try:
        metrics = registry.run_metrics(settings, mv.run_id)
    except Exception:
        metrics = None
    synthetic = run.data.tags.get("has_oracle") == "True" or "oracle_probability" in pred
    examples, examples_note = example_cases(
        settings, label, str(mv.version), pred, features, synthetic
    )
    facts = _facts(settings, label, mv, run, pred, gate, synthetic)
    board = _board(settings, run, pred, facts)
    meta = {
        "synthetic_data": synthetic,
        "model": {"name": mv.name, "version": str(mv.version), "run_id": mv.run_id, "label": label},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "frontdoor_version": __version__,
    }
    atrs = atrs_json(build_atrs(facts), meta)
    performance = performance_rows(metrics)
    for r in performance:
        r["scorer_text"] = _scorer_text(r["scorer"], facts["kind"])
    return {
        "mv": mv,
        "run": run,
        "label": label,
        "label_text": facts["label_text"],
        "words": label_words(label),
        "kind_text": KIND_TEXT.get(facts["kind"], facts["kind"]),
        "calibration_text": calibration_text(settings),
        "synthetic": synthetic,
        "audit": audit,
        "gate": gate,
        **gate_sections(audit, gate, record, up_to),
        "oracle_gap": oracle_gap_section(settings, mv.run_id),
        "attribution": attribution_section(settings, label, str(mv.version), pred, gate, features),
        "images": images,
        "importance": humanised_importance(importance),
        "bands": band_rows(bands, up_to),
        "data": data_summary(pred, up_to),
        "by_group": training_by_group(pred, up_to),
        "performance": performance,
        "performance_metrics": list(PERFORMANCE_METRICS),
        "metric_names": {m: metric_name(m, label) for m in PERFORMANCE_METRICS},
        "examples": examples,
        "examples_note": examples_note,
        "comparison": compare(settings, label, str(mv.version)).as_dict(),
        "promotions": promotion_record(settings, mv.name, str(mv.version)),
        "board": board,
        "card": card_facts(settings, run, synthetic),
        "caveats": caveats(synthetic, board["how_well"].get("rules_differ")),
        "recommendations": RECOMMENDATIONS,
        "preprocessing": facts["cleaning_text"],
        "facts": facts,
        "atrs": atrs,
        "atrs_view": atrs_view(atrs),
        "meta": meta,
        "up_to": up_to,
        "rule_n": settings.models.current_practice_rule_min_referrals_12m,
        "flagged_bands": list(settings.review.flagged_bands),
    }


def render(context: dict) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(
        **context,
        css=css(),
        report_css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        notice=REVIEW_NOTICE,
    )


def report_folder(settings: Settings, label: str, version: str) -> Path:
    """One folder per model version for what governance publishes about it (the audit, the
    report and its ATRS record): the same names from the flows and from `frontdoor report`."""
    return settings.resolve(settings.paths.reports) / f"{label}-v{version}"


def report_path(settings: Settings, label: str, version: str) -> Path:
    return report_folder(settings, label, version) / "governance-report.html"


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
        out = report_path(settings, label, str(mv.version))
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
