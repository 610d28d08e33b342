"""Auditing a registered model version: its run's test predictions through the fairness audit
and the gate, everything logged to MLflow (the verdict as tags promotion reads).

Apart from `governance.promotion` so that a refused promotion does not import the audit
(pandas, the fairness metrics, MLflow) to read a verdict already stored (start-up time)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from frontdoor.governance.fairness.audit import AuditResult, run_audit
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.tracking import log_audit
from frontdoor.governance.gate import GateResult, evaluate_gate
from frontdoor.models import registry
from frontdoor.models.tracking import client, describe_version
from frontdoor.settings import Settings

FLAG_COLUMN = "flag_at_capacity"  # the training run's flags: the top cases at review capacity
SCORE_COLUMN = "probability"
OUTCOME_COLUMN = "y"


@dataclass
class ModelAudit:
    audit: AuditResult
    gate: GateResult
    record: dict
    model_name: str
    version: str
    run_id: str


def audit_flags(predictions: pd.DataFrame, settings: Settings) -> tuple[pd.Series, str]:
    """Which test rows count as flagged, and the rule in words (see FairnessSettings.flag_rule)."""
    s = settings.fairness
    if s.flag_rule == "capacity" and FLAG_COLUMN in predictions:
        flags = predictions[FLAG_COLUMN].astype(bool)
        if flags.mean() <= s.max_capacity_share:
            return flags, "flagged at the review capacity in each test period (the run's flags)"
        why = (
            f"the review capacity flags {flags.mean():.0%} of test referrals, so error rates "
            f"would say little; instead the top {s.flag_share:.0%} of scores in each test period"
        )
    else:
        why = f"the top {s.flag_share:.0%} of scores in each test period"
    periods = (
        predictions["fold"] if "fold" in predictions else pd.Series(0, index=predictions.index)
    )
    rank = predictions.groupby(periods)[SCORE_COLUMN].rank(
        method="first", ascending=False, pct=True
    )
    return rank <= s.flag_share, why


def audit_predictions(
    predictions: pd.DataFrame, settings: Settings
) -> tuple[AuditResult, GateResult]:
    """Audit a training run's test-fold predictions (all folds pooled) and apply the gate."""
    frame, characteristics = derive_characteristics(predictions)
    flags, rule = audit_flags(predictions, settings)
    frame["audit_flag"] = flags.to_numpy()
    audit = run_audit(
        frame,
        label=OUTCOME_COLUMN,
        score=SCORE_COLUMN,
        flagged="audit_flag",
        characteristics=characteristics,
        settings=settings.fairness,
        score_is_probability=True,
    )
    audit.label = str(predictions["label"].iloc[0]) if "label" in predictions else OUTCOME_COLUMN
    audit.flag_rule = rule
    return audit, evaluate_gate(audit, settings.fairness)


def audit_model_version(settings: Settings, label: str, ref: str | int) -> ModelAudit:
    """Audit a registered version on its run's test predictions; log everything to MLflow."""
    version = registry.get_version(settings, label, ref)
    predictions = registry.test_predictions(settings, version.run_id)
    audit, gate = audit_predictions(predictions, settings)
    up_to = settings.privacy.suppress_counts_up_to
    record = published_audit(audit, up_to, gate)
    record["model"] = {
        "name": version.name,
        "version": str(version.version),
        "run_id": version.run_id,
    }
    c = client(settings)
    title = f"{version.name} version {version.version}"
    log_audit(
        c, version.run_id, audit, gate, record, up_to, title, version.name, str(version.version)
    )
    c.set_model_version_tag(
        version.name, str(version.version), "fairness_audit", "pass" if gate.passed else "fail"
    )
    verdict = "PASSED" if gate.passed else "FAILED"
    describe_version(
        settings,
        version.name,
        str(version.version),
        f"Fairness audit {audit.created_at[:10]}: gate {verdict} ({gate.summary()[:300]}).",
        part="audit",
    )
    return ModelAudit(audit, gate, record, version.name, str(version.version), version.run_id)
