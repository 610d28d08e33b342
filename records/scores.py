"""The scored referral: one record, written by scoring and read by the queue, report and monitor.

A score is a prompt for professional review, never a decision. Every score carries its reasons.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa

DIRECTIONS = ("raises", "lowers")


@dataclass(frozen=True)
class Reason:
    """One reason behind a score: a declared feature, its value and its SHAP contribution."""

    feature: str
    value: float
    contribution: float  # on the log-odds scale
    direction: str  # "raises" or "lowers"
    sentence: str  # rendered from the feature's declared description, e.g. "4 police ...: raises"
    family: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reasons_to_json(reasons: list[Reason]) -> str:
    return json.dumps([r.to_dict() for r in reasons], separators=(",", ":"))


def reasons_from_json(text: str) -> list[Reason]:
    return [Reason(**item) for item in json.loads(text)]


SCORED_REFERRAL_COLUMNS = [
    "decision_id",
    "child_id",
    "referral_date",
    "label",
    "probability",
    "band",
    "model_name",
    "model_version",
    "reasons_json",
    "scored_at",
]


def _reasons_ok(series: pd.Series) -> pd.Series:
    def ok(text: str) -> bool:
        try:
            items = json.loads(text)
        except (TypeError, ValueError):
            return False
        return (
            isinstance(items, list)
            and len(items) > 0
            and all(i.get("direction") in DIRECTIONS and i.get("sentence") for i in items)
        )

    return series.map(ok)


SCORED_REFERRAL_SCHEMA = pa.DataFrameSchema(
    {
        "decision_id": pa.Column(str),
        "child_id": pa.Column(str),
        "referral_date": pa.Column("datetime64[ns]", coerce=True),
        "label": pa.Column(str),  # which outcome the score is for, e.g. escalation_12m
        "probability": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "band": pa.Column(str),
        "model_name": pa.Column(str),
        "model_version": pa.Column(str),
        "reasons_json": pa.Column(
            str, pa.Check(_reasons_ok, error="every score carries its reasons")
        ),
        "scored_at": pa.Column("datetime64[ns]", coerce=True),
    },
    strict=True,
    unique=["decision_id", "label", "model_name", "model_version"],
    name="scored_referrals",
)


# What happened to the backtest's test referrals in each band of one model version
# (``models.bands.backtest_outcomes`` in the run's ``model_card/bands.csv``): the score flow
# carries it to the review store beside the scores, so a case page can set the version's
# estimate beside what was observed. Rates are NaN when a band had no test referral.
BAND_OUTCOME_SCHEMA = pa.DataFrameSchema(
    {
        "label": pa.Column(str),
        "model_name": pa.Column(str),
        "model_version": pa.Column(str),
        "band": pa.Column(str),
        "test_referrals": pa.Column(int, pa.Check.ge(0), coerce=True),
        "observed_rate": pa.Column(float, pa.Check.in_range(0.0, 1.0), nullable=True),
        "observed_low": pa.Column(float, pa.Check.in_range(0.0, 1.0), nullable=True),
        "observed_high": pa.Column(float, pa.Check.in_range(0.0, 1.0), nullable=True),
        "mean_probability": pa.Column(float, pa.Check.in_range(0.0, 1.0), nullable=True),
    },
    strict="filter",
    unique=["label", "model_name", "model_version", "band"],
    name="band_outcomes",
)
BAND_OUTCOME_COLUMNS = list(BAND_OUTCOME_SCHEMA.columns)
