"""Every point-in-time feature, declared once as data.

One declaration feeds the engine (`features.engine`), the catalogue read by governance
boards, the reasons shown to MASH managers (`describe`) and the tests. A new feature is
one more `Feature(...)` line here; the engine needs no change as long as it uses an
aggregation in `AGGREGATIONS` and a filter over columns of the data contract (or one of
the derived columns in `DERIVED_COLUMNS`).

Rules every feature obeys (enforced by the engine, proved by tests/features):
- only records whose knowledge date (`records.contract.TABLES[source].knowledge_date`) is
  strictly before the decision date count; a record without a knowledge date never counts;
- a window of N days covers records known 1 to N days before the decision (same-day
  records are not yet known); `window_days=None` covers all earlier history;
- household features count the child's siblings (same `household_id`), never the child.

The models room imports this module (for the wording of reasons and monotone
constraints), never the engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, SupportsFloat

from frontdoor.records import codes
from frontdoor.records.contract import TABLES

if TYPE_CHECKING:
    from frontdoor.settings import Settings

AGGREGATIONS: dict[str, str] = {
    "count": "number of records",
    "any": "1 if there is at least one record, else 0",
    "days_since_last": "days since the most recent record (missing when there is none)",
    "open": "1 if a record started before the decision and had not ended before it, else 0",
    "age_years": "completed years from the month of birth to the decision",
}

SCOPES: dict[str, str] = {
    "child": "the child's own records",
    "household": "the records of the child's siblings (same household), not the child's own",
}

# Columns the engine derives from the contract's columns before filtering.
DERIVED_COLUMNS: dict[tuple[str, str], str] = {
    ("contacts", "source_family"): "records.codes.SOURCE_FAMILY of the contact's source",
    ("referrals", "source_family"): "records.codes.SOURCE_FAMILY of the referral's source",
    ("referrals", "is_rereferral"): "the referral came within 365 days after an earlier "
    "referral of the same child (the DfE definition of a re-referral)",
}

FAMILIES: dict[str, str] = {
    "repeat_contacts": "Repeat contacts and re-referrals",
    "neglect": "Cumulative neglect",
    "domestic_abuse": "Prior domestic abuse",
    "other_history": "Other history: parental factors, Section 47 enquiries, plans, early help",
    "household": "Household: the same history over the child's siblings",
    "child": "The child",
}


@dataclass(frozen=True)
class Feature:
    """One feature: a column of the feature table, and the sentence that explains it."""

    name: str
    says: str  # plain English with a {value} slot
    family: str
    source: str  # a table of records.contract.TABLES
    knowledge_date: str | None  # the source's knowledge-date column (None: characteristics)
    agg: str = "count"
    window_days: int | None = None  # None: all earlier history
    where: Mapping[str, tuple[object, ...]] = field(default_factory=dict)  # column -> allowed
    scope: str = "child"
    monotone: int = 1  # +1: more means riskier, -1: more means less risky, 0: no constraint
    says_missing: str = ""  # the sentence when the value is missing (days since: none yet)

    def __post_init__(self) -> None:
        # a plain dict of tuples: picklable (MLflow, multiprocessing) and compared by value
        object.__setattr__(self, "where", {k: tuple(v) for k, v in dict(self.where).items()})

    def __hash__(self) -> int:  # names are unique (validate_declarations)
        return hash(self.name)

    @property
    def window_text(self) -> str:
        if self.agg == "age_years":
            return "at the decision"
        if self.agg == "open":
            return "open at the decision"
        if self.window_days is None:
            return "all earlier history"
        return f"known 1 to {self.window_days} days before"

    @property
    def where_text(self) -> str:
        parts = []
        for column, values in self.where.items():
            shown = ", ".join(str(v) for v in values)
            parts.append(f"{column} in ({shown})")
        return "; ".join(parts) if parts else "all records"


_NEGLECT = codes.FACTOR_GROUPS["neglect"]
_DA = codes.FACTOR_GROUPS["domestic_abuse"]
_PMH = codes.FACTOR_GROUPS["parental_mental_health"]
_ALC = codes.FACTOR_GROUPS["parental_alcohol"]
_DRUGS = codes.FACTOR_GROUPS["parental_drugs"]
_EXPLOIT = codes.FACTOR_GROUPS["exploitation"]
_SUBSTANCE = _ALC + _DRUGS

_WINDOW_WORDS = {
    7: "in the 7 days before this referral",
    30: "in the 30 days before this referral",
    90: "in the 3 months before this referral",
    180: "in the 6 months before this referral",
    365: "in the 12 months before this referral",
    730: "in the 24 months before this referral",
    None: "before this referral",
}


def _counts(
    stem: str,
    noun: str,
    family: str,
    source: str,
    windows: Iterable[int | None],
    where: Mapping[str, tuple[object, ...]] | None = None,
    scope: str = "child",
    subject: str = "",
) -> list[Feature]:
    out = []
    for window in windows:
        suffix = "all" if window is None else f"{window}d"
        out.append(
            Feature(
                name=f"{stem}_{suffix}",
                says=f"{{value}} {noun}{subject} {_WINDOW_WORDS[window]}",
                family=family,
                source=source,
                knowledge_date=TABLES[source].knowledge_date,
                agg="count",
                window_days=window,
                where=where or {},
                scope=scope,
                monotone=1,
            )
        )
    return out


def _days_since(
    name: str,
    says: str,
    family: str,
    source: str,
    where: Mapping[str, tuple[object, ...]] | None = None,
    scope: str = "child",
    never: str = "",
) -> Feature:
    return Feature(
        name=name,
        says=says,
        says_missing=never,
        family=family,
        source=source,
        knowledge_date=TABLES[source].knowledge_date,
        agg="days_since_last",
        window_days=None,
        where=where or {},
        scope=scope,
        monotone=-1,
    )


_SIB = " in siblings' records"


def _raising(
    stem: str, noun: str, family: str, concern_codes: tuple[str, ...], siblings: bool = True
) -> list[Feature]:
    """Contacts whose presenting concerns include one of the codes: the child's over 7, 90 and
    365 days, and (``siblings``) the siblings' over 365 days."""
    where = {"presenting_concerns": concern_codes}
    own = _counts(
        f"contacts_raising_{stem}",
        f"earlier contacts that raised {noun}",
        family,
        "contacts",
        (7, 90, 365),
        where=where,
    )
    if not siblings:
        return own
    return own + _counts(
        f"household_contacts_raising_{stem}",
        f"contacts that raised {noun}",
        family,
        "contacts",
        (365,),
        where=where,
        scope="household",
        subject=_SIB,
    )


FEATURES: tuple[Feature, ...] = (
    # --- repeat contacts and re-referrals -------------------------------------------------
    *_counts("referrals", "referrals", "repeat_contacts", "referrals", (30, 90, 365, None)),
    _days_since(
        "days_since_last_referral",
        "{value} since the child's last referral",
        "repeat_contacts",
        "referrals",
        never="No earlier referral of the child (never referred before)",
    ),
    *_counts(
        "earlier_rereferrals",
        "earlier re-referrals (a referral within 12 months of the one before)",
        "repeat_contacts",
        "referrals",
        (None,),
        where={"is_rereferral": (True,)},
    ),
    *_counts("contacts", "contacts", "repeat_contacts", "contacts", (30, 90, 365, None)),
    _days_since(
        "days_since_last_contact",
        "{value} since the last contact about the child",
        "repeat_contacts",
        "contacts",
        never="No earlier contact about the child (never)",
    ),
    *_counts(
        "police_contacts",
        "contacts from the police",
        "repeat_contacts",
        "contacts",
        (365, None),
        where={"source_family": ("police",)},
    ),
    *_counts(
        "school_contacts",
        "contacts from schools or education services",
        "repeat_contacts",
        "contacts",
        (365, None),
        where={"source_family": ("school",)},
    ),
    *_counts(
        "health_contacts",
        "contacts from health services",
        "repeat_contacts",
        "contacts",
        (365, None),
        where={"source_family": ("health",)},
    ),
    # --- cumulative neglect ----------------------------------------------------------------
    *_counts(
        "neglect_assessments",
        "earlier assessments that identified neglect (16A)",
        "neglect",
        "assessments",
        (None,),
        where={"factors": _NEGLECT},
    ),
    *_counts(
        "neglect_cp_plans",
        "earlier child protection plans under neglect",
        "neglect",
        "cp_plans",
        (None,),
        where={"initial_category": ("NEG",)},
    ),
    _days_since(
        "days_since_neglect_identified",
        "{value} since an assessment last identified neglect",
        "neglect",
        "assessments",
        where={"factors": _NEGLECT},
        never="Neglect never identified at an earlier assessment",
    ),
    *_counts(
        "household_neglect_assessments",
        "assessments that identified neglect",
        "neglect",
        "assessments",
        (None,),
        where={"factors": _NEGLECT},
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "household_neglect_cp_plans",
        "child protection plans under neglect",
        "neglect",
        "cp_plans",
        (None,),
        where={"initial_category": ("NEG",)},
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "nfa_assessments",
        "earlier assessments that ended with no further action",
        "neglect",
        "assessments",
        (None,),
        where={"outcome": ("nfa",)},
    ),
    *_counts("assessments", "assessments", "neglect", "assessments", (730, None)),
    *_raising("neglect", "neglect", "neglect", _NEGLECT),
    # --- prior domestic abuse --------------------------------------------------------------
    *_counts(
        "da_notifications",
        "police domestic-abuse notifications",
        "domestic_abuse",
        "domestic_abuse_notifications",
        (90, 365, None),
    ),
    *_counts(
        "da_high_risk",
        "police domestic-abuse notifications assessed high risk on DASH",
        "domestic_abuse",
        "domestic_abuse_notifications",
        (365, None),
        where={"dash_risk": ("high",)},
    ),
    *_counts(
        "da_marac_referrals",
        "domestic-abuse incidents referred to a MARAC",
        "domestic_abuse",
        "domestic_abuse_notifications",
        (None,),
        where={"marac_referral": (True,)},
    ),
    _days_since(
        "days_since_last_da_incident",
        "{value} since the last police domestic-abuse notification",
        "domestic_abuse",
        "domestic_abuse_notifications",
        never="No earlier police domestic-abuse notification (never)",
    ),
    *_counts(
        "da_assessments",
        "earlier assessments that identified domestic abuse (3A-3C)",
        "domestic_abuse",
        "assessments",
        (None,),
        where={"factors": _DA},
    ),
    *_counts(
        "household_da_notifications",
        "police domestic-abuse notifications",
        "domestic_abuse",
        "domestic_abuse_notifications",
        (365, None),
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "household_da_assessments",
        "assessments that identified domestic abuse",
        "domestic_abuse",
        "assessments",
        (None,),
        where={"factors": _DA},
        scope="household",
        subject=_SIB,
    ),
    *_raising("domestic_abuse", "domestic abuse", "domestic_abuse", _DA),
    # --- other history ----------------------------------------------------------------------
    *_counts(
        "parental_mental_health_assessments",
        "earlier assessments that identified parental mental health concerns (4B)",
        "other_history",
        "assessments",
        (None,),
        where={"factors": _PMH},
    ),
    *_counts(
        "parental_alcohol_assessments",
        "earlier assessments that identified parental alcohol misuse (1B)",
        "other_history",
        "assessments",
        (None,),
        where={"factors": _ALC},
    ),
    *_counts(
        "parental_drugs_assessments",
        "earlier assessments that identified parental drug misuse (2B)",
        "other_history",
        "assessments",
        (None,),
        where={"factors": _DRUGS},
    ),
    *_counts(
        "exploitation_assessments",
        "earlier assessments that identified exploitation, gangs, trafficking or going missing",
        "other_history",
        "assessments",
        (None,),
        where={"factors": _EXPLOIT},
    ),
    *_raising("parental_mental_health", "parental mental health concerns", "other_history", _PMH),
    *_raising("parental_substance", "parental alcohol or drug misuse", "other_history", _SUBSTANCE),
    *_raising("exploitation", "exploitation", "other_history", _EXPLOIT, siblings=False),
    *_counts(
        "s47_enquiries",
        "earlier Section 47 enquiries",
        "other_history",
        "section47_enquiries",
        (365, None),
    ),
    _days_since(
        "days_since_last_s47",
        "{value} since the last Section 47 enquiry",
        "other_history",
        "section47_enquiries",
        never="No earlier Section 47 enquiry (never)",
    ),
    *_counts("cp_plans", "earlier child protection plans", "other_history", "cp_plans", (None,)),
    Feature(
        name="ever_cp_plan",
        says="Earlier child protection plan: {value}",
        family="other_history",
        source="cp_plans",
        knowledge_date=TABLES["cp_plans"].knowledge_date,
        agg="any",
        monotone=1,
    ),
    Feature(
        name="open_cp_plan",
        says="Child protection plan open at this referral: {value}",
        family="other_history",
        source="cp_plans",
        knowledge_date=TABLES["cp_plans"].knowledge_date,
        agg="open",
        monotone=1,
    ),
    Feature(
        name="open_early_help",
        says="Early help episode open at this referral: {value}",
        family="other_history",
        source="early_help_episodes",
        knowledge_date=TABLES["early_help_episodes"].knowledge_date,
        agg="open",
        monotone=1,
    ),
    *_counts(
        "early_help_episodes",
        "early help episodes",
        "other_history",
        "early_help_episodes",
        (365, None),
    ),
    Feature(
        name="age_at_decision",
        says="the child was {value} years old at this referral",
        family="child",
        source="children",
        knowledge_date=None,
        agg="age_years",
        monotone=0,
    ),
    # --- household: the same history over siblings ------------------------------------------
    *_counts(
        "household_referrals",
        "referrals",
        "household",
        "referrals",
        (365, None),
        scope="household",
        subject=_SIB,
    ),
    _days_since(
        "days_since_household_referral",
        "{value} since a sibling's last referral",
        "household",
        "referrals",
        scope="household",
        never="No sibling referred before (never)",
    ),
    *_counts(
        "household_contacts",
        "contacts",
        "household",
        "contacts",
        (365,),
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "household_s47_enquiries",
        "Section 47 enquiries",
        "household",
        "section47_enquiries",
        (None,),
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "household_cp_plans",
        "child protection plans",
        "household",
        "cp_plans",
        (None,),
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "household_parental_mental_health_assessments",
        "assessments that identified parental mental health concerns",
        "household",
        "assessments",
        (None,),
        where={"factors": _PMH},
        scope="household",
        subject=_SIB,
    ),
    *_counts(
        "household_early_help_episodes",
        "early help episodes",
        "household",
        "early_help_episodes",
        (None,),
        scope="household",
        subject=_SIB,
    ),
)

_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}


def feature_names() -> list[str]:
    """Every feature's name (= its column in the feature table), in declaration order."""
    return [f.name for f in FEATURES]


def get(name: str) -> Feature:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no feature named {name!r}") from None


def families() -> dict[str, list[str]]:
    """Family name -> the names of its features, in declaration order."""
    out: dict[str, list[str]] = {}
    for f in FEATURES:
        out.setdefault(f.family, []).append(f.name)
    return out


def format_value(feature: Feature, value: SupportsFloat | None) -> str:
    """A value as a person would write it: integers without decimals, missing as words."""
    number = _number(value)
    if feature.agg == "days_since_last":
        if number is None:
            return "no earlier record" if feature.scope == "child" else "never"
        days = round(number)
        return f"{days} day" if days == 1 else f"{days} days"
    if number is None:
        return "unknown"
    if feature.agg in ("any", "open"):
        return "yes" if number > 0 else "no"
    if number.is_integer():
        return str(int(number))
    return f"{number:.1f}"


def _number(value: SupportsFloat | None) -> float | None:
    """The value as a float; None when it is missing (None or NaN)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def describe(name: str, value: SupportsFloat | None) -> str:
    """The feature's sentence with its value, for reasons and the catalogue."""
    feature = get(name)
    number = _number(value)
    if number is None and feature.says_missing:
        return feature.says_missing
    says = feature.says
    if feature.agg == "count" and number == 1:
        says = singular(says)
    text = says.format(value=format_value(feature, value))
    return text[0].upper() + text[1:]


_HEAD_NOUN = re.compile(
    r"^(\{value\} (?:[\w-]+ )*?)([\w-]+?)(ies|s)\b"
    r"(?=( that| from| under| assessed| referred| in| before| \(|$))"
)


def singular(says: str) -> str:
    """'{value} referrals in ...' -> '{value} referral in ...' (the head noun after the value)."""
    return _HEAD_NOUN.sub(lambda m: m[1] + m[2] + ("y" if m[3] == "ies" else ""), says, count=1)


def validate_declarations(features: Iterable[Feature] = FEATURES) -> None:
    """Refuse declarations the engine could not honour (raised at import, so never silent)."""
    seen = set()
    for f in features:
        if f.name in seen:
            raise ValueError(f"feature {f.name!r} is declared twice")
        seen.add(f.name)
        if f.agg not in AGGREGATIONS:
            raise ValueError(f"{f.name}: unknown aggregation {f.agg!r}")
        if f.scope not in SCOPES:
            raise ValueError(f"{f.name}: unknown scope {f.scope!r}")
        if f.family not in FAMILIES:
            raise ValueError(f"{f.name}: unknown family {f.family!r}")
        if f.source not in TABLES:
            raise ValueError(f"{f.name}: unknown source table {f.source!r}")
        if f.monotone not in (-1, 0, 1):
            raise ValueError(f"{f.name}: monotone must be -1, 0 or +1")
        if "{value}" not in f.says:
            raise ValueError(f"{f.name}: the sentence needs a {{value}} slot")
        if f.agg == "days_since_last" and not f.says_missing:
            raise ValueError(f"{f.name}: a days-since feature says what 'none yet' means")
        table = TABLES[f.source]
        if f.agg == "age_years":
            if f.source != "children":
                raise ValueError(f"{f.name}: age_years reads the children table")
            continue
        if f.knowledge_date != table.knowledge_date:
            raise ValueError(
                f"{f.name}: knowledge date {f.knowledge_date!r} is not the contract's "
                f"{table.knowledge_date!r} for {f.source}"
            )
        if f.agg == "open" and (table.end_date is None or f.window_days is not None):
            raise ValueError(f"{f.name}: 'open' needs a table with an end date and no window")
        if f.agg == "open" and f.scope != "child":
            raise ValueError(f"{f.name}: 'open' is computed for the child only")
        if f.window_days is not None and f.window_days < 1:
            raise ValueError(f"{f.name}: a window covers at least one day")
        for column in f.where:
            if column not in table.column_names and (f.source, column) not in DERIVED_COLUMNS:
                raise ValueError(f"{f.name}: {f.source} has no column {column!r} to filter on")


validate_declarations()


def model_input_columns(settings: Settings) -> list[str]:
    """The columns a model may read: every feature; sensitive characteristics only when
    ``features.use_sensitive_as_inputs`` is set."""
    columns = feature_names()
    if settings.features.use_sensitive_as_inputs:
        columns += list(codes.SENSITIVE_INPUTS)
    return columns
