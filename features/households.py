"""Who a child's siblings were at a decision, from dated household memberships.

Without a ``household_memberships`` table, household features use ``children.household_id``,
a snapshot as of the extract (the engine's household timelines). With one, a sibling counts
for a decision only if both children were members of the same household at the decision:
each membership known (started strictly before the decision day) and not yet ended (an end
is known on its day, so a membership ending on the decision day still holds). A child who
joined after the decision, or left before it, is not a sibling of that decision; what such a
child's records say is never counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from frontdoor.features import timeline as tl

OPEN_END = np.iinfo(np.int64).max


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): the range number and the position of every member, flattened."""
    n = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(lo)), n)
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return which, np.repeat(lo, n) + offsets


@dataclass
class Memberships:
    """Dated memberships as integer arrays (child codes, household codes, days)."""

    child: np.ndarray
    household: np.ndarray
    start: np.ndarray
    end: np.ndarray  # OPEN_END while the child still lives there

    @classmethod
    def from_table(cls, frame: pd.DataFrame, child_codes: np.ndarray) -> Memberships:
        start = tl.day_numbers(frame["start_date"])
        end = tl.day_numbers(frame["end_date"])
        end = np.where(end == tl.NO_DAY, OPEN_END, end)
        households = pd.factorize(frame["household_id"].astype(object), use_na_sentinel=True)[0]
        keep = (child_codes >= 0) & (start != tl.NO_DAY) & (households >= 0)
        return cls(
            child=child_codes[keep].astype(np.int64),
            household=households[keep].astype(np.int64),
            start=start[keep],
            end=end[keep],
        )

    def _covering(self, rows: np.ndarray, day: np.ndarray) -> np.ndarray:
        covering: np.ndarray = (self.start[rows] < day) & (self.end[rows] >= day)
        return covering

    def homes_at(self, child: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(decision index, household code) for every household each decision's child lived in
        at the decision."""
        by_child = np.argsort(self.child, kind="stable")
        sorted_child = self.child[by_child]
        which, pos = _expand(
            np.searchsorted(sorted_child, child, "left"),
            np.searchsorted(sorted_child, child, "right"),
        )
        rows = by_child[pos]
        ok = self._covering(rows, day[which])
        return which[ok], self.household[rows[ok]]

    def sibling_pairs(
        self,
        child: np.ndarray,
        day: np.ndarray,
        chunk: int = 4_000_000,
        homes: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(decision index, sibling code) for every sibling of every decision, each pair once.

        Two binary-search expansions: the decision's child's memberships that hold at the
        decision, then the members of those households who joined before it (memberships
        sorted by household and start, so later joiners are never looked at), of whom those
        still there count. The second expansion runs in slices of at most ``chunk`` candidate
        rows, so a household with thousands of past members (a children's home, a placeholder
        id) costs time, not memory.
        """
        decision, household = self.homes_at(child, day) if homes is None else homes

        by_start = np.lexsort((self.start, self.household))
        keys = tl.keys_of(self.household[by_start], self.start[by_start])
        lo = np.searchsorted(keys, tl.keys_of(household, 0), side="left")
        hi = np.searchsorted(keys, tl.keys_of(household, day[decision]), side="left")  # start < day
        sizes = np.maximum(hi - lo, 0)
        found_decision, found_sibling = [], []
        cum = np.cumsum(sizes)
        cuts = np.searchsorted(
            cum, np.arange(chunk, int(cum[-1]) if len(cum) else 0, chunk), "right"
        )
        edges = np.unique(np.concatenate([[0], cuts, [len(sizes)]]))
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            which, pos = _expand(lo[a:b], hi[a:b])
            rows = by_start[pos]
            d = decision[a:b][which]
            keep = (self.end[rows] >= day[d]) & (self.child[rows] != child[d])
            found_decision.append(d[keep])
            found_sibling.append(self.child[rows[keep]])
        decision = np.concatenate(found_decision) if found_decision else np.zeros(0, np.int64)
        sibling = np.concatenate(found_sibling) if found_sibling else np.zeros(0, np.int64)
        # a sibling met through two shared households is still one sibling
        width = int(max(self.child.max(initial=0), child.max(initial=0))) + 1
        unique = np.unique(decision.astype(np.int64) * width + sibling)
        return unique // width, unique % width
