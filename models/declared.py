"""What the models room reads from a column's feature declaration: direction, family and wording.

The features room owns the declarations (``frontdoor.features.declarations``, the only part of
that room the models room may import). Estimators and explanations ask here about one column
at a time, so a column with no declaration (an encoded category, a test frame's column) still
gets a neutral answer and a plain sentence.
"""

from __future__ import annotations

import math

from frontdoor.features import declarations


def _declared(name: str) -> declarations.Feature | None:
    try:
        return declarations.get(name)
    except KeyError:
        return None


def monotone(name: str) -> int:
    """+1 if more of this never lowers the risk, -1 if it never raises it, 0 if not declared."""
    item = _declared(name)
    return int(item.monotone or 0) if item is not None else 0


def missing_means_never(name: str) -> bool:
    """True for "days since the last ..." features, whose missing value means "never"."""
    item = _declared(name)
    return item is not None and item.agg == "days_since_last"


def family(name: str) -> str:
    item = _declared(name)
    return str(item.family or "") if item is not None else ""


def _plain_value(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not recorded"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}"


def describe(name: str, value: float) -> str:
    """The feature's declared plain-English sentence for this value."""
    if "=" in name:  # an encoded category, e.g. "sex=F" (models.encoding)
        column, category = name.split("=", 1)
        verb = "is" if value == 1 else "is not"
        return f"{column.replace('_', ' ').capitalize()} {verb} {category}"
    if _declared(name) is not None:
        return str(declarations.describe(name, value))
    return f"{name.replace('_', ' ')}: {_plain_value(value)}"
