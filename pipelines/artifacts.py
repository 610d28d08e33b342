"""Prefect artifacts that summarise each flow run: counts, metrics, the gate's result, and which
steps ran or came from the cache. No identifiers, names or free text; counts 1..5 show as c.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from frontdoor import REVIEW_NOTICE
from frontdoor.pipelines.steps import StepRun
from frontdoor.records.disclosure import SUPPRESSED, hidden_parts, shown_count


def shown(value: Any, up_to: int) -> Any:
    """A count fit to publish: 1..up_to becomes 'c' (``privacy.suppress_counts_up_to``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return shown_count(value, up_to)
    return value


def shown_with_total(total: int, parts: dict[str, int], up_to: int) -> dict[str, Any]:
    """A total and its parts as published: small parts, their complements and a lone hidden
    part (which the total would give back) show 'c'. Key ``total`` holds the total."""
    hidden = hidden_parts(total, parts, up_to)
    out: dict[str, Any] = {"total": shown(total, up_to)}
    out.update({k: SUPPRESSED if k in hidden else v for k, v in parts.items()})
    return out


def fmt(value: Any) -> str:
    """A figure for a summary line: rates to three places, counts with thousands separators."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def count_text(count: int, up_to: int) -> str:
    """A count for a summary line, 1..up_to shown as c."""
    return fmt(shown(count, up_to))


def steps_rows(steps: list[StepRun]) -> list[dict[str, Any]]:
    return [
        {"step": s.step, "cached": "yes" if s.cached else "no", "seconds": s.seconds} for s in steps
    ]


def _markdown(key: str, title: str, lines: list[str], steps: list[StepRun]) -> None:
    ran = [s.step for s in steps if not s.cached]
    cached = [s.step for s in steps if s.cached]
    body = [f"# {title}", "", *lines, ""]
    body.append(
        f"Steps run: {len(ran)} ({', '.join(ran) or 'none'}); "
        f"from the cache: {len(cached)} ({', '.join(cached) or 'none'})."
    )
    body += ["", f"_{REVIEW_NOTICE}_"]
    create_markdown_artifact(key=key, markdown="\n".join(body), description=title)
    create_table_artifact(
        key=f"{key}-steps",
        table=steps_rows(steps),
        description=f"{key}: each step, and whether it ran or was taken from the cache",
    )


def ingest_counts(c: dict, up_to: int) -> dict:
    """read = loaded + quarantined: the three are published together, so a small part hides
    its partner too; other counts (duplicates, before, after) are suppressed on their own."""
    out = {k: shown(v, up_to) for k, v in c.items()}
    if all(isinstance(c.get(k), int) for k in ("read", "loaded", "quarantined")):
        parts = shown_with_total(
            c["read"], {"loaded": c["loaded"], "quarantined": c["quarantined"]}, up_to
        )
        out.update(read=parts["total"], loaded=parts["loaded"], quarantined=parts["quarantined"])
    return out


def ingest_summary(results: dict, steps: list[StepRun], up_to: int) -> None:
    rows = [
        {"council": council or "-", "table": table, **ingest_counts(c, up_to)}
        for council, r in results.items()
        for table, c in r.tables.items()
    ]
    create_table_artifact(
        key="ingest-counts", table=rows, description="rows read/loaded/quarantined"
    )
    lines = []
    for council, r in results.items():
        tot = ingest_counts(r.totals, up_to)
        lines.append(
            f"- {council or 'council'}: reference date {r.reference_date}; read "
            f"{fmt(tot['read'])}, loaded {fmt(tot['loaded'])}, quarantined "
            f"{fmt(tot['quarantined'])}; balanced: {r.balanced}"
        )
    _markdown("ingest", "Ingest", lines, steps)


def feature_lines(built, up_to: int) -> list[str]:
    """The feature table's counts and label rates; a rate among the labelled gives its count
    back when that count or its rest is small, so it is hidden then."""
    parts = shown_with_total(
        built.decisions, {"labelled": built.labelled, "censored": built.censored}, up_to
    )
    lines = [
        f"- decisions: {fmt(parts['total'])}",
        f"- labelled: {fmt(parts['labelled'])}",
        f"- censored: {fmt(parts['censored'])}",
        f"- features: {fmt(built.columns)}",  # columns, not people
    ]
    for name, rate in built.rates.items():
        hide = parts["labelled"] == SUPPRESSED or (
            rate == rate
            and hidden_parts(built.labelled, {"x": round(rate * built.labelled)}, up_to)
        )
        lines.append(f"- {name}: {SUPPRESSED if hide else fmt(rate)}")
    return lines


def features_summary(results: dict, steps: list[StepRun], up_to: int) -> None:
    lines = []
    for council, built in results.items():
        lines += [f"**{council}**"] * bool(council) + feature_lines(built, up_to)
    _markdown("build-features", "Feature table", lines, steps)


def train_summary(trained: list, steps: list[StepRun]) -> None:
    rows = [
        {
            "label": tr.label,
            "model": tr.model_name,
            "version": tr.model_version,
            "estimator": tr.estimator,
            "folds": tr.folds,
            "auc": round(tr.auc, 4),
            "auc_rule": round(tr.auc_rule, 4),
        }
        for tr in trained
    ]
    create_table_artifact(key="train-models", table=rows, description="registered challengers")
    lines = [
        f"- {r['label']}: {r['model']} version {r['version']} ({r['estimator']}), "
        f"backtest AUC {r['auc']:.3f} against the current-practice rule's {r['auc_rule']:.3f}; "
        "alias `challenger`"
        for r in rows
    ]
    _markdown("train", "Training", lines, steps)


def audit_summary(governed, steps: list[StepRun]) -> None:
    """``governed``: anything with ``audit``, ``report`` (or None) and ``promotion``."""
    audited, promoted = governed.audit, governed.promotion
    verdict = "PASSED" if audited.gate_passed else "FAILED"
    lines = [
        f"- model: {audited.model_name} version {audited.model_version}",
        f"- fairness gate: **{verdict}** — {audited.gate_summary}",
        f"- checks: {audited.checks}, failures: {audited.failures}, "
        f"inconclusive: {audited.inconclusive}",
        f"- promotion: {promoted.how}",
        f"- published audit: {audited.audit_html}",
    ]
    if governed.report:
        lines.append(f"- governance report: {governed.report.report_html}")
    row = {
        "model": audited.model_name,
        "version": audited.model_version,
        "gate": verdict.lower(),
        "failures": audited.failures,
        "promoted": promoted.promoted,
        "override": promoted.overridden,
    }
    key = artifact_key("audit", audited.model_name)  # one per model: labels never collide
    create_table_artifact(
        key=f"{key}-gate", table=[row], description="the fairness gate and the promotion"
    )
    _markdown(key, f"Fairness audit and promotion: {audited.model_name}", lines, steps)


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes) from names and labels."""
    text = "-".join(parts).lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text)).strip("-")


def retrain_summary(models: list, steps: list[StepRun]) -> None:
    """The retraining run's own summary: each label's new version, its gate and promotion."""
    lines = []
    for m in models:
        tr, verdict = m.train, "PASSED" if m.audit.gate_passed else "FAILED"
        lines.append(
            f"- {tr.label}: {tr.model_name} version {tr.model_version}, backtest AUC "
            f"{tr.auc:.3f}; fairness gate **{verdict}**; {m.promotion.how}"
        )
        if m.report:
            lines.append(f"  - governance report: {m.report.report_html}")
    _markdown("retrain", "Monthly retraining", lines, steps)


def score_summary(scored, queued, steps: list[StepRun], up_to: int) -> None:
    band_counts = shown_with_total(scored.scored, dict(scored.bands), up_to)
    bands = [{"band": b, "referrals": band_counts[b]} for b in scored.bands]
    create_table_artifact(key="score-bands", table=bands, description="scored referrals by band")
    flagged = shown_with_total(scored.scored, {"flagged": scored.flagged}, up_to)
    lines = [
        f"- month scored: {scored.month} with {scored.label} version {scored.model_version}",
        f"- referrals scored: {fmt(flagged['total'])}; flagged for review: "
        f"{fmt(flagged['flagged'])}",
        f"- newly loaded into the review queue: {count_text(queued.loaded, up_to)}",
    ]
    _markdown("score", "Scoring", lines, steps)


def monitor_summary(result, steps: list[StepRun], up_to: int) -> None:
    create_table_artifact(
        key="monitor-drift",
        table=[{**r, "psi": round(float(r["psi"]), 4)} for r in result.top_drift],
        description="inputs with the largest shift (PSI)",
    )
    s = result.summary
    sd = s["score_drift"]
    lines = [
        f"- as of {s['as_of']}, {s['label']} version {s['model_version']}",
        f"- score drift: PSI {sd['psi']:.3f} ({sd['status']})",
        f"- inputs with a significant shift: {s['features_shifted']}",
        f"- decisions reviewed by managers: {fmt(shown(s['decisions_reviewed'], up_to))}",
        f"- alerts: {len(s['alerts'])}",
        *[f"  - {a}" for a in s["alerts"]],
    ]
    _markdown("monitor", "Monitoring", lines, steps)


def demo_summary(done, up_to: int) -> None:
    """``done``: the demo flow's result."""
    scored, queued = done.score[""], done.queue[""]
    lines = [
        f"- synthetic council: {done.synth.children:,} children",
        f"- feature table: {count_text(done.features[''].decisions, up_to)} decisions",
        *[
            f"- {m.train.label}: version {m.train.model_version}, AUC {m.train.auc:.3f}; gate "
            f"{'PASSED' if m.audit.gate_passed else 'FAILED'}; {m.promotion.how}"
            for m in done.models
        ],
        f"- scored {count_text(scored.scored, up_to)} referrals of {scored.month}; "
        f"{count_text(queued.loaded, up_to)} newly in the review queue",
    ]
    _markdown("demo", "Demo", lines, done.steps)
