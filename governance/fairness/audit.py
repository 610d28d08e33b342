"""The fairness audit: per-group metrics with intervals and disparities vs a reference.

It needs only a table of labels, scores (or flags) and group columns, so the same audit serves
frontdoor's own models and any vendor's scoring tool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from frontdoor.governance.fairness.intervals import effective, jeffreys, ratio_interval
from frontdoor.governance.fairness.metrics import (
    METRICS,
    PROBABILITY_METRICS,
    bootstrap_replicates,
    confusion_counts,
    point_estimates,
    rate_counts,
    reliability,
    seed_for,
)
from frontdoor.models.stats import percentile_interval
from frontdoor.settings.fairness import FairnessSettings

# Disparities are ratios to the reference for rates; for calibration, a difference of gaps.
DIFFERENCE_METRICS = ("calibration_gap",)
NO_DISPARITY = ("observed", "predicted")


class AuditInputError(ValueError):
    """The scores, labels or groups given to the audit are not usable (the message says why)."""


@dataclass
class Estimate:
    value: float
    lo: float
    hi: float
    se: float = float("nan")  # bootstrap standard error (of the log ratio, for ratios)

    def as_dict(self) -> dict[str, float | None]:
        return {k: (None if not np.isfinite(v) else float(v)) for k, v in vars(self).items()}


@dataclass
class GroupResult:
    characteristic: str
    group: str
    counts: dict[str, int]
    assessable: bool
    is_reference: bool = False
    metrics: dict[str, Estimate] = field(default_factory=dict)
    disparities: dict[str, Estimate] = field(default_factory=dict)
    reliability: pd.DataFrame | None = None
    # Rows the group is worth when its children's referrals move together: n^2 / sum(m_c^2)
    # over children c with m_c referrals (Kish); n when the audit resamples rows.
    effective_n: float = float("nan")


@dataclass
class AuditResult:
    overall: GroupResult
    groups: list[GroupResult]
    references: dict[str, str]
    threshold: float | None
    score_is_probability: bool
    settings: FairnessSettings
    label: str = "label"
    score: str = "score"
    flag_rule: str = ""  # in words, when the flags are not simply score >= threshold
    resampled_by: str = "rows"  # what the bootstrap resampled: a cluster column, or rows
    # The selection family judged on more referrals than these rows (fairness/selection.py):
    # a flag-only audit of every referral the models scored; None: judged on these rows.
    selection: AuditResult | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def characteristics(self) -> list[str]:
        return list(dict.fromkeys(g.characteristic for g in self.groups))

    def for_characteristic(self, name: str) -> list[GroupResult]:
        return [g for g in self.groups if g.characteristic == name]

    def group(self, characteristic: str, group: str) -> GroupResult:
        for g in self.groups:
            if g.characteristic == characteristic and g.group == group:
                return g
        raise KeyError(f"no group {group!r} in {characteristic!r}")

    def to_frame(self) -> pd.DataFrame:
        """One row per group (overall first), unsuppressed: for code, not for publication."""
        rows = []
        for g in [self.overall, *self.groups]:
            row: dict[str, object] = {
                "characteristic": g.characteristic,
                "group": g.group,
                "assessable": g.assessable,
                "is_reference": g.is_reference,
                **g.counts,
            }
            for m, e in g.metrics.items():
                row[m], row[f"{m}_lo"], row[f"{m}_hi"] = e.value, e.lo, e.hi
            for m, e in g.disparities.items():
                kind = "diff" if m in DIFFERENCE_METRICS else "ratio"
                row[f"{m}_{kind}"], row[f"{m}_{kind}_lo"], row[f"{m}_{kind}_hi"] = (
                    e.value,
                    e.lo,
                    e.hi,
                )
            rows.append(row)
        return pd.DataFrame(rows)


def _labels(frame: pd.DataFrame, label: str) -> np.ndarray:
    if label not in frame:
        raise AuditInputError(f"label column {label!r} not found; columns: {list(frame.columns)}")
    values = frame[label]
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
        raise AuditInputError(
            f"label column {label!r} is empty at data row {row}; it must hold 0 or 1"
        )
    as_num = pd.to_numeric(values.astype(object).replace({True: 1, False: 0}), errors="coerce")
    bad = ~as_num.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise AuditInputError(
            f"label column {label!r} must hold 0 or 1; data row {row} holds {values.iloc[row - 1]!r}"
        )
    return as_num.to_numpy(dtype=int)


def _scores(frame: pd.DataFrame, score: str) -> np.ndarray:
    if score not in frame:
        raise AuditInputError(f"score column {score!r} not found; columns: {list(frame.columns)}")
    values = pd.to_numeric(frame[score], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise AuditInputError(
            f"score column {score!r} must be numeric; data row {row} holds {frame[score].iloc[row - 1]!r}"
        )
    return values.to_numpy(dtype=float)


def _reference(groups: dict[str, dict[str, int]], characteristic: str, s: FairnessSettings) -> str:
    wanted = s.reference_groups.get(characteristic, s.reference_group)
    if wanted != "largest":
        if wanted not in groups:
            raise AuditInputError(
                f"reference group {wanted!r} is not among {characteristic}'s groups {sorted(groups)}"
            )
        return wanted
    return max(sorted(groups), key=lambda g: groups[g]["n"])  # ties: alphabetical first


def _effective_counts(metric: str, g: GroupResult) -> tuple[float, float] | None:
    counts = rate_counts(metric, g.counts)
    if counts is None:
        return None
    x, n = effective(counts[0], counts[1], g.counts["n"], g.effective_n)
    return float(x), float(n)


def _estimates(
    g: GroupResult, points: pd.Series, reps: dict[str, np.ndarray], probability: bool
) -> dict[str, Estimate]:
    """Point estimates with 95% intervals: Jeffreys (on effective counts) for a
    count rate, the percentile bootstrap for AUC and calibration (no count is behind them)."""
    out = {}
    for m in METRICS:
        if m in PROBABILITY_METRICS and not probability:
            continue
        counts = _effective_counts(m, g)
        if counts is None:
            lo, hi = percentile_interval(reps[m])
        else:
            lo, hi = (float(v) for v in jeffreys(counts[0], counts[1], 0.05))
        out[m] = Estimate(float(points[m]), lo, hi)
    return out


def _disparities(
    g: GroupResult, gr: dict[str, np.ndarray], ref: GroupResult, rr: dict[str, np.ndarray]
) -> dict[str, Estimate]:
    """Ratios (differences for calibration) to the reference with 95% intervals: MOVER over
    the exact intervals for count rates, the percentile bootstrap otherwise. ``se`` is the
    bootstrap's standard error (of the log ratio for ratios), kept for reference."""
    out = {}
    for m, e in g.metrics.items():
        if m in NO_DISPARITY:
            continue
        refv = ref.metrics[m].value
        with np.errstate(divide="ignore", invalid="ignore"):
            if m in DIFFERENCE_METRICS:
                value, reps = e.value - refv, gr[m] - rr[m]
                spread = reps
            else:
                value = e.value / refv if refv > 0 else float("nan")
                reps = np.where(rr[m] > 0, gr[m] / np.where(rr[m] > 0, rr[m], 1), np.nan)
                spread = np.log(np.where(reps > 0, reps, np.nan))
        a, b = _effective_counts(m, g), _effective_counts(m, ref)
        if a is None or b is None:
            lo, hi = percentile_interval(reps)
        else:
            lo, hi = (float(v) for v in ratio_interval(a[0], a[1], b[0], b[1], 0.05))
        finite = spread[np.isfinite(spread)]
        se = float(np.std(finite, ddof=1)) if finite.size > 1 else float("nan")
        out[m] = Estimate(float(value), lo, hi, se)
    return out


def effective_size(n: int, cluster: np.ndarray | None) -> float:
    """n^2 / sum of squared cluster sizes: as many independent rows as the n clustered ones are
    worth if each cluster's rows share one outcome (n itself without clusters)."""
    if cluster is None or n == 0:
        return float(n)
    sizes = np.unique(np.asarray(cluster), return_counts=True)[1].astype(float)
    return float(sizes.sum() ** 2 / (sizes**2).sum())


def run_audit(
    frame: pd.DataFrame,
    *,
    label: str,
    score: str,
    characteristics: dict[str, str],
    settings: FairnessSettings,
    threshold: float | None = None,
    flagged: str | None = None,
    score_is_probability: bool | None = None,
) -> AuditResult:
    """Audit one set of scores.

    A row is flagged when ``flagged`` (a 0/1 column) says so, else when its score is at least
    ``threshold``. ``characteristics`` maps each characteristic's name to its group column.
    Calibration is assessed only when the scores are probabilities (by default: all in [0, 1]).
    """
    rows = _audit_rows(frame, label, score, threshold, flagged, score_is_probability)
    missing = [c for c in characteristics.values() if c not in frame]
    if missing:
        raise AuditInputError(
            f"group column(s) {missing} not found; columns: {list(frame.columns)}"
        )
    by = settings.cluster_column
    cluster = frame[by].astype(str).to_numpy() if by and by in frame.columns else None
    overall = _overall(rows, settings, cluster)
    results: list[GroupResult] = []
    references: dict[str, str] = {}
    for name, column in characteristics.items():
        groups = _characteristic(rows, frame[column], name, settings, cluster)
        references[name] = next(r.group for r in groups if r.is_reference)
        results.extend(groups)
    return AuditResult(
        overall=overall,
        groups=results,
        references=references,
        threshold=threshold,
        score_is_probability=rows.probability,
        settings=settings,
        label=label,
        score=score,
        resampled_by=by if cluster is not None else "rows",
    )


@dataclass(frozen=True)
class _Rows:
    """What the audit reads of each row: the outcome, the score, whether it was flagged."""

    y: np.ndarray
    s: np.ndarray
    f: np.ndarray
    probability: bool  # the scores are probabilities: calibration is assessed


def _audit_rows(
    frame: pd.DataFrame,
    label: str,
    score: str,
    threshold: float | None,
    flagged: str | None,
    score_is_probability: bool | None,
) -> _Rows:
    if frame.empty:
        raise AuditInputError("there are no rows to audit")
    y = _labels(frame, label)
    s = _scores(frame, score)
    if flagged is not None:
        f = _labels(frame, flagged).astype(bool)
    elif threshold is not None:
        f = s >= threshold
    else:
        raise AuditInputError("give a threshold or a flagged column")
    if score_is_probability is None:
        score_is_probability = bool(s.min() >= 0 and s.max() <= 1)
    return _Rows(y, s, f, score_is_probability)


def _overall(rows: _Rows, settings: FairnessSettings, cluster: np.ndarray | None) -> GroupResult:
    """Every row together: the metrics the groups are read against."""
    y, f, s = rows.y, rows.f, rows.s
    points = point_estimates(y, f, s, None).iloc[0]
    seed = seed_for(settings.seed, "overall")
    reps = bootstrap_replicates(y, f, s, settings.bootstrap_samples, seed, cluster=cluster)
    overall = GroupResult("overall", "overall", confusion_counts(y, f), True)
    overall.effective_n = effective_size(len(y), cluster)
    overall.metrics = _estimates(overall, points, reps, rows.probability)
    overall.reliability = reliability(y, s) if rows.probability else None
    return overall


def _characteristic(
    rows: _Rows,
    column: pd.Series,
    name: str,
    settings: FairnessSettings,
    cluster: np.ndarray | None,
) -> list[GroupResult]:
    """One characteristic's groups (missing values as "Not recorded"), each with its metrics
    and its disparities to the reference group: the reference first, then the largest."""
    y, f, s = rows.y, rows.f, rows.s
    values = column.astype(object).where(column.notna(), "Not recorded").astype(str).to_numpy()
    points = point_estimates(y, f, s, pd.Series(values))
    members = {g: np.flatnonzero(values == g) for g in points.index}
    counts = {g: confusion_counts(y[i], f[i]) for g, i in members.items()}
    ref_name = _reference(counts, name, settings)
    reps, groups = {}, []
    for g, idx in members.items():
        result = GroupResult(
            name, g, counts[g], counts[g]["n"] >= settings.min_group_size, g == ref_name
        )
        within = None if cluster is None else cluster[idx]
        seed = seed_for(settings.seed, name, g)
        reps[g] = bootstrap_replicates(
            y[idx], f[idx], s[idx], settings.bootstrap_samples, seed, cluster=within
        )
        result.effective_n = effective_size(len(idx), within)
        result.metrics = _estimates(result, points.loc[g], reps[g], rows.probability)
        result.reliability = reliability(y[idx], s[idx]) if rows.probability else None
        groups.append(result)
    ref = next(r for r in groups if r.group == ref_name)
    if not ref.assessable:
        raise AuditInputError(
            f"reference group {ref_name!r} of {name} has {ref.counts['n']} rows, "
            f"fewer than the minimum {settings.min_group_size}"
        )
    for r in groups:
        r.disparities = _disparities(r, reps[r.group], ref, reps[ref_name])
    return sorted(groups, key=lambda r: (not r.is_reference, -r.counts["n"], r.group))
