"""Helpers of the synth tests: the product's labels computed from tables, censoring, ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.support import make_settings

SMALL = 3_000  # children: schema, integrity, determinism
MID = 20_000  # children: oracle and knobs (a few seconds each)


def council_settings(tmp_path, children: int, seed: int = 7, **synth):
    return make_settings(tmp_path, synth={"children": children, "seed": seed, **synth})


def realised_labels(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The product's label definitions, computed from the tables (1 <= days after <= 365)."""
    ref = tables["referrals"][["referral_id", "child_id", "referral_date"]]

    def hit(events: pd.DataFrame) -> pd.Series:
        m = ref.merge(events, on="child_id")
        days = (m["when"] - m["referral_date"]).dt.days
        got = m[(days >= 1) & (days <= 365)].groupby("referral_id").size()
        return ref["referral_id"].map(got).fillna(0).gt(0).to_numpy()

    later_refs = tables["referrals"][["child_id", "referral_date"]].rename(
        columns={"referral_date": "when"}
    )
    escalations = pd.concat(
        [
            tables["section47_enquiries"][["child_id", "start_date"]],
            tables["cp_plans"][["child_id", "start_date"]],
        ]
    ).rename(columns={"start_date": "when"})
    return pd.DataFrame(
        {
            "referral_id": ref["referral_id"].to_numpy(),
            "referral_date": ref["referral_date"].to_numpy(),
            "rereferral_12m": hit(later_refs),
            "escalation_12m": hit(escalations),
        }
    )


def uncensored(council) -> pd.DataFrame:
    """Realised labels and the oracle for referrals whose 12 months lie inside the extract."""
    labels = realised_labels(council.tables).merge(council.ground_truth, on="referral_id")
    end = pd.Timestamp(council.manifest["reference_date"])
    return labels[labels["referral_date"] <= end - pd.Timedelta(days=365)]


def child_index(child_ids: pd.Series) -> np.ndarray:
    """Raw ids C0000001.. back to simulation indices."""
    return child_ids.str[1:].astype(np.int64).to_numpy() - 1
