"""Per model version and band, what happened to the backtest's referrals: in and out of the store.

- ``load_band_outcomes(settings, frame)``: the score flow loads each scoring version's figures
  (``records.scores.BAND_OUTCOME_SCHEMA``) beside its scores;
- ``band_outcome(engine, score)``: the figures of a score's version and band, for its case page.

A version's figures are fixed when it is trained: rows are only added, once per label, model,
version and band (the database refuses UPDATE and DELETE, migration 0004).
"""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import Engine, insert, select

from frontdoor.records.scores import BAND_OUTCOME_COLUMNS, BAND_OUTCOME_SCHEMA
from frontdoor.review import db
from frontdoor.review.schema import band_outcomes
from frontdoor.review.store import ready_engine, utcnow
from frontdoor.settings import Settings

KEY = ("label", "model_name", "model_version", "band")


def _value(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def load_band_outcomes(settings: Settings, frame: pd.DataFrame) -> int:
    """Store the figures of versions and bands not stored yet (idempotent); returns how many
    rows were added. A version already stored keeps its figures: they never change."""
    rows = BAND_OUTCOME_SCHEMA.validate(frame.copy(), lazy=True)[BAND_OUTCOME_COLUMNS]
    engine = ready_engine(settings)
    t = band_outcomes
    now = utcnow()
    with db.writing(engine) as conn:
        known = {tuple(r) for r in conn.execute(select(*[t.c[k] for k in KEY]))}
        new = []
        for record in rows.to_dict("records"):
            key = tuple(str(record[k]) for k in KEY)
            if key in known:
                continue
            known.add(key)
            new.append(
                {
                    **{k: str(record[k]) for k in KEY},
                    "test_referrals": int(record["test_referrals"]),
                    **{
                        c: _value(float(record[c]))
                        for c in ("observed_rate", "observed_low", "observed_high")
                    },
                    "mean_probability": _value(float(record["mean_probability"])),
                    "loaded_at": now,
                }
            )
        if new:
            conn.execute(insert(t), new)
    return len(new)


def band_outcome(engine: Engine, score: dict) -> dict | None:
    """The backtest's figures for the band of ``score`` (a scored-referral row) in its own
    model version; None when the version's figures were never loaded."""
    t = band_outcomes
    with engine.connect() as conn:
        row = conn.execute(select(t).where(*[t.c[k] == str(score[k]) for k in KEY])).first()
    return dict(row._mapping) if row is not None else None
