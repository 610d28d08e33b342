"""The audit as it leaves the pipeline: a JSON-ready record with small numbers suppressed.

Keys are the groups' own values, so a vendor's tool audited on column ``area`` is read back
under its own area names. Every number here has passed through `suppression`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from frontdoor import REVIEW_NOTICE
from frontdoor.governance.fairness.audit import DIFFERENCE_METRICS, AuditResult, GroupResult
from frontdoor.governance.fairness.metrics import METRICS
from frontdoor.governance.fairness.render import render_audit_html
from frontdoor.governance.fairness.suppression import (
    PUBLISHED_COUNTS,
    SUPPRESSED,
    TOO_FEW,
    metric_suppressed,
    published_count,
    secondary_size_suppression,
)

if TYPE_CHECKING:  # annotations only: the gate imports the audit, never the other way round
    from frontdoor.governance.gate import GateResult


def _num(x: float | None, digits: int = 4) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def _group_record(g: GroupResult, up_to: int, hide_size: bool) -> dict:
    counts = {k: published_count(k, g.counts, up_to) for k in PUBLISHED_COUNTS}
    if hide_size:  # its size is hidden, so every count that could give it back is too
        counts = dict.fromkeys(counts, SUPPRESSED)
    record: dict = {"counts": counts, "assessable": g.assessable, "reference": g.is_reference}
    if not g.assessable:
        record["metrics"] = TOO_FEW
        record["disparities"] = TOO_FEW
        return record
    metrics, disparities = {}, {}
    for m, e in g.metrics.items():
        if metric_suppressed(m, g.counts, up_to):
            metrics[m] = {"value": SUPPRESSED, "lo": SUPPRESSED, "hi": SUPPRESSED}
        else:
            metrics[m] = {"value": _num(e.value), "lo": _num(e.lo), "hi": _num(e.hi)}
    for m, e in g.disparities.items():
        kind = "difference" if m in DIFFERENCE_METRICS else "ratio"
        if metric_suppressed(m, g.counts, up_to):
            disparities[m] = {"kind": kind, "value": SUPPRESSED, "lo": SUPPRESSED, "hi": SUPPRESSED}
        else:
            disparities[m] = {
                "kind": kind,
                "value": _num(e.value),
                "lo": _num(e.lo),
                "hi": _num(e.hi),
            }
    record["metrics"] = metrics
    record["disparities"] = disparities
    return record


def hidden_sizes(audit: AuditResult, up_to: int) -> dict[str, set[str]]:
    return {
        c: secondary_size_suppression(
            {g.group: g.counts["n"] for g in audit.for_characteristic(c)}, up_to
        )
        for c in audit.characteristics
    }


def published_gate(gate: GateResult, audit: AuditResult, up_to: int) -> dict:
    record = gate.as_dict()
    for check in record["checks"]:
        try:
            g = audit.group(check["characteristic"], check["group"])
        except KeyError:
            continue
        if metric_suppressed(check["metric"], g.counts, up_to):
            check["value"] = check["lo"] = check["hi"] = SUPPRESSED
            check["reason"] = check["verdict"] + " (figures suppressed: small numbers)"
    return record


def published_audit(audit: AuditResult, up_to: int, gate: GateResult | None = None) -> dict:
    """The whole audit as a plain dict, safe to publish."""
    s = audit.settings
    hidden = hidden_sizes(audit, up_to)
    record: dict = {
        "notice": REVIEW_NOTICE,
        "created_at": audit.created_at,
        "label": audit.label,
        "score": audit.score,
        "threshold": audit.threshold,
        "flags": audit.flag_rule
        or (f"score >= {audit.threshold}" if audit.threshold is not None else "as given"),
        "score_is_probability": audit.score_is_probability,
        "method": {
            "confidence_level": 0.95,
            "interval": "percentile bootstrap, resampling "
            + (
                "rows"
                if audit.resampled_by == "rows"
                else f"whole clusters of rows by {audit.resampled_by} (a child's referrals together)"
            )
            + " within each group",
            "resampled_by": audit.resampled_by,
            "bootstrap_samples": s.bootstrap_samples,
            "seed": s.seed,
            "min_group_size": s.min_group_size,
            "ratio_band": [s.ratio_lower, s.ratio_upper],
            "max_calibration_gap": s.max_calibration_gap,
        },
        "suppression": {
            "counts_up_to": up_to,
            "symbol": SUPPRESSED,
            "too_few": TOO_FEW,
            "rule": "counts from 1 to N are shown as c; a rate is shown as c when its numerator or "
            "the rest of its base is such a count",
        },
        "metrics": {m: {"title": v["title"], "meaning": v["says"]} for m, v in METRICS.items()},
        "overall": _group_record(audit.overall, up_to, False),
        "characteristics": {
            c: {
                "reference": audit.references[c],
                "groups": {
                    g.group: _group_record(g, up_to, g.group in hidden[c])
                    for g in audit.for_characteristic(c)
                },
            }
            for c in audit.characteristics
        },
    }
    if gate is not None:
        record["gate"] = published_gate(gate, audit, up_to)
    return record


def write_json(record: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def write_audit(
    audit: AuditResult, out_dir: Path, up_to: int, title: str, gate: GateResult | None = None
) -> tuple[Path, Path]:
    """Write ``audit.json`` and ``audit.html`` (both suppressed) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    record = published_audit(audit, up_to, gate)
    json_path = write_json(record, out_dir / "audit.json")
    html_path = out_dir / "audit.html"
    html_path.write_text(render_audit_html(record, audit, up_to, title), encoding="utf-8")
    return json_path, html_path
