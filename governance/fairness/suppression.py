"""Small-number suppression: what may leave the pipeline, and what shows as ``c``.

The rule (counts from 1 to ``suppress_counts_up_to`` shown as ``c``) is records.disclosure's.
A rate would give the count back (rate x base), so a rate is suppressed when its numerator *or*
the rest of its base (base - numerator) is such a small count, and its interval and disparity
with it. Groups smaller than the audit's minimum size show "too few to assess" instead of any
metric. When a characteristic has exactly one group whose size is suppressed, the next smallest
group's size is suppressed too, so the hidden size cannot be worked out from the total.
"""

from __future__ import annotations

from frontdoor.records.disclosure import SUPPRESSED, is_small

TOO_FEW = "too few to assess"

# metric -> (numerator count, base count); None: no count behind it (never suppressed on its own).
RATE_BASES: dict[str, tuple[str, str] | None] = {
    "base_rate": ("positives", "n"),
    "observed": ("positives", "n"),
    "calibration_gap": ("positives", "n"),
    "auc": ("positives", "n"),
    "flag_rate": ("flagged", "n"),
    "tpr": ("tp", "positives"),
    "fnr": ("fn", "positives"),
    "fpr": ("fp", "negatives"),
    "precision": ("tp", "flagged"),
    "false_omission_rate": ("fn", "unflagged"),
    "predicted": None,
}
PUBLISHED_COUNTS = ("n", "positives", "flagged")
COUNT_BASES = {"n": None, "positives": "n", "flagged": "n"}


def _with_bases(counts: dict[str, int]) -> dict[str, int]:
    return {
        **counts,
        "negatives": counts["n"] - counts["positives"],
        "unflagged": counts["n"] - counts["flagged"],
    }


def metric_suppressed(metric: str, counts: dict[str, int], up_to: int) -> bool:
    """Whether a metric (or its interval or disparity) must show ``c`` for this group."""
    bases = RATE_BASES.get(metric)
    if bases is None:
        return False
    c = _with_bases(counts)
    numerator, base = c[bases[0]], c[bases[1]]
    return is_small(numerator, up_to) or is_small(base - numerator, up_to)


def count_suppressed(name: str, counts: dict[str, int], up_to: int) -> bool:
    base = COUNT_BASES[name]
    if is_small(counts[name], up_to):
        return True
    return base is not None and is_small(counts[base] - counts[name], up_to)


def published_count(name: str, counts: dict[str, int], up_to: int) -> int | str:
    return SUPPRESSED if count_suppressed(name, counts, up_to) else int(counts[name])


def secondary_size_suppression(sizes: dict[str, int], up_to: int) -> set[str]:
    """Groups whose size is hidden: the small ones, plus one more if only one is small."""
    hidden = {g for g, n in sizes.items() if is_small(n, up_to)}
    if len(hidden) == 1:
        others = sorted((n, g) for g, n in sizes.items() if g not in hidden and n > 0)
        if others:
            hidden.add(others[0][1])
    return hidden
