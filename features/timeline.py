"""Events as sorted integer keys, so that "what was known before day d" is a binary search.

Every event becomes one int64 key ``entity << DAY_BITS | day`` (entity = child or household
code, day = days since 1900-01-01). Sorted once per table and scope, the records of one
entity known strictly before day ``d`` are the slice
``[searchsorted(keys, entity << DAY_BITS), searchsorted(keys, entity << DAY_BITS | d))``,
and a window of N days starts at ``searchsorted(keys, entity << DAY_BITS | d - N)``.
No Python loop touches a row or a child.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DAY_BITS = 18  # 262,144 days: 1900 to 2617, with room for label windows after a decision
DAY_ZERO = np.datetime64("1900-01-01", "D")
NO_DAY = -1


def day_numbers(values: Any) -> np.ndarray:
    """Days since 1900-01-01 as int64; missing dates (NaT) become NO_DAY."""
    series = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series)
    days = series.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out: np.ndarray = (days - DAY_ZERO).astype(np.int64)
    out[np.isnat(days)] = NO_DAY
    if (out[out != NO_DAY] < 0).any() or (out >= (1 << DAY_BITS)).any():
        raise ValueError("dates must fall between 1900-01-01 and 2617")
    return out


def keys_of(entity: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    return (np.asarray(entity, dtype=np.int64) << DAY_BITS) | np.asarray(day, dtype=np.int64)


@dataclass
class Timeline:
    """One scope's events of one table, sorted by (entity, day)."""

    keys: np.ndarray  # sorted int64 keys
    order: np.ndarray  # positions in the table's kept rows, in key order
    child: np.ndarray | None  # the child code of each sorted event (household scope only)

    @classmethod
    def build(
        cls, entity: np.ndarray, day: np.ndarray, child: np.ndarray | None = None
    ) -> Timeline:
        keys = keys_of(entity, day)
        # ties (same entity and day) may fall in any order: no output depends on it
        order = np.argsort(keys)
        return cls(keys=keys[order], order=order, child=None if child is None else child[order])

    def subset(self, mask: np.ndarray | None) -> Timeline:
        """The events passing a filter (mask over the table's kept rows), still sorted."""
        if mask is None:
            return self
        keep = mask[self.order]
        return Timeline(
            keys=self.keys[keep],
            order=np.empty(0, dtype=np.int64),  # not needed once filtered
            child=None if self.child is None else self.child[keep],
        )


def known_before(keys: np.ndarray, entity: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Index one past the last event of `entity` known strictly before `day`."""
    return np.searchsorted(keys, keys_of(entity, day), side="left")


def first_of(keys: np.ndarray, entity: np.ndarray) -> np.ndarray:
    """Index of each entity's first event (all history starts here), by counting events per
    entity once (a bincount and a running sum) instead of a binary search per decision."""
    entity = np.asarray(entity, dtype=np.int64)
    size = int(max(entity.max(initial=-1), (keys[-1] >> DAY_BITS) if len(keys) else -1)) + 1
    per_entity = (
        np.bincount(keys >> DAY_BITS, minlength=size) if len(keys) else np.zeros(size, np.int64)
    )
    starts = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(per_entity, out=starts[1:])
    return np.where(entity >= 0, starts[np.maximum(entity, 0)], 0)


def window_start(keys: np.ndarray, entity: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    """Index of the first event of `entity` known at most `days` days before `day`."""
    start_day = np.maximum(day - days, 0)
    return np.searchsorted(keys, keys_of(entity, start_day), side="left")


def day_of(keys: np.ndarray, index: np.ndarray) -> np.ndarray:
    days: np.ndarray = keys[index] & ((1 << DAY_BITS) - 1)
    return days


def previous_other_child(timeline: Timeline) -> np.ndarray:
    """For each sorted household event, the index of the latest earlier-sorted event of a
    different child (-1 if none). Used to skip the child's own records in household scope."""
    n = len(timeline.keys)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    entity = timeline.keys >> DAY_BITS
    assert timeline.child is not None, "a household timeline (built with its children)"
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (timeline.child[1:] != timeline.child[:-1]) | (entity[1:] != entity[:-1])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    prev = run_start - 1
    ok = prev >= 0
    ok[ok] = entity[prev[ok]] == entity[ok]
    return np.where(ok, prev, -1)
