"""A small, deterministic set of records in the exact shapes the review app reads.

For tests, screenshots and the load benchmark when no scored council is at hand: canonical
tables (``records.contract``) and scored referrals (``records.scores.SCORED_REFERRAL_SCHEMA``).
Identifiers look like pseudonyms; nothing here is about a real child.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from frontdoor.records import codes
from frontdoor.records.contract import conform
from frontdoor.records.scores import SCORED_REFERRAL_COLUMNS, Reason, reasons_to_json
from frontdoor.records.store import write_tables

REASON_TEMPLATES = [
    (
        "referrals_365d",
        "{v:g} referral{s} in the 12 months before this referral",
        "repeat_referrals",
    ),
    (
        "da_notifications_365d",
        "{v:g} police domestic abuse notification{s} in the last year",
        "domestic_abuse",
    ),
    ("neglect_factor_ever", "Neglect identified at {v:g} earlier assessment{s}", "neglect"),
    ("cp_plan_ever", "{v:g} earlier child protection plan{s}", "child_protection"),
    ("household_referrals_365d", "{v:g} referral{s} of siblings in the last year", "household"),
    (
        "parental_mental_health",
        "Parental mental health identified at {v:g} assessment{s}",
        "parental_mental_health",
    ),
]
LOWERING_TEMPLATES = [
    ("days_since_last_referral", "{v:g} day{s} since the last referral", "repeat_referrals"),
    ("early_help_open", "An early help episode is open", "early_help"),
]


def pid(kind: str, n: int) -> str:
    """A pseudonym-shaped id ('p' + 24 hex), stable for a kind and number."""
    return "p" + hashlib.sha256(f"sample:{kind}:{n}".encode()).hexdigest()[:24]


EVENT_TABLES = (
    "contacts",
    "referrals",
    "assessments",
    "section47_enquiries",
    "cp_plans",
    "domestic_abuse_notifications",
    "early_help_episodes",
)
FACTOR_POOL = ["3B", "4B", "16A", "1B", "2B", "17A", "21", "10A"]


def canonical_tables(
    children: int = 60, seed: int = 3, end: date = date(2026, 3, 31)
) -> dict[str, pd.DataFrame]:
    """Children in households of one to three, with a few years of events each."""
    rng = np.random.default_rng(seed)
    kids: list[dict] = []
    events: dict[str, list[dict]] = {k: [] for k in EVENT_TABLES}
    household = 0
    i = 0
    end_ts = pd.Timestamp(end)
    while i < children:
        size = int(rng.integers(1, 4))
        for _ in range(min(size, children - i)):
            kids.append(_child(rng, i, household, end_ts))
            n_refs = int(rng.integers(1, 6))
            for k in range(n_refs):
                # the newest referral of each child is recent: it is the one a nightly scoring flags
                back = int(rng.integers(1, 90)) if k == n_refs - 1 else int(rng.integers(120, 1400))
                _referral(rng, events, pid("child", i), end_ts - pd.Timedelta(days=back))
            i += 1
        household += 1
    tables = {"children": conform(pd.DataFrame(kids), "children")}
    for name, rows in events.items():
        frame = pd.DataFrame(rows)
        tables[name] = conform(frame, name) if len(frame) else frame
    return tables


def _child(rng: np.random.Generator, i: int, household: int, end_ts: pd.Timestamp) -> dict:
    birth = end_ts - pd.Timedelta(days=int(rng.integers(200, 6000)))
    return {
        "child_id": pid("child", i),
        "sex": str(rng.choice(["M", "F"])),
        "ethnicity": str(rng.choice(["WBRI", "BAFR", "APKN", "MWBC"])),
        "birth_month": birth.replace(day=1),
        "disability": bool(rng.random() < 0.1),
        "household_id": pid("household", household),
        "idaci_decile": int(rng.integers(1, 11)),
    }


def _referral(rng: np.random.Generator, events: dict, child: str, day: pd.Timestamp) -> None:
    """A referral on ``day`` (its contact the day before) and, by chance, what follows it."""
    n = len(events["referrals"])
    source = str(rng.choice(["6", "2A", "3B", "1A", "4"]))
    contact_date = day - pd.Timedelta(days=1)
    events["contacts"].append(
        {
            "contact_id": pid("contact", n),
            "child_id": child,
            "contact_date": contact_date,
            "source": source,
        }
    )
    events["referrals"].append(
        {
            "referral_id": pid("referral", n),
            "child_id": child,
            "referral_date": day,
            "source": source,
            "outcome": str(rng.choice(["nfa", "assessment"])),
        }
    )
    if rng.random() < 0.5:
        picked = rng.choice(FACTOR_POOL, size=int(rng.integers(1, 4)), replace=False)
        events["assessments"].append(
            {
                "assessment_id": pid("assessment", n),
                "child_id": child,
                "start_date": day + pd.Timedelta(days=2),
                "authorisation_date": day + pd.Timedelta(days=30),
                "factors": codes.join_factors(picked),
                "outcome": str(rng.choice(list(codes.ASSESSMENT_OUTCOMES))),
            }
        )
    if rng.random() < 0.2:
        events["section47_enquiries"].append(
            {
                "s47_id": pid("s47", n),
                "child_id": child,
                "start_date": day + pd.Timedelta(days=5),
                "icpc_date": day + pd.Timedelta(days=20),
                "outcome": str(rng.choice(list(codes.S47_OUTCOMES))),
            }
        )
    if rng.random() < 0.1:
        events["cp_plans"].append(
            {
                "plan_id": pid("plan", n),
                "child_id": child,
                "start_date": day + pd.Timedelta(days=21),
                "end_date": day + pd.Timedelta(days=300),
                "initial_category": str(rng.choice(list(codes.CP_CATEGORIES))),
            }
        )
    if rng.random() < 0.35:
        events["domestic_abuse_notifications"].append(
            {
                "notification_id": pid("da", n),
                "child_id": child,
                "notification_date": day - pd.Timedelta(days=int(rng.integers(3, 60))),
                "dash_risk": str(rng.choice(list(codes.DASH_LEVELS))),
                "marac_referral": bool(rng.random() < 0.3),
            }
        )
    if rng.random() < 0.2:
        events["early_help_episodes"].append(
            {
                "episode_id": pid("eh", n),
                "child_id": child,
                "start_date": day + pd.Timedelta(days=10),
                "end_date": None,
            }
        )


def scored_referrals(
    tables: dict[str, pd.DataFrame],
    *,
    model_name: str = "frontdoor-escalation_12m",
    model_version: str = "1",
    scored_at: datetime | None = None,
    seed: int = 5,
    labels: tuple[str, ...] = ("escalation_12m",),
    latest_only: bool = False,
) -> pd.DataFrame:
    """One score per referral (and label) in the shape the score flow writes.

    ``latest_only`` scores each child's newest referral only, as a nightly scoring would.
    """
    rng = np.random.default_rng(seed)
    referrals = tables["referrals"]
    if latest_only:
        referrals = referrals.sort_values("referral_date").groupby("child_id").tail(1)
    scored_at = scored_at or datetime(2026, 3, 31, 2, 0)
    rows = []
    bands = ["low", "medium", "high", "very high"]
    for label in labels:
        for r in referrals.itertuples(index=False):
            p = float(rng.beta(1.2, 3.0))
            band = bands[int(np.searchsorted([0.3, 0.5, 0.7], p, side="right"))]
            reasons = []
            for feature, text, family in rng.permutation(np.array(REASON_TEMPLATES, dtype=object))[
                : int(rng.integers(2, 5))
            ]:
                v = float(rng.integers(1, 6))
                reasons.append(
                    Reason(
                        feature,
                        v,
                        float(rng.uniform(0.05, 0.9)),
                        "raises",
                        text.format(v=v, s="" if v == 1 else "s"),
                        family,
                    )
                )
            for feature, text, family in LOWERING_TEMPLATES[: int(rng.integers(0, 3))]:
                v = float(rng.integers(1, 400))
                reasons.append(
                    Reason(
                        feature,
                        v,
                        -float(rng.uniform(0.05, 0.5)),
                        "lowers",
                        text.format(v=v, s="" if v == 1 else "s"),
                        family,
                    )
                )
            rows.append(
                {
                    "decision_id": r.referral_id,
                    "child_id": r.child_id,
                    "referral_date": pd.Timestamp(r.referral_date),
                    "label": label,
                    "probability": round(p, 4),
                    "band": band,
                    "model_name": model_name,
                    "model_version": model_version,
                    "reasons_json": reasons_to_json(reasons),
                    "scored_at": pd.Timestamp(scored_at)
                    - pd.Timedelta(hours=int(rng.integers(0, 72))),
                }
            )
    frame = pd.DataFrame(rows, columns=SCORED_REFERRAL_COLUMNS)
    frame["referral_date"] = frame["referral_date"].astype("datetime64[ns]")
    frame["scored_at"] = frame["scored_at"].astype("datetime64[ns]")
    return frame


def recent(frame: pd.DataFrame, now: datetime, days: int = 3) -> pd.DataFrame:
    """Shift scoring times so the queue shows plausible waits relative to ``now``."""
    out = frame.copy()
    offsets = (out.index.to_numpy() * 7919) % (days * 24 * 60)
    out["scored_at"] = pd.Timestamp(now) - pd.to_timedelta(offsets, unit="m") - timedelta(minutes=5)
    out["scored_at"] = out["scored_at"].astype("datetime64[ns]")
    return out


def populate(
    settings,
    *,
    children: int = 60,
    users: dict[str, str] | None = None,
    now=None,
    password: str = "",
) -> dict:
    """Write sample canonical tables, load their scores and add users {username: role}.

    Returns {"tables": ..., "scores": ...}. For demos, tests, screenshots and the benchmark.
    """
    from frontdoor.review import auth, store

    end = (now.date() - timedelta(days=1)) if now is not None else date(2026, 3, 31)
    tables = canonical_tables(children=children, end=end)
    write_tables(
        settings.resolve(settings.paths.canonical), tables, {"reference_date": end.isoformat()}
    )
    scores = scored_referrals(
        tables,
        labels=("escalation_12m", "rereferral_12m"),
        scored_at=datetime.combine(end, datetime.min.time()),
        latest_only=True,
    )
    if now is not None:
        scores = recent(scores, now)
    store.load_scored_referrals(settings, scores)
    engine = store.ready_engine(settings)
    for username, role in (users or {}).items():
        auth.add_user(settings, engine, username, role, password)
    return {"tables": tables, "scores": scores}
