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
from frontdoor.records.disclosure import shown_count

OTHER = "other inputs"
SMALL_DIFFERENCE = 0.02  # log-odds: a mean score difference too small to attribute in words


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
    if abs(total) < SMALL_DIFFERENCE:
        moves = row.sort_values(key=np.abs, ascending=False).head(top)
        return (
            f"{group} children's scores hardly differ from {reference} children's on average "
            f"(mean {total:+.2f} log-odds); the families that move most are "
            + " and ".join(f"{name} ({value:+.2f})" for name, value in moves.items())
            + "."
        )
    if share > 1:
        return (
            f"{group} children's {direction} scores (mean {total:+.2f} log-odds against "
            f"{reference}) come from {' and '.join(parts)}, partly offset by other families "
            "pulling the other way."
        )
    return (
        f"{group} children's {direction} scores (mean {total:+.2f} log-odds against {reference}) "
        f"come mostly from {' and '.join(parts)}: {share:.0%} of the difference."
    )


TOO_FEW = "too few to attribute"


def disparity_attributions(
    families: pd.DataFrame,
    groups: pd.DataFrame,
    checks: list,
    up_to: int,
    min_rows: int,
    top: int = 3,
) -> list[dict]:
    """For each group with a failed, inconclusive or reported disparity (gate checks), the
    feature families behind its difference in mean contribution from the reference group.

    ``families``: rows x families (`family_contributions`); ``groups``: the same rows, one column
    per characteristic (group names). Published through the disclosure module: the rows behind
    a mean are shown with `shown_count`, and a group (or reference) with fewer than ``min_rows``
    rows here gets no figure at all, only ``TOO_FEW`` (a mean over a handful of children
    describes those children). Means are rounded to 2 decimals (log-odds)."""
    out, seen = [], set()
    for check in checks:
        key = (check.characteristic, check.group, check.reference)
        if key in seen or check.characteristic not in groups:
            continue
        seen.add(key)
        column = groups[check.characteristic].astype(str).reset_index(drop=True)
        counts = column.value_counts()
        n, n_ref = int(counts.get(check.group, 0)), int(counts.get(check.reference, 0))
        row = {
            "characteristic": check.characteristic,
            "group": check.group,
            "reference": check.reference,
            "rows": shown_count(n, up_to),
            "reference_rows": shown_count(n_ref, up_to),
            "families": [],
        }
        if min(n, n_ref) < max(min_rows, up_to + 1):
            row["sentence"] = TOO_FEW
            out.append(row)
            continue
        table = attribute(families.reset_index(drop=True), column, check.reference)
        ranked = table.loc[check.group].drop("total").sort_values(key=np.abs, ascending=False)
        row["total"] = round(float(table.loc[check.group, "total"]), 2)
        row["families"] = [
            {"family": name, "difference": round(float(v), 2)}
            for name, v in ranked.head(top).items()
        ]
        row["sentence"] = sentence(table, check.group, check.reference)
        out.append(row)
    return out
