"""Small-number disclosure control for tables of counts, shared by every room that publishes.

Counts from 1 to ``up_to`` are shown as ``c``. A count that can be worked out by subtraction
(a part of a published total, or the complement of a published part) is hidden too:

* complement: a part is hidden when it, or the rest of its total (total - part), is small;
* secondary: when exactly one part of a shown total is hidden, the next smallest non-zero part
  is hidden as well, so the hidden one cannot be got back from the total.

Pure functions over plain ints, so the review app and the pipelines can both use them.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SUPPRESSED = "c"


def is_small(count: int, up_to: int) -> bool:
    return 1 <= int(count) <= up_to


def shown_count(count: int, up_to: int) -> int | str:
    return SUPPRESSED if is_small(count, up_to) else int(count)


def hidden_parts(
    total: int,
    parts: dict[str, int],
    up_to: int,
    already: set[str] | frozenset[str] = frozenset(),
) -> set[str]:
    """Names of the parts of ``total`` that must be hidden (primary, complement, secondary).

    Parts need not cover the total: the rest (total - sum of parts) counts as one more unnamed
    part, so e.g. one action among several totals is protected too. ``already``: parts hidden
    for another reason, counted when deciding whether one hidden cell stands alone.
    """
    if is_small(total, up_to):
        return {k for k, v in parts.items() if int(v) != 0}
    hidden = {k for k, v in parts.items() if is_small(v, up_to) or is_small(total - v, up_to)}
    hidden |= set(already) & set(parts)
    rest = int(total) - sum(int(v) for v in parts.values())
    rest_hidden = is_small(rest, up_to)
    # with the total shown, a single hidden cell (a named part or the unnamed rest) could be
    # worked out by subtraction: hide the next smallest non-zero part too
    while len(hidden) + int(rest_hidden) == 1:
        others = sorted((int(v), k) for k, v in parts.items() if k not in hidden and int(v) > 0)
        if not others:
            break
        hidden.add(others[0][1])
    return hidden


def shown_parts(total: int, parts: dict[str, int], up_to: int) -> dict[str, int | str]:
    """The parts as published: ``c`` where hidden, the count otherwise."""
    hidden = hidden_parts(total, parts, up_to)
    return {k: SUPPRESSED if k in hidden else int(v) for k, v in parts.items()}


def redact_url(value: str) -> str:
    """A URL with any password (and user) in it replaced by ``***``; other text unchanged."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if not parts.scheme or not parts.netloc or "@" not in parts.netloc:
        return value
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))
