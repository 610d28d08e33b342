"""Words for numbers: what a band means, what a label predicts, how long a referral has waited."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from frontdoor.records.disclosure import is_small
from frontdoor.settings import Settings
from frontdoor.settings.label_words import label_words

MODEL_CANNOT_SEE = [
    "case notes, chronologies written by workers, and any other free text;",
    "what the referrer said on the phone, or anything said in a strategy discussion;",
    "anything not recorded in the council's children's social care system, or recorded late;",
    "information held only by partners (schools, health, police) that has not been shared;",
    "the child's own views and wishes, and the family's strengths and support.",
]


def label_meaning(label: str) -> str:
    """What the score estimates the chance of (the same words as the governance report)."""
    return label_words(label).meaning


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


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def backtest_text(figures: dict | None, label: str, min_referrals: int, up_to: int = 5) -> str:
    """The band's backtest in plain English, beside the model's estimate: of the past referrals
    in this band in the test periods (which no model of that period had seen), how many went on
    to the outcome, with its 95% interval, and what the model's estimates for them averaged.
    When the referrals with (or without) the outcome number 1 to ``up_to``, the rate would give
    them back, so it says "up to 5" (or "all but up to 5") instead, as published tables would."""
    meaning = label_meaning(label)
    if figures is None:
        return "No backtest figures were recorded for this model version's bands."
    n = int(figures["test_referrals"])
    rate = figures.get("observed_rate")
    if n < min_referrals or rate is None:
        past = (
            "no past referral was"
            if n == 0
            else f"only {n:,} past referral" + (" was" if n == 1 else "s were")
        )
        return (
            f"In the backtest, {past} in this band: too few to say how often referrals like "
            f"this went on to {meaning}."
        )
    outcomes = round(float(rate) * n)
    if is_small(outcomes, up_to) or is_small(n - outcomes, up_to):
        which = "up to" if is_small(outcomes, up_to) else "all but up to"
        return (
            f"In the backtest, of {n:,} past referrals in this band, {which} {up_to} went on to "
            f"{meaning}."
        )
    interval = ""
    if figures.get("observed_low") is not None and figures.get("observed_high") is not None:
        interval = f" ({_pct(figures['observed_low'])} to {_pct(figures['observed_high'])})"
    estimate = ""
    if figures.get("mean_probability") is not None:
        estimate = f"; the model's estimates for them averaged {_pct(figures['mean_probability'])}"
    return (
        f"In the backtest, of {n:,} past referrals in this band, {_pct(rate)}{interval} went on "
        f"to {meaning}{estimate}."
    )


LONDON = ZoneInfo("Europe/London")


def london(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored naive-UTC time shown on the council's clock (GMT or BST)."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(LONDON).strftime(fmt)


def age_text(years: int | None) -> str:
    if years is None:
        return "not known"
    if years < 1:
        return "under 1 year"
    return f"{years} year{'s' if years != 1 else ''}"


_ZERO = re.compile(r"^0(\.0+)? ")
_FLAG = re.compile(r"^(?P<what>.*): (?P<v>[01])(\.0+)?$")


def reason_text(reason) -> str:
    """A reason as a person would say it: 'No earlier contacts ...' rather than
    '0 earlier contacts ...: lowers'; 'Child protection plan open: yes' rather than ': 1'."""
    text = re.sub(r": (raises|lowers)$", "", reason.sentence.strip())
    if _ZERO.match(text):
        text = "No " + _ZERO.sub("", text, count=1)
    flag = _FLAG.match(text)
    if flag:
        text = f"{flag['what']}: {'yes' if flag['v'] == '1' else 'no'}"
    return text[:1].upper() + text[1:]


def effect_text(reason) -> str:
    return "raises the score" if reason.direction == "raises" else "lowers the score"


def waited(since: datetime | date, now: datetime) -> str:
    """'3 days 4 hours', '45 min': time since a referral arrived (a date: counted from its
    London midnight) or since it was flagged (a naive-UTC time)."""
    if not isinstance(since, datetime):
        since = (
            datetime.combine(since, datetime.min.time(), tzinfo=LONDON)
            .astimezone(UTC)
            .replace(tzinfo=None)
        )
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
