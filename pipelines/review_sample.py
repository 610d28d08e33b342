"""Sample records for the review app, made by the one generator (``frontdoor.synth``).

For tests, screenshots and the load benchmark when no scored council is at hand: a synthetic
council's canonical tables (``records.contract``), pseudonymised as ingestion would, and scored
referrals in the shape the score flow writes (``records.scores.SCORED_REFERRAL_SCHEMA``).
It lives in pipelines, the room allowed to import synth; the review app itself never does.
Nothing here is about a real child.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from frontdoor.records.contract import TABLES
from frontdoor.records.pseudonymise import pseudonymise_series
from frontdoor.records.scores import (
    BAND_OUTCOME_COLUMNS,
    SCORED_REFERRAL_COLUMNS,
    Reason,
    reasons_to_json,
)
from frontdoor.records.store import write_tables
from frontdoor.review import auth, store
from frontdoor.review.band_outcomes import load_band_outcomes
from frontdoor.settings import Settings
from frontdoor.synth.council import generate

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


# Sample ids are keyed hashes like ingestion's, under a key that protects nothing (synthetic).
SAMPLE_KEY = b"frontdoor-review-sample"
YEARS = 4  # of history ending on ``end``: enough for repeat referrals and earlier plans


def canonical_tables(
    children: int = 150, seed: int = 3, end: date = date(2026, 3, 31)
) -> dict[str, pd.DataFrame]:
    """A synthetic council of ``children`` (simulated population; about a third are known to
    children's services) over four years to ``end``, with pseudonymised ids."""
    settings = Settings(synth={"children": children, "seed": seed, "years": YEARS, "end_date": end})
    return {name: _pseudonymised(frame, name) for name, frame in generate(settings).tables.items()}


def _pseudonymised(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Ids as ingestion writes them: child and household namespaces, record keys per table."""
    out = frame.copy()
    key = TABLES[name].key
    if key != "child_id":
        out[key] = pseudonymise_series(SAMPLE_KEY, out[key].astype(str), name)
    out["child_id"] = pseudonymise_series(SAMPLE_KEY, out["child_id"].astype(str), "child")
    if "household_id" in out.columns:
        hh = out["household_id"]
        out["household_id"] = pseudonymise_series(SAMPLE_KEY, hh.where(hh.notna()), "household")
    return out


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


# Sample test referrals per band, shaped like the default council's escalation backtest
# (docs/models.md, "Bands"); the observed rates sit a little above the sample's mean estimates.
SAMPLE_BAND_REFERRALS = {"low": 1352, "medium": 1043, "high": 588, "very high": 218}


def band_outcomes(scores: pd.DataFrame) -> pd.DataFrame:
    """Backtest figures per band for each version in ``scores``, in the shape the score flow
    loads (``records.scores.BAND_OUTCOME_SCHEMA``): sample numbers, no backtest behind them."""
    rows = []
    for (label, name, version), part in scores.groupby(["label", "model_name", "model_version"]):
        for band, n in SAMPLE_BAND_REFERRALS.items():
            in_band = part.loc[part["band"] == band, "probability"]
            mean = float(in_band.mean()) if len(in_band) else 0.5
            observed = min(mean + 0.03, 0.97)
            rows.append(
                {
                    "label": label,
                    "model_name": name,
                    "model_version": version,
                    "band": band,
                    "test_referrals": n,
                    "observed_rate": round(observed, 4),
                    "observed_low": round(observed - 0.03, 4),
                    "observed_high": round(observed + 0.03, 4),
                    "mean_probability": round(mean, 4),
                }
            )
    return pd.DataFrame(rows, columns=BAND_OUTCOME_COLUMNS)


def recent(frame: pd.DataFrame, now: datetime, days: int = 3) -> pd.DataFrame:
    """Shift scoring times so the queue shows plausible waits relative to ``now``."""
    out = frame.copy()
    offsets = (out.index.to_numpy() * 7919) % (days * 24 * 60)
    out["scored_at"] = pd.Timestamp(now) - pd.to_timedelta(offsets, unit="m") - timedelta(minutes=5)
    out["scored_at"] = out["scored_at"].astype("datetime64[ns]")
    return out


def populate(
    settings: Settings,
    *,
    children: int = 150,
    users: dict[str, str] | None = None,
    now=None,
    password: str = "",
    recent_days: int | None = None,
) -> dict:
    """Write sample canonical tables, load their scores and add users {username: role}.

    Scores each child's newest referral; with ``recent_days``, only those referred in the last
    ``recent_days`` days (a nightly scoring of new referrals: a smaller queue, recent waits).
    Returns {"tables": ..., "scores": ...}. For tests, screenshots and the benchmark.
    """
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
    if recent_days is not None:
        scores = scores[
            scores["referral_date"] > pd.Timestamp(end) - pd.Timedelta(days=recent_days)
        ]
        scores = scores.reset_index(drop=True)
    if now is not None:
        scores = recent(scores, now)
    store.load_scored_referrals(settings, scores)
    load_band_outcomes(settings, band_outcomes(scores))
    engine = store.ready_engine(settings)
    for username, role in (users or {}).items():
        auth.add_user(settings, engine, username, role, password)
    return {"tables": tables, "scores": scores}
