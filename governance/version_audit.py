"""Auditing a registered model version: its run's test predictions through the fairness audit
and the gate, everything logged to MLflow (the verdict as tags promotion reads). The selection
family is judged on the run's scored referrals (`selection_rows`), the rest on the labelled
test rows.

Apart from `governance.promotion` so that a refused promotion does not import the audit
(pandas, the fairness metrics, MLflow) to read a verdict already stored (start-up time)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from frontdoor.governance.fairness.audit import AuditResult, run_audit
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.selection import selection_audit
from frontdoor.governance.fairness.tracking import log_audit
from frontdoor.governance.gate import GateResult, evaluate_gate
from frontdoor.models import registry
from frontdoor.models.evaluate import capacity_flags
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


def _periods(dates: pd.Series, months: int) -> tuple[np.ndarray, dict[int, float]]:
    """Each referral's period (0: the newest ``months`` months of the extract, 1 the ones before,
    ...) and each period's length in weeks (the oldest may be partial)."""
    dates = pd.to_datetime(dates)
    end = dates.max().normalize() + pd.Timedelta(days=1)
    period = np.zeros(len(dates), dtype=int)
    weeks: dict[int, float] = {}
    i = 0
    while True:
        stop, start = (
            end - pd.DateOffset(months=months * i),
            end - pd.DateOffset(months=months * (i + 1)),
        )
        inside = ((dates >= start) & (dates < stop)).to_numpy()
        period[inside] = i
        weeks[i] = (stop - max(start, dates.min().normalize())).days / 7.0
        if start <= dates.min():
            return period, weeks
        i += 1


def period_flags(rows: pd.DataFrame, periods: np.ndarray, weeks: dict, settings: Settings):
    """The top referrals at the review capacity in each period, then `audit_flags`' rule."""
    rows = rows.assign(fold=periods).reset_index(drop=True)
    rows[FLAG_COLUMN] = False
    cap = settings.models.review_capacity_per_week
    for p, idx in rows.groupby("fold").indices.items():
        k = capacity_flags(weeks[p], cap, len(idx))
        order = np.argsort(-rows[SCORE_COLUMN].to_numpy()[idx], kind="mergesort")[:k]
        rows.loc[idx[order], FLAG_COLUMN] = True
    flags, rule = audit_flags(rows, settings)
    if rule.startswith("flagged at the review capacity"):
        rule = f"the top referrals at the review capacity ({cap} a week) in each period"
    return flags, rule


def selection_rows(scored: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, str]:
    """The referrals the selection family is judged on (``fairness.selection_rows``), with
    their flags in ``audit_flag`` and the population in words. ``scored``: a run's scored
    referrals (`models.train.scored_referrals`)."""
    s = settings.fairness
    months = settings.models.splits.test_months
    deployed = scored[scored["scorer"] == "deployed"]
    if s.selection_rows in ("deployed", "cross_fitted"):
        crossed = s.selection_rows == "cross_fitted" and "probability_cross_fitted" in deployed
        if crossed:
            deployed = deployed.assign(probability=deployed["probability_cross_fitted"])
        dates = pd.to_datetime(deployed["decision_date"])
        since = "every referral of the extract"
        if s.selection_months is not None:
            first = dates.max().normalize() - pd.DateOffset(months=s.selection_months)
            deployed, dates = deployed[dates > first], dates[dates > first]
            since = f"every referral of the extract's last {s.selection_months} months"
        rows = deployed.reset_index(drop=True)
        periods, weeks = _periods(rows["decision_date"], months)
        flags, rule = period_flags(rows, periods, weeks, settings)
        how = (
            "those of its training window by models fitted without the referral's child"
            if crossed
            else "those it was trained or calibrated on included"
        )
        words = (
            f"{since} ({len(rows):,}), labelled or not, scored by the deployed model ({how}); "
            f"flagged: {rule} of {months} months"
        )
    else:
        folds = scored[scored["scorer"] == "fold"].reset_index(drop=True)
        after = deployed[deployed["window"] == "after"].reset_index(drop=True)
        periods, weeks = _periods(after["decision_date"], months) if len(after) else ([], {})
        flags_after = period_flags(after, periods, weeks, settings)[0] if len(after) else []
        flags_folds, rule = audit_flags(_fold_capacity(folds, settings), settings)
        rows = pd.concat([folds, after], ignore_index=True)
        flags = pd.Series(np.concatenate([flags_folds.to_numpy(), np.asarray(flags_after)]))
        words = (
            f"every referral of the test windows scored by its fold's model and every referral "
            f"after the deployed model's newest label ({len(rows):,}, labelled or not); "
            f"flagged: {rule}"
        )
    frame = rows.copy()
    frame["audit_flag"] = np.asarray(flags, dtype=bool)
    return frame, words


def _fold_capacity(folds: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    rows = folds.copy()
    rows[FLAG_COLUMN] = False
    cap = settings.models.review_capacity_per_week
    weeks = settings.models.splits.test_months * 365.25 / 12 / 7  # a test window's length
    for _, idx in rows.groupby("fold").indices.items():
        k = capacity_flags(weeks, cap, len(idx))
        order = np.argsort(-rows[SCORE_COLUMN].to_numpy()[idx], kind="mergesort")[:k]
        rows.loc[idx[order], FLAG_COLUMN] = True
    return rows


def audit_predictions(
    predictions: pd.DataFrame, settings: Settings, scored: pd.DataFrame | None = None
) -> tuple[AuditResult, GateResult]:
    """Audit a training run's test-fold predictions (all folds pooled) and apply the gate.

    With ``scored`` (the run's scored referrals) and ``fairness.selection_rows`` other than
    "labelled", the selection family is judged on the referrals `selection_rows` picks."""
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
    if scored is not None and settings.fairness.selection_rows != "labelled":
        rows, words = selection_rows(scored, settings)
        population, columns = derive_characteristics(rows)
        audit.selection = selection_audit(
            population, "audit_flag", columns, settings.fairness, words
        )
    return audit, evaluate_gate(audit, settings.fairness)


def audit_model_version(settings: Settings, label: str, ref: str | int) -> ModelAudit:
    """Audit a registered version on its run's test predictions; log everything to MLflow."""
    version = registry.get_version(settings, label, ref)
    predictions = registry.test_predictions(settings, version.run_id)
    scored = registry.scored_referrals(settings, version.run_id)
    audit, gate = audit_predictions(predictions, settings, scored)
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
