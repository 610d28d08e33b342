"""Words for numbers: what a band means, what a label predicts, how long a referral has waited."""

from __future__ import annotations

from datetime import datetime, timedelta

from frontdoor.settings import Settings

LABEL_MEANINGS = {
    "escalation_12m": "escalation to a Section 47 enquiry or a child protection plan within 12 months",
    "rereferral_12m": "a further referral within 12 months",
}

MODEL_CANNOT_SEE = [
    "case notes, chronologies written by workers, and any other free text;",
    "what the referrer said on the phone, or anything said in a strategy discussion;",
    "anything not recorded in the council's children's social care system, or recorded late;",
    "information held only by partners (schools, health, police) that has not been shared;",
    "the child's own views and wishes, and the family's strengths and support.",
]


def label_meaning(label: str) -> str:
    return LABEL_MEANINGS.get(label, label.replace("_", " "))


def band_meaning(settings: Settings, band: str) -> str:
    """Where a band sits among the scores the model was calibrated on (from models.band_edges)."""
    names = list(settings.models.band_names)
    edges = list(settings.models.band_edges)
    if band not in names or len(edges) != len(names) - 1:
        return "A band set when the model was trained."
    i = names.index(band)

    def top(q: float) -> str:
        return f"{round((1 - q) * 100):g}%"

    if i == len(names) - 1:
        return f"Among the highest {top(edges[-1])} of scores when the model was trained."
    if i == 0:
        return f"Below the highest {top(edges[0])} of scores when the model was trained."
    return (
        f"Within the highest {top(edges[i - 1])} of scores, but not the highest "
        f"{top(edges[i])}, when the model was trained."
    )


def waited(since: datetime, now: datetime) -> str:
    """'3 days 4 hours', '45 minutes': time since a referral was flagged."""
    delta = max(now - since, timedelta(0))
    days, hours, minutes = delta.days, delta.seconds // 3600, (delta.seconds % 3600) // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (
            f" {hours} hour{'s' if hours != 1 else ''}" if hours else ""
        )
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''} {minutes} min"
    return f"{minutes} min"


def band_class(band: str) -> str:
    return "band-" + band.replace(" ", "-").lower()


def family_label(family: str) -> str:
    return family.replace("_", " ").capitalize()
