"""The promotion gate: whether an audited model's error rates are fair enough to promote.

The rule, configured in ``frontdoor.settings.fairness`` and explained in docs/fairness.md:
a disparity *fails* when its point estimate lies outside the band *and* its interval excludes
parity (1 for a ratio, 0 for a calibration difference). Outside the band with an interval that
still includes parity is *inconclusive*: reported, but not a failure, because the data cannot
tell it from noise. Groups too small to assess are listed, never judged.

The interval: by default (``multiplicity="bonferroni"``) Katz's log interval for a ratio of two
proportions (standard error sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2) from the counts, 0.5 added to an
empty numerator), at level 1 - family_error_rate / checks, because dozens of groups are judged
at once and a plain 95% interval per check fails a fair model by chance alone (measured: about
one check in eighteen, so every one of ten fair score sets failed; docs/fairness.md). Katz rather than the bootstrap's spread because the gate needs far tails, which
200 resamples cannot give, and a bootstrap of a rate with a handful of events is unreliable.
Katz counts every referral as an independent outcome, but a child's referrals share theirs:
when the audit's bootstrap (which resamples whole children, ``cluster_column``) spreads wider,
its standard error of the log ratio is used instead, so repeat referrals cannot narrow the
interval. For the calibration difference the standard error under calibration is used (from the groups'
mean predictions and sizes, ``calibration_null_se``), not the bootstrap's, which shrinks as the
observed rate moves away from 0.5 and so fails calibrated groups by chance.
With ``multiplicity="none"``, the published bootstrap 95% percentile interval is used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import NormalDist

import numpy as np

from frontdoor.governance.fairness.audit import AuditResult, GroupResult
from frontdoor.governance.fairness.suppression import RATE_BASES
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


@dataclass
class GateResult:
    passed: bool
    rule: str
    checks: list[GateCheck] = field(default_factory=list)

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
            "summary": self.summary(),
            "checks": [asdict(c) for c in self.checks],
        }


def rule_text(s: FairnessSettings) -> str:
    interval = (
        "its interval (Katz's log interval from the counts, Bonferroni-adjusted for the number "
        f"of checks so that a model with no disparity fails with probability at most "
        f"{s.family_error_rate})"
        if s.multiplicity == "bonferroni"
        else "its bootstrap 95% interval"
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


def judge(
    value: float, lo: float, hi: float, lower: float, upper: float, parity: float
) -> tuple[str, str]:
    """One disparity's verdict under the gate rule, with the reason in words."""
    if not np.isfinite(value):
        return NOT_ASSESSED, "undefined (the reference or the group has no cases for this rate)"
    outside = value < lower or value > upper
    excludes = np.isfinite(lo) and np.isfinite(hi) and (lo > parity or hi < parity)
    if not outside:
        return PASS, f"{value:.3f} within [{lower:.3g}, {upper:.3g}]"
    if excludes:
        return (
            FAIL,
            f"{value:.3f} outside [{lower:.3g}, {upper:.3g}], interval [{lo:.3f}, {hi:.3f}] excludes {parity:g}",
        )
    return (
        INCONCLUSIVE,
        f"{value:.3f} outside [{lower:.3g}, {upper:.3g}], but interval [{lo:.3f}, {hi:.3f}] includes {parity:g}",
    )


def _numerator_and_base(metric: str, counts: dict[str, int]) -> tuple[float, float] | None:
    bases = RATE_BASES.get(metric)
    if bases is None or metric in ("auc", "calibration_gap"):
        return None
    c = {
        **counts,
        "negatives": counts["n"] - counts["positives"],
        "unflagged": counts["n"] - counts["flagged"],
    }
    return float(c[bases[0]]), float(c[bases[1]])


def katz_log_se(metric: str, group: GroupResult, reference: GroupResult) -> float:
    """Standard error of log(rate ratio) from the counts (Katz), NaN when it has no count base."""
    a, b = (
        _numerator_and_base(metric, group.counts) or (np.nan, np.nan),
        _numerator_and_base(metric, reference.counts) or (np.nan, np.nan),
    )
    if not all(np.isfinite([*a, *b])) or a[1] <= 0 or b[1] <= 0:
        return float("nan")
    (x1, n1), (x2, n2) = _corrected(a, b)
    return float(np.sqrt(max(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2, 0.0)))


def _corrected(a: tuple[float, float], b: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """Half a count added to each cell when any is empty (a rate of 0 or 1 has no log SE)."""
    (x1, n1), (x2, n2) = a, b
    if min(x1, n1 - x1, x2, n2 - x2) == 0:
        return (x1 + 0.5, n1 + 1.0), (x2 + 0.5, n2 + 1.0)
    return (x1, n1), (x2, n2)


def katz_center(metric: str, group: GroupResult, reference: GroupResult) -> float:
    """The ratio the Katz interval is centred on (corrected like its standard error)."""
    a, b = _numerator_and_base(metric, group.counts), _numerator_and_base(metric, reference.counts)
    if a is None or b is None or a[1] <= 0 or b[1] <= 0:
        return float("nan")
    (x1, n1), (x2, n2) = _corrected(a, b)
    return (x1 / n1) / (x2 / n2) if x2 > 0 else float("nan")


def calibration_null_se(group: GroupResult, reference: GroupResult) -> float:
    """Standard error of (observed - predicted) difference between two groups if both are calibrated.

    Under calibration a group's observed rate has variance mean(p(1-p))/n, bounded above by
    p̄(1-p̄)/n from its mean prediction. The bootstrap's spread uses the observed outcomes
    instead, which shrinks exactly when a group's observed rate falls away from 0.5, so it
    failed calibrated groups by chance (measured: a group of 93 with mean prediction 0.351 and
    a true mean probability of 0.346 failed on 18 observed outcomes). n is the group's
    effective size (``GroupResult.effective_n``): children referred several times count once
    per child, not once per referral.
    """
    parts = []
    for g in (group, reference):
        p, n = g.metrics.get("predicted"), g.counts.get("n", 0)
        if np.isfinite(g.effective_n) and g.effective_n > 0:
            n = min(n, g.effective_n)  # a child's referrals share one outcome
        if p is None or not np.isfinite(p.value) or n <= 0:
            return float("nan")
        parts.append(p.value * (1 - p.value) / n)
    return float(np.sqrt(sum(parts)))


def _gate_interval(
    e, kind: str, z: float | None, metric: str, group: GroupResult, reference: GroupResult
) -> tuple[float, float]:
    """The interval the gate judges with: the published one, or the adjusted one."""
    if z is None:
        return e.lo, e.hi
    if kind == "ratio":
        se, center = katz_log_se(metric, group, reference), katz_center(metric, group, reference)
        if not np.isfinite(se):
            se, center = e.se, e.value
        elif np.isfinite(e.se):
            se = max(se, e.se)  # Katz counts referrals as independent; a child's are not
        if not (np.isfinite(se) and np.isfinite(center) and center > 0):
            return e.lo, e.hi
        return float(np.exp(np.log(center) - z * se)), float(np.exp(np.log(center) + z * se))
    se = calibration_null_se(group, reference)
    if not np.isfinite(se):
        se = e.se
    if not np.isfinite(se):
        return e.lo, e.hi
    return e.value - z * se, e.value + z * se


def evaluate_gate(audit: AuditResult, settings: FairnessSettings | None = None) -> GateResult:
    """Apply the gate rule to an audit (settings default to the ones the audit ran with)."""
    s = settings or audit.settings
    calibrate = s.check_calibration and audit.score_is_probability
    planned = []
    for characteristic in audit.characteristics:
        for g in audit.for_characteristic(characteristic):
            if g.is_reference:
                continue
            wanted = [(m, "ratio") for m in s.gated_metrics]
            if calibrate:
                wanted.append(("calibration_gap", "difference"))
            planned.extend((characteristic, g, m, kind) for m, kind in wanted)
    judged = sum(
        1
        for c, g, m, _ in planned
        if g.assessable and m in g.disparities and c in s.gated_characteristics
    )
    z = None
    if s.multiplicity == "bonferroni" and judged:
        z = NormalDist().inv_cdf(1 - s.family_error_rate / (2 * judged))
    checks: list[GateCheck] = []
    for characteristic, g, metric, kind in planned:
        e = g.disparities.get(metric)
        if not g.assessable or e is None:
            verdict, reason = (
                NOT_ASSESSED,
                f"too few to assess (fewer than {s.min_group_size} rows)",
            )
            value = lo = hi = glo = ghi = float("nan")
        else:
            value, lo, hi = e.value, e.lo, e.hi
            reference = next(r for r in audit.for_characteristic(characteristic) if r.is_reference)
            glo, ghi = _gate_interval(e, kind, z, metric, g, reference)
            if kind == "ratio":
                verdict, reason = judge(value, glo, ghi, s.ratio_lower, s.ratio_upper, 1.0)
            else:
                band = s.max_calibration_gap
                verdict, reason = judge(value, glo, ghi, -band, band, 0.0)
        checks.append(
            GateCheck(
                characteristic,
                g.group,
                audit.references[characteristic],
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
            )
        )
    passed = not any(c.gated and c.verdict == FAIL for c in checks)
    return GateResult(passed=passed, rule=rule_text(s), checks=checks)
