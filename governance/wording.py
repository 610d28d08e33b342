"""Plain words for the board: features as phrases with their units, metrics by their names.

The report and the comparison never show a raw column name; every feature is the phrase its
declaration says, with the unit of its value (days, years, a count, yes or no)."""

from __future__ import annotations

from frontdoor.features.declarations import get
from frontdoor.settings.label_words import label_words

METRIC_NAMES = {
    "auc": "AUC (how well it ranks: 0.5 is chance, 1 is perfect)",
    "average_precision": "average precision",
    "brier": "Brier score (lower is better)",
    "ece": "calibration error (lower is better)",
    "calibration_intercept": "calibration intercept (0 when the probabilities can be read literally)",
    "calibration_slope": "calibration slope (1 when they can be read literally)",
    "precision_at_capacity": "share of flagged referrals that {happened}",
    "recall_at_capacity": "share of {positives} that were flagged",
    "flag_rate_at_capacity": "share of referrals flagged",
    "lift_over_rule": "lift over the current-practice rule",
}


def feature_phrase(name: str) -> str:
    """What a feature measures, with its unit, e.g. "days since the child's last referral"."""
    if "=" in name:  # an encoded category (models.encoding)
        column, category = name.split("=", 1)
        return f"{column.replace('_', ' ')} is {category} (yes or no)"
    try:
        feature = get(name)
    except (KeyError, LookupError):
        return name.replace("_", " ")
    says = feature.says
    if feature.agg == "days_since_last":
        text = says.replace("{value}", "days")
    elif feature.agg == "count":
        text = says.replace("{value} ", "number of ", 1)
    elif feature.agg in ("any", "open"):
        text = says.replace(": {value}", "").replace("{value}", "") + " (yes or no)"
    elif feature.agg == "age_years":
        text = "the child's age in years at this referral"
    else:
        text = says.replace("{value}", "the value")
    text = text.strip()
    return text[0].lower() + text[1:] if text else name.replace("_", " ")


def metric_name(metric: str, label: str) -> str:
    """A metric's name for a board; the outcome in it is the label's ("escalated", "were
    referred again")."""
    words = label_words(label)
    text = METRIC_NAMES.get(metric, metric.replace("_", " "))
    return text.format(happened=words.happened, positives=words.positives)
