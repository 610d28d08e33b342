"""Code lists of the canonical tables (DfE CIN census and Ofsted Annex A)."""

from __future__ import annotations

from collections.abc import Iterable

ETHNICITY_CODES: dict[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WOTH": "Any other White background",
    "WIRT": "Traveller of Irish heritage",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other Mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Caribbean",
    "BAFR": "African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}

# DfE major ethnic groups used in fairness audits.
ETHNICITY_MAJOR_GROUP: dict[str, str] = {
    **{c: "White" for c in ("WBRI", "WIRI", "WOTH", "WIRT", "WROM")},
    **{c: "Mixed" for c in ("MWBC", "MWBA", "MWAS", "MOTH")},
    **{c: "Asian" for c in ("AIND", "APKN", "ABAN", "AOTH")},
    **{c: "Black" for c in ("BCRB", "BAFR", "BOTH")},
    **{c: "Other" for c in ("CHNE", "OOTH")},
    **{c: "Not known or refused" for c in ("REFU", "NOBT")},
}

SEX_CODES: dict[str, str] = {"M": "Male", "F": "Female", "U": "Not known"}

# CIN census referral source codes (also used for contacts).
SOURCE_CODES: dict[str, str] = {
    "1A": "Individual: family member",
    "1B": "Individual: relative or carer",
    "1C": "Individual: self",
    "1D": "Individual: other",
    "2A": "Schools",
    "2B": "Education services",
    "3A": "Health: health visitor",
    "3B": "Health: GP",
    "3C": "Health: health services",
    "3D": "Health: A&E",
    "3E": "Health: other primary health",
    "3F": "Health: other",
    "4": "Housing",
    "5A": "LA services: social care",
    "5B": "LA services: other internal",
    "5C": "LA services: external",
    "5D": "LA services: early help",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}

SOURCE_FAMILY: dict[str, str] = {
    "1A": "individual",
    "1B": "individual",
    "1C": "individual",
    "1D": "individual",
    "2A": "school",
    "2B": "school",
    "3A": "health",
    "3B": "health",
    "3C": "health",
    "3D": "health",
    "3E": "health",
    "3F": "health",
    "4": "council",
    "5A": "council",
    "5B": "council",
    "5C": "council",
    "5D": "council",
    "6": "police",
    "7": "other",
    "8": "other",
    "9": "anonymous",
    "10": "other",
}

REFERRAL_OUTCOMES: dict[str, str] = {
    "nfa": "No further action",
    "assessment": "Progressed to assessment",
}

# CIN census factors identified at assessment.
ASSESSMENT_FACTOR_CODES: dict[str, str] = {
    "1A": "Alcohol misuse: concerns about the child",
    "1B": "Alcohol misuse: concerns about a parent or carer",
    "1C": "Alcohol misuse: concerns about another person",
    "2A": "Drug misuse: concerns about the child",
    "2B": "Drug misuse: concerns about a parent or carer",
    "2C": "Drug misuse: concerns about another person",
    "3A": "Domestic abuse: the child as subject",
    "3B": "Domestic abuse: concerns about a parent or carer",
    "3C": "Domestic abuse: concerns about another person",
    "4A": "Mental health: concerns about the child",
    "4B": "Mental health: concerns about a parent or carer",
    "4C": "Mental health: concerns about another person",
    "5A": "Learning disability: the child",
    "5B": "Learning disability: a parent or carer",
    "5C": "Learning disability: another person",
    "6A": "Physical disability or illness: the child",
    "6B": "Physical disability or illness: a parent or carer",
    "6C": "Physical disability or illness: another person",
    "7A": "Young carer",
    "8B": "Privately fostered: overseas child intending to return",
    "8C": "Privately fostered: overseas child intending to stay",
    "8D": "Privately fostered: UK child in education or training",
    "8E": "Privately fostered: UK child with family difficulties",
    "8F": "Privately fostered: other",
    "9A": "Unaccompanied asylum-seeking child",
    "10A": "Going missing",
    "11A": "Child sexual exploitation",
    "12A": "Trafficking",
    "13A": "Gangs",
    "14A": "Socially unacceptable behaviour",
    "15A": "Self-harm",
    "16A": "Neglect",
    "17A": "Emotional abuse",
    "18B": "Physical abuse: by a child",
    "18C": "Physical abuse: by an adult",
    "19B": "Sexual abuse: by a child",
    "19C": "Sexual abuse: by an adult",
    "20": "Other",
    "21": "No factors identified",
    "22A": "Female genital mutilation",
    "23A": "Abuse linked to faith or belief",
    "24A": "Child criminal exploitation",
}

FACTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "neglect": ("16A",),
    "domestic_abuse": ("3A", "3B", "3C"),
    "parental_mental_health": ("4B",),
    "parental_alcohol": ("1B",),
    "parental_drugs": ("2B",),
    "exploitation": ("11A", "24A", "13A", "12A", "10A"),
}

ASSESSMENT_OUTCOMES: dict[str, str] = {
    "nfa": "No further action",
    "cin_support": "Child in need support",
    "strategy_s47": "Strategy discussion and Section 47 enquiry",
    "early_help": "Stepped down to early help",
}

S47_OUTCOMES: dict[str, str] = {
    "no_icpc": "Concerns not substantiated, no conference",
    "icpc_no_plan": "Initial conference held, no plan",
    "icpc_plan": "Initial conference held, child protection plan",
}

CP_CATEGORIES: dict[str, str] = {
    "NEG": "Neglect",
    "PHY": "Physical abuse",
    "SAB": "Sexual abuse",
    "EMO": "Emotional abuse",
    "MUL": "Multiple",
}

DASH_LEVELS: dict[str, str] = {"standard": "Standard", "medium": "Medium", "high": "High"}


# ---------------------------------------------------------------- the feature table's own columns
# The outcomes the models learn (one registered model each).
LABELS: tuple[str, ...] = ("rereferral_12m", "escalation_12m")
# Characteristics carried beside the features for the fairness audit (never model inputs unless
# ``features.use_sensitive_as_inputs``).
AUDIT_CHARACTERISTICS: tuple[str, ...] = (
    "sex",
    "ethnicity",
    "ethnicity_group",
    "disability",
    "idaci_decile",
    "idaci_quintile",
    "age_band",
)
# The characteristics that may become model inputs; the models room encodes the strings.
SENSITIVE_INPUTS: tuple[str, ...] = ("sex", "ethnicity_group", "disability", "idaci_decile")
# Age bands at the decision: (lowest whole year, highest whole year, label).
AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 4, "0-4"),
    (5, 9, "5-9"),
    (10, 15, "10-15"),
    (16, 200, "16+"),
)
AGE_BAND_LABELS: tuple[str, ...] = tuple(label for _, _, label in AGE_BANDS)


def factor_list(value: str | None) -> list[str]:
    """Split a stored factor string ("3B,4B,16A") into its codes."""
    if value is None or value != value or value == "":
        return []
    return [code for code in str(value).split(",") if code]


def join_factors(codes: Iterable[str]) -> str:
    """Store factors as one sorted, de-duplicated, comma-separated string."""
    return ",".join(sorted(set(codes), key=_factor_sort_key))


def _factor_sort_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 999, code)
