"""Explanations on the log-odds scale: per-referral reasons and global importance.

For LightGBM the contributions are TreeSHAP values; for the logistic scorecard they are the
exact linear terms. In both, contributions plus the base value equal the model's margin.
The calibrator then maps that margin to a probability; it is monotone, so a reason that
raises the margin never lowers the probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.models import declared
from frontdoor.records.scores import Reason, reasons_to_json


def reasons_for_row(
    contributions: np.ndarray, values: np.ndarray, names: list[str], top_k: int = 3
) -> list[Reason]:
    """The top ``top_k`` reasons that raise and the top ``top_k`` that lower one score."""
    order = np.argsort(-contributions, kind="stable")
    raising = [i for i in order[:top_k] if contributions[i] > 0]
    lowering = [i for i in order[::-1][:top_k] if contributions[i] < 0]
    chosen = raising + lowering
    if not chosen:  # every contribution is zero: still say what the score rests on
        chosen = [int(np.argmax(np.abs(contributions)))]
    reasons = []
    for i in chosen:
        c = float(contributions[i])
        direction = "raises" if c > 0 else "lowers"
        name = names[i]
        v = float(values[i])
        reasons.append(
            Reason(
                feature=name,
                value=None if np.isnan(v) else v,  # JSON null: strict parsers refuse NaN
                contribution=round(c, 6),
                direction=direction,
                sentence=f"{declared.describe(name, v)}: {direction}",
                family=declared.family(name),
            )
        )
    return reasons


def reasons_json(contributions: np.ndarray, frame: pd.DataFrame, top_k: int = 3) -> list[str]:
    """One JSON list of reasons per row of ``frame`` (columns in model order)."""
    names = list(frame.columns)
    values = frame.to_numpy(dtype=float)
    return [
        reasons_to_json(reasons_for_row(contributions[r], values[r], names, top_k))
        for r in range(len(frame))
    ]


def global_importance(contributions: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Mean absolute contribution per feature, largest first."""
    mean_abs = np.abs(contributions).mean(axis=0)
    mean = contributions.mean(axis=0)
    return pd.DataFrame(
        {
            "feature": names,
            "family": [declared.family(n) for n in names],
            "mean_abs_contribution": mean_abs,
            "mean_contribution": mean,
        }
    ).sort_values("mean_abs_contribution", ascending=False, ignore_index=True)
