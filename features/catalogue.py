"""The feature catalogue for governance boards, rendered from the declarations."""

from __future__ import annotations

import html
from pathlib import Path

from frontdoor.features.declarations import AGGREGATIONS, FAMILIES, FEATURES, SCOPES, Feature
from frontdoor.records.store import atomic_write_text

INTRO = (
    "Every feature the models may read, declared once in `features/declarations.py`. "
    "A feature counts only records whose knowledge date is strictly before the decision "
    "date; a record without a knowledge date never counts. A window of N days covers "
    "records known 1 to N days before the decision. Household features count the child's "
    "siblings (same household), never the child. Sensitive characteristics (sex, "
    "ethnicity, disability, deprivation) are not model inputs by default: they travel "
    "beside the features for the fairness audit."
)
COLUMNS = (
    "feature",
    "says",
    "source",
    "knowledge date",
    "window",
    "aggregation",
    "scope",
    "filter",
    "direction",
)


def _row(f: Feature) -> tuple[str, ...]:
    direction = {1: "more = higher risk", -1: "more = lower risk", 0: "none"}[f.monotone]
    return (
        f.name,
        f.says,
        f.source,
        f.knowledge_date or "(characteristic)",
        f.window_text,
        f.agg,
        f.scope,
        f.where_text,
        direction,
    )


def _by_family() -> dict[str, list[Feature]]:
    out: dict[str, list[Feature]] = {}
    for f in FEATURES:
        out.setdefault(f.family, []).append(f)
    return out


def render_markdown() -> str:
    lines = ["# Feature catalogue", "", INTRO, "", f"{len(FEATURES)} features.", ""]
    for family, features in _by_family().items():
        lines += [f"## {FAMILIES[family]}", ""]
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "---|" * len(COLUMNS))
        for f in features:
            cells = [c.replace("|", "\\|") for c in _row(f)]
            cells[0] = f"`{cells[0]}`"
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Aggregations", ""]
    lines += [f"- `{k}`: {v}" for k, v in AGGREGATIONS.items()]
    lines += ["", "## Scopes", ""]
    lines += [f"- `{k}`: {v}" for k, v in SCOPES.items()]
    return "\n".join(lines) + "\n"


def render_html() -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>frontdoor feature catalogue</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse;margin-bottom:2em}"
        "th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}"
        "th{background:#eee}code{font-size:.95em}</style></head><body>",
        "<h1>Feature catalogue</h1>",
        f"<p>{html.escape(INTRO)}</p><p>{len(FEATURES)} features.</p>",
    ]
    for family, features in _by_family().items():
        parts.append(f"<h2>{html.escape(FAMILIES[family])}</h2><table><thead><tr>")
        parts += [f"<th>{html.escape(c)}</th>" for c in COLUMNS]
        parts.append("</tr></thead><tbody>")
        for f in features:
            cells = [html.escape(c) for c in _row(f)]
            cells[0] = f"<code>{cells[0]}</code>"
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_catalogue(folder: Path) -> list[Path]:
    folder = Path(folder)
    md, page = folder / "feature-catalogue.md", folder / "feature-catalogue.html"
    atomic_write_text(md, render_markdown())
    atomic_write_text(page, render_html())
    return [md, page]
