"""The feature table: one row per decision point, features, labels, and what travels beside.

Columns: decision_id, child_id, decision_date, decision_kind, every declared feature,
the labels (``rereferral_12m``, ``escalation_12m``, NaN when censored), ``censored``, the
sensitive characteristics for the fairness audit (not model inputs unless configured),
and the synthetic ground truth (``truth_*``) when it is given. Rows are sorted by
decision date, kind and id, so the table does not depend on the order of input rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from frontdoor.features import labels as lab
from frontdoor.features import timeline as tl
from frontdoor.features.declarations import FEATURES, Feature, feature_names
from frontdoor.features.engine import Decisions, Engine, Population, age_in_years, arrow_strings
from frontdoor.records import codes
from frontdoor.records.contract import TABLES, empty_frame
from frontdoor.records.versions import boundaries, known_before
from frontdoor.settings import Settings

ID_COLUMNS = ["decision_id", "child_id", "decision_date", "decision_kind"]
LABEL_COLUMNS = list(codes.LABELS)
SENSITIVE_COLUMNS = list(codes.AUDIT_CHARACTERISTICS)
TRUTH_COLUMNS = {
    "p_rereferral_12m": "truth_rereferral_12m",
    "p_escalation_12m": "truth_escalation_12m",
}
AGE_BANDS = codes.AGE_BANDS


@dataclass
class DecisionPoints:
    """Decision points sorted by (date, kind, id): Arrow ids, integer codes and days."""

    decision_id: pa.Array
    kind: pa.Array
    child: np.ndarray
    day: np.ndarray


DECISION_SOURCES = {
    "referral": ("referrals", "referral_id", "referral_date"),
    "contact": ("contacts", "contact_id", "contact_date"),
}


def decision_points(
    tables: dict[str, pd.DataFrame], settings: Settings, population: Population
) -> DecisionPoints:
    """Each referral (and each contact, when configured) at the moment it is decided on,
    sorted so that the table never depends on the order of the input rows."""
    kinds = ["referral"] + (["contact"] if settings.features.include_contacts_as_decisions else [])
    ids, kind, child, day = [], [], [], []
    for name in kinds:
        table_name, key, date_column = DECISION_SOURCES[name]
        frame = _table(tables, table_name, needs=(key, "child_id", date_column))
        ids.append(arrow_strings(frame[key]))
        kind.append(pa.array(np.full(len(frame), name, dtype=object), type=pa.large_string()))
        child.append(population.table_codes(table_name, frame))
        day.append(tl.day_numbers(frame[date_column]))
    child_, day_ = np.concatenate(child), np.concatenate(day)
    sortable = pa.table(
        {
            "day": day_,
            "kind": pa.chunked_array(kind),
            "id": pa.chunked_array(ids, type=pa.large_string()),
        }
    )
    keep = (day_ != tl.NO_DAY) & (child_ >= 0)
    sortable = sortable.filter(pa.array(keep))
    order = pc.sort_indices(
        sortable, sort_keys=[("day", "ascending"), ("kind", "ascending"), ("id", "ascending")]
    )
    rows = np.flatnonzero(keep)[order.to_numpy()]
    return DecisionPoints(
        decision_id=sortable["id"].take(order).combine_chunks(),
        kind=sortable["kind"].take(order).combine_chunks(),
        child=child_[rows],
        day=day_[rows],
    )


def build_feature_table(
    tables: dict[str, pd.DataFrame],
    reference_date: date,
    settings: Settings,
    truth: pd.DataFrame | None = None,
    features: Sequence[Feature] = FEATURES,
    versions: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Every declared feature, the labels and the sensitive characteristics per decision.

    ``versions``: earlier versions of records corrected by later extracts
    (``records.store.read_versions``); each decision then reads the version known strictly
    before it, never a correction made afterwards."""
    children = _table(tables, "children", needs=TABLES["children"].column_names)
    asked = [_table(tables, "referrals", needs=("child_id",))["child_id"]]
    if settings.features.include_contacts_as_decisions:
        asked.append(_table(tables, "contacts")["child_id"])
    population = Population.from_tables(children, *asked)
    points = decision_points(tables, settings, population)
    child, day = points.child, points.day

    per_child = _children_by_code(children, population)
    decisions = Decisions(
        child=child,
        household=population.household_of_child[child],
        day=day,
        birth_day=per_child["birth_day"][child],
    )
    engine = Engine(tables, population)
    values = engine.compute(decisions, features)
    if versions:
        _as_known_before(values, tables, versions, population, decisions, features)

    out: dict[str, object] = {
        "decision_id": _strings(points.decision_id),
        "child_id": _strings(population.child_ids.take(pa.array(child))),
        "decision_date": (tl.DAY_ZERO + day).astype("datetime64[ns]"),
        "decision_kind": _strings(points.kind),
    }
    out.update(values)
    is_contact = np.asarray(points.kind.to_numpy(zero_copy_only=False) == "contact")
    own = (
        np.where(is_contact, settings.features.contact_screening_days, 0)
        if is_contact.any()
        else None  # referral decisions only: no contact has an own referral to set aside
    )
    out.update(_labels(tables, population, child, day, reference_date, settings, own))
    out.update(_sensitive(per_child, child, values.get("age_at_decision"), decisions))
    table = pd.DataFrame(out, copy=False)
    if truth is not None:
        table = _join_truth(table, truth)
    if engine.decisions_without_household is not None:
        table.attrs["decisions_without_household"] = engine.decisions_without_household
    return table


def _as_known_before(
    values: dict[str, np.ndarray],
    tables: dict[str, pd.DataFrame],
    versions: dict[str, pd.DataFrame],
    population: Population,
    decisions: Decisions,
    features: Sequence[Feature],
) -> None:
    """Recompute the features of decisions taken before a correction on the tables as known
    then. Versions change only at extract dates, so decisions fall into a few epochs, each
    computed once; the decisions after the last correction keep the current values."""
    cuts = (boundaries(versions) - tl.DAY_ZERO).astype(np.int64)
    if not len(cuts):
        return
    epoch = np.searchsorted(cuts, decisions.day, side="left")  # corrections before the day
    for k in np.unique(epoch[epoch < len(cuts)]):
        # any day of the epoch selects the same versions: cuts[k-1] < day <= cuts[k]
        day = tl.DAY_ZERO + (cuts[k - 1] + 1 if k > 0 else cuts[0])
        known = {
            name: known_before(frame, versions[name], name, day) if name in versions else frame
            for name, frame in tables.items()
        }
        mask = epoch == k
        subset = Decisions(
            child=decisions.child[mask],
            household=decisions.household[mask],
            day=decisions.day[mask],
            birth_day=decisions.birth_day[mask],
        )
        for name, column in Engine(known, population).compute(subset, features).items():
            values[name][mask] = column


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
    if "decisions_without_household" in table.attrs:  # dated memberships: no siblings then
        summary["decisions_without_household"] = int(table.attrs["decisions_without_household"])
    return summary


# --- helpers -------------------------------------------------------------------------------
def _table(
    tables: dict[str, pd.DataFrame], name: str, needs: Sequence[str | None] = ()
) -> pd.DataFrame:
    frame = tables.get(name)
    if frame is None:
        return empty_frame(name)
    missing = [c for c in needs if c not in frame.columns]
    if missing:
        raise ValueError(f"table {name!r} has no column {missing[0]!r} (see docs/data-contract.md)")
    return frame


def _children_by_code(children: pd.DataFrame, population: Population) -> dict[str, Any]:
    """Characteristics per child code (row of the children table; missing when unknown)."""
    n = len(population.child_ids)
    at = population.codes_of(children["child_id"])
    ok = at >= 0
    row_of_child = np.full(n, -1, dtype=np.int64)
    row_of_child[at[ok]] = np.flatnonzero(ok)
    birth = np.full(n, tl.NO_DAY, dtype=np.int64)
    birth[at[ok]] = tl.day_numbers(children["birth_month"])[ok]
    disability = np.full(n, np.nan)
    disability[at[ok]] = children["disability"].astype(float).to_numpy()[ok]
    idaci = np.full(n, np.nan)
    idaci[at[ok]] = (
        pd.to_numeric(children["idaci_decile"], errors="coerce")
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
    )[ok]
    return {
        "row": row_of_child,
        "birth_day": birth,
        "disability": disability,
        "idaci_decile": idaci,
        "sex": arrow_strings(children["sex"]),
        "ethnicity": arrow_strings(children["ethnicity"]),
    }


def _strings(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Arrow strings as a pandas string column, without a round trip through Python objects."""
    return pd.Series(values.to_pandas(), copy=False)


def _take_strings(values: pa.Array, rows: np.ndarray) -> pa.Array:
    index = pa.array(rows, mask=rows < 0)  # unknown child: missing value
    return pc.take(values, index)


def _map_strings(values: pa.Array, mapping: dict[str, str]) -> pa.Array:
    encoded = _array(pc.dictionary_encode(values))
    mapped = pa.array(
        [mapping.get(v) for v in encoded.dictionary.to_pylist()], type=pa.large_string()
    )
    return pc.take(mapped, encoded.indices)


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _sensitive(
    per_child: dict[str, Any], child: np.ndarray, age: Any, decisions: Decisions
) -> dict[str, object]:
    rows = per_child["row"][child]
    ethnicity = _array(_take_strings(per_child["ethnicity"], rows))
    idaci = per_child["idaci_decile"][child]
    if age is None:
        age = age_in_years(decisions.birth_day, decisions.day)
    band = np.full(len(child), -1, dtype=np.int64)
    for i, (low, high, _) in enumerate(AGE_BANDS):
        band[(age >= low) & (age <= high)] = i
    labels = pa.array([label for _, _, label in AGE_BANDS], type=pa.large_string())
    return {
        "sex": _strings(_take_strings(per_child["sex"], rows)),
        "ethnicity": _strings(ethnicity),
        "ethnicity_group": _strings(_map_strings(ethnicity, codes.ETHNICITY_MAJOR_GROUP)),
        "disability": per_child["disability"][child],
        "idaci_decile": idaci,
        "idaci_quintile": np.ceil(idaci / 2),
        "age_band": _strings(pc.take(labels, pa.array(band, mask=band < 0))),
    }


def _labels(
    tables: dict[str, pd.DataFrame],
    population: Population,
    child: np.ndarray,
    day: np.ndarray,
    reference_date: date,
    settings: Settings,
    own_referral_days: np.ndarray | None,
) -> dict[str, np.ndarray]:
    def events(name: str) -> tuple[np.ndarray, np.ndarray]:
        frame = _table(tables, name, needs=("child_id", TABLES[name].event_date))
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
        own_referral_days,
    )


def _join_truth(table: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    wanted = truth[["referral_id", *TRUTH_COLUMNS]].drop_duplicates("referral_id")
    wanted = wanted.rename(columns={"referral_id": "decision_id", **TRUTH_COLUMNS})
    return table.merge(wanted, on="decision_id", how="left", validate="many_to_one")
