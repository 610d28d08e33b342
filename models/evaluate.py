"""Evaluation with paired bootstrap 95% confidence intervals.

Every scorer (the models, the current-practice rule and, on synthetic data, the oracle that
knows the true probabilities) is measured on the same test rows and the same bootstrap
resamples, so the gap between a model and the oracle has its own interval. Resamples draw
whole children with all their test referrals (``clusters``, ``stats.cluster_sampler``): a child
referred twice in a test window is one child, and resampling the referrals one by one would
narrow every interval.

Metrics: ROC AUC, average precision, Brier score, expected calibration error (10 equal-width
bins), and precision, recall and flag rate when flagging as many referrals as managers can
review (``review_capacity_per_week`` times the weeks in the test window) or, if
``flag_threshold`` is set, every referral at or above it. ``lift_over_rule`` is the model's
precision when it flags as many referrals as the rule does, divided by the rule's precision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.models.stats import (
    calibration_line,
    cluster_sampler,
    expected_calibration_error,
    roc_auc,
)

METRICS = (
    "auc",
    "average_precision",
    "brier",
    "ece",
    "calibration_intercept",
    "calibration_slope",
    "precision_at_capacity",
    "recall_at_capacity",
    "flag_rate_at_capacity",
    "lift_over_rule",
)


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Step-wise average precision over distinct thresholds (equals sklearn's)."""
    n_pos = int((y == 1).sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    sp, sy = p[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(sp)), len(sp) - 1]
    tp = np.cumsum(sy)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def _top_k(p: np.ndarray, k: int) -> np.ndarray:
    flags = np.zeros(len(p), dtype=bool)
    if k > 0:
        flags[np.argsort(-p, kind="mergesort")[:k]] = True
    return flags


def _precision(y: np.ndarray, flags: np.ndarray) -> float:
    n = int(flags.sum())
    return float(y[flags].sum() / n) if n else float("nan")


def metric_set(
    y: np.ndarray,
    p: np.ndarray,
    k: int | None,
    rule_flags: np.ndarray | None,
    threshold: float | None = None,
    is_rule: bool = False,
) -> dict[str, float]:
    """All metrics of one scorer on one set of rows."""
    n_pos = max(int(y.sum()), 1)
    if is_rule or threshold is not None:
        flags = p >= (0.5 if is_rule else threshold)
    else:
        flags = _top_k(p, int(k or 0))
    # The line of the outcomes on the log-odds (0 and 1 when the probabilities read literally);
    # a rule's 0/1 flags are not probabilities.
    intercept, slope = (np.nan, np.nan) if is_rule else calibration_line(y, p)
    out = {
        "auc": roc_auc(y, p),
        "average_precision": average_precision(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(y, p),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "precision_at_capacity": _precision(y, flags),
        "recall_at_capacity": float(y[flags].sum() / n_pos),
        "flag_rate_at_capacity": float(flags.mean()),
        "lift_over_rule": float("nan"),
    }
    if rule_flags is not None and not is_rule:
        n_rule = int(rule_flags.sum())
        rule_precision = _precision(y, rule_flags)
        if n_rule and rule_precision > 0:
            out["lift_over_rule"] = _precision(y, _top_k(p, n_rule)) / rule_precision
    return out


def capacity_flags(n_weeks: float, capacity_per_week: int, n_rows: int) -> int:
    """How many referrals managers can review in the window."""
    return int(min(n_rows, round(capacity_per_week * n_weeks)))


def evaluate_scorers(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    k: int,
    rule: str | None = "rule",
    oracle: str | None = "oracle",
    threshold: float | None = None,
    bootstrap: int = 200,
    seed: int = 0,
    clusters: np.ndarray | None = None,
) -> pd.DataFrame:
    """Point estimates and paired bootstrap 95% CIs for every scorer (and gaps to the oracle).

    Returns one row per (scorer, metric) with ``value``, ``ci_low``, ``ci_high``. Scorers named
    ``gap:<model>`` hold the oracle's metric minus the model's (AUC gap > 0: the oracle ranks
    better).
    """
    y = np.asarray(y, dtype=float)
    scores = {name: np.asarray(s, dtype=float) for name, s in scores.items()}
    rule_flags = scores[rule] >= 0.5 if rule in scores else None

    def all_metrics(idx: np.ndarray | None) -> dict[str, dict[str, float]]:
        yy = y if idx is None else y[idx]
        rf = None if rule_flags is None else (rule_flags if idx is None else rule_flags[idx])
        res = {}
        for name, s in scores.items():
            ss = s if idx is None else s[idx]
            res[name] = metric_set(yy, ss, k, rf, threshold, is_rule=(name == rule))
        if oracle in res:
            for name in scores:
                if name not in (oracle, rule):
                    res[f"gap:{name}"] = {
                        m: res[oracle][m] - res[name][m] for m in ("auc", "average_precision")
                    }
        return res

    point = all_metrics(None)
    rng = np.random.default_rng(seed)
    samples: dict[tuple[str, str], list[float]] = {}
    draw = cluster_sampler(len(y), clusters)
    for _ in range(bootstrap):
        idx = draw(rng)
        for name, metrics in all_metrics(idx).items():
            for m, v in metrics.items():
                samples.setdefault((name, m), []).append(v)
    rows = []
    for name, metrics in point.items():
        for m, v in metrics.items():
            draws = np.asarray(samples.get((name, m), []), dtype=float)
            draws = draws[~np.isnan(draws)]
            lo, hi = np.percentile(draws, [2.5, 97.5]) if len(draws) else (np.nan, np.nan)
            rows.append(
                {"scorer": name, "metric": m, "value": v, "ci_low": float(lo), "ci_high": float(hi)}
            )
    return pd.DataFrame(rows)
