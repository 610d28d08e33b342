"""A toy feature table in the features room's shape, with a known true probability.

Used only where the real pipeline (synth -> features) would be too slow for a unit test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.features.declarations import feature_names, get


def toy_feature_table(n: int = 3000, seed: int = 0, years: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = feature_names()
    start = pd.Timestamp("2020-04-01")
    days = np.sort(rng.integers(0, 365 * years, n))
    latent = rng.normal(0, 1, n)
    data = {}
    for i, name in enumerate(names):
        decl = get(name)
        if name.startswith("days_since"):
            v = rng.exponential(300 * np.exp(-0.3 * latent))
            v[rng.random(n) < 0.3] = np.nan
        elif name == "age_at_decision":
            v = rng.integers(0, 18, n).astype(float)
        else:
            lam = np.exp(-1.0 + 0.4 * latent * (1 if decl.monotone >= 0 else -1) + 0.05 * (i % 5))
            v = rng.poisson(lam).astype(float)
        data[name] = v
    margin = (
        -1.2
        + 0.5 * np.log1p(data["referrals_365d"])
        + 0.4 * np.log1p(data["da_notifications_365d"])
        + 0.6 * data["ever_cp_plan"].clip(0, 1)
        + 0.3 * latent
    )
    p_esc = 1 / (1 + np.exp(-margin))
    p_rer = 1 / (1 + np.exp(-(margin - 0.5)))
    decision_date = start + pd.to_timedelta(days, unit="D")
    end = start + pd.Timedelta(days=365 * years)
    censored = (decision_date + pd.Timedelta(days=365)) > end
    esc = (rng.random(n) < p_esc).astype(float)
    rer = (rng.random(n) < p_rer).astype(float)
    frame = pd.DataFrame(
        {
            "decision_id": [f"p{i:024x}" for i in rng.permutation(10**6)[:n]],
            "child_id": [f"p{i:024x}" for i in rng.integers(0, 10**6, n)],
            "decision_date": decision_date.astype("datetime64[ns]"),
            "decision_kind": "referral",
            **data,
            "rereferral_12m": np.where(censored, np.nan, rer),
            "escalation_12m": np.where(censored, np.nan, esc),
            "censored": np.asarray(censored),
            "sex": rng.choice(["M", "F"], n),
            "ethnicity": rng.choice(["WBRI", "BAFR", "APKN"], n),
            "ethnicity_group": rng.choice(["White", "Black", "Asian"], n),
            "disability": rng.integers(0, 2, n).astype(float),
            "idaci_decile": rng.integers(1, 11, n).astype(float),
            "age_band": rng.choice(["0-4", "5-9", "10-15", "16+"], n),
            "truth_rereferral_12m": p_rer,
            "truth_escalation_12m": p_esc,
        }
    )
    frame["idaci_quintile"] = np.ceil(frame["idaci_decile"] / 2)
    return frame
