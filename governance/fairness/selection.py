"""The selection (flag-rate) audit: who is flagged, judged on every referral the models scored.

A flag rate needs no outcome, so the selection family (``fairness.selection_characteristics``)
need not wait for labels to mature: it is judged on every referral the run's models scored
(``models.train.scored_referrals``), several times the labelled test rows that the error-rate
checks must use. The result is an ``AuditResult`` of flag-only groups (counts ``n`` and
``flagged``; ``positives`` and the confusion counts are 0, not known), so the gate, the
disclosure plan and the reports read it like any audit.

Repeat referrals: a child's referrals are flagged together more often than not, so each group's
counts are deflated to its effective size before the interval is built. Here the effective size
is the one that resampling whole children implies: the design effect is the cluster-robust
(linearised) variance of the group's flag rate over children, the limit of the child bootstrap's
variance, divided by the binomial one; it is kept between 1 and the Kish bound n / n_eff (every
referral of a child flagged alike), which the labelled audit uses. Calibrated by simulation in
benchmarks/gate_calibration.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.governance.fairness.audit import (
    AuditInputError,
    AuditResult,
    Estimate,
    GroupResult,
)
from frontdoor.governance.fairness.intervals import effective, jeffreys, ratio_interval
from frontdoor.settings.fairness import FairnessSettings


def effective_from_children(n, flagged, children, sum_m2, sum_t2, sum_tm) -> np.ndarray:
    """The effective size of groups from their children's sums, vectorised (the benchmark
    judges hundreds of score sets with it): ``n`` referrals, ``flagged`` of them flagged,
    ``children`` children, and over children the sums of m^2, t^2 and t*m (m: a child's
    referrals, t: how many of them were flagged). The design effect is the cluster-robust
    variance of the flag rate, k / (k - 1) * sum (t - p m)^2 / n^2, over the binomial
    p (1 - p) / n, kept between 1 and n / Kish; Kish's size where there is no variance."""
    n, f, k, m2, t2, tm = (
        np.asarray(a, dtype=float) for a in (n, flagged, children, sum_m2, sum_t2, sum_tm)
    )
    with np.errstate(all="ignore"):
        p = f / n
        kish = n**2 / m2
        robust = k / (k - 1) * (t2 - 2 * p * tm + p * p * m2) / n**2
        deff = np.clip(robust / (p * (1 - p) / n), 1.0, n / kish)
        ok = (k >= 2) & (p > 0) & (p < 1) & np.isfinite(deff)
        return np.where(ok, n / np.where(ok, deff, 1.0), np.where(n > 0, kish, 0.0))


def child_effective_size(flags: np.ndarray, cluster: np.ndarray | None) -> float:
    """The rows a group's flags are worth when whole children are resampled: n / design effect
    (see `effective_from_children` and the module docstring)."""
    f = np.asarray(flags, dtype=float)
    if cluster is None or f.size == 0:
        return float(f.size)
    _, inverse = np.unique(np.asarray(cluster), return_inverse=True)
    t = np.bincount(inverse, weights=f)
    m = np.bincount(inverse).astype(float)
    size = effective_from_children(
        f.size, f.sum(), m.size, (m * m).sum(), (t * t).sum(), (t * m).sum()
    )
    return float(size)


def _group(
    name: str, value: str, f: np.ndarray, cluster: np.ndarray | None, s: FairnessSettings
) -> GroupResult:
    n, k = int(f.size), int(f.sum())
    counts = {"n": n, "positives": 0, "flagged": k, "tp": 0, "fp": 0, "fn": 0, "tn": 0}
    g = GroupResult(name, value, counts, n >= s.min_group_size)
    g.effective_n = child_effective_size(f, cluster)
    x, base = effective(k, n, n, g.effective_n)
    lo, hi = jeffreys(x, base, 0.05)
    g.metrics = {"flag_rate": Estimate(k / n if n else float("nan"), float(lo), float(hi))}
    return g


def selection_audit(
    frame: pd.DataFrame,
    flagged: str,
    characteristics: dict[str, str],
    settings: FairnessSettings,
    population: str,
) -> AuditResult:
    """Flag rates and flag-rate ratios (with 95% intervals) of the selection characteristics on
    ``frame`` (any referrals, labelled or not); ``population`` says in words which referrals."""
    if frame.empty:
        raise AuditInputError("there are no scored referrals to audit")
    f = frame[flagged].astype(bool).to_numpy()
    by = settings.cluster_column
    cluster = frame[by].astype(str).to_numpy() if by and by in frame.columns else None
    overall = _group("overall", "overall", f, cluster, settings)
    overall.is_reference = False
    groups: list[GroupResult] = []
    references: dict[str, str] = {}
    for name in settings.selection_characteristics:
        if name not in characteristics:
            continue
        column = frame[characteristics[name]]
        values = column.astype(object).where(column.notna(), "Not recorded").astype(str)
        values = values.to_numpy()
        members = {v: np.flatnonzero(values == v) for v in sorted(set(values))}
        part = [
            _group(name, v, f[i], None if cluster is None else cluster[i], settings)
            for v, i in members.items()
        ]
        wanted = settings.reference_groups.get(name, settings.reference_group)
        ref_name = wanted if wanted != "largest" else max(part, key=lambda g: g.counts["n"]).group
        ref = next((g for g in part if g.group == ref_name), None)
        if ref is None or not ref.assessable:
            raise AuditInputError(f"reference group {ref_name!r} of {name} cannot be assessed")
        ref.is_reference = True
        references[name] = ref_name
        for g in part:
            g.disparities = {"flag_rate": _ratio(g, ref)}
        groups.extend(sorted(part, key=lambda g: (not g.is_reference, -g.counts["n"], g.group)))
    return AuditResult(
        overall=overall,
        groups=groups,
        references=references,
        threshold=None,
        score_is_probability=False,
        settings=settings,
        label="none (flag rates need no outcome)",
        score="probability",
        flag_rule=population,
        resampled_by=by if cluster is not None else "rows",
    )


def _ratio(g: GroupResult, ref: GroupResult) -> Estimate:
    a = effective(g.counts["flagged"], g.counts["n"], g.counts["n"], g.effective_n)
    b = effective(ref.counts["flagged"], ref.counts["n"], ref.counts["n"], ref.effective_n)
    rv = ref.metrics["flag_rate"].value
    value = g.metrics["flag_rate"].value / rv if rv > 0 else float("nan")
    lo, hi = ratio_interval(a[0], a[1], b[0], b[1], 0.05)
    return Estimate(float(value), float(lo), float(hi))
