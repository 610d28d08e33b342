"""The promotion gate: whether an audited model's error rates are fair enough to promote.

The rule, configured in ``frontdoor.settings.fairness`` and explained in docs/fairness.md:
a disparity *fails* when its point estimate lies outside the band *and* its interval excludes
parity (1 for a ratio, 0 for a calibration difference). Outside the band with an interval that
still includes parity is *inconclusive*: reported, but not a failure, because the data cannot
tell it from noise. Groups too small to assess are listed, never judged.

The interval: by default (``multiplicity="bonferroni"``) each check is judged at level
1 - alpha, because dozens of groups are judged at once and a plain 95% interval per check fails
a fair model by chance alone. The alphas are a weighted Bonferroni (`family_alphas`): the
selection ratios of the primary characteristics (a small pre-declared family, the only checks
that see a disparity hidden in the labels) share ``selection_share`` of the family error rate,
every other check the rest. When the audit carries a selection audit (``audit.selection``:
every referral the run's models scored, labelled or not; fairness/selection.py), the selection
family is judged on it, every other check on the labelled rows. At such far tails only intervals that
hold at small counts will do (fairness/intervals.py): for a ratio of rates the MOVER
combination of the two groups' Clopper-Pearson intervals, for the calibration difference the
MOVER combination of the two observed rates' Clopper-Pearson intervals (mean predictions taken
as known). Counts are first deflated to each group's effective size (a child's referrals share
one outcome), so repeat referrals cannot make a disparity conclusive. Katz's log interval,
used before, failed 15% of fair score sets (benchmarks/gate_calibration.py, docs/fairness.md).
With ``multiplicity="none"``, the published 95% interval is used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from frontdoor.governance.fairness.audit import AuditResult, GroupResult
from frontdoor.governance.fairness.intervals import (
    calibration_difference_interval,
    effective,
    ratio_interval,
)
from frontdoor.governance.fairness.metrics import rate_counts
from frontdoor.settings.fairness import FairnessSettings

PASS, FAIL, INCONCLUSIVE, NOT_ASSESSED = "pass", "fail", "inconclusive", "not assessed"


@dataclass
class GateCheck:
    characteristic: str
    group: str
    reference: str
    metric: str
    kind: str  # "ratio" or "difference"
    value: float | None
    lo: float | None
    hi: float | None
    verdict: str
    reason: str
    gate_lo: float | None = None  # the interval the gate judged with (see the module docstring)
    gate_hi: float | None = None
    gated: bool = True  # False: a reported characteristic, judged the same way but not blocking
    family: str = "error-rate"  # the Bonferroni family it was judged in: "selection" or this
    alpha: float | None = None  # the error rate it was judged at (its family's share)
    population: str = "labelled"  # the rows judged: "labelled" test rows or "scored" referrals


@dataclass
class GateResult:
    passed: bool
    rule: str
    checks: list[GateCheck] = field(default_factory=list)
    alpha: float | None = None  # each check's error rate outside the selection family
    alpha_selection: float | None = None  # each selection-family check's error rate

    @property
    def gated_checks(self) -> list[GateCheck]:
        return [c for c in self.checks if c.gated]

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if c.gated and c.verdict == FAIL]

    @property
    def inconclusive(self) -> list[GateCheck]:
        return [c for c in self.checks if c.gated and c.verdict == INCONCLUSIVE]

    @property
    def reported(self) -> list[GateCheck]:
        """Disparities outside the band in characteristics reported but not gated."""
        return [c for c in self.checks if not c.gated and c.verdict == FAIL]

    def summary(self) -> str:
        n = len(self.gated_checks)
        extra = f"; {len(self.inconclusive)} inconclusive" if self.inconclusive else ""
        if self.reported:
            chars = sorted({c.characteristic for c in self.reported})
            extra += f"; {len(self.reported)} disparities in reported characteristics ({', '.join(chars)})"
        if self.passed:
            return f"PASS: {n} checks, none failed{extra}"
        names = "; ".join(f"{c.characteristic}={c.group} {c.metric}" for c in self.failures)
        return f"FAIL: {len(self.failures)} of {n} checks failed: {names}{extra}"

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "verdict": PASS if self.passed else FAIL,
            "rule": self.rule,
            "alpha_per_check": self.alpha,
            "alpha_per_selection_check": self.alpha_selection,
            "summary": self.summary(),
            "checks": [asdict(c) for c in self.checks],
        }


def rule_text(s: FairnessSettings) -> str:
    interval = (
        "its interval (exact Clopper-Pearson intervals of the two rates combined by MOVER, on "
        "counts deflated for repeat referrals, Bonferroni-adjusted for the number of checks so "
        f"that a model with no disparity fails with probability at most {s.family_error_rate}: "
        f"the flag-rate ratios of {', '.join(s.selection_characteristics)} share "
        f"{s.selection_share:g} of it, every other check the rest)"
        if s.multiplicity == "bonferroni"
        else "its 95% interval"
    )
    text = (
        f"For every group with at least {s.min_group_size} rows, each of "
        f"{', '.join(s.gated_metrics)} is divided by the reference group's. A ratio fails when it "
        f"lies outside [{s.ratio_lower}, {s.ratio_upper}] and {interval} excludes 1; outside "
        "the band with an interval including 1 is inconclusive (reported, not failed)."
    )
    if s.check_calibration:
        text += (
            " The difference between a group's calibration gap (observed minus predicted) and the "
            f"reference's fails when larger than {s.max_calibration_gap} in size and its interval "
            "excludes 0."
        )
    return text + (
        f" Characteristics gated: {', '.join(s.gated_characteristics)}; the others are judged "
        "the same way and reported, but do not block promotion."
    )


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def failing(value, lo, hi, lower: float, upper: float, parity: float) -> np.ndarray:
    """Whether checks fail, elementwise: the value outside [lower, upper] and the interval
    excluding parity (the rule; arrays, so the benchmark judges exactly as the gate)."""
    value, lo, hi = (np.asarray(a, dtype=float) for a in (value, lo, hi))
    with np.errstate(invalid="ignore"):
        outside = np.isfinite(value) & ((value < lower) | (value > upper))
        excludes = np.isfinite(lo) & np.isfinite(hi) & ((lo > parity) | (hi < parity))
    return outside & excludes


def judge(
    value: float, lo: float, hi: float, lower: float, upper: float, parity: float
) -> tuple[str, str]:
    """One disparity's verdict under the gate rule, with the reason in words."""
    if not np.isfinite(value):
        return NOT_ASSESSED, "undefined (the reference or the group has no cases for this rate)"
    outside = value < lower or value > upper
    if not outside:
        return PASS, f"{value:.3f} within [{lower:.3g}, {upper:.3g}]"
    if failing(value, lo, hi, lower, upper, parity):
        return (
            FAIL,
            f"{value:.3f} outside [{lower:.3g}, {upper:.3g}], interval [{lo:.3f}, {hi:.3f}] excludes {parity:g}",
        )
    return (
        INCONCLUSIVE,
        f"{value:.3f} outside [{lower:.3g}, {upper:.3g}], but interval [{lo:.3f}, {hi:.3f}] includes {parity:g}",
    )


def check_counts(metric: str, group: GroupResult) -> tuple[float, float] | None:
    """A rate's numerator and base deflated to the group's effective size (see intervals)."""
    counts = rate_counts(metric, group.counts)
    if counts is None:
        return None
    x, n = effective(counts[0], counts[1], group.counts["n"], group.effective_n)
    return float(x), float(n)


def gate_interval(
    metric: str, kind: str, group: GroupResult, reference: GroupResult, alpha: float
) -> tuple[float, float]:
    """The interval the gate judges a check with at level 1 - alpha (NaN when it has none)."""
    if kind == "ratio":
        a, b = check_counts(metric, group), check_counts(metric, reference)
        if a is None or b is None:
            return float("nan"), float("nan")
        lo, hi = ratio_interval(a[0], a[1], b[0], b[1], alpha, exact=True)
        return float(lo), float(hi)
    a, b = check_counts("observed", group), check_counts("observed", reference)
    pg, pr = group.metrics.get("predicted"), reference.metrics.get("predicted")
    if pg is None or pr is None:
        return float("nan"), float("nan")
    lo, hi = calibration_difference_interval(
        a[0], a[1], pg.value, b[0], b[1], pr.value, alpha, exact=True
    )
    return float(lo), float(hi)


def selection_check(characteristic: str, metric: str, s: FairnessSettings) -> bool:
    """Whether a check is in the pre-declared selection family (see FairnessSettings)."""
    return metric == "flag_rate" and characteristic in s.selection_characteristics


def family_alphas(judged: list[tuple[str, str]], s: FairnessSettings) -> dict[bool, float | None]:
    """Each check's error rate, by family (True: the selection family), from the judged
    (characteristic, metric) checks: weighted Bonferroni. The selection family shares
    ``selection_share`` of the family error rate, the other checks the rest (all of it when a
    family is empty), so the chance that a fair model fails any check is at most
    ``family_error_rate``. Step-down procedures (Holm) would not change whether the gate fails
    at all (that needs one rejection, the same smallest threshold), only the weights do."""
    if s.multiplicity != "bonferroni" or not judged:
        return {True: None, False: None}
    k_sel = sum(selection_check(c, m, s) for c, m in judged)
    k_rest = len(judged) - k_sel
    share = s.selection_share if k_sel and k_rest else float(bool(k_sel))
    rate = s.family_error_rate
    return {
        True: rate * share / k_sel if k_sel else None,
        False: rate * (1 - share) / k_rest if k_rest else None,
    }


def _planned(audit: AuditResult, s: FairnessSettings) -> list:
    """(characteristic, group, metric, kind, source audit) of every check. Selection-family
    checks come from ``audit.selection`` (every scored referral) when the audit has one."""
    calibrate = s.check_calibration and audit.score_is_probability
    selection = audit.selection
    elsewhere = set(selection.characteristics) if selection is not None else set()
    planned = []
    for characteristic in audit.characteristics:
        for g in audit.for_characteristic(characteristic):
            if g.is_reference:
                continue
            wanted = [(m, "ratio") for m in s.gated_metrics]
            if calibrate:
                wanted.append(("calibration_gap", "difference"))
            planned.extend(
                (characteristic, g, m, kind, audit)
                for m, kind in wanted
                if not (characteristic in elsewhere and selection_check(characteristic, m, s))
            )
    if selection is not None and "flag_rate" in s.gated_metrics:
        for characteristic in selection.characteristics:
            planned.extend(
                (characteristic, g, "flag_rate", "ratio", selection)
                for g in selection.for_characteristic(characteristic)
                if not g.is_reference
            )
    return planned


def evaluate_gate(audit: AuditResult, settings: FairnessSettings | None = None) -> GateResult:
    """Apply the gate rule to an audit (settings default to the ones the audit ran with)."""
    s = settings or audit.settings
    planned = _planned(audit, s)
    alphas = family_alphas(
        [
            (c, m)
            for c, g, m, _, _ in planned
            if g.assessable and m in g.disparities and c in s.gated_characteristics
        ],
        s,
    )
    checks: list[GateCheck] = []
    for characteristic, g, metric, kind, source in planned:
        family = selection_check(characteristic, metric, s)
        alpha = alphas[family] if alphas[family] is not None else alphas[not family]
        e = g.disparities.get(metric)
        if not g.assessable or e is None:
            verdict, reason = (
                NOT_ASSESSED,
                f"too few to assess (fewer than {s.min_group_size} rows)",
            )
            value = lo = hi = glo = ghi = float("nan")
        else:
            value, lo, hi = e.value, e.lo, e.hi
            reference = next(r for r in source.for_characteristic(characteristic) if r.is_reference)
            glo, ghi = (
                (e.lo, e.hi) if alpha is None else gate_interval(metric, kind, g, reference, alpha)
            )
            if kind == "ratio":
                verdict, reason = judge(value, glo, ghi, s.ratio_lower, s.ratio_upper, 1.0)
            else:
                band = s.max_calibration_gap
                verdict, reason = judge(value, glo, ghi, -band, band, 0.0)
        checks.append(
            GateCheck(
                characteristic,
                g.group,
                source.references[characteristic],
                metric,
                kind,
                _finite(value),
                _finite(lo),
                _finite(hi),
                verdict,
                reason,
                _finite(glo),
                _finite(ghi),
                characteristic in s.gated_characteristics,
                "selection" if family else "error-rate",
                alpha,
                "scored" if source is not audit else "labelled",
            )
        )
    passed = not any(c.gated and c.verdict == FAIL for c in checks)
    return GateResult(
        passed=passed,
        rule=rule_text(s),
        checks=checks,
        alpha=alphas[False],
        alpha_selection=alphas[True],
    )
