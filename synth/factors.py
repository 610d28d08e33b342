"""Assessment factors: what a social worker records of the hidden state, imperfectly.

Each present concern is recorded with the recording rate (0.85 by default; lower for the
group hit by the under-recording knob); factors unrelated to the latent concerns appear at
small background rates (scaled by the same recording ratio). No factor at all gives "21".
"""

from __future__ import annotations

import numpy as np

from frontdoor.records.codes import join_factors
from frontdoor.synth import params as P
from frontdoor.synth.chain import STATE_BITS


def factor_probabilities(
    state: np.ndarray,
    age_years: np.ndarray,
    disabled: np.ndarray,
    alcohol: np.ndarray,
    recording: np.ndarray,
) -> dict[str, np.ndarray]:
    """P(code recorded) per assessment for every code the generator uses."""
    b = STATE_BITS[state]
    neg, da, mh, sub, ex = (b[:, i].astype(float) for i in range(5))
    r = recording
    scale = recording / P.RECORDING_RATE
    teen = (age_years >= 11).astype(float)
    dis = disabled.astype(float)
    alc = alcohol.astype(float)
    one = np.ones(len(state))
    return {
        "16A": neg * r + (1 - neg) * 0.03 * scale,
        "3B": da * r + (1 - da) * 0.03 * scale,
        "3A": da * 0.30 * r + 0.005 * scale,
        "3C": (da * 0.08 + 0.01) * scale,
        "17A": (0.30 * da + 0.10 * neg + 0.02) * scale,
        "4B": mh * r + (1 - mh) * 0.04 * scale,
        "1B": sub * r * (alc + 0.2 * (1 - alc)) + (1 - sub) * 0.02 * scale,
        "2B": sub * r * (1 - alc + 0.2 * alc) + (1 - sub) * 0.02 * scale,
        "24A": ex * 0.55 * r + teen * 0.005 * scale,
        "11A": ex * 0.35 * r + teen * 0.003 * scale,
        "10A": ex * 0.50 * r + teen * 0.03 * scale,
        "13A": ex * 0.20 * r,
        "2A": (teen * 0.03 + ex * 0.2) * scale,
        "1A": teen * 0.01 * scale,
        "4A": teen * 0.10 * scale,
        "15A": teen * 0.04 * scale,
        "14A": teen * 0.04 * scale,
        "5A": (dis * 0.40 + 0.01) * scale,
        "6A": (dis * 0.30 + 0.01) * scale,
        "18C": (0.05 + 0.05 * da) * scale,
        "18B": 0.005 * scale * one,
        "19C": 0.015 * scale * one,
        "19B": 0.008 * scale * one,
        "20": 0.10 * scale * one,
        "7A": 0.008 * scale * one,
        "4C": 0.01 * scale * one,
        "1C": 0.01 * scale * one,
        "2C": 0.01 * scale * one,
        "6B": 0.02 * scale * one,
        "5B": 0.015 * scale * one,
        "8E": 0.002 * scale * one,
        "9A": 0.003 * scale * one,
        "12A": 0.002 * scale * one,
        "22A": 0.001 * scale * one,
        "23A": 0.001 * scale * one,
    }


def draw_factors(probs: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Comma-joined factor strings, one per assessment (joined once per distinct pattern)."""
    codes = list(probs)
    n = len(next(iter(probs.values())))
    hit = rng.random((n, len(codes))) < np.column_stack([np.clip(probs[c], 0, 1) for c in codes])
    weights = np.left_shift(np.int64(1), np.arange(len(codes), dtype=np.int64))
    masks = (hit.astype(np.int64) * weights).sum(axis=1)
    uniq, inverse = np.unique(masks, return_inverse=True)
    text = np.array(
        [
            join_factors([c for i, c in enumerate(codes) if (m >> i) & 1]) or "21"
            for m in uniq.tolist()
        ],
        dtype=object,
    )
    return text[inverse]
