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
    mean_prediction,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score, roc_auc_score

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
PROBABILITY_METRICS = ("predicted", "calibration_gap")


def _safe_auc(y_true, y_score) -> float:
    y = np.asarray(y_true)
    if y.min(initial=1) == y.max(initial=0):  # one class only: AUC is undefined
        return float("nan")
    return float(roc_auc_score(y, y_score))


def _precision(y_true, y_pred) -> float:
    if np.asarray(y_pred).sum() == 0:
        return float("nan")
    return float(precision_score(y_true, y_pred, zero_division=0))


def _false_omission_rate(y_true, y_pred) -> float:
    y, f = np.asarray(y_true), np.asarray(y_pred)
    negatives = f == 0
    return float(y[negatives].mean()) if negatives.any() else float("nan")


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


def point_estimates(
    y: np.ndarray, flagged: np.ndarray, score: np.ndarray, groups: pd.Series | None
) -> pd.DataFrame:
    """Per-group point estimates (rows: groups; one row ``overall`` when ``groups`` is None)."""
    sens = groups if groups is not None else pd.Series(["overall"] * len(y), name="group")
    sens = pd.Series(np.asarray(sens, dtype=object), name="group")
    on_flags = MetricFrame(
        metrics={
            "n": count,
            "flag_rate": selection_rate,
            "tpr": _rate(true_positive_rate),
            "fpr": _rate(false_positive_rate),
            "fnr": _rate(false_negative_rate),
            "precision": _precision,
            "false_omission_rate": _false_omission_rate,
        },
        y_true=y,
        y_pred=flagged,
        sensitive_features=sens,
    )
    on_scores = MetricFrame(
        metrics={
            "base_rate": lambda yt, _s: float(np.mean(yt)),
            "auc": _safe_auc,
            "predicted": mean_prediction,
        },
        y_true=y,
        y_pred=score,
        sensitive_features=sens,
    )
    out = pd.concat([on_flags.by_group, on_scores.by_group], axis=1)
    out["observed"] = out["base_rate"]
    out["calibration_gap"] = out["observed"] - out["predicted"]
    out.index = out.index.astype(str)
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


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _weighted_auc(counts: np.ndarray, y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """AUC for every replicate (rows of ``counts`` are resampling multiplicities), ties as 1/2."""
    order = np.argsort(score, kind="stable")
    s, yy, c = score[order], y[order], counts[:, order].astype(float)
    pos, neg = c * yy, c * (1 - yy)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # blocks of tied scores
    if starts.size < s.size:
        pos = np.add.reduceat(pos, starts, axis=1)
        neg = np.add.reduceat(neg, starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    return _divide((pos * (neg_below + 0.5 * neg)).sum(axis=1), total_pos * total_neg)


def bootstrap_replicates(
    y: np.ndarray,
    flagged: np.ndarray,
    score: np.ndarray,
    samples: int,
    rng: np.random.Generator,
    block: int = 50,
) -> dict[str, np.ndarray]:
    """Every metric on ``samples`` bootstrap resamples of one group (resampled with replacement).

    Each replicate is a row of multinomial counts (how often each row is drawn), so every count
    is one matrix-vector product; replicates are processed in blocks to bound memory.
    """
    y = np.asarray(y, dtype=float)
    f = np.asarray(flagged, dtype=float)
    s = np.asarray(score, dtype=float)
    n = y.size
    out: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    if n == 0 or samples <= 0:
        return {m: np.full(0, np.nan) for m in METRICS}
    done = 0
    while done < samples:
        size = min(block, samples - done)
        # Row r of `counts` says how often each row is drawn in replicate r (n draws with
        # replacement): the multinomial bootstrap, built with one flat bincount.
        draws = rng.integers(0, n, size=(size, n)) + (np.arange(size)[:, None] * n)
        counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(float)
        pos = counts @ y
        flg = counts @ f
        tp = counts @ (y * f)
        fp = flg - tp
        fn = pos - tp
        neg = n - pos
        tn = neg - fp
        predicted = (counts @ s) / n
        observed = pos / n
        out["base_rate"].append(observed)
        out["flag_rate"].append(flg / n)
        out["tpr"].append(_divide(tp, pos))
        out["fpr"].append(_divide(fp, neg))
        out["fnr"].append(_divide(fn, pos))
        out["precision"].append(_divide(tp, flg))
        out["false_omission_rate"].append(_divide(fn, fn + tn))
        out["auc"].append(_weighted_auc(counts, y, s))
        out["observed"].append(observed)
        out["predicted"].append(predicted)
        out["calibration_gap"].append(observed - predicted)
        done += size
    return {m: np.concatenate(v) for m, v in out.items()}


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval, ignoring undefined replicates (NaN when all are)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(finite, [tail, 100 - tail])
    return float(lo), float(hi)


def reliability(y: np.ndarray, score: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed against predicted in equal-width probability bins (for calibration plots)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(score, edges[1:-1], right=False), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "y": y, "p": score})
    agg = frame.groupby("bin").agg(n=("y", "size"), observed=("y", "mean"), predicted=("p", "mean"))
    agg["bin_low"] = edges[agg.index]
    agg["bin_high"] = edges[agg.index + 1]
    return agg.reset_index()
