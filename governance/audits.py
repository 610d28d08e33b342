"""The audits the ``frontdoor audit`` command and the pipelines' audit step run: any scoring
tool's scores from a file, or a registered model version, written as audit.json and audit.html."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException

from frontdoor.governance.fairness.audit import AuditInputError, run_audit
from frontdoor.governance.fairness.publish import published_audit, write_audit
from frontdoor.governance.gate import evaluate_gate
from frontdoor.governance.version_audit import ModelAudit, audit_model_version
from frontdoor.settings import Settings

# What can go wrong auditing a registered version that the person running it can act on.
VERSION_AUDIT_ERRORS = (AuditInputError, MlflowException, OSError)


class AuditRequestError(ValueError):
    """The scores, the columns or the options given cannot be audited (the message says why)."""


def read_scores(path: Path, groups: list[str]) -> pd.DataFrame:
    """A CSV or Parquet file of scores; group columns are read as text (their own values)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        for g in groups:
            if g in frame:
                frame[g] = frame[g].astype(object).where(frame[g].notna(), None)
                frame[g] = frame[g].map(lambda v: v if v is None else str(v))
        return frame
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path, dtype={g: str for g in groups}, keep_default_na=True)
    raise ValueError(f"{path}: expected a .csv or .parquet file, not {suffix or 'no suffix'}")


def reference_groups(items: list[str]) -> dict[str, str]:
    """``COLUMN=GROUP`` options as a mapping."""
    refs: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep:
            raise AuditRequestError(f"--reference expects COLUMN=GROUP, got {item!r}")
        refs[column] = value
    return refs


def audit_scores_file(
    settings: Settings,
    scores: Path,
    score: str,
    label: str,
    threshold: float,
    groups: list[str],
    out: Path,
    references: Sequence[str] = (),
) -> dict:
    """Audit the scores in a file (flagged when ``score >= threshold``) over the ``groups``
    columns, gate every one of them, write the published audit to ``out``; returns it."""
    try:
        frame = read_scores(scores, groups)
    except (OSError, ValueError) as error:
        raise AuditRequestError(str(error)) from error
    fairness = settings.fairness.model_copy(
        update={
            "reference_groups": {
                **settings.fairness.reference_groups,
                **reference_groups(list(references)),
            },
            "gated_characteristics": list(groups),
        }
    )
    try:
        result = run_audit(
            frame,
            label=label,
            score=score,
            threshold=threshold,
            characteristics={g: g for g in groups},
            settings=fairness,
        )
    except AuditInputError as error:
        raise AuditRequestError(f"{scores}: {error}") from error
    gate = evaluate_gate(result, fairness)
    up_to = settings.privacy.suppress_counts_up_to
    write_audit(result, out, up_to, f"{scores.name} ({score} ≥ {threshold})", gate)
    return published_audit(result, up_to, gate)


@dataclass(frozen=True)
class VersionAudit:
    audited: ModelAudit
    json_path: Path | None
    html_path: Path | None


def audit_version(
    settings: Settings, label: str, version: str, out: Path | None = None
) -> VersionAudit:
    """Audit a registered version (logged to MLflow, the version tagged with the verdict) and
    write the published audit to ``out`` when given."""
    audited = audit_model_version(settings, label, version)
    if out is None:
        return VersionAudit(audited, None, None)
    title = f"{audited.model_name} version {audited.version}"
    json_path, html_path = write_audit(
        audited.audit, Path(out), settings.privacy.suppress_counts_up_to, title, audited.gate
    )
    return VersionAudit(audited, json_path, html_path)
