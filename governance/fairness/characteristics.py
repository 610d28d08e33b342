"""The protected characteristics audited by default, derived from the sensitive columns.

The sensitive columns travel beside the features (never inside them by default); this module
turns them into the groups a governance board reads: DfE ethnicity major groups, sex, age band,
disability, IDACI quintile, and ethnicity by sex.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.records import codes

ETHNICITY_GROUPS = ("White", "Mixed", "Asian", "Black", "Other", "Not known or refused")
AGE_BANDS = codes.AGE_BAND_LABELS
SEX_NAMES = {"M": "Male", "F": "Female", "U": "Not known"}
INTERSECTION = " × "

# Characteristic name -> the column holding its groups after `derive_characteristics`.
STANDARD = {
    "ethnicity": "fairness_ethnicity",
    "sex": "fairness_sex",
    "age_band": "fairness_age_band",
    "disability": "fairness_disability",
    "idaci_quintile": "fairness_idaci_quintile",
    "ethnicity_x_sex": "fairness_ethnicity_x_sex",
}


def ethnicity_group(frame: pd.DataFrame) -> pd.Series:
    """DfE major group, from ``ethnicity_group`` when present, else mapped from ``ethnicity``."""
    if "ethnicity_group" in frame:
        out = frame["ethnicity_group"].astype(object)
    elif "ethnicity" in frame:
        out = frame["ethnicity"].map(codes.ETHNICITY_MAJOR_GROUP)
    else:
        raise KeyError("no ethnicity or ethnicity_group column to audit")
    out = out.where(out.isin(ETHNICITY_GROUPS), "Not known or refused")
    return out.astype(str)


def age_band(frame: pd.DataFrame) -> pd.Series:
    """0-4, 5-9, 10-15, 16+ from ``age_band`` (normalised) or from an age in years."""
    for col in ("age_years", "age_at_decision", "age"):
        if col in frame and pd.api.types.is_numeric_dtype(frame[col]):
            years = frame[col].astype(float)
            band = pd.cut(years, [-np.inf, 5, 10, 16, np.inf], right=False, labels=list(AGE_BANDS))
            return band.astype(object).where(band.notna(), "Not known").astype(str)
    if "age_band" not in frame:
        raise KeyError("no age_band or age column to audit")
    text = frame["age_band"].astype(str).str.strip()
    text = text.str.replace("–", "-", regex=False).str.replace(" ", "", regex=False)
    text = text.replace({"16andover": "16+", "16plus": "16+", "16-17": "16+", "16-18": "16+"})
    return text.where(text.isin(AGE_BANDS), "Not known")


def sex(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["sex"]
        .map(lambda v: SEX_NAMES.get(v, v if isinstance(v, str) else "Not known"))
        .astype(str)
    )


def disability(frame: pd.DataFrame) -> pd.Series:
    value = frame["disability"]
    truthy = value.astype(str).str.lower().isin(["true", "1", "yes", "y"])
    return pd.Series(np.where(truthy, "Disabled", "Not disabled"), index=frame.index)


def idaci_quintile(frame: pd.DataFrame) -> pd.Series:
    """Quintile 1 (most deprived) to 5, from ``idaci_quintile`` or ``idaci_decile``."""
    if "idaci_quintile" in frame:
        q = pd.to_numeric(frame["idaci_quintile"], errors="coerce")
    else:
        q = np.ceil(pd.to_numeric(frame["idaci_decile"], errors="coerce") / 2)
    return q.map(lambda v: f"Q{int(v)}" if pd.notna(v) else "Not known").astype(str)


def derive_characteristics(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with one column per standard characteristic, and the name -> column mapping.

    A characteristic whose source column is absent is left out (and so not audited).
    """
    out = frame.copy()
    mapping: dict[str, str] = {}
    makers = {
        "ethnicity": ethnicity_group,
        "sex": sex,
        "age_band": age_band,
        "disability": disability,
        "idaci_quintile": idaci_quintile,
    }
    for name, make in makers.items():
        try:
            out[STANDARD[name]] = make(frame).to_numpy()
        except KeyError:
            continue
        mapping[name] = STANDARD[name]
    if "ethnicity" in mapping and "sex" in mapping:
        col = STANDARD["ethnicity_x_sex"]
        out[col] = out[STANDARD["ethnicity"]] + INTERSECTION + out[STANDARD["sex"]]
        mapping["ethnicity_x_sex"] = col
    return out, mapping
