"""The review store: scored referrals in, the queue and cases out, decisions and audit appended.

Public entry points used by other rooms:
- ``load_scored_referrals(settings, scored_df)``: the ``score`` flow loads its output here;
- ``export_decisions(settings)``: the ``monitor`` flow reads reviewers' decisions from here.

Decisions and the audit log are append-only. This module has no function that updates or
deletes them, and the database refuses it too (triggers in migration 0002). A change of mind is
a new decision that names the one it supersedes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Engine, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from frontdoor.records.disclosure import SUPPRESSED, hidden_parts, shown_count
from frontdoor.records.scores import SCORED_REFERRAL_SCHEMA, Reason, reasons_from_json
from frontdoor.review import chain, db
from frontdoor.review.schema import (
    ACTIONS,
    allocations,
    audit_log,
    decisions,
    scored_referrals,
    users,
)
from frontdoor.review.text import clean_text
from frontdoor.settings import Settings

MIN_RATIONALE_CHARS = 10
MAX_RATIONALE_CHARS = 5000
STATUSES = ("new", "in review", "decided")
LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """Naive UTC: what the store keeps, on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)


def ready_engine(settings: Settings) -> Engine:
    """The engine, with the schema created or upgraded by alembic first."""
    db.upgrade(settings)
    return db.engine_for(settings)


# --- loading scores ------------------------------------------------------------------------


def band_ranks(settings: Settings) -> dict[str, int]:
    """Band name -> rank, 0 for the most urgent (the last of models.band_names)."""
    names = list(settings.models.band_names)
    return {name: len(names) - 1 - i for i, name in enumerate(names)}


def flagged_ranks(settings: Settings) -> list[int]:
    ranks = band_ranks(settings)
    return sorted(ranks[b] for b in settings.review.flagged_bands if b in ranks)


def team_for(child_id: str, teams: list[str]) -> str:
    """A stable allocation of a child to a MASH team (a hash split until the LA's own rota)."""
    digest = hashlib.sha256(child_id.encode("utf-8")).digest()
    return teams[int.from_bytes(digest[:4], "big") % len(teams)]


def _families(reasons_json: str) -> str:
    fams = sorted(
        {r.family for r in reasons_from_json(reasons_json) if r.direction == "raises" and r.family}
    )
    return "," + ",".join(fams) + "," if fams else ""


def _naive_utc(value) -> datetime:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def load_scored_referrals(settings: Settings, scored_df: pd.DataFrame) -> int:
    """Load scored referrals (``records.scores.SCORED_REFERRAL_SCHEMA``) into the review store.

    Idempotent: a row whose (decision_id, label, model_name, model_version) is already stored is
    skipped. For each referral and label, the latest scoring becomes the current one shown in the
    queue. Returns the number of rows newly stored.
    """
    frame = SCORED_REFERRAL_SCHEMA.validate(scored_df.copy(), lazy=True)
    ranks = band_ranks(settings)
    unknown = sorted(set(frame["band"]) - set(ranks))
    if unknown:
        row = int(frame.index[frame["band"].isin(unknown)][0])
        raise ValueError(
            f"scored referrals row {row}, column band: unknown band {unknown[0]!r}; "
            f"expected one of {list(ranks)} (models.band_names)"
        )
    engine = ready_engine(settings)
    teams = list(settings.review.teams) or ["MASH"]
    now = utcnow()
    key_cols = ["decision_id", "label", "model_name", "model_version"]
    with db.writing(engine) as conn:
        existing: set[tuple] = set()
        ids = frame["decision_id"].astype(str).unique().tolist()
        for chunk in _chunks(ids, 500):
            rows = conn.execute(
                select(*[scored_referrals.c[c] for c in key_cols]).where(
                    scored_referrals.c.decision_id.in_(chunk)
                )
            )
            existing.update(tuple(r) for r in rows)
        records = []
        for row in frame.itertuples(index=False):
            key = (
                str(row.decision_id),
                str(row.label),
                str(row.model_name),
                str(row.model_version),
            )
            if key in existing:
                continue
            existing.add(key)
            records.append(
                {
                    "decision_id": key[0],
                    "child_id": str(row.child_id),
                    "referral_date": pd.Timestamp(row.referral_date).date(),
                    "label": key[1],
                    "probability": float(row.probability),
                    "band": str(row.band),
                    "band_rank": ranks[str(row.band)],
                    "model_name": key[2],
                    "model_version": key[3],
                    "reasons_json": str(row.reasons_json),
                    "families": _families(str(row.reasons_json)),
                    "scored_at": _naive_utc(row.scored_at),
                    "team": team_for(str(row.child_id), teams),
                    "is_current": False,
                    "loaded_at": now,
                }
            )
        for chunk in _chunks(records, 1000):
            conn.execute(insert(scored_referrals), chunk)
        _refresh_current(conn, {r["decision_id"] for r in records}, set(flagged_ranks(settings)))
    _families_cache.clear()
    _day_cache.clear()
    return len(records)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _refresh_current(conn: Connection, decision_ids: set[str], flagged: set[int]) -> None:
    """Mark, per referral and label, the latest scoring (by scored_at, then load order) current,
    and keep on it when a scoring first flagged the referral (``flagged_since``)."""
    t = scored_referrals
    for chunk in _chunks(sorted(decision_ids), 500):
        rows = conn.execute(
            select(
                t.c.id,
                t.c.decision_id,
                t.c.label,
                t.c.scored_at,
                t.c.is_current,
                t.c.band_rank,
                t.c.flagged_since,
            ).where(t.c.decision_id.in_(chunk))
        ).all()
        latest: dict[tuple, tuple] = {}
        first_flag: dict[tuple, datetime] = {}
        for r in rows:
            key = (r.decision_id, r.label)
            if key not in latest or (r.scored_at, r.id) > latest[key]:
                latest[key] = (r.scored_at, r.id)
            if r.band_rank in flagged and (key not in first_flag or r.scored_at < first_flag[key]):
                first_flag[key] = r.scored_at
        current_ids = {v[1] for v in latest.values()}
        to_false = [r.id for r in rows if r.id not in current_ids and r.is_current]
        for r in rows:
            if r.id not in current_ids:
                continue
            since = first_flag.get((r.decision_id, r.label)) if r.band_rank in flagged else None
            if not r.is_current or r.flagged_since != since:
                conn.execute(
                    update(t).where(t.c.id == r.id).values(is_current=True, flagged_since=since)
                )
        if to_false:
            conn.execute(update(t).where(t.c.id.in_(to_false)).values(is_current=False))


# --- the queue -----------------------------------------------------------------------------


SORTS = {
    "band": "Band, most urgent first",
    "referral_date": "Referral date, oldest first",
    "waited": "Waited since flagged, longest first",
}


@dataclass(frozen=True)
class QueueFilters:
    band: str | None = None
    team: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    family: str | None = None
    status: str | None = None
    search: str | None = None  # a pseudonym, or its first characters (6 or more)
    sort: str = "band"
    page: int = 1


@dataclass
class QueueItem:
    score_id: int
    decision_id: str
    child_id: str
    referral_date: date
    band: str
    probability: float
    team: str
    scored_at: datetime
    flagged_since: datetime | None
    status: str
    assignee: str | None = None
    top_reasons: list[Reason] = field(default_factory=list)


def _decided_expr():
    return exists().where(decisions.c.decision_id == scored_referrals.c.decision_id)


def _claimed_expr():
    """The referral's latest allocation names someone: it is in review."""
    later = allocations.alias("later")
    return exists().where(
        allocations.c.decision_id == scored_referrals.c.decision_id,
        allocations.c.assignee_id.is_not(None),
        ~exists().where(
            later.c.decision_id == allocations.c.decision_id, later.c.id > allocations.c.id
        ),
    )


def _queue_where(settings: Settings, filters: QueueFilters) -> list:
    t = scored_referrals
    where = [
        t.c.is_current.is_(True),
        t.c.label == settings.models.primary_label,
        # band ranks rather than names: the queue's index covers them (is_current, label, band_rank)
        t.c.band_rank.in_(flagged_ranks(settings)),
    ]
    if filters.band:
        where.append(t.c.band_rank == band_ranks(settings).get(filters.band, -1))
    if filters.team:
        where.append(t.c.team == filters.team)
    if filters.date_from:
        where.append(t.c.referral_date >= filters.date_from)
    if filters.date_to:
        where.append(t.c.referral_date <= filters.date_to)
    if filters.family:
        where.append(t.c.families.contains(f",{filters.family},", autoescape=True))
    if filters.search:
        where.append(t.c.child_id.startswith(filters.search, autoescape=True))
    if filters.status == "decided":
        where.append(_decided_expr())
    elif filters.status == "in review":
        where.extend([~_decided_expr(), _claimed_expr()])
    elif filters.status == "new":
        where.extend([~_decided_expr(), ~_claimed_expr()])
    return where


def _status(decided: bool, claimed: bool) -> str:
    return "decided" if decided else "in review" if claimed else "new"


def _order(sort: str) -> list:
    t = scored_referrals
    if sort == "referral_date":
        return [t.c.referral_date, t.c.band_rank, t.c.decision_id]
    if sort == "waited":
        return [t.c.flagged_since, t.c.band_rank, t.c.referral_date, t.c.decision_id]
    return [t.c.band_rank, t.c.referral_date, t.c.decision_id]


def assignees(conn: Connection, ids: list[str]) -> dict[str, str]:
    """decision id -> the username it is claimed for (only referrals claimed now)."""
    if not ids:
        return {}
    a = allocations
    latest = (
        select(a.c.decision_id, func.max(a.c.id).label("last"))
        .where(a.c.decision_id.in_(ids))
        .group_by(a.c.decision_id)
        .subquery()
    )
    rows = conn.execute(
        select(a.c.decision_id, users.c.username)
        .join(latest, latest.c.last == a.c.id)
        .join(users, users.c.id == a.c.assignee_id)
    ).all()
    return {r.decision_id: r.username for r in rows}


def queue(settings: Settings, engine: Engine, filters: QueueFilters) -> tuple[list[QueueItem], int]:
    """One page of flagged referrals from the latest scoring, in the chosen order."""
    t = scored_referrals
    where = _queue_where(settings, filters)
    size = settings.review.page_size
    page = max(1, filters.page)
    # the page first, then the status of only its rows: with EXISTS in the page query, the
    # database evaluates them for every flagged row before sorting (measured: 3x slower)
    stmt = (
        select(
            t.c.id,
            t.c.decision_id,
            t.c.child_id,
            t.c.referral_date,
            t.c.band,
            t.c.probability,
            t.c.team,
            t.c.scored_at,
            t.c.flagged_since,
            t.c.reasons_json,
        )
        .where(*where)
        .order_by(*_order(filters.sort))
        .limit(size)
        .offset((page - 1) * size)
    )
    top_n = settings.review.top_reasons_in_queue
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
        rows = conn.execute(stmt).all()
        ids = [r.decision_id for r in rows]
        decided = set(
            conn.execute(
                select(decisions.c.decision_id).where(decisions.c.decision_id.in_(ids)).distinct()
            ).scalars()
        )
        claimed = assignees(conn, ids)
    items = [
        QueueItem(
            score_id=r.id,
            decision_id=r.decision_id,
            child_id=r.child_id,
            referral_date=r.referral_date,
            band=r.band,
            probability=r.probability,
            team=r.team,
            scored_at=r.scored_at,
            flagged_since=r.flagged_since or r.scored_at,
            status=_status(r.decision_id in decided, r.decision_id in claimed),
            assignee=claimed.get(r.decision_id),
            top_reasons=top_reasons(reasons_from_json(r.reasons_json), top_n),
        )
        for r in rows
    ]
    return items, int(total)


def top_reasons(reasons: list[Reason], n: int) -> list[Reason]:
    """The strongest reasons raising the score (largest contributions first)."""
    raising = [r for r in reasons if r.direction == "raises"]
    return sorted(raising, key=lambda r: -abs(r.contribution))[:n]


_families_cache: dict[tuple, tuple[float, list[str]]] = {}
FAMILIES_TTL_SECONDS = 60.0


def reason_families(settings: Settings, engine: Engine) -> list[str]:
    """Families of reasons present among current flags (for the queue's filter).

    Cached for a minute: the list changes only when a new scoring is loaded.
    """
    key = (str(engine.url), settings.models.primary_label)
    now = time.monotonic()
    cached = _families_cache.get(key)
    if cached is not None and now - cached[0] < FAMILIES_TTL_SECONDS:
        return cached[1]
    t = scored_referrals
    found: set[str] = set()
    with engine.connect() as conn:
        for (fams,) in conn.execute(
            select(t.c.families).where(t.c.is_current.is_(True)).distinct()
        ):
            found.update(f for f in (fams or "").split(",") if f)
    _families_cache[key] = (now, sorted(found))
    return sorted(found)


@dataclass(frozen=True)
class DayCount:
    decided_today: int
    awaiting: int
    capacity: int


_day_cache: dict[tuple, tuple[float, DayCount]] = {}
DAY_COUNT_TTL_SECONDS = 2.0


def day_count(settings: Settings, engine: Engine, today: date | None = None) -> DayCount:
    """Referrals decided today (first decisions only) against the daily review capacity.

    Cached for two seconds per process (every queue page shows it); a decision recorded in
    this process clears the cache at once.
    """
    today = today or london_today()
    key = (str(engine.url), today, tuple(settings.review.flagged_bands))
    cached = _day_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < DAY_COUNT_TTL_SECONDS:
        return cached[1]
    result = _day_count(settings, engine, today)
    _day_cache[key] = (time.monotonic(), result)
    return result


def london_today(now: datetime | None = None) -> date:
    """Today's date in Europe/London (days, counts and caps follow the council's clock)."""
    return (now or utcnow()).replace(tzinfo=UTC).astimezone(LONDON).date()


def london_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The naive-UTC instants at which a Europe/London day starts and ends (23, 24 or 25 hours)."""

    def start_of(d: date) -> datetime:
        local = datetime.combine(d, datetime.min.time(), tzinfo=LONDON)
        return local.astimezone(UTC).replace(tzinfo=None)

    return start_of(day), start_of(day + timedelta(days=1))


def _day_count(settings: Settings, engine: Engine, today: date) -> DayCount:
    start, end = london_day_bounds(today)
    with engine.connect() as conn:
        decided = conn.execute(
            select(func.count(func.distinct(decisions.c.decision_id))).where(
                decisions.c.decided_at >= start,
                decisions.c.decided_at < end,
                decisions.c.supersedes.is_(None),
            )
        ).scalar_one()
        awaiting = conn.execute(
            select(func.count())
            .select_from(scored_referrals)
            .where(*_queue_where(settings, QueueFilters()), ~_decided_expr())
        ).scalar_one()
    return DayCount(int(decided), int(awaiting), settings.review.daily_capacity)


# --- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    score: dict  # the current score for the primary label
    other_scores: list[dict]  # current scores for other labels
    reasons: list[Reason]
    history: list[dict]  # decisions, oldest first, with the reviewer's username
    status: str
    assignee: str | None = None  # who has claimed it, if anyone
    in_queue: bool = False  # its current score is in a flagged band


# --- allocation ----------------------------------------------------------------------------


class AllocationError(ValueError):
    """A claim, release or reassignment that is not allowed (the message says why)."""


def allocate(
    engine: Engine,
    *,
    decision_id: str,
    assignee_id: int | None,
    by: dict,
    manager: bool,
) -> None:
    """Claim a referral (assignee = by), release it (None) or reassign it (a manager only).

    ``by`` is {"id", "username", "role"}. A reviewer may claim an unclaimed referral and
    release their own claim; taking one claimed by someone else, or assigning it to another
    person, needs a team manager. Appended, audited; nothing is overwritten.
    """
    with db.writing(engine) as conn:
        chain.lock_for_append(conn, audit_log)
        holder = conn.execute(
            select(allocations.c.assignee_id)
            .where(allocations.c.decision_id == decision_id)
            .order_by(allocations.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        for_self = assignee_id == by["id"]
        if not manager:
            if assignee_id is not None and not for_self:
                raise AllocationError("Only a team manager can assign a case to someone else.")
            if holder is not None and holder != by["id"]:
                raise AllocationError("Another reviewer has claimed this case; ask a team manager.")
        if assignee_id is not None:
            ok = conn.execute(
                select(users.c.id).where(
                    users.c.id == assignee_id,
                    users.c.active.is_(True),
                    users.c.role.in_(("reviewer", "team_manager")),
                )
            ).first()
            if ok is None:
                raise AllocationError("Cases can be assigned only to active reviewers.")
        if holder == assignee_id:
            return
        conn.execute(
            insert(allocations).values(
                decision_id=decision_id, assignee_id=assignee_id, by_user_id=by["id"], at=utcnow()
            )
        )
        write_audit(
            conn,
            user_id=by["id"],
            username=by["username"],
            role=by["role"],
            action="allocate",
            target=decision_id,
            detail=json.dumps({"from": holder, "to": assignee_id}),
        )


def get_case(settings: Settings, engine: Engine, decision_id: str) -> Case | None:
    t = scored_referrals
    with engine.connect() as conn:
        # by decision_id alone, filtered here: with is_current in the WHERE clause SQLite's
        # planner picks the queue's index and scans every current row (measured: 100x slower)
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(t).where(t.c.decision_id == decision_id))
            if r.is_current
        ]
        primary = [r for r in rows if r["label"] == settings.models.primary_label]
        if not primary:
            return None
        history = [
            dict(r._mapping)
            for r in conn.execute(
                select(decisions, users.c.username)
                .join(users, users.c.id == decisions.c.user_id)
                .where(decisions.c.decision_id == decision_id)
                .order_by(decisions.c.id)
            )
        ]
        assignee = assignees(conn, [decision_id]).get(decision_id)
    score = primary[0]
    flagged = score["band_rank"] in flagged_ranks(settings)
    return Case(
        score=score,
        other_scores=[r for r in rows if r["label"] != settings.models.primary_label],
        reasons=reasons_from_json(score["reasons_json"]),
        history=history,
        status=_status(bool(history), assignee is not None),
        assignee=assignee,
        in_queue=flagged,
    )


# --- decisions -----------------------------------------------------------------------------


class DecisionError(ValueError):
    """A decision that cannot be stored as given (the message says why, for the form)."""


def record_decision(
    engine: Engine,
    *,
    decision_id: str | None = None,
    score_id: int | None = None,
    label: str | None = None,
    user_id: int,
    username: str,
    role: str,
    agrees: bool | None,
    action: str,
    rationale: str,
    form_token: str,
) -> tuple[int, bool]:
    """Append a decision (and its audit entry) in one transaction; returns (id, newly stored).

    The decision is judged against the referral's *current* score for ``label`` (the primary
    label: the app passes it), never a score the form posted. ``score_id`` only names the
    referral and label when ``decision_id`` or ``label`` is not given (scripts, tests).
    The same form submitted twice (same ``form_token``) is stored once. A later decision on the
    same referral supersedes the previous one; nothing is overwritten. Raises LookupError when
    the referral has no current score, DecisionError for bad input.
    """
    rationale = clean_text(rationale)
    if agrees is None:
        raise DecisionError("Say whether you agree with the flag.")
    if action not in ACTIONS:
        raise DecisionError("Choose an action.")
    if len(rationale) < MIN_RATIONALE_CHARS:
        raise DecisionError(f"Give your rationale (at least {MIN_RATIONALE_CHARS} characters).")
    if len(rationale) > MAX_RATIONALE_CHARS:
        raise DecisionError(
            f"The rationale must be {MAX_RATIONALE_CHARS:,} characters or fewer "
            f"(it has {len(rationale):,})."
        )
    if not form_token or len(form_token) > 64:
        raise DecisionError("The form has expired; open the case again.")
    try:
        with db.writing(engine) as conn:
            score = _current_score(conn, decision_id, score_id, label)
            chain.lock_for_append(conn, decisions)
            previous = conn.execute(
                select(func.max(decisions.c.id)).where(decisions.c.decision_id == score.decision_id)
            ).scalar_one()
            if conn.execute(
                select(decisions.c.id).where(decisions.c.form_token == form_token)
            ).first():
                raise IntegrityError("form_token", None, ValueError("form submitted twice"))
            now = utcnow()
            new_id = chain.append(
                conn,
                decisions,
                {
                    "decision_id": score.decision_id,
                    "score_id": score.id,
                    "label": score.label,
                    "model_name": score.model_name,
                    "model_version": score.model_version,
                    "band": score.band,
                    "probability": score.probability,
                    "agrees": bool(agrees),
                    "action": action,
                    "rationale": rationale,
                    "user_id": user_id,
                    "decided_at": now,
                    "supersedes": previous,
                    "form_token": form_token,
                },
            )
            write_audit(
                conn,
                user_id=user_id,
                username=username,
                role=role,
                action="decision",
                target=score.decision_id,
                detail=json.dumps(
                    {
                        "entry": new_id,
                        "agrees": bool(agrees),
                        "action": action,
                        "supersedes": previous,
                        "band": score.band,
                    }
                ),
                at=now,
            )
            _day_cache.clear()
            return int(new_id), True
    except IntegrityError:
        with engine.connect() as conn:
            existing = conn.execute(
                select(decisions.c.id).where(decisions.c.form_token == form_token)
            ).scalar_one_or_none()
        if existing is None:
            raise
        return int(existing), False


def _current_score(conn: Connection, decision_id: str | None, score_id: int | None, label):
    """The current score of a referral for a label (LookupError if there is none)."""
    t = scored_referrals
    if decision_id is None or label is None:
        named = conn.execute(select(t).where(t.c.id == score_id)).first() if score_id else None
        if named is None or (decision_id is not None and named.decision_id != decision_id):
            raise LookupError(f"no score {score_id} for referral {decision_id}")
        decision_id, label = named.decision_id, label or named.label
    rows = conn.execute(select(t).where(t.c.decision_id == decision_id)).all()
    current = [r for r in rows if r.is_current and r.label == label]
    if not current:
        raise LookupError(f"no current score for referral {decision_id}")
    return current[0]


EXPORT_COLUMNS = [
    "entry_id",
    "decision_id",
    "child_id",
    "referral_date",
    "label",
    "model_name",
    "model_version",
    "band",
    "probability",
    "agrees",
    "action",
    "decided_at",
    "reviewer",
    "supersedes",
    "is_latest",
]


def export_decisions(settings: Settings) -> pd.DataFrame:
    """Every decision entry for the ``monitor`` flow, oldest first; ``is_latest`` marks the one in force.

    No free text leaves the app: the rationale stays in the store, and reviewers appear as
    opaque ids (``u<number>``).
    """
    engine = ready_engine(settings)
    d, t = decisions, scored_referrals
    stmt = (
        select(
            d.c.id.label("entry_id"),
            d.c.decision_id,
            t.c.child_id,
            t.c.referral_date,
            d.c.label,
            d.c.model_name,
            d.c.model_version,
            d.c.band,
            d.c.probability,
            d.c.agrees,
            d.c.action,
            d.c.decided_at,
            d.c.user_id,
            d.c.supersedes,
        )
        .join(t, t.c.id == d.c.score_id)
        .order_by(d.c.id)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all())
    if frame.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in EXPORT_COLUMNS})
        return out.astype({"agrees": bool, "is_latest": bool, "probability": float})
    frame["reviewer"] = "u" + frame.pop("user_id").astype(str)
    frame["referral_date"] = pd.to_datetime(frame["referral_date"]).astype("datetime64[ns]")
    frame["decided_at"] = pd.to_datetime(frame["decided_at"]).astype("datetime64[ns]")
    frame["agrees"] = frame["agrees"].astype(bool)
    frame["supersedes"] = frame["supersedes"].astype("Int64")
    latest = frame.groupby("decision_id")["entry_id"].transform("max")
    frame["is_latest"] = frame["entry_id"] == latest
    return frame[EXPORT_COLUMNS].reset_index(drop=True)


# --- audit ---------------------------------------------------------------------------------


def write_audit(
    conn: Connection,
    *,
    user_id: int | None,
    username: str | None,
    role: str | None,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> None:
    chain.append(
        conn,
        audit_log,
        {
            "at": at or utcnow(),
            "user_id": user_id,
            "username": username,
            "role": role,
            "action": action,
            "target": target,
            "detail": detail,
        },
    )


def audit(engine: Engine, **entry) -> None:
    """Append one audit entry (who, what, when) in its own transaction."""
    with db.writing(engine) as conn:
        write_audit(conn, **entry)


def reidentifications_today(engine: Engine, user_id: int, now: datetime | None = None) -> int:
    """Look-ups this user made today (Europe/London day), refused ones not counted."""
    start, end = london_day_bounds(london_today(now))
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(audit_log)
                .where(
                    audit_log.c.user_id == user_id,
                    audit_log.c.action == "reidentify",
                    audit_log.c.at >= start,
                    audit_log.c.at < end,
                )
            ).scalar_one()
        )


ALERT_ACTIONS = ("reidentify_cap",)


def recent_alerts(engine: Engine, days: int = 7) -> list[dict]:
    """Alerts for administrators (a reviewer reaching the re-identification cap), newest first."""
    since = utcnow() - timedelta(days=days)
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(audit_log)
                .where(audit_log.c.action.in_(ALERT_ACTIONS), audit_log.c.at >= since)
                .order_by(audit_log.c.id.desc())
                .limit(50)
            )
        ]


def read_audit(engine: Engine, *, action: str | None = None, page: int = 1, size: int = 100):
    """Audit entries, newest first, for the admin page."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc())
    count = select(func.count()).select_from(audit_log)
    if action:
        stmt = stmt.where(audit_log.c.action == action)
        count = count.where(audit_log.c.action == action)
    with engine.connect() as conn:
        total = conn.execute(count).scalar_one()
        rows = [
            dict(r._mapping)
            for r in conn.execute(stmt.limit(size).offset((max(1, page) - 1) * size))
        ]
    return rows, int(total)


# --- governance summary --------------------------------------------------------------------


def decision_summary(settings: Settings, engine: Engine) -> dict:
    """Counts of decisions in force by band, agreement and action; small counts suppressed,
    and so is any count that subtraction from a shown total would give back
    (`records.disclosure`: complements and a lone hidden part)."""
    frame = export_decisions(settings)
    frame = frame[frame["is_latest"]] if not frame.empty else frame
    limit = settings.privacy.suppress_counts_up_to
    total = int(len(frame))

    bands = list(reversed(settings.models.band_names))
    totals, agree = {}, {}
    for band in bands:
        part = frame[frame["band"] == band] if not frame.empty else frame
        totals[band] = int(len(part))
        agree[band] = int(part["agrees"].sum()) if not part.empty else 0
    hidden_bands = hidden_parts(total, totals, limit)
    # agreements and disagreements of all bands add up to their own overall figures too
    disagree = {b: totals[b] - agree[b] for b in bands}
    hidden_agree = hidden_parts(sum(agree.values()), agree, limit)
    hidden_disagree = hidden_parts(sum(disagree.values()), disagree, limit)
    by_band = []
    for band in bands:
        if band in hidden_bands:
            both = {"agree": agree[band], "disagree": disagree[band]}
            cells = {k: SUPPRESSED if v else "0" for k, v in both.items()}
        else:
            split = hidden_parts(totals[band], {"agree": agree[band]}, limit)
            cells = {
                "agree": SUPPRESSED
                if split or band in hidden_agree or band in hidden_disagree
                else str(agree[band]),
                "disagree": SUPPRESSED
                if split or band in hidden_agree or band in hidden_disagree
                else str(disagree[band]),
            }
        by_band.append(
            {
                "band": band,
                "total": SUPPRESSED if band in hidden_bands else str(totals[band]),
                **cells,
            }
        )
    actions = {
        key: int((frame["action"] == key).sum()) if not frame.empty else 0 for key in ACTIONS
    }
    hidden_actions = hidden_parts(total, actions, limit)
    by_action = [
        {
            "action": label,
            "count": SUPPRESSED if key in hidden_actions else str(actions[key]),
        }
        for key, label in ACTIONS.items()
    ]
    return {"total": str(shown_count(total, limit)), "by_band": by_band, "by_action": by_action}
