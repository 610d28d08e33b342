"""The child's chronology and the household's history, read from the pseudonymised canonical tables.

The tables are read once and kept in memory, sorted by child, so that a case page slices its
child's events instead of scanning the tables; they are re-read when the files change.
Only what was known by the referral date is shown: an event after it, or an assessment's
factors not yet authorised, were not known when the referral arrived.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from frontdoor.records import codes
from frontdoor.records.store import read_tables
from frontdoor.settings import Settings

CHECK_EVERY_SECONDS = 30.0

KIND_LABELS = {
    "contact": "Contact",
    "referral": "Referral",
    "assessment": "Assessment",
    "s47": "Section 47 enquiry",
    "cp_plan": "Child protection plan",
    "da": "Police domestic abuse notification",
    "early_help": "Early help",
}


@dataclass
class Event:
    when: date
    kind: str
    title: str
    detail: str
    child_id: str
    is_this_referral: bool = False


@dataclass
class Sibling:
    child_id: str
    age: int | None
    counts: dict[str, int]


@dataclass
class History:
    available: bool
    as_of: date
    age: int | None = None
    household_id: str | None = None
    events: list[Event] = field(default_factory=list)
    siblings: list[Sibling] = field(default_factory=list)
    household_events: list[Event] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return _counts(self.events)


def _counts(events: list[Event]) -> dict[str, int]:
    out = dict.fromkeys(KIND_LABELS, 0)
    for e in events:
        out[e.kind] += 1
    return out


def _label(mapping: dict[str, str], value) -> str:
    if value is None or value != value:
        return "not recorded"
    return mapping.get(str(value), str(value))


def _date(value) -> date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def _fmt(value) -> str:
    d = _date(value)
    return d.strftime("%d %b %Y") if d else ""


# Where each kind of event comes from: (table, its date, the fields a timeline line uses).
# The date is also when the front door could know of it; an assessment's factors are shown only
# once authorised (see _describe).
SOURCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "contact": ("contacts", "contact_date", ("source", "presenting_concerns")),
    "referral": ("referrals", "referral_date", ("source", "outcome")),
    "assessment": ("assessments", "start_date", ("authorisation_date", "factors", "outcome")),
    "s47": ("section47_enquiries", "start_date", ("icpc_date", "outcome")),
    "cp_plan": ("cp_plans", "start_date", ("end_date", "initial_category")),
    "da": ("domestic_abuse_notifications", "notification_date", ("dash_risk", "marac_referral")),
    "early_help": ("early_help_episodes", "start_date", ("end_date",)),
}
KINDS = list(SOURCES)


def _objects(series: pd.Series) -> np.ndarray:
    """A column as plain Python values (dates as datetime.date, missing as None), in bulk."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.to_numpy(dtype="datetime64[D]").astype(object)
    values = series.to_numpy(dtype=object, na_value=None)
    return values


class HistoryIndex:
    """Every event of every child, grouped by child, with the household of each child.

    Built in bulk (numpy and one pandas group-by), so that 50,000 children load in seconds;
    a case page then builds its few dozen timeline lines from plain arrays.
    """

    def __init__(self, tables: dict[str, pd.DataFrame]):
        children = tables["children"]
        ids = _objects(children["child_id"])
        households = _objects(children["household_id"])
        self.household = dict(zip(ids, households, strict=True))
        self.birth = dict(zip(ids, _objects(children["birth_month"]), strict=True))
        members: dict[str, list[str]] = {}
        for child, household in self.household.items():
            if household is not None:
                members.setdefault(household, []).append(child)
        self.members = members
        # Dated memberships, when the council has them: siblings as of the referral, by the
        # features' rule (joined strictly before it, not left before it).
        self.stays: dict[str, list[tuple[str, date, date | None]]] = {}
        self.homes: dict[str, list[tuple[str, date, date | None]]] = {}
        m = tables.get("household_memberships")
        if m is not None and len(m):
            for child, home, start, end in zip(
                _objects(m["child_id"]),
                _objects(m["household_id"]),
                _objects(m["start_date"]),
                _objects(m["end_date"]),
                strict=True,
            ):
                self.stays.setdefault(child, []).append((home, start, end))
                self.homes.setdefault(home, []).append((child, start, end))
        self.fields: dict[str, dict[str, np.ndarray]] = {}
        parts = []
        for code, (kind, (table, when, fields)) in enumerate(SOURCES.items()):
            frame = tables[table]
            self.fields[kind] = {f: _objects(frame[f]) for f in fields}
            parts.append(
                pd.DataFrame(
                    {
                        "child": frame["child_id"].astype(object).to_numpy(),
                        "when": frame[when].to_numpy(dtype="datetime64[D]"),
                        "kind": np.full(len(frame), code, dtype=np.int8),
                        "row": np.arange(len(frame), dtype=np.int64),
                    }
                )
            )
        events = pd.concat(parts, ignore_index=True)
        self._when = events["when"].to_numpy()
        self._kind = events["kind"].to_numpy()
        self._row = events["row"].to_numpy()
        self._by_child = events.groupby("child", sort=False).indices if len(events) else {}

    def child_events(
        self, child_id: str, as_of: date, referral_date: date | None = None
    ) -> list[Event]:
        """The child's events known by ``as_of`` (inclusive), oldest first."""
        positions = self._by_child.get(child_id)
        if positions is None:
            return []
        when = self._when[positions]
        keep = positions[when <= np.datetime64(as_of, "D")]
        order = np.lexsort((self._kind[keep], self._when[keep]))
        out = []
        for pos in keep[order]:
            kind = KINDS[self._kind[pos]]
            row = self._row[pos]
            payload = {f: values[row] for f, values in self.fields[kind].items()}
            when_date = self._when[pos].astype("datetime64[D]").astype(object)
            out.append(_describe(when_date, kind, payload, child_id, as_of, referral_date))
        return out

    def age(self, child_id: str, as_of: date) -> int | None:
        birth = _date(self.birth.get(child_id))
        if birth is None or as_of < birth:  # unknown, or not yet born (an expected date)
            return None
        return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))

    def siblings_at(self, child_id: str, as_of: date) -> tuple[str | None, list[str]]:
        """The child's household and siblings at ``as_of``: from dated memberships when there
        are any (as the features count them), else the children table's snapshot."""
        if not self.homes:
            household = self.household.get(child_id)
            return household, sorted(self.members.get(household, [])) if household else []

        def holds(start, end) -> bool:
            return start is not None and start < as_of and (end is None or end >= as_of)

        homes = [h for h, start, end in self.stays.get(child_id, []) if holds(start, end)]
        mates = {c for h in homes for c, start, end in self.homes[h] if holds(start, end)}
        return (homes[0] if homes else None), sorted(mates)

    def history(self, child_id: str, as_of: date) -> History:
        household, members = self.siblings_at(child_id, as_of)
        events = self.child_events(child_id, as_of, referral_date=as_of)
        siblings, household_events = [], []
        for other in members:
            if other == child_id:
                continue
            theirs = self.child_events(other, as_of)
            siblings.append(Sibling(other, self.age(other, as_of), _counts(theirs)))
            household_events.extend(theirs)
        household_events.sort(key=lambda e: (e.when, e.child_id))
        return History(
            available=True,
            as_of=as_of,
            age=self.age(child_id, as_of),
            household_id=household,
            events=events,
            siblings=siblings,
            household_events=household_events,
        )


def _describe(
    when_ts, kind: str, p: dict, child_id: str, as_of: date, referral_date: date | None
) -> Event:
    when = when_ts
    this = False
    if kind == "contact":
        title, detail = "Contact received", f"From {_label(codes.SOURCE_CODES, p['source'])}"
        raised = [c for c in codes.factor_list(p.get("presenting_concerns")) if c != "21"]
        if raised:
            detail += ". Concerns raised: " + "; ".join(
                codes.ASSESSMENT_FACTOR_CODES.get(c, c) for c in raised
            )
    elif kind == "referral":
        this = referral_date is not None and when == referral_date
        title = "This referral" if this else "Referral received"
        detail = f"From {_label(codes.SOURCE_CODES, p['source'])}"
        outcome = p.get("outcome")
        if not this and outcome is not None and outcome == outcome:
            detail += f". Outcome: {_label(codes.REFERRAL_OUTCOMES, outcome)}"
    elif kind == "assessment":
        title = "Assessment started"
        authorised = _date(p.get("authorisation_date"))
        if authorised is not None and authorised <= as_of:
            factors = [
                codes.ASSESSMENT_FACTOR_CODES.get(c, c) for c in codes.factor_list(p["factors"])
            ]
            detail = f"Authorised {_fmt(authorised)}. Factors: " + (
                "; ".join(factors) or "none recorded"
            )
            outcome = p.get("outcome")
            if outcome is not None and outcome == outcome:
                detail += f". Outcome: {_label(codes.ASSESSMENT_OUTCOMES, outcome)}"
        else:
            detail = (
                "Not yet authorised at the time of this referral, so its factors were not known"
            )
    elif kind == "s47":
        title = "Section 47 enquiry started"
        icpc = _date(p.get("icpc_date"))
        parts = []
        if icpc is not None and icpc <= as_of:
            parts.append(f"Initial child protection conference {_fmt(icpc)}")
        outcome = p.get("outcome")
        if outcome is not None and outcome == outcome and (icpc is None or icpc <= as_of):
            parts.append(f"Outcome: {_label(codes.S47_OUTCOMES, outcome)}")
        detail = ". ".join(parts) or "Outcome not recorded"
    elif kind == "cp_plan":
        title = "Child protection plan started"
        detail = f"Category: {_label(codes.CP_CATEGORIES, p['initial_category'])}"
        ended = _date(p.get("end_date"))
        detail += f". Ended {_fmt(ended)}" if ended and ended <= as_of else ". Open"
    elif kind == "da":
        title = "Police domestic abuse notification"
        detail = f"DASH risk: {_label(codes.DASH_LEVELS, p['dash_risk'])}"
        detail += (
            ". Referred to MARAC" if bool(p.get("marac_referral")) else ". Not referred to MARAC"
        )
    else:
        title = "Early help episode started"
        ended = _date(p.get("end_date"))
        detail = f"Ended {_fmt(ended)}" if ended and ended <= as_of else "Open"
    return Event(when, kind, title, detail, child_id, this)


class HistorySource:
    """Loads the canonical tables once and reloads them when their files change."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._index: HistoryIndex | None = None
        self._stamp: tuple | None = None
        self._checked = 0.0

    def _current_stamp(self) -> tuple:
        files = sorted(self.folder.glob("*.parquet"))
        return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)

    def index(self) -> HistoryIndex | None:
        with self._lock:
            now = time.monotonic()
            if self._index is None or now - self._checked > CHECK_EVERY_SECONDS:
                self._checked = now
                stamp = self._current_stamp()
                if not stamp:
                    self._index, self._stamp = None, None
                elif stamp != self._stamp:
                    self._index = HistoryIndex(read_tables(self.folder))
                    self._stamp = stamp
            return self._index

    def history(self, child_id: str, as_of: date) -> History:
        index = self.index()
        if index is None:
            return History(available=False, as_of=as_of)
        return index.history(child_id, as_of)


def history_source(settings: Settings) -> HistorySource:
    return HistorySource(settings.resolve(settings.paths.canonical))
