"""Small-number disclosure control: the one home of the rule, for every room that publishes.

Counts from 1 to ``up_to`` (``privacy.suppress_counts_up_to``, 5 by default; the DfE
convention) are shown as ``c``. A count that can be worked out by subtraction (a part of a
published total, or the complement of a published part) is hidden too:

* complement: a part is hidden when it, or the rest of its total (total - part), is small;
* secondary: when exactly one cell of an equation (a total and its parts) is hidden, the next
  smallest non-zero part is hidden as well, so the hidden one cannot be got back; `protect`
  applies this across a whole hierarchy of equations (a characteristic and its intersections)
  until nothing more can be worked out;
* rates: a rate gives its numerator back (rate x base), so it is hidden with the counts behind
  it; a rate whose base is hidden is published only at a precision that leaves the hidden counts
  ambiguous (`pinned_counts` checks it the way an attacker would, by enumeration).

Pure functions over plain numbers, so the review app and the pipelines can both use them.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

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


def protect(
    cells: dict,
    equations: list[tuple[object, list]],
    up_to: int,
    hidden: set | frozenset = frozenset(),
) -> set:
    """Every cell to hide so that no hidden count can be worked out from the shown ones.

    ``cells``: key -> count; ``equations``: (total key, part keys) with total = sum of parts
    (a group and its intersections, a group's size and its outcome split, ...). Primary: small
    cells. Complement: a part whose total minus it is small. Secondary: an equation with exactly
    one hidden cell gets its smallest non-zero shown part hidden too (or its total, when every
    other part is 0). Repeated until stable, as hiding one cell can expose another equation.
    """
    hidden = set(hidden) | {k for k, v in cells.items() if is_small(v, up_to)}
    while True:
        before = len(hidden)
        for total, parts in equations:
            if total not in hidden:
                hidden |= {p for p in parts if is_small(cells[total] - cells[p], up_to)}
            if sum(k in hidden for k in (total, *parts)) != 1:
                continue
            shown = sorted((int(cells[p]), str(p), p) for p in parts if p not in hidden)
            shown = [s for s in shown if s[0] > 0]
            hidden.add(shown[0][2] if shown else total)
        if len(hidden) == before:
            return hidden


# Published rates: 3 decimals when every count behind them is shown (the rate adds nothing),
# 2 decimals and no interval when a count behind them is hidden (and only if that leaves the
# hidden counts ambiguous, `pinned_counts`).
RATE_DECIMALS = 3
COARSE_DECIMALS = 2

# Rates of a confusion table, as functions of (n, positives, flagged, true positives).
CONFUSION_RATES = {
    "base_rate": lambda n, p, f, t: (p, n),
    "observed": lambda n, p, f, t: (p, n),
    "flag_rate": lambda n, p, f, t: (f, n),
    "tpr": lambda n, p, f, t: (t, p),
    "fnr": lambda n, p, f, t: (p - t, p),
    "fpr": lambda n, p, f, t: (f - t, n - p),
    "precision": lambda n, p, f, t: (t, f),
    "false_omission_rate": lambda n, p, f, t: (p - t, n - f),
}


def pinned_counts(
    truth: dict[str, int],
    shown: dict[str, int],
    rates: dict[str, float],
    decimals: int,
    window: int,
) -> set[str]:
    """Which hidden counts of a confusion table the shown numbers determine, as an attacker finds
    them: every (n, positives, flagged, tp) within ``window`` of the truth that agrees with the
    shown counts and with each rate rounded to ``decimals`` is a candidate; a hidden count with
    one candidate value is pinned (shown counts may include the derived ones: negatives,
    unflagged, fp, fn, tn). ``rates`` may hold ratios to a reference as
    ``"<metric>/<reference rate>"`` keys mapped to the published ratio."""
    names = ("n", "positives", "flagged", "tp")
    axes = [np.arange(truth[k] - window, truth[k] + window + 1) for k in names]
    n, p, f, t = (a.ravel() for a in np.meshgrid(*axes, indexing="ij"))
    ok = (n > 0) & (p >= 0) & (f >= 0) & (t >= 0) & (t <= p) & (t <= f) & (p <= n) & (f <= n)
    ok &= (f - t) <= (n - p)
    values = {
        "n": n,
        "positives": p,
        "negatives": n - p,
        "flagged": f,
        "unflagged": n - f,
        "tp": t,
        "fp": f - t,
        "fn": p - t,
        "tn": n - p - f + t,
    }
    for k, v in shown.items():
        if k in values:
            ok &= values[k] == v
    step = 0.5 * 10.0**-decimals + 1e-12
    for key, published in rates.items():
        metric, _, reference = key.partition("/")
        num, den = CONFUSION_RATES[metric](n, p, f, t)
        with np.errstate(all="ignore"):
            rate = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
            if reference:
                rate = rate / float(reference)
        ok &= np.abs(rate - published) <= step
    return {k for k in values if k not in shown and np.unique(values[k][ok]).size <= 1}


RESTRICTED = (
    "RESTRICTED CIRCULATION: for the governance board only. Shows every figure, small numbers "
    "included; do not publish, forward or attach to public papers."
)


def restricted_dir(settings) -> Path:
    """Where restricted-circulation files (the board's audit) are written and served from:
    ``paths.restricted``, outside the public reports folder."""
    return settings.resolve(settings.paths.restricted)


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
