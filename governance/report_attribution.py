"""The governance report's attribution section: why a group's scores differ, in feature families.

For every disparity the gate failed, found inconclusive or reported, the board reads which
feature families drive the group's difference in mean contribution from the reference group
("Black children's higher scores come mostly from police-sourced contacts and domestic-abuse
notifications"). Computed on the newest test period's referrals, explained by the registered
model itself (the feature table is needed: the contributions are the model's own), and
published through the disclosure module (`fairness.attribution.disparity_attributions`).
Kept apart from report.py so the report's own sections can change without touching it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from frontdoor.governance.fairness.attribution import disparity_attributions, family_contributions
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.gate import GateResult
from frontdoor.models import registry
from frontdoor.records.feature_table import default_feature_path
from frontdoor.settings import Settings

NOTE = (
    "Mean contribution of each feature family (in log-odds, the model's internal scale) in the "
    "group minus its mean in the reference group, over the newest test period's referrals, "
    "explained by this version. A family that raises a group's scores is not proof of unfair "
    "treatment: it may record a real difference in need, or more watching of the group (police "
    "contacts, notifications): the board judges which."
)


def attribution_section(
    settings: Settings,
    label: str,
    ref: str,
    pred: pd.DataFrame,
    gate: GateResult,
    features: Path | None = None,
) -> dict:
    """{"rows": one per group with a disparity shown, "note": how to read it (or why none)}."""
    checks = [*gate.failures, *gate.inconclusive, *gate.reported]
    if not checks:
        return {"rows": [], "note": "No disparity failed, was inconclusive or was reported."}
    if features is None:
        features = default_feature_path(settings)
    if not Path(features).exists():
        return {"rows": [], "note": f"No feature table at {features}: attribution needs it."}
    newest = pred[pred["fold"] == pred["fold"].max()].drop_duplicates("decision_id")
    table = pd.read_parquet(features)
    rows = table[table["decision_id"].isin(set(newest["decision_id"]))].drop_duplicates(
        "decision_id"
    )
    if rows.empty:
        return {
            "rows": [],
            "note": "The newest test period's referrals are not in the feature table.",
        }
    model = registry.load_native(settings, label, ref)
    contributions, _ = model.contributions(rows)
    families = family_contributions(contributions, list(model.inputs(rows.head(1)).columns))
    frame, mapping = derive_characteristics(newest.set_index("decision_id"))
    groups = pd.DataFrame(
        {
            name: frame.loc[rows["decision_id"], column].to_numpy()
            for name, column in mapping.items()
        }
    )
    out = disparity_attributions(
        families,
        groups,
        checks,
        settings.privacy.suppress_counts_up_to,
        settings.fairness.min_group_size,
    )
    return {"rows": out, "note": NOTE}
