"""Prefect artifacts that summarise each flow run: counts, metrics, the gate's result, and which
steps ran or came from the cache. No identifiers, names or free text; counts 1..5 show as c.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from frontdoor import REVIEW_NOTICE
from frontdoor.pipelines.steps import Ledger
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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _steps(ledger: Ledger, key: str) -> None:
    create_table_artifact(
        key=f"{key}-steps",
        table=ledger.rows(),
        description=f"{key}: each step, and whether it ran or was taken from the cache",
    )


def _markdown(key: str, title: str, lines: list[str], ledger: Ledger) -> None:
    ran, cached = ledger.ran, ledger.cached
    body = [f"# {title}", "", *lines, ""]
    body.append(
        f"Steps run: {len(ran)} ({', '.join(ran) or 'none'}); "
        f"from the cache: {len(cached)} ({', '.join(cached) or 'none'})."
    )
    body += ["", f"_{REVIEW_NOTICE}_"]
    create_markdown_artifact(key=key, markdown="\n".join(body), description=title)
    _steps(ledger, key)


def _ingest_counts(c: dict, up_to: int) -> dict:
    """read = loaded + quarantined: the three are published together, so a small part hides
    its partner too; other counts (duplicates, before, after) are suppressed on their own."""
    out = {k: shown(v, up_to) for k, v in c.items()}
    if all(isinstance(c.get(k), int) for k in ("read", "loaded", "quarantined")):
        parts = shown_with_total(
            c["read"], {"loaded": c["loaded"], "quarantined": c["quarantined"]}, up_to
        )
        out.update(read=parts["total"], loaded=parts["loaded"], quarantined=parts["quarantined"])
    return out


def ingest_summary(results: dict[str, dict], ledger: Ledger, up_to: int) -> None:
    rows = []
    for council, r in results.items():
        for table, c in r["tables"].items():
            rows.append({"council": council or "-", "table": table, **_ingest_counts(c, up_to)})
    create_table_artifact(
        key="ingest-counts", table=rows, description="rows read/loaded/quarantined"
    )
    lines = []
    for council, r in results.items():
        tot = _ingest_counts(r["totals"], up_to)
        lines.append(
            f"- {council or 'council'}: reference date {r['reference_date']}; read "
            f"{_fmt(tot['read'])}, loaded {_fmt(tot['loaded'])}, quarantined "
            f"{_fmt(tot['quarantined'])}; balanced: {r['balanced']}"
        )
    _markdown("ingest", "Ingest", lines, ledger)


def features_summary(result: dict, ledger: Ledger, up_to: int) -> None:
    shown_counts: dict[str, Any] = {}
    if all(k in result for k in ("decisions", "labelled", "censored")):
        parts = shown_with_total(
            result["decisions"],
            {"labelled": result["labelled"], "censored": result["censored"]},
            up_to,
        )
        shown_counts = {"decisions": parts["total"], **parts}
    keys = ("decisions", "labelled", "censored", "features")  # features: columns, not people
    lines = [
        f"- {k}: {_fmt(shown_counts.get(k, result[k] if k == 'features' else shown(result[k], up_to)))}"
        for k in keys
        if k in result
    ]
    # a label rate among the labelled gives its count back when that count or its rest is small
    labelled = result.get("labelled")
    for k, v in result.items():
        if not k.endswith("_rate"):
            continue
        hide = isinstance(labelled, int) and (
            shown_counts.get("labelled") == SUPPRESSED
            or (
                isinstance(v, float)
                and v == v
                and hidden_parts(labelled, {"x": round(v * labelled)}, up_to)
            )
        )
        lines.append(f"- {k}: {SUPPRESSED if hide else _fmt(v)}")
    _markdown("build-features", "Feature table", lines, ledger)


def train_summary(trained: list[dict], ledger: Ledger) -> None:
    rows = [
        {
            "label": tr["label"],
            "model": tr["model_name"],
            "version": tr["model_version"],
            "estimator": tr["estimator"],
            "folds": tr["folds"],
            **{k: round(v, 4) for k, v in tr["metrics"].items()},
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
    _markdown("train", "Training", lines, ledger)


def audit_summary(
    audited: dict, promoted: dict, ledger: Ledger, reported: dict | None = None
) -> None:
    verdict = "PASSED" if audited["gate_passed"] else "FAILED"
    lines = [
        f"- model: {audited['model_name']} version {audited['model_version']}",
        f"- fairness gate: **{verdict}** — {audited['gate_summary']}",
        f"- checks: {audited['checks']}, failures: {audited['failures']}, "
        f"inconclusive: {audited['inconclusive']}",
        f"- promotion: {promoted['how']}",
        f"- published audit: {audited['outputs'].get('audit_html', '')}",
    ]
    if reported:
        lines.append(f"- governance report: {reported['outputs']['report_html']}")
    key = artifact_key("audit", audited["model_name"])  # one per model: labels never collide
    create_table_artifact(
        key=f"{key}-gate",
        table=[
            {
                "model": audited["model_name"],
                "version": audited["model_version"],
                "gate": verdict.lower(),
                "failures": audited["failures"],
                "promoted": promoted.get("promoted", False),
                "override": promoted.get("overridden", False),
            }
        ],
        description="the fairness gate and the promotion",
    )
    _markdown(key, f"Fairness audit and promotion: {audited['model_name']}", lines, ledger)


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes) from names and labels."""
    text = "-".join(parts).lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text)).strip("-")


def retrain_summary(results: list[dict], ledger: Ledger) -> None:
    """The retraining run's own summary: each label's new version, its gate and promotion."""
    lines = []
    for r in results:
        tr, au, pr = r["train"], r["audit"], r["promotion"]
        verdict = "PASSED" if au["gate_passed"] else "FAILED"
        lines.append(
            f"- {tr['label']}: {tr['model_name']} version {tr['model_version']}, backtest AUC "
            f"{tr['metrics']['auc']:.3f}; fairness gate **{verdict}**; {pr['how']}"
        )
        if r.get("report"):
            lines.append(f"  - governance report: {r['report']['outputs']['report_html']}")
    _markdown("retrain", "Monthly retraining", lines, ledger)


def score_summary(scored: dict, queued: dict, ledger: Ledger, up_to: int) -> None:
    band_counts = shown_with_total(scored["scored"], dict(scored["bands"]), up_to)
    bands = [{"band": b, "referrals": band_counts[b]} for b in scored["bands"]]
    create_table_artifact(key="score-bands", table=bands, description="scored referrals by band")
    flagged = shown_with_total(scored["scored"], {"flagged": scored["flagged"]}, up_to)
    lines = [
        f"- month scored: {scored['month']} with {scored['label']} version {scored['model_version']}",
        f"- referrals scored: {_fmt(flagged['total'])}; flagged for review: "
        f"{_fmt(flagged['flagged'])}",
        f"- newly loaded into the review queue: {_fmt(shown(queued['loaded'], up_to))}",
    ]
    _markdown("score", "Scoring", lines, ledger)


def monitor_summary(result: dict, ledger: Ledger, up_to: int) -> None:
    create_table_artifact(
        key="monitor-drift",
        table=[{**r, "psi": round(float(r["psi"]), 4)} for r in result["top_drift"]],
        description="inputs with the largest shift (PSI)",
    )
    sd = result["score_drift"]
    lines = [
        f"- as of {result['as_of']}, {result['label']} version {result['model_version']}",
        f"- score drift: PSI {sd['psi']:.3f} ({sd['status']})",
        f"- inputs with a significant shift: {result['features_shifted']}",
        f"- decisions reviewed by managers: {_fmt(shown(result['decisions_reviewed'], up_to))}",
        f"- alerts: {len(result['alerts'])}",
        *[f"  - {a}" for a in result["alerts"]],
    ]
    _markdown("monitor", "Monitoring", lines, ledger)


def demo_summary(lines: list[str], ledger: Ledger) -> None:
    _markdown("demo", "Demo", lines, ledger)
