"""Query parameters checked by hand: every value is known, bounded or refused with a message.

Errors come back as (field id, message) pairs for the GOV.UK error summary, never as a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

MAX_PAGE = 100_000
PSEUDONYM_RE = re.compile(r"^[a-z0-9]{6,128}$")


@dataclass
class Checked:
    values: dict = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error(self, field_id: str, message: str) -> None:
        self.errors.append((field_id, message))


def page_number(raw: str, checked: Checked, field_id: str = "page") -> int:
    raw = (raw or "1").strip()
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MAX_PAGE:
        checked.error(field_id, f"The page number must be a whole number from 1 to {MAX_PAGE:,}.")
        return 1
    return int(raw)


def one_of(raw: str, allowed, checked: Checked, field_id: str, what: str) -> str | None:
    """'' means no filter; anything else must be one of ``allowed``."""
    if not raw:
        return None
    if raw not in allowed:
        checked.error(field_id, f"Choose {what} from the list.")
        return None
    return raw


def pseudonym(raw: str, checked: Checked, field_id: str = "f-search") -> str | None:
    raw = (raw or "").strip().lower()
    if not raw:
        return None
    if not PSEUDONYM_RE.match(raw):
        checked.error(
            field_id,
            "Enter a pseudonym, or at least its first 6 characters (letters a to z and digits).",
        )
        return None
    return raw


def date_parts(day: str, month: str, year: str, checked: Checked, field_id: str, label: str):
    """A GOV.UK date input: all three parts or none; a real date between 1900 and 2100."""
    parts = {
        "day": (day or "").strip(),
        "month": (month or "").strip(),
        "year": (year or "").strip(),
    }
    if not any(parts.values()):
        return None
    missing = [k for k, v in parts.items() if not v]
    if missing:
        checked.error(
            f"{field_id}-{missing[0]}", f"{label} must include a {' and a '.join(missing)}."
        )
        return None
    if not all(v.isdigit() and len(v) <= 4 for v in parts.values()):
        checked.error(f"{field_id}-day", f"{label} must be a real date, in numbers.")
        return None
    try:
        value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        checked.error(f"{field_id}-day", f"{label} must be a real date.")
        return None
    if not 1900 <= value.year <= 2100:
        checked.error(f"{field_id}-year", f"{label} must be a year between 1900 and 2100.")
        return None
    return value
