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

from frontdoor.features import timeline as tl
from frontdoor.records import codes

LABELS = codes.LABELS


def count_between(
    event_child: np.ndarray,
    event_day: np.ndarray,
    child: np.ndarray,
    day: np.ndarray,
    first: int | np.ndarray,
    last: int | np.ndarray,
) -> np.ndarray:
    """How many of the child's events fall `first` to `last` days after each decision day."""
    keep = event_day != tl.NO_DAY
    keys = np.sort(tl.keys_of(event_child[keep], event_day[keep]))
    order = np.argsort(tl.keys_of(child, day))  # sorted needles: cache-warm searches
    first = np.broadcast_to(first, day.shape)[order]
    last = np.broadcast_to(last, day.shape)[order]
    child, day = child[order], day[order]
    lo = np.searchsorted(keys, tl.keys_of(child, day + first), side="left")
    hi = np.searchsorted(keys, tl.keys_of(child, day + last), side="right")
    out = np.empty(len(order), dtype=np.int64)
    out[order] = np.maximum(hi - lo, 0)
    return out


def labels(
    child: np.ndarray,
    day: np.ndarray,
    referrals: tuple[np.ndarray, np.ndarray],
    escalations: tuple[np.ndarray, np.ndarray],
    reference_date: date,
    window_days: int = 365,
    own_referral_days: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The two labels (1.0 / 0.0, NaN when censored) and the censored flag.

    ``own_referral_days`` (per decision, 0 for none) marks contact decisions: the child's
    first referral within that many days after a contact is the referral the contact became,
    not another referral, so it does not count towards ``rereferral_12m``.
    """
    reference_day = int(tl.day_numbers(pd.Series([pd.Timestamp(reference_date)]))[0])
    censored = day + window_days > reference_day
    out: dict[str, np.ndarray] = {"censored": censored}
    for name, (event_child, event_day) in (
        ("rereferral_12m", referrals),
        ("escalation_12m", escalations),
    ):
        found = count_between(event_child, event_day, child, day, 1, window_days)
        if name == "rereferral_12m" and own_referral_days is not None:
            # The contact's own referral is its child's first within the allowance; on the
            # contact's own day it is already outside the 1..365 window, so nothing to remove.
            own = own_referral_days > 0
            own &= count_between(event_child, event_day, child, day, 1, own_referral_days) > 0
            own &= count_between(event_child, event_day, child, day, 0, 0) == 0
            found = found - own
        value = (found > 0).astype(np.float64)
        value[censored] = np.nan
        out[name] = value
    return out
