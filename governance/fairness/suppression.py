"""What of an audit may be published: the disclosure plan, built with records.disclosure's rule.

The rule (counts from 1 to ``suppress_counts_up_to`` shown as ``c``, complements, secondary
suppression) is records.disclosure's; this module says what the audit's equations are, so that
no hidden count can be worked out from the rest:

* within a group: n = positives + negatives = flagged + unflagged; positives = tp + fn;
  negatives = fp + tn; flagged = tp + fp; unflagged = fn + tn (a rate shown beside its base
  shows its numerator, so every one of these counts is treated as published);
* within a characteristic: the overall count = the sum over its groups;
* across an intersection (``ethnicity_x_sex``): each ethnicity's count = the sum over its
  ethnicity x sex groups, and each sex's count likewise (Asian minus Asian x Male is
  Asian x Female, so one of them hidden hides another).

A metric is shown in full (3 decimals, with its interval) when every count behind it is shown;
hidden (``c``) when one of them is small; and otherwise (its counts hidden only by secondary
suppression) shown coarsely, 2 decimals without an interval, if an attacker enumerating the
group's counts cannot pin any hidden one from what is shown (`records.disclosure.pinned_counts`).
Groups smaller than the audit's minimum size show "too few to assess" instead of any metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from frontdoor.governance.fairness.audit import AuditResult, GroupResult
from frontdoor.governance.fairness.characteristics import INTERSECTION
from frontdoor.records.disclosure import (
    COARSE_DECIMALS,
    CONFUSION_RATES,
    SUPPRESSED,
    is_small,
    pinned_counts,
    protect,
)

__all__ = ["SUPPRESSED", "TOO_FEW", "FULL", "COARSE", "HIDDEN", "Plan", "disclosure_plan"]

TOO_FEW = "too few to assess"
FULL, COARSE, HIDDEN = "full", "coarse", "hidden"
KINDS = ("n", "positives", "negatives", "flagged", "unflagged", "tp", "fp", "fn", "tn")
GROUP_EQUATIONS = (
    ("n", ("positives", "negatives")),
    ("n", ("flagged", "unflagged")),
    ("positives", ("tp", "fn")),
    ("negatives", ("fp", "tn")),
    ("flagged", ("tp", "fp")),
    ("unflagged", ("fn", "tn")),
)
# The counts each metric gives away (numerator, base and the rest of the base).
METRIC_COUNTS: dict[str, tuple[str, ...]] = {
    "base_rate": ("positives", "negatives", "n"),
    "observed": ("positives", "negatives", "n"),
    "calibration_gap": ("positives", "negatives", "n"),
    "auc": ("positives", "negatives"),
    "flag_rate": ("flagged", "unflagged", "n"),
    "tpr": ("tp", "fn", "positives"),
    "fnr": ("tp", "fn", "positives"),
    "fpr": ("fp", "tn", "negatives"),
    "precision": ("tp", "fp", "flagged"),
    "false_omission_rate": ("fn", "tn", "unflagged"),
    "predicted": ("n",),
}
PUBLISHED_COUNTS = ("n", "positives", "flagged")


def all_counts(counts: dict[str, int]) -> dict[str, int]:
    n, p, f, t = (int(counts[k]) for k in ("n", "positives", "flagged", "tp"))
    return {
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


Key = tuple[str, str]  # (characteristic, group); ("overall", "overall") for all rows


@dataclass
class Plan:
    """What is hidden: counts by (characteristic, group, kind); a view per (group, metric)."""

    up_to: int
    hidden: set[tuple[str, str, str]] = field(default_factory=set)
    views: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def count(self, key: Key, kind: str, value: int) -> int | str:
        return SUPPRESSED if (*key, kind) in self.hidden else int(value)

    def view(self, key: Key, metric: str) -> str:
        return self.views.get((*key, metric), FULL)


def _groups(audit: AuditResult) -> dict[Key, GroupResult]:
    return {("overall", "overall"): audit.overall} | {
        (g.characteristic, g.group): g for g in audit.groups
    }


def _equations(audit: AuditResult, groups: dict[Key, GroupResult]) -> list:
    eqs = []
    for key in groups:
        eqs += [((*key, t), [(*key, p) for p in parts]) for t, parts in GROUP_EQUATIONS]
    for c in audit.characteristics:
        members = [(c, g.group) for g in audit.for_characteristic(c)]
        eqs += [(("overall", "overall", k), [(*m, k) for m in members]) for k in KINDS]
        a, _, b = c.partition("_x_")
        if not b or a not in audit.characteristics or b not in audit.characteristics:
            continue
        for side, name in ((0, a), (1, b)):
            for g in audit.for_characteristic(name):
                parts = [m for m in members if m[1].split(INTERSECTION)[side] == g.group]
                eqs += [((name, g.group, k), [(*m, k) for m in parts]) for k in KINDS]
    return eqs


def _coarse_rates(plan: Plan, key: Key, g: GroupResult, ref: GroupResult | None) -> dict:
    out = {}
    for m, e in g.metrics.items():
        if plan.views.get((*key, m)) == COARSE and m in CONFUSION_RATES:
            out[m] = round(e.value, COARSE_DECIMALS)
            d = g.disparities.get(m)
            if ref is not None and d is not None and ref.metrics[m].value > 0:
                out[f"{m}/{ref.metrics[m].value!r}"] = round(d.value, COARSE_DECIMALS)
    return out


def disclosure_plan(audit: AuditResult, up_to: int) -> Plan:
    """The disclosure plan for one audit (see the module docstring)."""
    groups = _groups(audit)
    cells = {(*key, k): v for key, g in groups.items() for k, v in all_counts(g.counts).items()}
    plan = Plan(up_to, protect(cells, _equations(audit, groups), up_to))
    for key, g in groups.items():
        for m in METRIC_COUNTS:
            behind = [(*key, k) for k in METRIC_COUNTS[m]]
            if not any(b in plan.hidden for b in behind):
                continue
            small = any(is_small(cells[b], up_to) for b in behind)
            plan.views[(*key, m)] = HIDDEN if small or not g.assessable else COARSE
        if not any(v == COARSE for (*k, _), v in plan.views.items() if tuple(k) == key):
            continue
        ref = None
        if key[0] != "overall":
            ref = groups[(key[0], audit.references[key[0]])]
        truth = all_counts(g.counts)
        shown = {k: v for k, v in truth.items() if (*key, k) not in plan.hidden}
        rates = _coarse_rates(plan, key, g, ref)
        if pinned_counts(truth, shown, rates, COARSE_DECIMALS, window=2 * up_to + 1):
            for (*k, m), v in list(plan.views.items()):
                if tuple(k) == key and v == COARSE:
                    plan.views[(*key, m)] = HIDDEN
    return plan
