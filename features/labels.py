"""Outcome labels after each decision, and censoring.

Fixed for the whole product (the synthetic council computes its ground truth on exactly
this definition):
- ``rereferral_12m``: another referral of the same child 1 to 365 days after the decision;
- ``escalation_12m``: a Section 47 enquiry or a child protection plan starting 1 to 365
  days after the decision.
A decision whose window runs past the extract's reference date (decision + 365 days >
reference date) is censored: its labels are missing (NaN), never a negative.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features import timeline as tl

LABELS = ("rereferral_12m", "escalation_12m")


def any_within(
    event_child: np.ndarray, event_day: np.ndarray, child: np.ndarray, day: np.ndarray, days: int
) -> np.ndarray:
    """Whether the child has an event 1 to `days` days after each decision day."""
    keep = event_day != tl.NO_DAY
    keys = np.sort(tl.keys_of(event_child[keep], event_day[keep]))
    order = np.argsort(tl.keys_of(child, day))  # sorted needles: cache-warm searches
    child, day = child[order], day[order]
    lo = np.searchsorted(keys, tl.keys_of(child, day + 1), side="left")
    hi = np.searchsorted(keys, tl.keys_of(child, day + days), side="right")
    found = np.empty(len(order), dtype=bool)
    found[order] = hi > lo
    return found


def labels(
    child: np.ndarray,
    day: np.ndarray,
    referrals: tuple[np.ndarray, np.ndarray],
    escalations: tuple[np.ndarray, np.ndarray],
    reference_date: date,
    window_days: int = 365,
) -> dict[str, np.ndarray]:
    """The two labels (1.0 / 0.0, NaN when censored) and the censored flag."""
    reference_day = int(tl.day_numbers(pd.Series([pd.Timestamp(reference_date)]))[0])
    censored = day + window_days > reference_day
    out: dict[str, np.ndarray] = {"censored": censored}
    for name, (event_child, event_day) in (
        ("rereferral_12m", referrals),
        ("escalation_12m", escalations),
    ):
        value = any_within(event_child, event_day, child, day, window_days).astype(np.float64)
        value[censored] = np.nan
        out[name] = value
    return out
