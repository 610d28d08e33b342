"""Renders docs/data-contract.md from the contract's declarations (so the two never drift)."""

from __future__ import annotations

from frontdoor.records import codes
from frontdoor.records.contract import TABLES

_CODE_LISTS = {
    ("children", "sex"): codes.SEX_CODES,
    ("children", "ethnicity"): codes.ETHNICITY_CODES,
    ("contacts", "source"): codes.SOURCE_CODES,
    ("contacts", "presenting_concerns"): codes.ASSESSMENT_FACTOR_CODES,
    ("referrals", "source"): codes.SOURCE_CODES,
    ("referrals", "outcome"): codes.REFERRAL_OUTCOMES,
    ("assessments", "factors"): codes.ASSESSMENT_FACTOR_CODES,
    ("assessments", "outcome"): codes.ASSESSMENT_OUTCOMES,
    ("section47_enquiries", "outcome"): codes.S47_OUTCOMES,
    ("cp_plans", "initial_category"): codes.CP_CATEGORIES,
    ("domestic_abuse_notifications", "dash_risk"): codes.DASH_LEVELS,
}

_TYPES = {
    "id": "string (pseudonym)",
    "date": "date",
    "str": "string (code)",
    "int": "integer",
    "bool": "boolean",
    "factors": "codes, comma-separated",
}


def render_contract_markdown() -> str:
    lines = [
        "# The canonical data contract",
        "",
        "Generated from `records/contract.py` by `frontdoor contract --write` "
        "(a test checks this file is current). Every table is stored as one Parquet file "
        "per table in a folder with a `manifest.json` (the extract's reference date, sources, "
        "counts). Identifiers are pseudonyms: HMAC-SHA256 keyed hashes made at ingestion "
        "(`docs/privacy.md`). Dates are calendar dates. No names, exact dates of birth, staff "
        "names, UPNs or free text are ever stored.",
        "",
        "**Knowledge date.** Each event table declares the column from which the front door "
        "could know about a record. Features count only records whose knowledge date is "
        "strictly before the decision time; a record without a knowledge date (an assessment "
        "not yet authorised) never counts.",
        "",
        "**Sensitive characteristics** (marked ★) are kept for fairness audits. They are not "
        "model inputs unless `features.use_sensitive_as_inputs` is switched on (off by default).",
        "",
        "| table | knowledge date | meaning |",
        "|---|---|---|",
    ]
    for t in TABLES.values():
        lines.append(f"| `{t.name}` | `{t.knowledge_date or '-'}` | {t.meaning} |")
    for t in TABLES.values():
        lines += ["", f"## `{t.name}`", "", t.meaning, ""]
        if t.knowledge_date:
            lines += [f"Knowledge date: `{t.knowledge_date}`. {t.knowledge_note}", ""]
        lines += [f"Key: `{t.key}`. Duplicates are judged on: {', '.join(t.dedupe_on)}.", ""]
        lines += ["| column | type | required | meaning | allowed |", "|---|---|---|---|---|"]
        for c in t.columns:
            allowed = ""
            if c.allowed:
                allowed = ", ".join(f"`{a}`" for a in c.allowed[:8])
                if len(c.allowed) > 8:
                    allowed += f" … ({len(c.allowed)} codes, listed below)"
            if c.value_range:
                allowed = f"{c.value_range[0]} to {c.value_range[1]}"
            star = " ★" if c.sensitive else ""
            lines.append(
                f"| `{c.name}`{star} | {_TYPES[c.dtype]} | {'no' if c.nullable else 'yes'} "
                f"| {c.meaning} | {allowed} |"
            )
    lines += ["", "## Code lists", ""]
    for (table, column), mapping in _CODE_LISTS.items():
        lines += [f"### `{table}.{column}`", "", "| code | meaning |", "|---|---|"]
        lines += [f"| `{code}` | {meaning} |" for code, meaning in mapping.items()]
        lines.append("")
    lines += [
        "### Major ethnic groups (fairness audits)",
        "",
        "| code | group |",
        "|---|---|",
    ]
    lines += [f"| `{c}` | {g} |" for c, g in codes.ETHNICITY_MAJOR_GROUP.items()]
    lines.append("")
    return "\n".join(lines)
