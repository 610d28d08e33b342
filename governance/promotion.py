"""Auditing a registered model version and promoting it to ``champion`` through its guards.

A version becomes champion only when (1) its fairness audit passed the gate, or a named person
recorded why a failed gate is overridden; (2) it is non-inferior to the current champion on the
primary metric over the same test referrals (paired bootstrap, ``governance`` settings); and
(3) its bands are sane on the latest referrals (each band's share near its training share).
Every promotion, refusal and override is a row of the append-only promotion log
(`models.promotion_log`); a re-run that finds the version already champion writes nothing.
A version never audited is never promoted, and no override replaces an audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from frontdoor.governance.comparison import (
    NoSharedRows,
    band_check,
    latest_referrals,
    non_inferiority,
    shared_test_rows,
)
from frontdoor.governance.fairness.audit import AuditResult, run_audit
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.tracking import TAG_AUDIT_RUN, TAG_GATE, log_audit
from frontdoor.governance.gate import GateResult, evaluate_gate
from frontdoor.models import registry
from frontdoor.models.promotion_log import OVERRIDDEN, PROMOTED, REFUSED, promotion_log
from frontdoor.models.tracking import CHAMPION, client, describe_version
from frontdoor.records.feature_table import default_feature_path, read_feature_table
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
    already: bool = False  # the version was already champion: nothing was written
    checks: dict = field(default_factory=dict)


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
    _describe(
        settings,
        version,
        f"Fairness audit {audit.created_at[:10]}: gate {verdict} ({gate.summary()[:300]}).",
        part="audit",
    )
    return ModelAudit(audit, gate, record, version.name, str(version.version), version.run_id)


class Guards:
    """What promotion checked, in the order it checks; ``refusal`` is the first that failed."""

    def __init__(self):
        self.checks: dict = {}
        self.refusal: str | None = None

    def fail(self, reason: str) -> None:
        if self.refusal is None:
            self.refusal = reason


def _gate_guard(tags: dict, mv, label: str, rationale: str, by: str, guards: Guards) -> str | None:
    """The fairness gate (or a recorded override). Returns the gate ("pass"/"fail") or None."""
    gate = tags.get(TAG_GATE)
    if gate not in ("pass", "fail") or tags.get(TAG_AUDIT_RUN) != mv.run_id:
        guards.fail(
            f"Version {mv.version} of {mv.name} has no fairness audit, so it cannot be promoted "
            f"(no override can replace an audit). Run `frontdoor audit --model-version "
            f"{mv.version} --label {label}` first."
        )
        return None
    guards.checks["gate"] = {"result": gate, "summary": tags.get("fairness.gate_summary", "")}
    if gate == "fail":
        if not rationale:
            guards.fail(
                f"Version {mv.version} of {mv.name} failed the fairness gate "
                f"({tags.get('fairness.gate_summary', 'see fairness/audit.html')}). It can be "
                "promoted only with --override-rationale TEXT (why it is acceptable) and --by NAME."
            )
        elif len(rationale) < MIN_RATIONALE_CHARS:
            guards.fail(
                f"An override rationale must be written out (at least {MIN_RATIONALE_CHARS} "
                f"characters); got {len(rationale)}."
            )
    return gate


def _comparison_guard(settings: Settings, label: str, mv, champion: dict | None, guards: Guards):
    """Non-inferior to the log's champion on the primary metric, over the same test rows."""
    if champion is None:
        guards.checks["comparison"] = {"text": "no champion yet: nothing to compare with"}
        return
    try:
        ours = registry.test_predictions(settings, mv.run_id)
        theirs_mv = registry.get_version(settings, label, champion["version"])
        theirs = registry.test_predictions(settings, theirs_mv.run_id)
        result = non_inferiority(shared_test_rows(ours, theirs), settings)
    except NoSharedRows as error:
        guards.checks["comparison"] = {"text": str(error)}
        guards.fail(f"Not compared with champion version {champion['version']}: {error}.")
        return
    guards.checks["comparison"] = {"against": str(champion["version"]), **result.as_dict()}
    if not result.passed:
        guards.fail(f"Against champion version {champion['version']}: {result.text()}.")


def _band_guard(settings: Settings, label: str, mv, latest: pd.DataFrame | None, guards: Guards):
    """Each band's share of the latest referrals near its training share."""
    if latest is None:
        guards.fail("The band check needs the latest feature table (none was found).")
        return
    g = settings.governance
    recent = latest_referrals(latest, g.band_check_days, g.min_band_check_rows)
    try:
        model = registry.load_native(settings, label, mv.version)
    except Exception as error:  # noqa: BLE001 - a version without a loadable model
        guards.fail(f"The band check could not load version {mv.version}'s model: {error}")
        return
    result = band_check(model, recent, settings)
    guards.checks["bands"] = result.as_dict()
    if not result.passed:
        guards.fail(f"Bands not sane: {result.text()}.")


def _latest_table(settings: Settings, features: Path | pd.DataFrame | None) -> pd.DataFrame | None:
    if isinstance(features, pd.DataFrame):
        return features
    if features is None:
        features = default_feature_path(settings)
    path = Path(features)
    try:
        return read_feature_table(path)
    except (FileNotFoundError, OSError, ValueError):
        return None


def promote(
    settings: Settings,
    label: str,
    version: str | int,
    override_rationale: str | None = None,
    by: str | None = None,
    features: Path | pd.DataFrame | None = None,
) -> Promotion:
    """Point ``champion`` at ``version`` if every guard passes; log the promotion or refusal.

    ``by`` (who promotes) is required. ``features``: the feature table (or its folder) whose
    latest referrals the band check uses (default: ``paths.features``)."""
    who = (by or "").strip()
    if not who:
        raise PromotionRefused("Say who is promoting: add --by NAME (it is recorded in the log).")
    try:
        mv = registry.get_version(settings, label, version)
    except Exception as error:  # MLflow raises its own RestException for a missing version
        raise PromotionRefused(
            f"There is no version {version} of {registry.model_name(settings, label)}: {error}"
        ) from error
    c = client(settings)
    log = promotion_log(settings, c)
    champion = log.champion(mv.name)
    if champion is not None and str(champion["version"]) == str(mv.version):
        return _already(mv, champion)
    rationale = (override_rationale or "").strip()
    guards = Guards()
    gate = _gate_guard(dict(mv.tags), mv, label, rationale, who, guards)
    if gate is not None:
        _comparison_guard(settings, label, mv, champion, guards)
        _band_guard(settings, label, mv, _latest_table(settings, features), guards)
    previous = str(champion["version"]) if champion else None
    entry = {
        "label": label,
        "model_name": mv.name,
        "version": str(mv.version),
        "run_id": mv.run_id,
        "by": who,
        "gate": gate or "not audited",
        "previous_champion": previous,
        "checks": guards.checks,
    }
    if guards.refusal is not None:
        log.append({**entry, "action": REFUSED, "why": guards.refusal})
        _describe(settings, mv, f"Promotion refused: {guards.refusal}")
        raise PromotionRefused(guards.refusal)
    overridden = gate == "fail"
    why = rationale if overridden else "every guard passed"
    row = log.append({**entry, "action": OVERRIDDEN if overridden else PROMOTED, "why": why})
    _record(settings, mv, row)
    registry.set_alias(settings, label, CHAMPION, mv.version)
    return Promotion(
        mv.name, str(mv.version), previous, gate, overridden, who, row["at"], False, guards.checks
    )


def _already(mv, champion: dict) -> Promotion:
    """A re-run: the log already names this version champion; nothing is written."""
    return Promotion(
        mv.name,
        str(mv.version),
        champion.get("previous_champion"),
        champion.get("gate", ""),
        champion.get("action") == OVERRIDDEN,
        champion["by"],
        champion["at"],
        already=True,
        checks=champion.get("checks", {}),
    )


def _record(settings: Settings, mv, row: dict) -> None:
    """Mirror the log row on the version and its run (for the MLflow UI; the log is the truth)."""
    c = client(settings)
    tags = {
        "promotion.promoted_at": row["at"],
        "promotion.promoted_by": row["by"],
        "promotion.gate": row["gate"],
        "promotion.previous_champion": row["previous_champion"] or "none",
        "promotion.override": "true" if row["action"] == OVERRIDDEN else "false",
        "promotion.log_seq": str(row["seq"]),
        "promotion.log_hmac": row["hmac"],
    }
    if row["action"] == OVERRIDDEN:
        tags["promotion.override_rationale"] = row["why"][:4900]
        tags["promotion.override_by"] = row["by"]
        tags["promotion.override_at"] = row["at"]
    for key, value in tags.items():
        c.set_model_version_tag(mv.name, str(mv.version), key, value)
        c.set_tag(mv.run_id, key, value)
    how = (
        "by OVERRIDE of a failed fairness gate"
        if row["action"] == OVERRIDDEN
        else "every guard passed"
    )
    comparison = row["checks"].get("comparison", {}).get("text", "")
    _describe(
        settings,
        mv,
        f"Champion since {row['at']} ({how}; promoted by {row['by']}; log row {row['seq']}). "
        + comparison,
    )


def _describe(settings: Settings, mv, status: str, part: str = "promotion") -> None:
    """The version description: what it is, its audit and its promotion status, in words."""
    describe_version(settings, mv.name, str(mv.version), status, part=part)


def promote_or_refuse(
    settings: Settings,
    label: str,
    version: str,
    features: Path | None,
    override_rationale: str | None,
    by: str | None,
) -> dict:
    """What the flows record: promoted or not, and why (a refusal is logged, not raised)."""
    try:
        done = promote(settings, label, version, override_rationale, by, features)
    except PromotionRefused as refused:
        return {
            "label": label,
            "model_version": str(version),
            "promoted": False,
            "how": f"not promoted: {refused}",
        }
    if done.already:
        how = f"already champion (promoted {done.at} by {done.by}); nothing rewritten"
    elif done.overridden:
        how = f"promoted by OVERRIDE of a failed fairness gate ({done.by}): {override_rationale}"
    else:
        how = f"promoted by {done.by}: every guard passed"
    return {
        "label": label,
        "model_version": done.version,
        "previous_champion": done.previous_champion,
        "promoted": True,
        "already": done.already,
        "overridden": bool(done.overridden),
        "how": how,
        "checks": done.checks,
    }
