"""Which CIN census source code a contact or referral carries, given its source family and age."""

from __future__ import annotations

import numpy as np

from frontdoor.synth import params as P

# family -> (codes, probabilities for children under 5, probabilities for older children)
SOURCE_CODES_BY_FAMILY: dict[str, tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]] = {
    "police": (("6",), (1.0,), (1.0,)),
    "school": (("2A", "2B"), (0.6, 0.4), (0.9, 0.1)),
    "health": (
        ("3A", "3B", "3C", "3D", "3E", "3F"),
        (0.35, 0.20, 0.15, 0.15, 0.10, 0.05),
        (0.02, 0.25, 0.30, 0.25, 0.10, 0.08),
    ),
    "council": (
        ("4", "5A", "5B", "5C", "5D"),
        (0.10, 0.35, 0.20, 0.15, 0.20),
        (0.10, 0.35, 0.20, 0.15, 0.20),
    ),
    "individual": (("1A", "1B", "1C", "1D"), (0.50, 0.25, 0.0, 0.25), (0.45, 0.20, 0.10, 0.25)),
    "anonymous": (("9",), (1.0,), (1.0,)),
    "other": (("7", "8", "10"), (0.5, 0.4, 0.1), (0.5, 0.4, 0.1)),
}


def choose_family(rates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One source family per row, with probability proportional to its rate (rows, families)."""
    cum = np.cumsum(rates, axis=1)
    u = rng.random(len(rates)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), len(P.FAMILIES) - 1)


def source_codes(family: np.ndarray, age_years: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A CIN census source code per row (loops over the few families, never over rows)."""
    out = np.empty(len(family), dtype=object)
    u = rng.random(len(family))
    young = age_years < 5
    for f, name in enumerate(P.FAMILIES):
        codes, p_young, p_old = SOURCE_CODES_BY_FAMILY[name]
        for mask_age, probs in ((young, p_young), (~young, p_old)):
            rows = np.flatnonzero((family == f) & mask_age)
            cum = np.cumsum(probs) / np.sum(probs)
            pick = np.minimum(np.searchsorted(cum, u[rows], side="right"), len(codes) - 1)
            out[rows] = np.asarray(codes, dtype=object)[pick]
    return out
