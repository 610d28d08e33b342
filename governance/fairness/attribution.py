"""Why one group's scores differ: each disparity attributed to the feature families behind it.

A board seeing "Black children are flagged 1.3 times as often" needs to know from what. The
model's per-row contributions (its reasons, in log-odds; `FrontDoorModel.contributions`) are
summed by feature family (`features.declarations`: police-sourced contacts, domestic-abuse
notifications, earlier assessments, ...); a family's share of a group's difference is its mean
contribution in the group minus its mean in the reference group. This needs no label, so it
sees what label-based error rates cannot: which records drive the difference in who is flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.features import declarations

OTHER = "other inputs"


def family_of(column: str) -> str:
    """The declared family of a model input (one-hot columns ``name=value`` by their name)."""
    name = column.split("=")[0]
    try:
        family = declarations.get(name).family
    except KeyError:
        return OTHER
    return declarations.FAMILIES.get(family, family)


def family_contributions(contributions: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Rows x families: each row's contributions summed within each feature family."""
    frame = pd.DataFrame(np.asarray(contributions, dtype=float), columns=list(columns))
    return frame.T.groupby([family_of(c) for c in frame.columns], sort=True).sum().T


def attribute(families: pd.DataFrame, groups: pd.Series, reference: str) -> pd.DataFrame:
    """Groups x families: mean contribution in the group minus the reference group's, with a
    ``total`` column (the difference in mean log-odds score)."""
    groups = pd.Series(np.asarray(groups, dtype=object).astype(str), index=families.index)
    means = families.groupby(groups).mean()
    out = means - means.loc[reference]
    out["total"] = out.sum(axis=1)
    return out


def sentence(table: pd.DataFrame, group: str, reference: str, top: int = 2) -> str:
    """The attribution of one group's difference in plain words."""
    row = table.loc[group].drop("total")
    total = float(table.loc[group, "total"])
    direction = "higher" if total > 0 else "lower"
    same_sign = row[np.sign(row) == np.sign(total)].sort_values(key=np.abs, ascending=False)
    if same_sign.empty or total == 0:
        return f"{group} children's scores do not differ from {reference} children's on average."
    parts = [f"{name} ({value:+.2f})" for name, value in same_sign.head(top).items()]
    share = float(same_sign.head(top).sum() / total) if total else 0.0
    return (
        f"{group} children's {direction} scores (mean {total:+.2f} log-odds against {reference}) "
        f"come mostly from {' and '.join(parts)}: {share:.0%} of the difference."
    )
