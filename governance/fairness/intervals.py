"""Intervals that hold at small counts: Clopper-Pearson or Jeffreys for a rate, MOVER for a
ratio or a difference of rates.

Why these: the gate judges dozens of groups at once, so each check is made at a far tail
(level 1 - 0.05 / checks). At such tails the asymptotic intervals fail small groups: Koopman's
score interval rejects a true ratio of 1 up to nine times its share when a group has 10-40
cases and a rate near 0 or 1 (computed exactly), Katz's log interval failed 13% of fair score
sets (benchmarks/gate_calibration.py), and a percentile bootstrap collapses to a point
when every case in a small group is missed. Clopper-Pearson's interval for a rate is exact (its
coverage is at least the level for every count), and the MOVER combination of two such
intervals into one for their ratio (Donner & Zou 2012) keeps that: computed exactly, by
enumerating every outcome, its false-rejection rate at level 1 - 0.05/72 stays below the
nominal one for groups of 10 to 300 cases at rates from 0.03 to 0.9 (tests/fairness/
test_gate_calibration.py). The gate uses it (``exact=True``). The published 95% intervals use
Jeffreys' (the beta-binomial posterior with Jeffreys' prior): closer to their nominal level,
slightly above it at far tails, where the gate does not use them.

Repeat referrals: a child's referrals share one outcome, so counts are deflated to the group's
effective size (Kish, n^2 / sum of squared referrals per child) before any interval is built:
``x * n_eff / n`` cases out of ``n_eff``. Everything here is vectorised over NumPy arrays, so
the gate benchmark judges hundreds of score sets at once with the same code as the gate.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta


def clopper_pearson(x, n, alpha) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper-Pearson) interval of x/n at level 1 - alpha; x and n may be fractional
    (effective counts). NaN where n is 0."""
    return _beta_interval(x, n, alpha, 1.0, 0.0)


def jeffreys(x, n, alpha) -> tuple[np.ndarray, np.ndarray]:
    """The Jeffreys interval of x/n: the equal-tailed interval of the Beta(x + 1/2, n - x + 1/2)
    posterior (a beta-binomial model with Jeffreys' prior), 0 or 1 at an empty end."""
    return _beta_interval(x, n, alpha, 0.5, 0.5)


def _beta_interval(x, n, alpha, upper_shift: float, lower_shift: float):
    x, n, alpha = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (x, n, alpha)))
    ok = n > 0
    x = np.clip(x, 0, np.where(ok, n, 0))
    with np.errstate(all="ignore"):
        lo = np.where(x > 0, beta.ppf(alpha / 2, x + lower_shift, n - x + upper_shift), 0.0)
        hi = np.where(x < n, beta.ppf(1 - alpha / 2, x + upper_shift, n - x + lower_shift), 1.0)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def effective(x, base, n, n_eff) -> tuple[np.ndarray, np.ndarray]:
    """A count and its base deflated by the group's design effect n / n_eff (never inflated;
    unchanged when n_eff is unknown)."""
    x, base, n, n_eff = (np.asarray(a, dtype=float) for a in (x, base, n, n_eff))
    with np.errstate(all="ignore"):
        ok = np.isfinite(n_eff) & (n_eff > 0) & (n_eff < n)
        shrink = np.where(ok, n_eff / np.where(n > 0, n, 1), 1.0)
    return x * shrink, base * shrink


def ratio_interval(x1, n1, x2, n2, alpha, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MOVER-R interval of (x1/n1) / (x2/n2) from the two Clopper-Pearson intervals.

    Lower bound 0 when x1 is 0; upper bound infinite when x2 is 0 (the reference has no case);
    NaN when either base is empty."""
    x1, n1, x2, n2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (x1, n1, x2, n2)))
    component = clopper_pearson if exact else jeffreys
    l1, u1 = component(x1, n1, alpha)
    l2, u2 = component(x2, n2, alpha)
    with np.errstate(all="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        pp = p1 * p2
        lower = (pp - np.sqrt(np.maximum(pp**2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2), 0))) / (
            u2 * (2 * p2 - u2)
        )
        upper = (pp + np.sqrt(np.maximum(pp**2 - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2), 0))) / (
            l2 * (2 * p2 - l2)
        )
    lower = np.where(x1 <= 0, 0.0, lower)
    upper = np.where((x2 <= 0) | ~np.isfinite(upper), np.inf, upper)
    empty = (n1 <= 0) | (n2 <= 0)
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def calibration_difference_interval(
    x1, n1, predicted1, x2, n2, predicted2, alpha, exact: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """MOVER-D interval of (x1/n1 - predicted1) - (x2/n2 - predicted2), the mean predictions
    taken as known (they are averages of the model's own scores, not of outcomes)."""
    x1, n1, q1, x2, n2, q2 = (
        np.asarray(a, dtype=float) for a in (x1, n1, predicted1, x2, n2, predicted2)
    )
    component = clopper_pearson if exact else jeffreys
    l1, u1 = component(x1, n1, alpha)
    l2, u2 = component(x2, n2, alpha)
    with np.errstate(all="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        d = (p1 - q1) - (p2 - q2)
        lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper
