"""The fairness audit: metrics by group with intervals, suppression, plots and the published record."""

from __future__ import annotations

from pathlib import Path

from models.fairness.audit import AuditInputError, AuditResult, run_audit
from models.fairness.characteristics import derive_characteristics
from models.fairness.publish import published_audit, write_json
from models.fairness.render import render_audit_html
from models.gate import GateResult, evaluate_gate

__all__ = [
    "AuditInputError",
    "AuditResult",
    "derive_characteristics",
    "evaluate_gate",
    "published_audit",
    "run_audit",
    "write_audit",
]


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
