"""The feature table: one row per decision point, features, labels, and what travels beside.

Columns: decision_id, child_id, decision_date, decision_kind, every declared feature,
the labels (``rereferral_12m``, ``escalation_12m``, NaN when censored), ``censored``, the
sensitive characteristics for the fairness audit (not model inputs unless configured),
and the synthetic ground truth (``truth_*``) when it is given. Rows are sorted by
decision date, kind and id, so the table does not depend on the order of input rows.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features import labels as lab
from features import timeline as tl
from features.declarations import FEATURES, feature_names
from features.engine import Decisions, Engine, Population
from frontdoor.settings import Settings
from records import codes
from records.contract import TABLES, empty_frame

ID_COLUMNS = ["decision_id", "child_id", "decision_date", "decision_kind"]
LABEL_COLUMNS = ["rereferral_12m", "escalation_12m"]
SENSITIVE_COLUMNS = [
    "sex",
    "ethnicity",
    "ethnicity_group",
    "disability",
    "idaci_decile",
    "idaci_quintile",
    "age_band",
]
# Sensitive characteristics that may become model inputs (use_sensitive_as_inputs); the
# models room encodes the strings.
SENSITIVE_INPUTS = ["sex", "ethnicity_group", "disability", "idaci_decile"]
TRUTH_COLUMNS = {
    "p_rereferral_12m": "truth_rereferral_12m",
    "p_escalation_12m": "truth_escalation_12m",
}
AGE_BANDS = ((0, 4, "0-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 200, "16+"))


def model_input_columns(settings: Settings) -> list[str]:
    """The columns a model may read: every feature; sensitive ones only when configured."""
    columns = feature_names()
    if settings.features.use_sensitive_as_inputs:
        columns += SENSITIVE_INPUTS
    return columns


def decision_points(tables: dict[str, pd.DataFrame], settings: Settings) -> pd.DataFrame:
    """Each referral (and each contact, when configured) at the moment it is decided on."""
    referrals = _table(tables, "referrals")
    frames = [
        pd.DataFrame(
            {
                "decision_id": referrals["referral_id"].to_numpy(),
                "child_id": referrals["child_id"].to_numpy(),
                "decision_date": referrals["referral_date"].to_numpy(),
                "decision_kind": "referral",
            }
        )
    ]
    if settings.features.include_contacts_as_decisions:
        contacts = _table(tables, "contacts")
        frames.append(
            pd.DataFrame(
                {
                    "decision_id": contacts["contact_id"].to_numpy(),
                    "child_id": contacts["child_id"].to_numpy(),
                    "decision_date": contacts["contact_date"].to_numpy(),
                    "decision_kind": "contact",
                }
            )
        )
    points = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    points = points[points["decision_date"].notna() & points["child_id"].notna()]
    points["decision_date"] = pd.to_datetime(points["decision_date"]).astype("datetime64[ns]")
    return points.sort_values(["decision_date", "decision_kind", "decision_id"]).reset_index(
        drop=True
    )


def build_feature_table(
    tables: dict[str, pd.DataFrame],
    reference_date: date,
    settings: Settings,
    truth: pd.DataFrame | None = None,
    features=FEATURES,
) -> pd.DataFrame:
    """Every declared feature, the labels and the sensitive characteristics per decision."""
    points = decision_points(tables, settings)
    children = _table(tables, "children")
    population = Population.from_tables(children, points["child_id"])
    child = population.codes_of(points["child_id"])
    day = tl.day_numbers(points["decision_date"])

    per_child = _children_by_code(children, population)
    decisions = Decisions(
        child=child,
        household=population.household_of_child[child],
        day=day,
        birth_day=per_child["birth_day"][child],
    )
    values = Engine(tables, population).compute(decisions, features)

    out = {c: points[c].to_numpy() for c in ID_COLUMNS}
    out.update(values)
    out.update(_labels(tables, population, child, day, reference_date, settings))
    out.update(_sensitive(per_child, child, values.get("age_at_decision"), decisions))
    table = pd.DataFrame(out)
    table["decision_date"] = table["decision_date"].astype("datetime64[ns]")
    if truth is not None:
        table = _join_truth(table, truth)
    return table


def label_summary(table: pd.DataFrame) -> dict[str, float | int]:
    """Counts for the CLI and logs: decisions, censored, label rates among the uncensored."""
    labelled = table[~table["censored"]]
    summary: dict[str, float | int] = {
        "decisions": int(len(table)),
        "censored": int(table["censored"].sum()),
        "labelled": int(len(labelled)),
        "features": int(sum(1 for c in table.columns if c in set(feature_names()))),
    }
    for name in LABEL_COLUMNS:
        summary[f"{name}_rate"] = float(labelled[name].mean()) if len(labelled) else float("nan")
    return summary


# --- helpers -------------------------------------------------------------------------------
def _table(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    frame = tables.get(name)
    return empty_frame(name) if frame is None else frame


def _children_by_code(children: pd.DataFrame, population: Population) -> dict[str, np.ndarray]:
    n = len(population.child_ids)
    first = children.drop_duplicates("child_id")
    at = population.codes_of(first["child_id"])
    birth = np.full(n, tl.NO_DAY, dtype=np.int64)
    birth[at] = tl.day_numbers(first["birth_month"])
    out: dict[str, np.ndarray] = {"birth_day": birth}
    for column in ("sex", "ethnicity"):
        values = np.full(n, None, dtype=object)
        values[at] = first[column].to_numpy(dtype=object)
        out[column] = values
    disability = np.full(n, np.nan)
    disability[at] = first["disability"].astype(float).to_numpy()
    idaci = np.full(n, np.nan)
    idaci[at] = (
        pd.to_numeric(first["idaci_decile"], errors="coerce")
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
    )
    out["disability"] = disability
    out["idaci_decile"] = idaci
    return out


def _sensitive(per_child, child, age, decisions) -> dict[str, np.ndarray]:
    ethnicity = per_child["ethnicity"][child]
    group = pd.Series(ethnicity).map(codes.ETHNICITY_MAJOR_GROUP).to_numpy(dtype=object)
    idaci = per_child["idaci_decile"][child]
    if age is None:
        from features.engine import age_in_years

        age = age_in_years(decisions.birth_day, decisions.day)
    band = np.full(len(child), None, dtype=object)
    for low, high, label in AGE_BANDS:
        band[(age >= low) & (age <= high)] = label
    return {
        "sex": per_child["sex"][child],
        "ethnicity": ethnicity,
        "ethnicity_group": group,
        "disability": per_child["disability"][child],
        "idaci_decile": idaci,
        "idaci_quintile": np.ceil(idaci / 2),
        "age_band": band,
    }


def _labels(tables, population, child, day, reference_date, settings) -> dict[str, np.ndarray]:
    def events(name: str) -> tuple[np.ndarray, np.ndarray]:
        frame = _table(tables, name)
        return (
            population.table_codes(name, frame),
            tl.day_numbers(frame[TABLES[name].event_date]),
        )

    referrals = events("referrals")
    s47, plans = events("section47_enquiries"), events("cp_plans")
    escalations = (np.concatenate([s47[0], plans[0]]), np.concatenate([s47[1], plans[1]]))
    known = (referrals[0] >= 0, escalations[0] >= 0)
    return lab.labels(
        child,
        day,
        (referrals[0][known[0]], referrals[1][known[0]]),
        (escalations[0][known[1]], escalations[1][known[1]]),
        reference_date,
        settings.features.label_window_days,
    )


def _join_truth(table: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    wanted = truth[["referral_id", *TRUTH_COLUMNS]].drop_duplicates("referral_id")
    wanted = wanted.rename(columns={"referral_id": "decision_id", **TRUTH_COLUMNS})
    return table.merge(wanted, on="decision_id", how="left", validate="many_to_one")
