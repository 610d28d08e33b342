"""Group metrics: point estimates through fairlearn's MetricFrame, intervals by a vectorised bootstrap.

Why two paths: MetricFrame is the reference implementation of the per-group rates, so the point
estimates come from it; its own bootstrap rebuilds a MetricFrame per replicate, which is far too
slow for every group of every characteristic, so the intervals come from a stratified bootstrap
done with resampling-count matrices (one matrix product per replicate block, no Python loop
over rows or replicates).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from frontdoor.models.stats import (
    cluster_counts,
    divide,
    reliability_table,
    replicate_auc,
)

# Every per-group metric, in display order, with what it means and which count is its numerator
# (the numerator decides small-number suppression: a rate times the group size reveals it).
METRICS: dict[str, dict[str, str]] = {
    "base_rate": {"title": "Base rate", "says": "share with the outcome", "numerator": "positives"},
    "flag_rate": {"title": "Flag rate", "says": "share flagged for review", "numerator": "flagged"},
    "tpr": {
        "title": "True positive rate",
        "says": "of those with the outcome, share flagged",
        "numerator": "tp",
    },
    "fpr": {
        "title": "False positive rate",
        "says": "of those without the outcome, share flagged",
        "numerator": "fp",
    },
    "fnr": {
        "title": "False negative rate",
        "says": "of those with the outcome, share not flagged",
        "numerator": "fn",
    },
    "precision": {
        "title": "Precision",
        "says": "of those flagged, share with the outcome",
        "numerator": "tp",
    },
    "false_omission_rate": {
        "title": "False omission rate",
        "says": "of those not flagged, share with the outcome",
        "numerator": "fn",
    },
    "auc": {
        "title": "AUC",
        "says": "chance a random child with the outcome scores above one without",
        "numerator": "",
    },
    "observed": {
        "title": "Observed",
        "says": "observed outcome rate (calibration)",
        "numerator": "positives",
    },
    "predicted": {
        "title": "Predicted",
        "says": "mean predicted probability (calibration)",
        "numerator": "",
    },
    "calibration_gap": {
        "title": "Calibration gap",
        "says": "observed minus predicted",
        "numerator": "positives",
    },
}
COUNTS = ("n", "positives", "flagged", "tp", "fp", "fn", "tn")
# The rates that are a count over a count: metric -> (numerator, base). Their intervals are
# exact (Clopper-Pearson) and their ratios' intervals MOVER (fairness/intervals.py).
COUNT_RATES: dict[str, tuple[str, str]] = {
    "base_rate": ("positives", "n"),
    "observed": ("positives", "n"),
    "flag_rate": ("flagged", "n"),
    "tpr": ("tp", "positives"),
    "fnr": ("fn", "positives"),
    "fpr": ("fp", "negatives"),
    "precision": ("tp", "flagged"),
    "false_omission_rate": ("fn", "unflagged"),
}


def rate_counts(metric: str, counts: dict[str, int]) -> tuple[float, float] | None:
    """The numerator and base behind a count rate (None for AUC and calibration)."""
    if metric not in COUNT_RATES:
        return None
    c = {
        **counts,
        "negatives": counts["n"] - counts["positives"],
        "unflagged": counts["n"] - counts["flagged"],
    }
    numerator, base = COUNT_RATES[metric]
    return float(c[numerator]), float(c[base])


PROBABILITY_METRICS = ("predicted", "calibration_gap")


def _rate(fn: Callable) -> Callable:
    """A fairlearn rate that answers NaN (undefined) rather than 0 or an error on an empty base."""

    def metric(y_true, y_pred) -> float:
        y = np.asarray(y_true)
        if fn in (true_positive_rate, false_negative_rate) and (y == 1).sum() == 0:
            return float("nan")
        if fn is false_positive_rate and (y == 0).sum() == 0:
            return float("nan")
        return float(fn(y_true, y_pred))

    return metric


# The rates fairlearn's MetricFrame computes (the reference implementation); the rest of the
# per-group metrics come from the same count formulas as the bootstrap.
FRAME_METRICS = {
    "n": count,
    "flag_rate": selection_rate,
    "tpr": _rate(true_positive_rate),
    "fpr": _rate(false_positive_rate),
    "fnr": _rate(false_negative_rate),
}


def point_estimates(
    y: np.ndarray, flagged: np.ndarray, score: np.ndarray, groups: pd.Series | None
) -> pd.DataFrame:
    """Per-group point estimates (rows: groups; one row ``overall`` when ``groups`` is None).

    Size, flag rate, TPR, FPR and FNR are fairlearn's MetricFrame by group; the metrics it does
    not have (precision, false omission rate, AUC, calibration) come from the count formulas the
    bootstrap uses, applied to the sample itself (MetricFrame's per-call overhead is large, and
    these are checked against scikit-learn in the tests).
    """
    sens = groups if groups is not None else pd.Series(["overall"] * len(y), name="group")
    sens = np.asarray(sens, dtype=object).astype(str)
    y = np.asarray(y, dtype=int)
    f = np.asarray(flagged, dtype=int)
    s = np.asarray(score, dtype=float)
    frame = MetricFrame(
        metrics=FRAME_METRICS, y_true=y, y_pred=f, sensitive_features=pd.Series(sens, name="group")
    ).by_group.astype(float)
    frame.index = frame.index.astype(str)
    rows = {}
    for g in frame.index:
        idx = np.flatnonzero(sens == g)
        ones = np.ones((1, idx.size))
        own = metrics_from_counts(ones, y[idx].astype(float), f[idx].astype(float), s[idx])
        rows[g] = {m: float(v[0]) for m, v in own.items() if m not in FRAME_METRICS}
    others = pd.DataFrame.from_dict(rows, orient="index")
    out = frame.join(others)[["n", *METRICS]]
    out.index.name = "group"
    return out.astype(float)


def confusion_counts(y: np.ndarray, flagged: np.ndarray) -> dict[str, int]:
    y = np.asarray(y, dtype=bool)
    f = np.asarray(flagged, dtype=bool)
    return {
        "n": int(y.size),
        "positives": int(y.sum()),
        "flagged": int(f.sum()),
        "tp": int((y & f).sum()),
        "fp": int((~y & f).sum()),
        "fn": int((y & ~f).sum()),
        "tn": int((~y & ~f).sum()),
    }


def seed_for(seed: int, *names: str) -> np.random.Generator:
    """A generator seeded by the configured seed and the names (order of groups never matters)."""
    return np.random.default_rng([seed, *(zlib.crc32(str(n).encode("utf-8")) for n in names)])


def metrics_from_counts(
    counts: np.ndarray, y: np.ndarray, f: np.ndarray, s: np.ndarray
) -> dict[str, np.ndarray]:
    """Every metric for each row of ``counts`` (how often each observation is counted)."""
    n = counts.sum(axis=1)
    pos = counts @ y
    flg = counts @ f
    tp = counts @ (y * f)
    fp = flg - tp
    fn = pos - tp
    neg = n - pos
    tn = neg - fp
    observed = divide(pos, n)
    predicted = divide(counts @ s, n)
    return {
        "base_rate": observed,
        "flag_rate": divide(flg, n),
        "tpr": divide(tp, pos),
        "fpr": divide(fp, neg),
        "fnr": divide(fn, pos),
        "precision": divide(tp, flg),
        "false_omission_rate": divide(fn, fn + tn),
        "auc": replicate_auc(counts, y, s),
        "observed": observed,
        "predicted": predicted,
        "calibration_gap": observed - predicted,
    }


def bootstrap_replicates(
    y: np.ndarray,
    flagged: np.ndarray,
    score: np.ndarray,
    samples: int,
    rng: np.random.Generator,
    block: int = 50,
    cluster: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every metric on ``samples`` bootstrap resamples of one group (resampled with replacement).

    Each replicate is a row of multinomial counts (how often each row is drawn), so every count
    is one matrix-vector product; replicates are processed in blocks to bound memory. With
    ``cluster`` (one id per row, e.g. the child) whole clusters are resampled: a child's
    referrals share their outcomes, and resampling them one by one makes intervals too narrow.
    """
    y = np.asarray(y, dtype=float)
    f = np.asarray(flagged, dtype=float)
    s = np.asarray(score, dtype=float)
    n = y.size
    out: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    if n == 0 or samples <= 0:
        return {m: np.full(0, np.nan) for m in METRICS}
    for counts in cluster_counts(n, samples, rng, cluster, block):
        for m, values in metrics_from_counts(counts, y, f, s).items():
            out[m].append(values)
    return {m: np.concatenate(v) for m, v in out.items()}


def reliability(y: np.ndarray, score: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed against predicted in equal-width probability bins (for calibration plots)."""
    return reliability_table(y, score, bins, strategy="uniform")
