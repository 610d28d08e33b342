"""The engine: every declared feature for every decision point, in whole-array passes.

Each source table is read once: its child codes, its knowledge days (records without a
knowledge date are dropped here, so they can never count), and its derived columns.
It is sorted once per scope (child, household). Each feature is then a filter mask over
that table and two binary searches per decision (`features.timeline`). Features that
share a source, a filter and a scope share the sorted subset and the upper bound.
The only Python loop is over declared features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from frontdoor.features import timeline as tl
from frontdoor.features.declarations import FEATURES, Feature
from frontdoor.features.households import Memberships
from frontdoor.records import codes
from frontdoor.records.contract import TABLES, empty_frame

REREFERRAL_WINDOW_DAYS = 365


@dataclass
class Decisions:
    """Decision points as integer arrays (one entry per decision, in the caller's order)."""

    child: np.ndarray  # child code
    household: np.ndarray  # household code, -1 when unknown
    day: np.ndarray  # decision day (days since 1900-01-01)
    birth_day: np.ndarray  # first day of the month of birth, tl.NO_DAY when unknown


@dataclass
class Population:
    """The children the decisions are about: integer codes for ids and households."""

    child_ids: pa.Array  # large_string; the code of a child is its position here
    household_of_child: np.ndarray  # household code per child code, -1 when unknown
    _table_codes: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, children: pd.DataFrame, *decision_child_ids: pd.Series) -> Population:
        """Every child of the children table, then any decision's child missing from it."""
        listed = arrow_strings(children["child_id"])
        known = pc.unique(listed).drop_null()
        if decision_child_ids:
            asked = pa.chunked_array([arrow_strings(ids) for ids in decision_child_ids])
            asked = pc.unique(asked).drop_null()
            extra = asked.filter(pc.invert(pc.is_in(asked, value_set=known)))
            child_ids = pa.concat_arrays([_array(known), _array(extra)])
        else:
            child_ids = _array(known)
        population = cls(child_ids=child_ids, household_of_child=np.empty(0, dtype=np.int64))
        household = np.full(len(child_ids), -1, dtype=np.int64)
        if len(children):
            at = population.codes_of(children["child_id"])
            encoded = _dictionary_encode(arrow_strings(children["household_id"]))
            codes_hh = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            ok = at >= 0
            household[at[ok]] = codes_hh[ok]
        population.household_of_child = household
        return population

    def codes_of(self, ids: Any) -> np.ndarray:
        """Child codes of an id column (-1 for unknown or missing ids).

        Hashes in Arrow (C++) rather than in Python objects: about 3 times faster for the
        10 million ids of a large extract, whether the column holds Arrow or object strings."""
        found = pc.index_in(arrow_strings(ids), value_set=self.child_ids)
        codes_: np.ndarray = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
        return codes_.astype(np.int64)

    def table_codes(self, name: str, frame: pd.DataFrame) -> np.ndarray:
        """Child codes of a table's rows, computed once per table and reused."""
        if name not in self._table_codes:
            self._table_codes[name] = self.codes_of(frame["child_id"])
        return self._table_codes[name]


def _array(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _dictionary_encode(array: Any) -> pa.DictionaryArray:
    return _array(pc.dictionary_encode(_array(array)))


def arrow_strings(values: Any) -> pa.Array | pa.ChunkedArray:
    series = values.to_series() if isinstance(values, pd.Index) else pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    return pc.cast(pa.array(series, from_pandas=True), pa.large_string())


@dataclass
class SourceEvents:
    """One table's events known at some date: codes, days, columns for filters."""

    name: str
    frame: pd.DataFrame  # only the kept rows (with a knowledge date and a known child)
    child: np.ndarray
    day: np.ndarray
    household: np.ndarray
    _timelines: dict[str, tl.Timeline] = field(default_factory=dict)
    _factorized: dict[str, tuple[np.ndarray, list[Any]]] = field(default_factory=dict)

    @classmethod
    def from_table(
        cls, name: str, frame: pd.DataFrame, population: Population, columns: Sequence[str]
    ) -> SourceEvents:
        kd_column = TABLES[name].knowledge_date
        child = population.table_codes(name, frame)
        day = tl.day_numbers(frame[kd_column])
        keep = (child >= 0) & (day != tl.NO_DAY)
        kept = frame.loc[keep, [c for c in columns if c in frame.columns]].reset_index(drop=True)
        child = child[keep]
        return cls(
            name=name,
            frame=kept,
            child=child,
            day=day[keep],
            household=population.household_of_child[child],
        )

    def timeline(self, scope: str) -> tl.Timeline:
        if scope not in self._timelines:
            if scope == "child":
                self._timelines[scope] = tl.Timeline.build(self.child, self.day)
            else:
                has = self.household >= 0
                timeline = tl.Timeline.build(self.household[has], self.day[has], self.child[has])
                # positions refer to the kept rows, so masks over the table still apply
                timeline.order = np.flatnonzero(has)[timeline.order]
                self._timelines[scope] = timeline
        return self._timelines[scope]

    def end_timeline(self) -> tl.Timeline:
        """The child-scope timeline of end dates (records without one never end); an end
        before the start counts as ending at the start."""
        if "end" not in self._timelines:
            end = tl.day_numbers(self.frame[TABLES[self.name].end_date])
            has = end != tl.NO_DAY
            timeline = tl.Timeline.build(self.child[has], np.maximum(end, self.day)[has])
            timeline.order = np.flatnonzero(has)[timeline.order]
            self._timelines["end"] = timeline
        return self._timelines["end"]

    def factorized(self, column: str) -> tuple[np.ndarray, list[Any]]:
        """Codes (-1 for missing) and distinct values of a column, hashed in Arrow."""
        if column not in self._factorized:
            encoded = _dictionary_encode(pa.array(self.frame[column], from_pandas=True))
            indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            self._factorized[column] = (indices.astype(np.int64), encoded.dictionary.to_pylist())
        return self._factorized[column]

    def mask(self, where: Mapping[str, tuple[object, ...]]) -> np.ndarray | None:
        """Rows passing a declarative filter: every column's value among the allowed ones
        (for the factors column: any of the listed factor codes identified). Each filter is
        decided once per distinct value, then spread to the rows by their codes."""
        if not where:
            return None
        mask = np.ones(len(self.day), dtype=bool)
        table = TABLES[self.name]
        for column, allowed in where.items():
            wanted = set(allowed)
            if column == "is_rereferral":
                mask &= np.isin(is_rereferral(self.child, self.day), np.asarray(list(wanted)))
                continue
            if column == "source_family":
                codes_, uniques = self.factorized("source")
                ok = [codes.SOURCE_FAMILY.get(u) in wanted for u in uniques]
            elif column in table.column_names and table.column(column).dtype == "factors":
                codes_, uniques = self.factorized(column)
                ok = [bool(wanted.intersection(codes.factor_list(u))) for u in uniques]
            else:
                codes_, uniques = self.factorized(column)
                ok = [u in wanted for u in uniques]
            lookup = np.append(np.asarray(ok, dtype=bool), False)  # code -1: missing, never
            mask &= lookup[codes_]
        return mask


def is_rereferral(child: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each referral came 1 to 365 days after an earlier referral of the same child."""
    timeline = tl.Timeline.build(child, day)
    before = tl.known_before(timeline.keys, child, day)
    start = tl.window_start(timeline.keys, child, day, REREFERRAL_WINDOW_DAYS)
    rereferred: np.ndarray = (before - start) > 0
    return rereferred


class Engine:
    """Computes declared features for decision points over a dict of canonical tables."""

    def __init__(self, tables: dict[str, pd.DataFrame], population: Population):
        self.tables = tables
        self.population = population
        self._sources: dict[str, SourceEvents] = {}
        self._bounds: dict[tuple[Any, ...], np.ndarray] = {}
        self._subsets: dict[tuple[Any, ...], tl.Timeline] = {}
        self._household_order = np.empty(0, dtype=np.int64)
        # Dated memberships, when the council supplies them: siblings as of each decision.
        frame = tables.get("household_memberships")
        self._memberships = None
        if frame is not None and len(frame):
            # Only children of the children table are members (as in the snapshot), whichever
            # decision points were asked for.
            listed = np.zeros(len(population.child_ids), dtype=bool)
            known = population.codes_of(tables["children"]["child_id"])
            listed[known[known >= 0]] = True
            codes_ = population.codes_of(frame["child_id"])
            codes_ = np.where((codes_ >= 0) & listed[np.maximum(codes_, 0)], codes_, -1)
            self._memberships = Memberships.from_table(frame, codes_)
        self._sibling_pairs: tuple[np.ndarray, np.ndarray] | None = None
        self.decisions_without_household: int | None = None  # with dated memberships only

    def source(self, name: str, features: Sequence[Feature]) -> SourceEvents:
        if name not in self._sources:
            known, end = TABLES[name].knowledge_date, TABLES[name].end_date
            columns: set[str] = {"child_id", *([known] if known else [])}
            for f in features:
                if f.source == name and f.agg == "open" and end:
                    columns.add(end)
                if f.source == name:
                    columns.update(c for c in f.where if c in TABLES[name].column_names)
                    if "source_family" in f.where:
                        columns.add("source")
            frame = self.tables.get(name)
            if frame is None:
                frame = empty_frame(name)
            table = TABLES[name]
            absent = columns - set(frame.columns)
            optional = {c for c in absent if c in table.column_names and table.column(c).nullable}
            if optional:  # a nullable column the source does not hold is empty (as `conform`)
                frame = frame.assign(
                    **{c: pd.Series(None, index=frame.index, dtype=object) for c in optional}
                )
            missing = sorted(absent - optional)
            if missing:
                users = sorted(
                    f.name
                    for f in features
                    if f.source == name
                    and (
                        missing[0] in f.where
                        or missing[0] in ("child_id", table.knowledge_date, table.end_date)
                        or (missing[0] == "source" and "source_family" in f.where)
                    )
                )
                raise ValueError(
                    f"table {name!r} has no column {missing[0]!r}, needed by the features "
                    f"{', '.join(users[:3])}{' ...' if len(users) > 3 else ''} "
                    "(see docs/data-contract.md)"
                )
            self._sources[name] = SourceEvents.from_table(
                name, frame, self.population, sorted(columns)
            )
        return self._sources[name]

    def compute(
        self, decisions: Decisions, features: Sequence[Feature] = FEATURES
    ) -> dict[str, np.ndarray]:
        """Feature name -> values (one per decision, in the decisions' order).

        Features sharing a source and a filter are computed together, so their sorted
        subset and binary searches are shared, then released before the next group."""
        # Binary searches run much faster on sorted needles (the cache stays warm): sort the
        # decisions by (child, day) here, and by (household, day) for household searches.
        order = np.argsort(tl.keys_of(decisions.child, decisions.day))
        d = Decisions(
            child=decisions.child[order],
            household=decisions.household[order],
            day=decisions.day[order],
            birth_day=decisions.birth_day[order],
        )
        self._household_order = np.argsort(tl.keys_of(d.household, d.day))
        if self._memberships is not None:
            homes = self._memberships.homes_at(d.child, d.day)
            self._sibling_pairs = self._memberships.sibling_pairs(d.child, d.day, homes=homes)
            # no siblings then: memberships that start late or cover part of the council
            self.decisions_without_household = len(d.child) - len(np.unique(homes[0]))
        groups: dict[tuple[Any, ...], list[Feature]] = {}
        for feature in features:
            groups.setdefault((feature.source, tuple(feature.where.items())), []).append(feature)
        out: dict[str, np.ndarray] = {}
        for group in groups.values():
            for feature in group:
                values = self._one(feature, d, features)
                unsorted = np.empty_like(values)
                unsorted[order] = values
                out[feature.name] = unsorted
            self._subsets.clear()
            self._bounds.clear()
        return {f.name: out[f.name] for f in features}

    # --- one feature ---------------------------------------------------------------------
    def _one(self, f: Feature, d: Decisions, features: Sequence[Feature]) -> np.ndarray:
        if f.agg == "age_years":
            return age_in_years(d.birth_day, d.day)
        events = self.source(f.source, features)
        if f.scope == "child":
            return self._child_value(f, events, d)
        if self._sibling_pairs is not None:
            return self._dated_household_value(f, events, d)
        return self._household_value(f, events, d)

    def _subset(self, events: SourceEvents, f: Feature, scope: str) -> tl.Timeline:
        key = (f.source, tuple(f.where.items()), scope)
        if key not in self._subsets:
            self._subsets[key] = events.timeline(scope).subset(events.mask(f.where))
        return self._subsets[key]

    def _bound(
        self,
        kind: str,
        timeline: tl.Timeline,
        f: Feature,
        scope: str,
        d: Decisions,
        window: int | None = None,
    ) -> np.ndarray:
        key = (kind, f.source, tuple(f.where.items()), scope, window)
        if key not in self._bounds:
            if scope == "child":
                entity, day, order = d.child, d.day, None
            else:
                order = self._household_order
                entity, day = d.household[order], d.day[order]
            if kind == "before":
                value = tl.known_before(timeline.keys, entity, day)
            elif kind == "first":
                value = tl.first_of(timeline.keys, entity)
            else:
                assert window is not None  # "start" bounds are of a window
                value = tl.window_start(timeline.keys, entity, day, window)
            if order is not None:
                value[order] = value.copy()
            self._bounds[key] = value
        return self._bounds[key]

    def _count(self, f: Feature, events: SourceEvents, d: Decisions, scope: str) -> np.ndarray:
        timeline = self._subset(events, f, scope)
        hi = self._bound("before", timeline, f, scope, d)
        if f.window_days is None:
            lo = self._bound("first", timeline, f, scope, d)
        else:
            lo = self._bound("start", timeline, f, scope, d, f.window_days)
        counts: np.ndarray = hi - lo
        return counts

    def _child_value(self, f: Feature, events: SourceEvents, d: Decisions) -> np.ndarray:
        if f.agg == "count":
            return self._count(f, events, d, "child").astype(np.int32)
        if f.agg == "any":
            return (self._count(f, events, d, "child") > 0).astype(np.int32)
        if f.agg == "days_since_last":
            timeline = self._subset(events, f, "child")
            hi = self._bound("before", timeline, f, "child", d)
            first = self._bound("first", timeline, f, "child", d)
            has = hi > first
            out = np.full(len(d.day), np.nan)
            out[has] = d.day[has] - tl.day_of(timeline.keys, hi[has] - 1)
            return out
        if f.agg == "open":
            # started before the decision, minus ended before it (an end is known on its day)
            started = self._count(f, events, d, "child")
            ends = events.end_timeline().subset(events.mask(f.where))
            ended = tl.known_before(ends.keys, d.child, d.day) - tl.first_of(ends.keys, d.child)
            is_open: np.ndarray = (started - ended) > 0
            return is_open.astype(np.int32)
        raise ValueError(f"{f.name}: unknown aggregation {f.agg!r}")

    def _dated_household_value(self, f: Feature, events: SourceEvents, d: Decisions) -> np.ndarray:
        """Household scope from dated memberships: the records of each decision's siblings
        at the decision (``features.households``), searched in their own child timelines."""
        assert self._sibling_pairs is not None  # set by compute() with dated memberships
        decision, sibling = self._sibling_pairs
        timeline = self._subset(events, f, "child")
        day = d.day[decision]
        hi = tl.known_before(timeline.keys, sibling, day)
        if f.agg in ("count", "any"):
            if f.window_days is None:
                lo = tl.first_of(timeline.keys, sibling)
            else:
                lo = tl.window_start(timeline.keys, sibling, day, f.window_days)
            total = np.bincount(decision, weights=hi - lo, minlength=len(d.day))
            return ((total > 0) if f.agg == "any" else total).astype(np.int32)
        if f.agg == "days_since_last":
            has = hi > tl.first_of(timeline.keys, sibling)
            last = np.full(len(d.day), -1, dtype=np.int64)
            np.maximum.at(last, decision[has], tl.day_of(timeline.keys, hi[has] - 1))
            out = np.full(len(d.day), np.nan)
            out[last >= 0] = d.day[last >= 0] - last[last >= 0]
            return out
        raise ValueError(f"{f.name}: aggregation {f.agg!r} has no household form")

    def _household_value(self, f: Feature, events: SourceEvents, d: Decisions) -> np.ndarray:
        has_household = d.household >= 0
        if f.agg in ("count", "any"):
            total = self._count(f, events, d, "household")
            own = self._count(f, events, d, "child")
            siblings = np.where(has_household, total - own, 0)
            if f.agg == "any":
                siblings = siblings > 0
            return siblings.astype(np.int32)
        if f.agg == "days_since_last":
            timeline = self._subset(events, f, "household")
            hi = self._bound("before", timeline, f, "household", d)
            first = self._bound("first", timeline, f, "household", d)
            previous = tl.previous_other_child(timeline)
            last = hi - 1
            ok = has_household & (last >= first)
            mine = np.zeros(len(last), dtype=bool)
            assert timeline.child is not None  # household timelines carry their children
            mine[ok] = timeline.child[last[ok]] == d.child[ok]
            last = np.where(mine, previous[np.maximum(last, 0)] if len(previous) else -1, last)
            ok &= last >= first
            out = np.full(len(d.day), np.nan)
            out[ok] = d.day[ok] - tl.day_of(timeline.keys, last[ok])
            return out
        raise ValueError(f"{f.name}: unknown aggregation {f.agg!r}")


def age_in_years(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years from the month of birth to the decision's month (NaN when unknown)."""
    known = birth_day != tl.NO_DAY
    out = np.full(len(day), np.nan)
    if known.any():
        birth = (tl.DAY_ZERO + birth_day[known]).astype("datetime64[M]").astype(np.int64)
        at = (tl.DAY_ZERO + day[known]).astype("datetime64[M]").astype(np.int64)
        out[known] = np.floor_divide(at - birth, 12)
    return out
