"""The canonical tables: columns, types, codes, knowledge dates and sensitivity, as data.

Every table is declared once here. The pandera schemas, the documentation in
docs/data-contract.md and the point-in-time feature engine all read these declarations.

Identifiers (``*_id`` columns) hold pseudonyms once ingested: HMAC-SHA256 keyed hashes.
Dates are ``datetime64[ns]`` at midnight. ``knowledge_date`` names the column from which
the front door could know about a record; features use only records whose knowledge date
is strictly before the decision time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pandera.pandas as pa

from frontdoor.records import codes


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "id", "date", "str", "int", "bool", "factors"
    meaning: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    sensitive: bool = False  # for fairness audits only, not model inputs by default
    value_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    meaning: str
    key: str
    columns: tuple[Column, ...]
    knowledge_date: str | None  # None for `children` (characteristics, not events)
    knowledge_note: str = ""
    event_date: str | None = None
    end_date: str | None = None
    dedupe_on: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def date_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.dtype == "date"]


def _child_id() -> Column:
    return Column(
        "child_id", "id", "Pseudonymised child identifier (keyed hash of the LA child id)"
    )


CHILDREN = Table(
    name="children",
    meaning="One row per child known to the front door.",
    key="child_id",
    knowledge_date=None,
    columns=(
        _child_id(),
        Column(
            "sex",
            "str",
            "Sex: M, F or U (not known)",
            allowed=tuple(codes.SEX_CODES),
            sensitive=True,
        ),
        Column(
            "ethnicity",
            "str",
            "DfE ethnicity code",
            allowed=tuple(codes.ETHNICITY_CODES),
            sensitive=True,
        ),
        Column(
            "birth_month",
            "date",
            "First day of the month of birth (exact dates are never kept); for an unborn child "
            "the expected month, empty when not even that is known (age unknown)",
            nullable=True,
        ),
        Column("disability", "bool", "Whether the child has a recorded disability", sensitive=True),
        Column("household_id", "id", "Pseudonymised household identifier; siblings share it"),
        Column(
            "idaci_decile",
            "int",
            "IDACI deprivation decile of the home (1 = most deprived); empty when no extract "
            "holds the home's area (Annex A and the CIN census do not)",
            nullable=True,
            sensitive=True,
            value_range=(1, 10),
        ),
    ),
    dedupe_on=("child_id",),
)

CONTACTS = Table(
    name="contacts",
    meaning="Contacts received by the front door (List 1).",
    key="contact_id",
    knowledge_date="contact_date",
    knowledge_note="Known on the day it is received.",
    event_date="contact_date",
    columns=(
        Column("contact_id", "id", "Pseudonymised contact identifier"),
        _child_id(),
        Column("contact_date", "date", "Date the contact was received"),
        Column("source", "str", "CIN census source code", allowed=tuple(codes.SOURCE_CODES)),
        Column(
            "presenting_concerns",
            "factors",
            "Concerns the front door recorded when the contact came in, as CIN census factor "
            "codes, comma-separated (21: none); empty when the extract does not hold them "
            "(Annex A List 1 does not)",
            allowed=tuple(codes.ASSESSMENT_FACTOR_CODES),
            nullable=True,
        ),
    ),
    dedupe_on=("child_id", "contact_date", "source"),
)

REFERRALS = Table(
    name="referrals",
    meaning="Referrals to children's social care (List 3, CIN census referral episodes).",
    key="referral_id",
    knowledge_date="referral_date",
    knowledge_note="Known on the day it is received; each referral is a decision point.",
    event_date="referral_date",
    columns=(
        Column("referral_id", "id", "Pseudonymised referral identifier"),
        _child_id(),
        Column("referral_date", "date", "Date the referral was received"),
        Column(
            "source", "str", "CIN census referral source code", allowed=tuple(codes.SOURCE_CODES)
        ),
        Column(
            "outcome",
            "str",
            "nfa (no further action) or assessment",
            allowed=tuple(codes.REFERRAL_OUTCOMES),
            nullable=True,
        ),
    ),
    dedupe_on=("child_id", "referral_date"),
)

ASSESSMENTS = Table(
    name="assessments",
    meaning="Single (Children and Families Act) assessments (List 4, CIN census).",
    key="assessment_id",
    knowledge_date="authorisation_date",
    knowledge_note="Factors are known when the assessment is authorised, not when it starts; "
    "an unauthorised assessment has no knowledge date yet and never counts.",
    event_date="start_date",
    columns=(
        Column("assessment_id", "id", "Pseudonymised assessment identifier"),
        _child_id(),
        Column("start_date", "date", "Date the assessment started"),
        Column("authorisation_date", "date", "Date the assessment was authorised", nullable=True),
        Column(
            "factors",
            "factors",
            "CIN census factors identified, comma-separated (e.g. 3B,4B,16A)",
            allowed=tuple(codes.ASSESSMENT_FACTOR_CODES),
        ),
        Column(
            "outcome",
            "str",
            "Outcome of the assessment",
            allowed=tuple(codes.ASSESSMENT_OUTCOMES),
            nullable=True,
        ),
    ),
    dedupe_on=("child_id", "start_date"),
)

SECTION47_ENQUIRIES = Table(
    name="section47_enquiries",
    meaning="Section 47 enquiries and initial child protection conferences (List 5).",
    key="s47_id",
    knowledge_date="start_date",
    knowledge_note="Known from the day the enquiry starts.",
    event_date="start_date",
    columns=(
        Column("s47_id", "id", "Pseudonymised enquiry identifier"),
        _child_id(),
        Column("start_date", "date", "Date the Section 47 enquiry started"),
        Column(
            "icpc_date", "date", "Date of the initial child protection conference", nullable=True
        ),
        Column(
            "outcome",
            "str",
            "Outcome of the enquiry",
            allowed=tuple(codes.S47_OUTCOMES),
            nullable=True,
        ),
    ),
    dedupe_on=("child_id", "start_date"),
)

CP_PLANS = Table(
    name="cp_plans",
    meaning="Child protection plans (List 7).",
    key="plan_id",
    knowledge_date="start_date",
    knowledge_note="The initial category is known when the plan starts.",
    event_date="start_date",
    end_date="end_date",
    columns=(
        Column("plan_id", "id", "Pseudonymised plan identifier"),
        _child_id(),
        Column("start_date", "date", "Date the plan started"),
        Column("end_date", "date", "Date the plan ended (empty while open)", nullable=True),
        Column(
            "initial_category",
            "str",
            "Initial category of abuse",
            allowed=tuple(codes.CP_CATEGORIES),
        ),
    ),
    dedupe_on=("child_id", "start_date"),
)

DOMESTIC_ABUSE_NOTIFICATIONS = Table(
    name="domestic_abuse_notifications",
    meaning="Police notifications of domestic abuse incidents involving the child's household.",
    key="notification_id",
    knowledge_date="notification_date",
    knowledge_note="Known when the police notification reaches the front door.",
    event_date="notification_date",
    columns=(
        Column("notification_id", "id", "Pseudonymised notification identifier"),
        _child_id(),
        Column("notification_date", "date", "Date the police notification was received"),
        Column("dash_risk", "str", "DASH risk level", allowed=tuple(codes.DASH_LEVELS)),
        Column("marac_referral", "bool", "Whether the case was referred to a MARAC"),
    ),
    dedupe_on=("child_id", "notification_date"),
)

EARLY_HELP_EPISODES = Table(
    name="early_help_episodes",
    meaning="Early help episodes (List 2).",
    key="episode_id",
    knowledge_date="start_date",
    knowledge_note="Known from the day the episode starts.",
    event_date="start_date",
    end_date="end_date",
    columns=(
        Column("episode_id", "id", "Pseudonymised episode identifier"),
        _child_id(),
        Column("start_date", "date", "Date the early help episode started"),
        Column("end_date", "date", "Date it ended (empty while open)", nullable=True),
    ),
    dedupe_on=("child_id", "start_date"),
)

HOUSEHOLD_MEMBERSHIPS = Table(
    name="household_memberships",
    meaning="Who lived in which household, and from when to when. Optional: without it, "
    "household features use children.household_id, a snapshot as of the extract.",
    key="membership_id",
    knowledge_date="start_date",
    knowledge_note="Known from the day the child joined the household; a move out is known on "
    "its end date. Household features count only siblings who shared the child's household "
    "at the decision.",
    event_date="start_date",
    end_date="end_date",
    columns=(
        Column("membership_id", "id", "Pseudonymised membership identifier"),
        _child_id(),
        Column("household_id", "id", "Pseudonymised household identifier"),
        Column("start_date", "date", "Date the child joined the household"),
        Column(
            "end_date", "date", "Date the child left it (empty while living there)", nullable=True
        ),
    ),
    dedupe_on=("child_id", "household_id", "start_date"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        CHILDREN,
        CONTACTS,
        REFERRALS,
        ASSESSMENTS,
        SECTION47_ENQUIRIES,
        CP_PLANS,
        DOMESTIC_ABUSE_NOTIFICATIONS,
        EARLY_HELP_EPISODES,
        HOUSEHOLD_MEMBERSHIPS,
    )
}

EVENT_TABLES = [name for name, t in TABLES.items() if t.knowledge_date is not None]
SENSITIVE_COLUMNS = [c.name for c in CHILDREN.columns if c.sensitive]


def _factors_check(allowed: tuple[str, ...]) -> pa.Check:
    allowed_set = set(allowed)

    def ok(series: pd.Series) -> pd.Series:
        return series.map(lambda v: all(code in allowed_set for code in codes.factor_list(v)))

    return pa.Check(ok, element_wise=False, error="unknown assessment factor code")


def _pandera_column(col: Column) -> pa.Column:
    checks: list[pa.Check] = []
    if col.allowed is not None and col.dtype != "factors":
        checks.append(pa.Check.isin(list(col.allowed)))
    if col.dtype == "factors":
        checks.append(_factors_check(col.allowed or ()))
    if col.value_range is not None:
        checks.append(pa.Check.in_range(*col.value_range))
    if col.dtype == "id":
        checks.append(pa.Check.str_length(min_value=1, max_value=128))
    dtype = {
        "id": str,
        "str": str,
        "factors": str,
        "date": "datetime64[ns]",
        "int": "Int64" if col.nullable else "int64",
        "bool": bool,
    }[col.dtype]
    return pa.Column(dtype, checks=checks, nullable=col.nullable, coerce=True)


def schema(table: str | Table) -> pa.DataFrameSchema:
    """The pandera schema of a canonical table (strict: no other columns)."""
    t = TABLES[table] if isinstance(table, str) else table
    return pa.DataFrameSchema(
        {c.name: _pandera_column(c) for c in t.columns},
        strict=True,
        ordered=False,
        unique=[t.key],
        name=t.name,
    )


def empty_frame(table: str | Table) -> pd.DataFrame:
    """An empty, correctly typed frame for a table."""
    t = TABLES[table] if isinstance(table, str) else table
    frame = pd.DataFrame({c.name: pd.Series(dtype=object) for c in t.columns})
    return conform(frame, t)


def conform(frame: pd.DataFrame, table: str | Table) -> pd.DataFrame:
    """Order columns as declared and cast them to the contract's types (no validation).

    A nullable column the frame does not hold is added empty (a source that does not record
    it, such as presenting concerns in Annex A); a missing required column is a KeyError.
    """
    t = TABLES[table] if isinstance(table, str) else table
    out = {}
    for c in t.columns:
        if c.name not in frame.columns and c.nullable:
            out[c.name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            continue
        s = frame[c.name]
        if c.dtype == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]").dt.normalize()
        elif c.dtype == "int":
            s = s.astype("Int64" if c.nullable and s.isna().any() else "int64")
        elif c.dtype == "bool":
            s = s.astype(bool)
        else:
            s = s.astype(object).where(s.notna(), None)
        out[c.name] = s
    return pd.DataFrame(out, index=frame.index)


def validate(frame: pd.DataFrame, table: str | Table) -> pd.DataFrame:
    """Validate a whole table against its schema; raises pandera's SchemaErrors (lazy)."""
    return schema(table).validate(frame, lazy=True)


def latest_event_date(
    frames: list[tuple[str, pd.DataFrame]], not_after: date | None = None
) -> date | None:
    """The latest date of any event (every date column but dates of birth), or None.

    The reference date of an extract that does not state one: nothing in it can be later.
    Unreadable cells are already empty. Dates after ``not_after`` (typos such as 2099) are ignored, so one bad cell cannot move
    the reference date into the future and hide itself from the date checks.
    """
    latest: pd.Timestamp | None = None
    cap = pd.Timestamp(not_after) if not_after is not None else None
    for table, frame in frames:
        if table == "children" or not len(frame):
            continue
        for col in TABLES[table].date_columns:
            if col not in frame.columns:
                continue
            s = pd.to_datetime(frame[col], errors="coerce")
            if cap is not None:
                s = s[s <= cap]
            if s.notna().any() and (latest is None or s.max() > latest):
                latest = s.max()
    return None if latest is None else latest.date()


def derived_ids(staged: pd.DataFrame, table: str) -> pd.Series:
    """A record id from what identifies the record, so every source derives the same one."""
    t = TABLES[table]
    parts = [staged["child_id"].astype(str)]
    for col in t.dedupe_on:
        if col == "child_id":
            continue
        s = staged[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            parts.append(s.dt.strftime("%Y-%m-%d"))
        else:
            parts.append(s.astype(str))
    out = pd.Series(table, index=staged.index)
    for p in parts:
        out = out + "|" + p
    return out
