"""Logging an audit and its gate verdict to MLflow: metrics, artifacts and tags.

Metric names are ``fairness/<characteristic>/<group>/<metric>``. MLflow allows only letters,
digits, ``_ - . / :`` and spaces in a name, so group names are sanitised by `metric_key_part`:
``+`` becomes ``plus``, ``×`` becomes ``x``, whitespace becomes ``_``, ``/`` becomes ``-`` and
any other character ``_`` (so "16+" -> "16plus", "White × Female" -> "White_x_Female",
"Not known or refused" -> "Not_known_or_refused"). If two groups collide after sanitising, the
later gets ``_2``, ``_3``... The original names are always in ``fairness/audit.json``.
Only what may be published is logged: suppressed values and groups too few to assess are left
out, exactly as they show ``c`` or "too few to assess" in the tables.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import pandas as pd
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from frontdoor.governance.fairness.audit import DIFFERENCE_METRICS, AuditResult
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.render import render_audit_html
from frontdoor.governance.fairness.tags import (  # noqa: F401 - re-exported for readers
    TAG_AUDIT_RUN,
    TAG_AUDITED_AT,
    TAG_GATE,
    TAG_RULE,
    TAG_SUMMARY,
    TAG_THRESHOLD,
)
from frontdoor.governance.gate import GateResult

ARTIFACT_DIR = "fairness"


def metric_key_part(name: str) -> str:
    """A group or characteristic name made safe for an MLflow metric name (see module doc)."""
    text = str(name).replace("+", "plus").replace("×", "x").replace("/", "-")
    text = re.sub(r"\s+", "_", text.strip())
    text = re.sub(r"[^A-Za-z0-9_.\-]", "_", text)
    return re.sub(r"_+", "_", text).strip("_") or "blank"


def metric_keys(audit: AuditResult) -> dict[tuple[str, str], str]:
    """(characteristic, group) -> the sanitised ``fairness/<c>/<g>`` prefix, unique."""
    out: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    for g in audit.groups:
        base = f"fairness/{metric_key_part(g.characteristic)}/{metric_key_part(g.group)}"
        key, k = base, 2
        while key in used:
            key, k = f"{base}_{k}", k + 1
        used.add(key)
        out[(g.characteristic, g.group)] = key
    return out


def _numbers(prefix: str, group: dict, reference: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    n = group["counts"]["n"]
    if isinstance(n, int):
        out[f"{prefix}/n"] = float(n)
    if not group["assessable"]:
        return out
    blocks = [("", group["metrics"])] + ([] if reference else [(None, group["disparities"])])
    for kind, block in blocks:
        for m, e in block.items():
            name = (
                m if kind is not None else f"{m}_{'diff' if m in DIFFERENCE_METRICS else 'ratio'}"
            )
            for suffix in ("", "_lo", "_hi"):
                v = e["value" if not suffix else suffix[1:]]
                if isinstance(v, float | int) and math.isfinite(v):
                    out[f"{prefix}/{name}{suffix}"] = float(v)
    return out


def audit_metrics(audit: AuditResult, up_to: int, record: dict | None = None) -> dict[str, float]:
    """Every published per-group number, by its MLflow metric name: read from the published
    record, so MLflow holds nothing the audit.json does not."""
    record = record or published_audit(audit, up_to)
    keys = metric_keys(audit)
    out = _numbers("fairness/overall", record["overall"], True)
    for c, block in record["characteristics"].items():
        for g, group in block["groups"].items():
            out |= _numbers(keys[(c, g)], group, group["reference"])
    return out


TABLE_ARTIFACT = "fairness/audit_table.json"
HEADLINE_METRICS = ("flag_rate", "fnr", "fpr")


def audit_table(metrics: dict[str, float]) -> pd.DataFrame:
    """`audit_metrics` as rows: characteristic, group, metric, value, low, high (publishable)."""
    rows: dict[tuple[str, str, str], dict] = {}
    for key, value in metrics.items():
        parts = key.split("/")
        if parts[1] == "overall":
            characteristic, group, name = "overall", "all", parts[2]
        else:
            characteristic, group, name = parts[1], parts[2], parts[3]
        bound = "low" if name.endswith("_lo") else "high" if name.endswith("_hi") else "value"
        name = name.removesuffix("_lo").removesuffix("_hi")
        row = rows.setdefault(
            (characteristic, group, name),
            {"characteristic": characteristic, "group": group, "metric": name},
        )
        row[bound] = value
    columns = ["characteristic", "group", "metric", "value", "low", "high"]
    return pd.DataFrame(list(rows.values()), columns=columns)


def headline_metrics(metrics: dict[str, float], gate: GateResult) -> dict[str, float]:
    """The few figures worth a chart: overall rates, the worst gated ratios, the gate."""
    out = {
        f"fairness_overall_{m}": metrics[f"fairness/overall/{m}"]
        for m in HEADLINE_METRICS
        if f"fairness/overall/{m}" in metrics
    }
    for m in ("fnr", "fpr"):
        ratios = [
            v
            for k, v in metrics.items()
            if k.endswith(f"/{m}_ratio") and k.count("/") == 3 and v > 0
        ]
        if ratios:
            out[f"fairness_max_{m}_ratio"] = max(ratios)
            out[f"fairness_min_{m}_ratio"] = min(ratios)
    out["fairness_gate_passed"] = 1.0 if gate.passed else 0.0
    out["fairness_gate_failures"] = float(len(gate.failures))
    return out


def gate_tags(gate: GateResult, audit: AuditResult, audit_run_id: str) -> dict[str, str]:
    return {
        TAG_GATE: "pass" if gate.passed else "fail",
        TAG_SUMMARY: gate.summary()[:4900],
        TAG_RULE: gate.rule[:4900],
        TAG_AUDITED_AT: audit.created_at,
        TAG_AUDIT_RUN: audit_run_id,
        TAG_THRESHOLD: "" if audit.threshold is None else str(audit.threshold),
    }


def log_audit(
    client: MlflowClient,
    run_id: str,
    audit: AuditResult,
    gate: GateResult,
    record: dict,
    up_to: int,
    title: str,
    model_name: str | None = None,
    version: str | None = None,
) -> dict[str, float]:
    """Log metrics, ``fairness/audit.json`` and ``fairness/audit.html`` and the gate tags."""
    metrics = audit_metrics(audit, up_to, record)
    # the per-group table as one table artifact (a wall of ~1,600 one-point metric charts is
    # unreadable); a few headline figures stay metrics, so runs can be compared on them
    client.log_table(run_id, data=audit_table(metrics), artifact_file=TABLE_ARTIFACT)
    headline = headline_metrics(metrics, gate)
    client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in sorted(headline.items())])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "audit.json").write_text(
            json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        (folder / "audit.html").write_text(
            render_audit_html(record, audit, up_to, title), encoding="utf-8"
        )
        client.log_artifacts(run_id, str(folder), ARTIFACT_DIR)
    tags = gate_tags(gate, audit, run_id)
    for k, v in tags.items():
        client.set_tag(run_id, k, v)
    if model_name and version:
        for k, v in tags.items():
            client.set_model_version_tag(model_name, str(version), k, v)
    return metrics
