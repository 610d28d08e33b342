"""The fairness gate as the governance report shows it (issue 14, item 4).

Page one summarises the gate: the failed checks named, the inconclusive ones counted by kind
(the full list is in the detail). Every disparity in the report carries one interval, the one
the gate judged it with, in the tables and in the plots, and the kind of interval is explained
once, in the report's note on intervals.
"""

from __future__ import annotations

import copy
from collections import Counter

from frontdoor.governance.fairness.metrics import METRICS
from frontdoor.governance.fairness.render import figures
from frontdoor.governance.gate import GateResult

CHECK_KINDS = {
    "fnr": "missed-case ratio (FNR)",
    "fpr": "false-alarm ratio (FPR)",
    "flag_rate": "flag-rate ratio (share flagged)",
    "calibration_gap": "calibration gap",
}


def check_kind(metric: str, kind: str) -> str:
    """A check's kind in words (a metric the report does not name: its declared title)."""
    if metric in CHECK_KINDS:
        return CHECK_KINDS[metric]
    title = METRICS.get(metric, {}).get("title", metric.replace("_", " "))
    return f"{title.lower()} {kind}"


def gate_overview(gate: GateResult) -> dict:
    """Page one's gate: how many checks, the failed ones named, the inconclusive ones counted
    by kind (most frequent first), and the disparities in reported-only characteristics."""
    failed = [
        f"{check_kind(c.metric, c.kind)} "
        f"{'n/a' if c.value is None else f'{c.value:.2f}'} for "
        f"{c.characteristic.replace('_', ' ')} group {c.group} against {c.reference}: failed"
        for c in gate.failures
    ]
    counts = Counter(check_kind(c.metric, c.kind) for c in gate.inconclusive)
    return {
        "checks": len(gate.gated_checks),
        "failed": failed,
        "inconclusive": len(gate.inconclusive),
        "inconclusive_by_kind": sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
        "reported": len(gate.reported),
    }


def gate_intervals(
    gate: GateResult, population: str = "labelled"
) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(characteristic, group, metric) -> the interval the gate judged that disparity with, on
    ``population``'s rows. The report's plots draw the labelled test rows' audit, so they take
    the labelled checks only: a flag-rate check judged on every scored referral has its own
    point estimate, and its interval around the labelled rows' point need not even contain it
    (a report could not be built: matplotlib refuses a negative error bar)."""
    return {
        (c.characteristic, str(c.group), c.metric): (c.gate_lo, c.gate_hi)
        for c in gate.checks
        if c.gate_lo is not None and c.gate_hi is not None and c.population == population
    }


def with_gate_intervals(record: dict) -> dict:
    """The published audit with each disparity's interval replaced by the gate's (suppressed
    figures stay suppressed): one interval per disparity, in every table of the report. The
    selection family's checks judged on the scored referrals fill the selection table."""
    out = copy.deepcopy(record)
    checks = (out.get("gate") or {}).get("checks", [])
    judged = {
        (c.get("population", "labelled"), c["characteristic"], str(c["group"]), c["metric"]): c
        for c in checks
    }
    _replace(out.get("characteristics", {}), judged, "labelled")
    _replace((out.get("selection") or {}).get("characteristics", {}), judged, "scored")
    for check in checks:
        check["lo"], check["hi"] = check["gate_lo"], check["gate_hi"]
    return out


def _replace(characteristics: dict, judged: dict, population: str) -> None:
    for name, block in characteristics.items():
        for group, g in block.get("groups", {}).items():
            if not isinstance(g.get("disparities"), dict):
                continue
            if g.get("reference"):  # a group's ratio to itself is 1, with no uncertainty
                for cell in g["disparities"].values():
                    if isinstance(cell, dict) and not isinstance(cell.get("lo"), str):
                        cell["lo"] = cell["hi"] = None
                continue
            for metric, cell in g["disparities"].items():
                check = judged.get((population, name, str(group), metric))
                if check is None or not isinstance(cell, dict) or isinstance(cell["lo"], str):
                    continue
                cell["lo"], cell["hi"] = check["gate_lo"], check["gate_hi"]


def interval_note(gate: GateResult) -> str:
    """The one explanation of the fairness intervals (the report's note on intervals)."""
    level = (
        f"at level {100 * (1 - gate.alpha):.2f}% each (Bonferroni: the gate's family error rate "
        "shared among the checks it judges, so that a fair model rarely fails by chance)"
        if gate.alpha
        else "at 95%"
    )
    return (
        "A disparity between groups (a ratio or a difference to the reference group), in the "
        f"tables and the plots, carries the interval the fairness gate judges it with, {level}: "
        "exact (Clopper-Pearson) intervals of the two groups' rates combined (MOVER), with counts "
        "deflated for children referred more than once. A rate of one group carries a 95% "
        "interval (Jeffreys), also with deflated counts."
    )


def gate_sections(audit, gate: GateResult, record: dict, up_to: int) -> dict:
    """What the report's templates read about the gate (report_gate.html.j2)."""
    intervals = gate_intervals(gate)
    return {
        "gate_overview": gate_overview(gate),
        "gate_interval_note": interval_note(gate),
        "record": with_gate_intervals(record),
        "figures": figures(audit, up_to, intervals=intervals, interval_name="the gate's interval"),
    }
