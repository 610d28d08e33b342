"""What the models room reads from the feature declarations: direction, family and wording.

The features room owns the declarations; this is the one place the models room looks them up,
so a column with no declaration (for example a test frame) still gets a plain sentence.
"""

from __future__ import annotations

import math


def _declarations():
    try:
        from frontdoor.features import declarations
    except ImportError:  # the features room has not landed in this checkout
        return None
    return declarations


def _declared(name: str):
    decl = _declarations()
    if decl is None:
        return None
    try:
        return decl.get(name)
    except (KeyError, LookupError, AttributeError):
        return None


def monotone(name: str) -> int:
    """+1 if more of this never lowers the risk, -1 if it never raises it, 0 if not declared."""
    item = _declared(name)
    return int(getattr(item, "monotone", 0) or 0) if item is not None else 0


def missing_means_never(name: str) -> bool:
    """True for "days since the last ..." features, whose missing value means "never"."""
    item = _declared(name)
    return item is not None and getattr(item, "agg", "") == "days_since_last"


def family(name: str) -> str:
    item = _declared(name)
    return str(getattr(item, "family", "") or "") if item is not None else ""


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
    decl = _declarations()
    if decl is not None and _declared(name) is not None:
        return str(decl.describe(name, value))
    return f"{name.replace('_', ' ')}: {_plain_value(value)}"
