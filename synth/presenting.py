"""Presenting concerns: what the front door writes down about why a contact came in.

Each contact has one cause: the child's background rate or one of the concerns present that
month, chosen in proportion to that cause's share of the contact's source family rate (the
rates of ``synth.chain``; a contact that comes with the onset of a concern is caused by it).
The front door records the cause with the child's recording rate (lower for the group hit by
the under-recording knob), each other present concern with ``PRESENTING_CO_RECORD`` times
that rate (what the caller also mentions: the "toxic trio" rarely comes alone), and a few
unrelated concerns at a small background rate. Nothing recorded gives "21" (no factors).
The codes are the CIN census factor codes, so one vocabulary serves contacts and assessments.
"""

from __future__ import annotations

import numpy as np

from frontdoor.records.codes import join_factors
from frontdoor.synth import params as P
from frontdoor.synth.chain import STATE_BITS, decile_multiplier

# The factor code a concern is recorded under (substance misuse: alcohol or drugs, by household;
# exploitation: criminal or sexual).
NEGLECT_CODE, DA_CODE, MH_CODE = "16A", "3B", "4B"
ALCOHOL_CODE, DRUGS_CODE = "1B", "2B"
CRIMINAL_EXPLOITATION_CODE, SEXUAL_EXPLOITATION_CODE = "24A", "11A"
CODES = (
    NEGLECT_CODE,
    DA_CODE,
    MH_CODE,
    ALCOHOL_CODE,
    DRUGS_CODE,
    CRIMINAL_EXPLOITATION_CODE,
    SEXUAL_EXPLOITATION_CODE,
)


def cause_weights(
    family: np.ndarray,
    state: np.ndarray,
    decile: np.ndarray,
    disability: np.ndarray,
    background_ratio: float,
    concern_ratio: float,
) -> np.ndarray:
    """Relative rate of each cause (background, N, D, M, S, E) of a contact: (rows, 6).

    The age profile, the on-plan and the surveillance multipliers scale every cause of a source
    family alike, so they cancel; deprivation and disability touch only the background.
    """
    dis = np.ones((2, len(P.FAMILIES)))
    for fam in ("health", "council"):
        dis[1, P.FAMILIES.index(fam)] = P.DISABILITY_MULT
    background = (
        background_ratio
        * P.REFERRAL_BACKGROUND[family]
        * decile_multiplier(P.BACKGROUND_DEPRIVATION_SLOPE)[decile]
        * dis[disability.astype(np.int64), family]
    )
    bits = STATE_BITS[state][:, :5].astype(float)
    concern = concern_ratio * P.REFERRAL_CONCERN_SCALE * bits * P.REFERRAL_BY_CONCERN[:, family].T
    return np.column_stack([background, concern])


def draw_cause(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """-1 for the background, else the concern (0..4) that caused each contact."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), weights.shape[1] - 1) - 1


def draw_presenting_concerns(
    cause: np.ndarray,
    state: np.ndarray,
    recording: np.ndarray,
    alcohol: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Comma-joined factor codes recorded for each contact ("21" when none)."""
    n = len(cause)
    present = STATE_BITS[state][:, :5]
    is_cause = cause[:, None] == np.arange(5)[None, :]
    r = recording[:, None]
    p = np.where(is_cause, r, np.where(present, r * P.PRESENTING_CO_RECORD, 0.0))
    p = p + (~present) * P.PRESENTING_BACKGROUND * (r / P.RECORDING_RATE)
    hit = rng.random((n, 5)) < p
    sexual = rng.random(n) < P.PRESENTING_SEXUAL_EXPLOITATION_SHARE
    # bits of CODES: N, D, M, alcohol, drugs, criminal exploitation, sexual exploitation
    mask = (
        hit[:, 0] * 1
        + hit[:, 1] * 2
        + hit[:, 2] * 4
        + (hit[:, 3] & alcohol) * 8
        + (hit[:, 3] & ~alcohol) * 16
        + (hit[:, 4] & ~sexual) * 32
        + (hit[:, 4] & sexual) * 64
    ).astype(np.int64)
    uniq, inverse = np.unique(mask, return_inverse=True)
    text = np.array(
        [join_factors([c for i, c in enumerate(CODES) if (m >> i) & 1]) or "21" for m in uniq],
        dtype=object,
    )
    return text[inverse.ravel()] if n else np.empty(0, dtype=object)
