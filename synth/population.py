"""Households and children: who lives in the synthetic council (vectorised, seeded).

Siblings share a household, its ethnicity, its IDACI decile and its latent concerns.
Birth months are spread so that, over the window, children of every age 0..17 are present;
children born during the window join at birth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frontdoor.records.codes import ETHNICITY_MAJOR_GROUP
from frontdoor.synth import params as P

# Share of children by DfE ethnicity code (England's pupils, roughly; normalised below).
ETHNICITY_MIX: dict[str, float] = {
    "WBRI": 0.630,
    "WIRI": 0.003,
    "WOTH": 0.072,
    "WIRT": 0.002,
    "WROM": 0.005,
    "MWBC": 0.015,
    "MWBA": 0.008,
    "MWAS": 0.017,
    "MOTH": 0.021,
    "AIND": 0.034,
    "APKN": 0.045,
    "ABAN": 0.017,
    "AOTH": 0.020,
    "BCRB": 0.011,
    "BAFR": 0.040,
    "BOTH": 0.009,
    "CHNE": 0.005,
    "OOTH": 0.020,
    "REFU": 0.010,
    "NOBT": 0.016,
}
ETHNICITY_CODES = tuple(ETHNICITY_MIX)
# A typical urban council is more deprived than England: weights of IDACI deciles 1..10.
DECILE_WEIGHTS = np.array([0.14, 0.13, 0.12, 0.11, 0.10, 0.09, 0.09, 0.08, 0.07, 0.07])
# Some groups live in more deprived areas (weights times exp(-tilt * (decile - 1))).
DEPRIVATION_TILT = {
    "WIRT": 0.25,
    "WROM": 0.25,
    "APKN": 0.10,
    "ABAN": 0.12,
    "BCRB": 0.05,
    "BAFR": 0.05,
    "BOTH": 0.05,
    "MWBC": 0.05,
}
HOUSEHOLD_SIZE_PROBS = np.array([0.42, 0.37, 0.14, 0.05, 0.02])  # 1..5 children
SEX_PROBS = np.array([0.512, 0.486, 0.002])  # M, F, U
SEX_CODES = np.array(["M", "F", "U"], dtype=object)
ALCOHOL_SHARE = 0.45  # of households whose substance concern is alcohol (else drugs)


@dataclass(frozen=True)
class Population:
    """Per child and per household arrays (child ``i`` lives in household ``household[i]``)."""

    household: np.ndarray  # int32 (children,)
    birth_month: np.ndarray  # int32 months relative to the window's first month
    sex: np.ndarray  # object codes
    disability: np.ndarray  # bool
    ethnicity: np.ndarray  # int16 index into ETHNICITY_CODES (children)
    household_decile: np.ndarray  # int8 0..9 (decile - 1), per household
    household_alcohol: np.ndarray  # bool per household
    n_households: int

    @property
    def n_children(self) -> int:
        return len(self.household)

    @property
    def decile(self) -> np.ndarray:
        """Per child, 0..9 (IDACI decile minus one)."""
        return self.household_decile[self.household]


def build_population(n_children: int, n_months: int, rng: np.random.Generator) -> Population:
    """``n_children`` children whose childhoods overlap a window of ``n_months`` months."""
    mean_size = float((np.arange(1, 6) * HOUSEHOLD_SIZE_PROBS).sum())
    n_draw = int(n_children / mean_size * 1.2) + 10
    sizes = rng.choice(np.arange(1, 6), size=n_draw, p=HOUSEHOLD_SIZE_PROBS)
    cum = np.cumsum(sizes)
    n_households = int(np.searchsorted(cum, n_children) + 1)
    sizes = sizes[:n_households].copy()
    sizes[-1] -= int(cum[n_households - 1] - n_children)
    first_child = np.cumsum(sizes) - sizes
    household = np.repeat(np.arange(n_households, dtype=np.int32), sizes)

    # Birth months: first child uniform so that the whole family fits the range of months
    # in which a child is under 18 at some point of the window; siblings 1 to 4 years apart.
    rank = np.arange(n_children) - np.repeat(first_child, sizes)
    gaps = np.where(rank > 0, 12 + rng.poisson(16, size=n_children), 0)
    offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first_child], sizes)
    span = np.zeros(n_households, dtype=np.int64)
    np.maximum.at(span, household, offset)
    lo, hi = -(P.AGE_OUT_MONTHS - 1), n_months - 1
    first = lo + np.floor(rng.random(n_households) * (hi - lo + 1 - span)).astype(np.int64)
    birth_month = (first[household] + offset).astype(np.int32)

    weights = np.array(list(ETHNICITY_MIX.values()))
    eth_h = rng.choice(len(ETHNICITY_CODES), size=n_households, p=weights / weights.sum())
    tilt = np.array([DEPRIVATION_TILT.get(c, 0.0) for c in ETHNICITY_CODES])
    dec_w = DECILE_WEIGHTS[None, :] * np.exp(-tilt[:, None] * np.arange(10)[None, :])
    dec_cdf = np.cumsum(dec_w / dec_w.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(n_households)
    household_decile = (u[:, None] > dec_cdf[eth_h]).sum(axis=1).astype(np.int8)
    household_alcohol = rng.random(n_households) < ALCOHOL_SHARE

    sex = SEX_CODES[rng.choice(3, size=n_children, p=SEX_PROBS)]
    dec_child = household_decile[household]
    disability = rng.random(n_children) < 0.035 * np.exp(0.06 * (4.5 - dec_child))
    return Population(
        household=household,
        birth_month=birth_month,
        sex=sex,
        disability=disability,
        ethnicity=eth_h[household].astype(np.int16),
        household_decile=household_decile,
        household_alcohol=household_alcohol,
        n_households=n_households,
    )


def major_group_of_codes() -> np.ndarray:
    """Major ethnic group name for each index of ETHNICITY_CODES."""
    return np.array([ETHNICITY_MAJOR_GROUP[c] for c in ETHNICITY_CODES], dtype=object)
