"""Scoring new referrals into the one scored-referral record (``records.scores``).

Accepts the native ``FrontDoorModel`` or a loaded MLflow pyfunc (anything whose ``predict``
returns probability, band and reasons_json). The result is validated against
``SCORED_REFERRAL_SCHEMA``: every score carries its reasons. A score is a prompt for
professional review, never a decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from frontdoor.models.bundle import OUTPUT_COLUMNS, FrontDoorModel
from frontdoor.records.scores import SCORED_REFERRAL_COLUMNS, SCORED_REFERRAL_SCHEMA


def flag_mask(bands: Iterable[str], flagged_bands: Iterable[str]) -> np.ndarray:
    """Which referrals the queue flags for review: those whose band is one of ``flagged_bands``.

    The one flag rule: the score flow, the review queue's counts and the monitor all call it."""
    return np.isin(np.asarray(list(bands), dtype=object).astype(str), list(flagged_bands))


def native_model(model) -> FrontDoorModel:
    """The ``FrontDoorModel`` behind a loaded pyfunc (or the model itself)."""
    if isinstance(model, FrontDoorModel):
        return model
    return model.unwrap_python_model().model


def bands_and_flags(model, frame: pd.DataFrame, flagged_bands: Iterable[str]) -> pd.DataFrame:
    """Probability, band and flag per row (index preserved), computed exactly as scoring does:
    the band from the model's margin (log-odds) against its training edges, the probability from
    its calibration map, the flag from `flag_mask`. No reasons (the monitor needs none)."""
    if len(frame) == 0:
        return pd.DataFrame(
            {
                "probability": pd.Series(dtype="float64"),
                "band": pd.Series(dtype="str"),
                "flagged": pd.Series(dtype="bool"),
            },
            index=frame.index,
        )
    out = native_model(model).score_frame(frame, with_reasons=False)
    out["flagged"] = flag_mask(out["band"], flagged_bands)
    return out


def _outputs(model, frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(model, FrontDoorModel):
        return model.score_frame(frame)[OUTPUT_COLUMNS].reset_index(drop=True)
    names = _input_names(model)
    inputs = frame[names] if names else frame
    numeric = [c for c in inputs.columns if pd.api.types.is_numeric_dtype(inputs[c])]
    out = model.predict(inputs.astype({c: "float64" for c in numeric}))
    return pd.DataFrame(out)[OUTPUT_COLUMNS].reset_index(drop=True)


def _input_names(model) -> list[str] | None:
    meta = getattr(model, "metadata", None)
    schema = meta.get_input_schema() if meta is not None else None
    return schema.input_names() if schema is not None else None


def score_referrals(
    model,
    feature_frame: pd.DataFrame,
    *,
    label: str,
    model_name: str,
    model_version: str,
    scored_at: datetime | None = None,
) -> pd.DataFrame:
    """One scored-referral row per decision in ``feature_frame`` (validated)."""
    if feature_frame.empty:
        return SCORED_REFERRAL_SCHEMA.validate(
            pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in SCORED_REFERRAL_COLUMNS})
        )
    frame = feature_frame.reset_index(drop=True)
    out = _outputs(model, frame)
    when = pd.Timestamp(scored_at or datetime.now()).tz_localize(None).floor("s")
    scored = pd.DataFrame(
        {
            "decision_id": frame["decision_id"].astype(str),
            "child_id": frame["child_id"].astype(str),
            "referral_date": pd.to_datetime(frame["decision_date"]).astype("datetime64[ns]"),
            "label": label,
            "probability": out["probability"].astype(float),
            "band": out["band"].astype(str),
            "model_name": model_name,
            "model_version": str(model_version),
            "reasons_json": out["reasons_json"].astype(str),
            "scored_at": when,
        }
    )
    scored["scored_at"] = scored["scored_at"].astype("datetime64[ns]")
    return SCORED_REFERRAL_SCHEMA.validate(scored[SCORED_REFERRAL_COLUMNS])


def _dtype(column: str) -> str:
    if column in ("referral_date", "scored_at"):
        return "datetime64[ns]"
    if column == "probability":
        return "float64"
    return "str"
