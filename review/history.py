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

import pandas as pd

from frontdoor.settings import Settings
from records import codes
from records.store import read_tables

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

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


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


class HistoryIndex:
    """Every event of every child, sorted by child, with the household of each child."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        children = tables["children"]
        self.household = dict(zip(children["child_id"], children["household_id"], strict=False))
        self.birth = dict(zip(children["child_id"], children["birth_month"], strict=False))
        members: dict[str, list[str]] = {}
        for child, household in self.household.items():
            if household is not None:
                members.setdefault(household, []).append(child)
        self.members = members
        frames = [self._contacts(tables["contacts"]), self._referrals(tables["referrals"])]
        frames += [
            self._assessments(tables["assessments"]),
            self._s47(tables["section47_enquiries"]),
        ]
        frames += [self._cp(tables["cp_plans"]), self._da(tables["domestic_abuse_notifications"])]
        frames.append(self._early_help(tables["early_help_episodes"]))
        events = (
            pd.concat([f for f in frames if len(f)], ignore_index=True)
            if any(len(f) for f in frames)
            else pd.DataFrame(columns=["child_id", "when", "kind", "known", "payload"])
        )
        events = events.sort_values(["child_id", "when", "kind"], kind="stable").reset_index(
            drop=True
        )
        self.events = events
        # one pass over all events: each child's events as plain tuples, ready to slice per page
        self.by_child: dict[str, list[tuple]] = {}
        columns = [events[c].tolist() for c in ("child_id", "when", "kind", "known", "payload")]
        for child, when, kind, known, payload in zip(*columns, strict=True):
            self.by_child.setdefault(child, []).append((when, kind, known, payload, child))

    # Each table becomes rows of (child_id, when, kind, known, payload); payload keeps raw fields.
    @staticmethod
    def _frame(
        df: pd.DataFrame, kind: str, when: str, known: str, fields: list[str]
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "child_id": df["child_id"].astype(str),
                "when": pd.to_datetime(df[when]),
                "kind": kind,
                "known": pd.to_datetime(df[known]),
                "payload": df[fields].to_dict("records") if len(df) else [],
            }
        )

    def _contacts(self, df):
        return self._frame(df, "contact", "contact_date", "contact_date", ["source"])

    def _referrals(self, df):
        return self._frame(df, "referral", "referral_date", "referral_date", ["source", "outcome"])

    def _assessments(self, df):
        return self._frame(
            df,
            "assessment",
            "start_date",
            "start_date",
            ["authorisation_date", "factors", "outcome"],
        )

    def _s47(self, df):
        return self._frame(df, "s47", "start_date", "start_date", ["icpc_date", "outcome"])

    def _cp(self, df):
        return self._frame(
            df, "cp_plan", "start_date", "start_date", ["end_date", "initial_category"]
        )

    def _da(self, df):
        return self._frame(
            df, "da", "notification_date", "notification_date", ["dash_risk", "marac_referral"]
        )

    def _early_help(self, df):
        return self._frame(df, "early_help", "start_date", "start_date", ["end_date"])

    def child_events(
        self, child_id: str, as_of: date, referral_date: date | None = None
    ) -> list[Event]:
        cutoff = pd.Timestamp(as_of)
        return [
            _describe(when, kind, payload, child, as_of, referral_date)
            for when, kind, known, payload, child in self.by_child.get(child_id, ())
            if not known > cutoff
        ]

    def age(self, child_id: str, as_of: date) -> int | None:
        birth = _date(self.birth.get(child_id))
        if birth is None:
            return None
        return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))

    def history(self, child_id: str, as_of: date) -> History:
        household = self.household.get(child_id)
        events = self.child_events(child_id, as_of, referral_date=as_of)
        siblings, household_events = [], []
        for other in sorted(self.members.get(household, [])) if household else []:
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
    when = when_ts.date()
    this = False
    if kind == "contact":
        title, detail = "Contact received", f"From {_label(codes.SOURCE_CODES, p['source'])}"
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
