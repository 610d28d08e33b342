"""Auditing a registered model version and promoting it to ``champion`` through the gate.

A version is promoted only when its fairness audit passed the gate, or when a person gives a
written rationale for overriding a failed gate, which is recorded (who, when, why) as tags on
the model version and its run. A version never audited is never promoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from frontdoor.governance.fairness.audit import AuditResult, run_audit
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.tracking import TAG_AUDIT_RUN, TAG_GATE, log_audit
from frontdoor.governance.gate import GateResult, evaluate_gate
from frontdoor.models import registry
from frontdoor.models.tracking import CHAMPION, client
from frontdoor.settings import Settings

MIN_RATIONALE_CHARS = 20
FLAG_COLUMN = "flag_at_capacity"  # the training run's flags: the top cases at review capacity
SCORE_COLUMN = "probability"
OUTCOME_COLUMN = "y"


class PromotionRefused(RuntimeError):
    """Promotion was refused; the message says why and what to do."""


@dataclass
class ModelAudit:
    audit: AuditResult
    gate: GateResult
    record: dict
    model_name: str
    version: str
    run_id: str


@dataclass
class Promotion:
    model_name: str
    version: str
    previous_champion: str | None
    gate: str
    overridden: bool
    by: str
    at: str


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
    return ModelAudit(audit, gate, record, version.name, str(version.version), version.run_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def promote(
    settings: Settings,
    label: str,
    version: str | int,
    override_rationale: str | None = None,
    by: str | None = None,
) -> Promotion:
    """Point ``champion`` at ``version`` if the gate allows it (or a recorded override does)."""
    try:
        mv = registry.get_version(settings, label, version)
    except Exception as error:  # MLflow raises its own RestException for a missing version
        raise PromotionRefused(
            f"There is no version {version} of {registry.model_name(settings, label)}: {error}"
        ) from error
    tags = dict(mv.tags)
    name, number = mv.name, str(mv.version)
    gate = tags.get(TAG_GATE)
    if gate not in ("pass", "fail") or tags.get(TAG_AUDIT_RUN) != mv.run_id:
        raise PromotionRefused(
            f"Version {number} of {name} has no fairness audit, so it cannot be promoted "
            f"(no override can replace an audit). Run `frontdoor audit --model-version {number} "
            f"--label {label}` first."
        )
    rationale = (override_rationale or "").strip()
    if gate == "fail":
        if not rationale:
            raise PromotionRefused(
                f"Version {number} of {name} failed the fairness gate "
                f"({tags.get('fairness.gate_summary', 'see fairness/audit.html')}). It can be "
                "promoted only with --override-rationale TEXT (why it is acceptable) and --by NAME."
            )
        if len(rationale) < MIN_RATIONALE_CHARS:
            raise PromotionRefused(
                f"An override rationale must be written out (at least {MIN_RATIONALE_CHARS} "
                f"characters); got {len(rationale)}."
            )
        if not (by or "").strip():
            raise PromotionRefused("An override must say who made it: add --by NAME.")
    try:
        previous = registry.get_version(settings, label, CHAMPION)
        previous_number = str(previous.version)
    except Exception:  # no champion yet
        previous_number = None
    at = _now()
    who = (by or "").strip() or "not given"
    record = {
        "promotion.promoted_at": at,
        "promotion.promoted_by": who,
        "promotion.gate": gate,
        "promotion.previous_champion": previous_number or "none",
        "promotion.override": "true" if gate == "fail" else "false",
    }
    if gate == "fail":
        record |= {
            "promotion.override_rationale": rationale[:4900],
            "promotion.override_by": who,
            "promotion.override_at": at,
        }
    c = client(settings)
    for key, value in record.items():
        c.set_model_version_tag(name, number, key, value)
        c.set_tag(mv.run_id, key, value)
    registry.set_alias(settings, label, CHAMPION, number)
    return Promotion(name, number, previous_number, gate, gate == "fail", who, at)
