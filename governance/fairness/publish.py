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
    COARSE,
    FULL,
    HIDDEN,
    PUBLISHED_COUNTS,
    SUPPRESSED,
    TOO_FEW,
    Plan,
    disclosure_plan,
)
from frontdoor.records.disclosure import COARSE_DECIMALS, RATE_DECIMALS, RESTRICTED

if TYPE_CHECKING:  # annotations only: the gate imports the audit, never the other way round
    from frontdoor.governance.gate import GateResult


def _num(x: float | None, digits: int = RATE_DECIMALS) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def _shown(e, view: str) -> dict:
    """An estimate as published under its view (full, coarse or hidden)."""
    if view == HIDDEN:
        return {"value": SUPPRESSED, "lo": SUPPRESSED, "hi": SUPPRESSED}
    if view == COARSE:
        return {"value": _num(e.value, COARSE_DECIMALS), "lo": SUPPRESSED, "hi": SUPPRESSED}
    return {"value": _num(e.value), "lo": _num(e.lo), "hi": _num(e.hi)}


def _group_record(g: GroupResult, plan: Plan, key: tuple[str, str]) -> dict:
    counts = {k: plan.count(key, k, g.counts[k]) for k in PUBLISHED_COUNTS}
    record: dict = {"counts": counts, "assessable": g.assessable, "reference": g.is_reference}
    if not g.assessable:
        record["metrics"] = TOO_FEW
        record["disparities"] = TOO_FEW
        return record
    record["metrics"] = {m: _shown(e, plan.view(key, m)) for m, e in g.metrics.items()}
    record["disparities"] = {
        m: {"kind": "difference" if m in DIFFERENCE_METRICS else "ratio"}
        | _shown(e, plan.view(key, m))
        for m, e in g.disparities.items()
    }
    return record


def _selection_record(selection: AuditResult, plan: Plan) -> dict:
    """The selection family's population (every scored referral): referrals and flags per group
    (no outcome: none is known for most of them), through the same disclosure plan."""

    def group(g: GroupResult, key: tuple[str, str]) -> dict:
        out: dict = {
            "counts": {k: plan.count(key, k, g.counts[k]) for k in ("n", "flagged")},
            "assessable": g.assessable,
            "reference": g.is_reference,
        }
        if not g.assessable:
            return out | {"metrics": TOO_FEW, "disparities": TOO_FEW}
        view = plan.view(key, "flag_rate")
        out["metrics"] = {"flag_rate": _shown(g.metrics["flag_rate"], view)}
        out["disparities"] = {
            m: {"kind": "ratio"} | _shown(e, view) for m, e in g.disparities.items()
        }
        return out

    return {
        "population": selection.flag_rule,
        "overall": group(selection.overall, ("overall", "overall")),
        "characteristics": {
            c: {
                "reference": selection.references[c],
                "groups": {
                    g.group: group(g, (c, g.group)) for g in selection.for_characteristic(c)
                },
            }
            for c in selection.characteristics
        },
    }


def published_gate(
    gate: GateResult, audit: AuditResult, plan: Plan, selection_plan: Plan | None = None
) -> dict:
    """The gate's record; each check's figures under the disclosure plan of the rows it was
    judged on (the labelled rows, or the scored referrals of the selection family)."""
    record = gate.as_dict()
    for check in record["checks"]:
        which = selection_plan if check.get("population") == "scored" and selection_plan else plan
        view = which.view((check["characteristic"], check["group"]), check["metric"])
        if view == FULL:
            continue
        value = check["value"]
        check["value"] = SUPPRESSED if view == HIDDEN else _num(value, COARSE_DECIMALS)
        check["lo"] = check["hi"] = check["gate_lo"] = check["gate_hi"] = SUPPRESSED
        check["reason"] = check["verdict"] + " (figures suppressed: small numbers)"
    return record


def published_audit(audit: AuditResult, up_to: int, gate: GateResult | None = None) -> dict:
    """The whole audit as a plain dict, safe to publish."""
    s = audit.settings
    plan = disclosure_plan(audit, up_to)
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
            "interval": "rates: Jeffreys (beta-binomial posterior) intervals; ratios of rates: "
            "their MOVER combination; counts deflated to each group's effective size "
            + (
                "(every row its own child)"
                if audit.resampled_by == "rows"
                else f"(the referrals of one {audit.resampled_by} share an outcome)"
            )
            + "; AUC and calibration: percentile bootstrap, resampling "
            + ("rows" if audit.resampled_by == "rows" else f"whole {audit.resampled_by}s")
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
            "rule": "counts from 1 to N are shown as c, and so is any count that could be worked "
            "out from shown ones (a complement, or a part of a total across a characteristic and "
            "its intersections); a rate is shown as c when a count behind it is such a count, and "
            f"to {COARSE_DECIMALS} decimals without an interval when a count behind it is hidden "
            "only so that another cannot be worked out",
        },
        "metrics": {m: {"title": v["title"], "meaning": v["says"]} for m, v in METRICS.items()},
        "overall": _group_record(audit.overall, plan, ("overall", "overall")),
        "characteristics": {
            c: {
                "reference": audit.references[c],
                "groups": {
                    g.group: _group_record(g, plan, (c, g.group))
                    for g in audit.for_characteristic(c)
                },
            }
            for c in audit.characteristics
        },
    }
    selection_plan = None
    if audit.selection is not None:
        selection_plan = disclosure_plan(audit.selection, up_to)
        record["selection"] = _selection_record(audit.selection, selection_plan)
    if gate is not None:
        record["gate"] = published_gate(gate, audit, plan, selection_plan)
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


def board_audit(audit: AuditResult, gate: GateResult | None = None) -> dict:
    """The board's version: every figure behind every check, small numbers included, marked
    for restricted circulation. Never published; written only under ``paths.restricted``."""
    record = published_audit(audit, 0, gate)  # a threshold of 0: nothing is small
    record["circulation"] = RESTRICTED
    record["suppression"] |= {"counts_up_to": 0, "rule": "none (restricted circulation)"}
    for c, block in record["characteristics"].items():
        for g, group in block["groups"].items():
            group["counts"] = dict(audit.group(c, g).counts)
    record["overall"]["counts"] = dict(audit.overall.counts)
    if audit.selection is not None:
        for c, block in record["selection"]["characteristics"].items():
            for g, group in block["groups"].items():
                counts = audit.selection.group(c, g).counts
                group["counts"] = {k: counts[k] for k in ("n", "flagged")}
        counts = audit.selection.overall.counts
        record["selection"]["overall"]["counts"] = {k: counts[k] for k in ("n", "flagged")}
    return record


def write_board_audit(
    audit: AuditResult, out_dir: Path, title: str, gate: GateResult | None = None
) -> tuple[Path, Path]:
    """Write ``restricted-audit.json`` and ``.html`` (restricted circulation) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    record = board_audit(audit, gate)
    json_path = write_json(record, out_dir / "restricted-audit.json")
    html_path = out_dir / "restricted-audit.html"
    html_path.write_text(render_audit_html(record, audit, 0, title), encoding="utf-8")
    return json_path, html_path
