"""Helpers for the feature tests: random histories and a slow, obviously-correct reference
implementation of every declaration (the oracle). Tables by hand: ``tests.support.tables``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.features.declarations import Feature
from frontdoor.records import codes
from frontdoor.records.contract import TABLES, conform, empty_frame

# --- random histories ---------------------------------------------------------------------
FACTOR_POOL = ("16A", "3A", "3B", "3C", "4B", "1B", "2B", "11A", "21", "17A")
SOURCE_POOL = ("6", "2A", "3B", "1A", "5D")


def random_history(
    seed: int, children: int = 6, households: int = 3, rows: int = 12, dated: bool = False
):
    """A small random council: every event table, some records without knowledge dates,
    same-day records, siblings sharing households. With ``dated``, also dated household
    memberships (one to three per child: moves, gaps, overlaps, some still open)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2019-01-01")
    ids = [f"c{i}" for i in range(children)]

    def days(n):
        return (start + rng.integers(0, 900, n).astype("timedelta64[D]")).astype("datetime64[ns]")

    def who(n):
        return rng.choice(ids, n)

    def n():
        return int(rng.integers(0, rows + 1))

    def ends(k):  # about half still open; some end before they start (bad data)
        out = days(k)
        out[rng.random(k) < 0.5] = np.datetime64("NaT")
        return out

    kids = pd.DataFrame(
        {
            "child_id": ids,
            "sex": rng.choice(["M", "F", "U"], children),
            "ethnicity": rng.choice(list(codes.ETHNICITY_CODES), children),
            "birth_month": pd.to_datetime(
                [
                    f"{y}-{m:02d}-01"
                    for y, m in zip(
                        rng.integers(2003, 2019, children),
                        rng.integers(1, 13, children),
                        strict=True,
                    )
                ]
            ),
            "disability": rng.random(children) < 0.2,
            "household_id": rng.choice([f"h{i}" for i in range(households)], children),
            "idaci_decile": rng.integers(1, 11, children),
        }
    )
    k = n() + 3
    referrals = pd.DataFrame(
        {
            "referral_id": [f"r{i}" for i in range(k)],
            "child_id": who(k),
            "referral_date": days(k),
            "source": rng.choice(SOURCE_POOL, k),
            "outcome": rng.choice(["nfa", "assessment", None], k),
        }
    )
    k = n()
    contacts = pd.DataFrame(
        {
            "contact_id": [f"k{i}" for i in range(k)],
            "child_id": who(k),
            "contact_date": days(k),
            "source": rng.choice(SOURCE_POOL, k),
            "presenting_concerns": rng.choice([*FACTOR_POOL, "3B,16A", None], k),
        }
    )
    k = n()
    auth = days(k)
    auth[rng.random(k) < 0.25] = np.datetime64("NaT")
    assessments = pd.DataFrame(
        {
            "assessment_id": [f"a{i}" for i in range(k)],
            "child_id": who(k),
            "start_date": days(k),
            "authorisation_date": auth,
            "factors": [
                codes.join_factors(rng.choice(FACTOR_POOL, int(rng.integers(1, 4))))
                for _ in range(k)
            ],
            "outcome": rng.choice(list(codes.ASSESSMENT_OUTCOMES), k),
        }
    )
    k = n()
    s47 = pd.DataFrame(
        {
            "s47_id": [f"s{i}" for i in range(k)],
            "child_id": who(k),
            "start_date": days(k),
            "icpc_date": [None] * k,
            "outcome": rng.choice(list(codes.S47_OUTCOMES), k),
        }
    )
    k = n()
    plans = pd.DataFrame(
        {
            "plan_id": [f"p{i}" for i in range(k)],
            "child_id": who(k),
            "start_date": days(k),
            "end_date": ends(k),
            "initial_category": rng.choice(list(codes.CP_CATEGORIES), k),
        }
    )
    k = n()
    da = pd.DataFrame(
        {
            "notification_id": [f"n{i}" for i in range(k)],
            "child_id": who(k),
            "notification_date": days(k),
            "dash_risk": rng.choice(list(codes.DASH_LEVELS), k),
            "marac_referral": rng.random(k) < 0.3,
        }
    )
    k = n()
    early = pd.DataFrame(
        {
            "episode_id": [f"e{i}" for i in range(k)],
            "child_id": who(k),
            "start_date": days(k),
            "end_date": ends(k),
        }
    )
    raw = {
        "children": kids,
        "referrals": referrals,
        "contacts": contacts,
        "assessments": assessments,
        "section47_enquiries": s47,
        "cp_plans": plans,
        "domestic_abuse_notifications": da,
        "early_help_episodes": early,
    }
    raw["household_memberships"] = empty_frame("household_memberships")
    if dated:
        mrng = np.random.default_rng([seed, 7])  # its own stream: the other tables stay as they are
        owners = np.repeat(ids, mrng.integers(1, 4, len(ids)))
        start = np.datetime64("2018-06-01") + mrng.integers(0, 1100, len(owners)).astype(
            "timedelta64[D]"
        )
        end = start + mrng.integers(0, 500, len(owners)).astype("timedelta64[D]")
        end = np.where(mrng.random(len(owners)) < 0.4, np.datetime64("NaT"), end)
        raw["household_memberships"] = pd.DataFrame(
            {
                "membership_id": [f"m{i}" for i in range(len(owners))],
                "child_id": owners,
                "household_id": mrng.choice([f"h{i}" for i in range(households)], len(owners)),
                "start_date": start.astype("datetime64[ns]"),
                "end_date": end.astype("datetime64[ns]"),
            }
        )
    return {name: conform(frame, name) for name, frame in raw.items()}


# --- the oracle: one decision at a time, straight from the declaration ------------------------
class Oracle:
    """Features for one decision at a time, written the obvious way (pandas filters over
    the whole table: no sorting, no codes, no binary search), to check the engine against.
    Filters that do not depend on the decision are computed once per feature."""

    def __init__(self, tables):
        self.tables = tables
        self.children = tables["children"].drop_duplicates("child_id").set_index("child_id")
        self._filters: dict[str, pd.Series] = {}

    def value(self, f: Feature, child_id: str, when: pd.Timestamp) -> float:
        children = self.children
        if f.agg == "age_years":
            if child_id not in children.index or pd.isna(children.at[child_id, "birth_month"]):
                return float("nan")
            born = children.at[child_id, "birth_month"]
            return float(((when.year * 12 + when.month) - (born.year * 12 + born.month)) // 12)
        frame = self.tables[f.source]
        known = frame[f.knowledge_date]
        if f.name not in self._filters:
            self._filters[f.name] = _passes(self.tables, f, frame)
        keep = self._filters[f.name] & known.notna() & (known < when)  # strictly before
        if f.window_days is not None:
            keep &= (when - known).dt.days <= f.window_days
        if f.scope == "child":
            keep &= frame["child_id"] == child_id
        else:
            siblings = self.siblings(child_id, when)
            if siblings is None:
                return 0.0 if f.agg != "days_since_last" else float("nan")
            keep &= frame["child_id"].isin(siblings)
        if f.agg == "open":
            end = frame[TABLES[f.source].end_date]
            ended = end.notna() & (end.where(end >= known, known) < when)
            return float(bool((keep & ~ended).any()))
        dates = known[keep]
        if f.agg == "count":
            return float(len(dates))
        if f.agg == "any":
            return float(len(dates) > 0)
        if f.agg == "days_since_last":
            return float((when - dates.max()).days) if len(dates) else float("nan")
        raise AssertionError(f.agg)

    def siblings(self, child_id: str, when: pd.Timestamp) -> set | None:
        """The child's siblings at the decision: from dated memberships when the council
        has them (both members, each membership started before and not ended before the
        decision), else the children table's household (a snapshot)."""
        m = self.tables.get("household_memberships")
        children = self.children
        if m is not None and len(m):
            holds = (m["start_date"] < when) & (m["end_date"].isna() | (m["end_date"] >= when))
            homes = set(m.loc[holds & (m["child_id"] == child_id), "household_id"])
            mates = set(m.loc[holds & m["household_id"].isin(homes), "child_id"])
            if child_id not in children.index:
                return set()
            return (mates & set(children.index)) - {child_id}
        if child_id not in children.index or pd.isna(children.at[child_id, "household_id"]):
            return None
        household = children.at[child_id, "household_id"]
        return set(children.index[children["household_id"] == household]) - {child_id}


def oracle_value(tables, f: Feature, child_id: str, when: pd.Timestamp) -> float:
    return Oracle(tables).value(f, child_id, when)


def _passes(tables, f: Feature, frame: pd.DataFrame) -> pd.Series:
    keep = pd.Series(True, index=frame.index)
    for column, allowed in f.where.items():
        wanted = set(allowed)
        table = TABLES[f.source]
        if column in table.column_names and table.column(column).dtype == "factors":
            values = [bool(set(codes.factor_list(v)) & wanted) for v in frame[column]]
        elif column == "source_family":
            values = [codes.SOURCE_FAMILY.get(v) in wanted for v in frame["source"]]
        elif column == "is_rereferral":
            values = [_is_rereferral(tables, row) in wanted for _, row in frame.iterrows()]
        else:
            values = [v in wanted for v in frame[column]]
        keep &= pd.Series(values, index=frame.index, dtype=bool)
    return keep


def _is_rereferral(tables, row) -> bool:
    refs = tables["referrals"]
    same = refs.loc[refs["child_id"] == row["child_id"], "referral_date"]
    gaps = (row["referral_date"] - same).dt.days
    return bool(((gaps >= 1) & (gaps <= 365)).any())
