"""The audit as HTML: one self-contained page (CSS and plots inlined)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from frontdoor.governance.fairness.audit import AuditResult
from frontdoor.governance.fairness.plots import calibration_plot, disparity_plot
from frontdoor.governance.fairness.suppression import disclosure_plan

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )


def css() -> str:
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")


def figures(
    audit: AuditResult,
    up_to: int,
    metrics: list[str] | None = None,
    intervals: dict[tuple[str, str, str], tuple[float, float]] | None = None,
    interval_name: str = "95% interval",
) -> dict[str, list[str]]:
    """Per characteristic: the disparity plot and (for probabilities) the calibration plot
    (``intervals``: see ``disparity_plot``)."""
    metrics = metrics or list(audit.settings.gated_metrics)
    plan = disclosure_plan(audit, up_to)
    out: dict[str, list[str]] = {}
    for c in audit.characteristics:
        uris = [disparity_plot(audit, c, metrics, plan, intervals, interval_name)]
        cal = calibration_plot(audit, c, plan)
        if cal:
            uris.append(cal)
        out[c] = uris
    return out


def render_audit_html(record: dict, audit: AuditResult, up_to: int, title: str) -> str:
    record = {
        **record,
        "method": {**record["method"], "gated_metrics": list(audit.settings.gated_metrics)},
    }
    template = environment().get_template("audit.html.j2")
    return template.render(record=record, figures=figures(audit, up_to), css=css(), title=title)
