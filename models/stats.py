"""The statistics that evaluation and the fairness audit share: AUC, calibration, the cluster bootstrap.

One home for each, so a model's AUC and interval in the evaluation and in the fairness audit are
the same computation.

Why home-made and not scikit-learn's:
- ``roc_auc`` is the Mann-Whitney statistic; it equals ``sklearn.metrics.roc_auc_score`` (the tests
  check it) but is called thousands of times inside the bootstrap, where sklearn's input
  validation costs more than the statistic. ``replicate_auc`` is the same statistic for a whole
  block of bootstrap replicates at once (rows of resampling counts), which sklearn has no form of.
- The bootstrap resamples children, not referrals (``cluster_sampler``, ``cluster_counts``): a child
  referred twice in a window is one child, and resampling referrals one by one would narrow every
  interval. Neither scipy's ``bootstrap`` nor fairlearn's resample clusters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from scipy.special import expit


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties (equals sklearn's roc_auc_score)."""
    pos = y == 1
    n_pos = int(pos.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    sp = p[order]
    ranks = np.empty(len(p), dtype=float)
    # average ranks over tied groups
    boundaries = np.flatnonzero(np.diff(sp)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(sp)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0, NaN elsewhere (an undefined rate, never 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def replicate_auc(counts: np.ndarray, y: np.ndarray, score: np.ndarray) -> np.ndarray:
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
    return divide((pos * (neg_below + 0.5 * neg)).sum(axis=1), total_pos * total_neg)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean absolute gap between predicted and observed over 10 equal-width bins, row-weighted."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(idx, minlength=bins)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    sum_y = np.bincount(idx, weights=y, minlength=bins)
    used = counts > 0
    return float(np.sum(np.abs(sum_p[used] - sum_y[used])) / len(y))


def reliability_table(
    y: np.ndarray, p: np.ndarray, bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Observed against predicted per bin of the prediction: ``quantile`` bins (deciles of the
    rows, for the evaluation's diagram) or ``uniform`` bins of width 1/bins (for the audit's,
    with ``bin_low`` and ``bin_high``; empty bins are left out)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if strategy == "quantile":
        frame = pd.DataFrame({"y": y, "p": p})
        frame["bin"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False)
        out = frame.groupby("bin").agg(
            predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size")
        )
        return out.reset_index()
    if strategy != "uniform":
        raise ValueError(f"Unknown strategy {strategy!r}; use 'quantile' or 'uniform'")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    n = np.bincount(which, minlength=bins)
    observed = np.bincount(which, weights=y, minlength=bins)
    predicted = np.bincount(which, weights=p, minlength=bins)
    idx = np.flatnonzero(n > 0)
    return pd.DataFrame(
        {
            "bin": idx,
            "n": n[idx],
            "observed": observed[idx] / n[idx],
            "predicted": predicted[idx] / n[idx],
            "bin_low": edges[idx],
            "bin_high": edges[idx + 1],
        }
    )


def cluster_codes(clusters: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... per cluster in order of first appearance. Not ``np.unique``'s sorted order:
    sorting pseudonyms would make the resamples depend on the pseudonym key."""
    return pd.factorize(pd.Series(np.asarray(clusters).ravel()), sort=False)[0]


def cluster_sampler(
    n: int, clusters: np.ndarray | None = None
) -> Callable[[np.random.Generator], np.ndarray]:
    """A function rng -> row indices of one bootstrap resample: n rows drawn with replacement,
    or, with ``clusters`` (one id per row), as many clusters as there are, each with all of
    its rows."""
    if clusters is None:
        return lambda rng: rng.integers(0, n, n)
    codes = cluster_codes(clusters)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def draw(rng: np.random.Generator) -> np.ndarray:
        chosen = rng.integers(0, len(sizes), len(sizes))
        lengths = sizes[chosen]
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return order[np.repeat(starts[chosen], lengths) + offsets]

    return draw


def cluster_counts(
    n: int,
    samples: int,
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
    block: int = 50,
) -> Iterator[np.ndarray]:
    """Bootstrap replicates as blocks of resampling counts (replicates x rows): row r says how
    often each row is drawn in replicate r. With ``clusters`` whole clusters are drawn (each row
    counted as often as its cluster). Every count is then one matrix-vector product, with no
    Python loop over rows or replicates; blocks bound the memory."""
    of_row = np.arange(n) if clusters is None else cluster_codes(clusters)
    k = int(of_row.max()) + 1 if n else 0
    done = 0
    while done < samples and n:
        size = min(block, samples - done)
        # k draws with replacement per replicate, counted with one flat bincount
        draws = rng.integers(0, k, size=(size, k)) + (np.arange(size)[:, None] * k)
        drawn = np.bincount(draws.ravel(), minlength=size * k).reshape(size, k).astype(float)
        yield drawn[:, of_row]
        done += size


def equal_mass_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` bins of equal count (the rows by prediction, ties in row order), beside
    the metric's equal-width bins: every bin holds the same share of the referrals, so the
    sparse top bins weigh no less and the crowded middle ones no more."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    idx = np.empty(len(p), dtype=int)
    idx[order] = np.arange(len(p)) * bins // len(p)
    gap = np.bincount(idx, weights=p - y, minlength=bins)
    return float(np.abs(gap).sum() / len(p))


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval, ignoring undefined replicates (NaN when all are)."""
    replicates = np.asarray(replicates, dtype=float)
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(finite, [tail, 100 - tail])
    return float(lo), float(hi)


def calibration_line(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of the logistic recalibration of the outcomes on the model's log-odds
    (0 and 1 when the probabilities can be read literally).

    Unpenalised maximum likelihood by Newton's method on the two parameters (what scikit-learn's
    ``LogisticRegression(C=inf)`` fits, to 1e-6; tested), fast enough to run in every bootstrap
    draw of the evaluation. NaN when the outcomes are one class or the fit does not converge
    (outcomes separated by the log-odds)."""
    q = np.clip(np.asarray(p, dtype=float).reshape(-1), 1e-6, 1 - 1e-6)
    y = np.asarray(y, dtype=float).reshape(-1)
    if len(y) == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    X = np.column_stack([np.ones_like(q), np.log(q / (1 - q))])
    beta = np.array([0.0, 1.0])
    for _ in range(100):
        fitted = expit(X @ beta)
        weight = fitted * (1.0 - fitted)
        hessian = X.T @ (X * weight[:, None])
        try:
            step = np.linalg.solve(hessian, X.T @ (y - fitted))
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            break
        if np.max(np.abs(step)) < 1e-10:
            return float(beta[0]), float(beta[1])
    return float("nan"), float("nan")


def calibration_summary(
    y: np.ndarray,
    p: np.ndarray,
    oracle: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    samples: int = 200,
    seed: int = 0,
) -> dict[str, float | tuple[float, float]]:
    """ECE (equal-width and equal-mass bins), calibration intercept and slope, each with a 95%
    interval resampling children (``clusters``). With the oracle's probabilities, the same for
    the oracle on the same rows and the model's paired excess over it (``*_excess``: the
    outcomes' own extremes move the oracle's line as much as the model's), all from one set of
    resamples."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    o = None if oracle is None else np.asarray(oracle, dtype=float)

    def one(yy: np.ndarray, pp: np.ndarray) -> dict[str, float]:
        intercept, slope = calibration_line(yy, pp)
        return {
            "ece": expected_calibration_error(yy, pp),
            "equal_mass_ece": equal_mass_calibration_error(yy, pp),
            "intercept": intercept,
            "slope": slope,
        }

    def measures(idx: np.ndarray | None) -> dict[str, float]:
        yy, pp = (y, p) if idx is None else (y[idx], p[idx])
        out = one(yy, pp)
        if o is not None:
            truth = one(yy, o if idx is None else o[idx])
            for name, value in truth.items():
                out[f"oracle_{name}"] = value
                out[f"{name}_excess"] = out[name] - value
        return out

    point = measures(None)
    draw = cluster_sampler(len(y), clusters)
    rng = np.random.default_rng(seed)
    draws = [measures(draw(rng)) for _ in range(samples)]
    summary: dict[str, float | tuple[float, float]] = dict(point)
    for name in point:
        summary[f"{name}_ci"] = percentile_interval(np.array([d[name] for d in draws]))
    return summary
