"""Record-level checks after merging: the contract (pandera) and the cross-table rules.

Each check returns failures as rows (index of the merged record, column, value, reason);
nothing is raised for bad data, so every failing record reaches the quarantine with its reason.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pandera.errors as pa_errors

from frontdoor.records.contract import TABLES, schema

FAILURE_COLUMNS = ["column", "value", "reason"]

# (later column, earlier column): the first must not be before the second.
ORDER_RULES: dict[str, list[tuple[str, str]]] = {
    "assessments": [("authorisation_date", "start_date")],
    "section47_enquiries": [("icpc_date", "start_date")],
    "cp_plans": [("end_date", "start_date")],
    "early_help_episodes": [("end_date", "start_date")],
    "household_memberships": [("end_date", "start_date")],
}
UNBORN_MONTHS = 9  # an expected date of birth may lie up to this far after the reference date
# Before these, a date is a typing or conversion slip ("2020" read as Excel serial 2020 is
# 1905-07-12; serial 60 is 1900-02-29): no front-door record of a child is that old.
EARLIEST_EVENT = pd.Timestamp("1990-01-01")
EARLIEST_BIRTH = pd.Timestamp("1980-01-01")


def _failures(frame: pd.DataFrame, mask: pd.Series, column: str, reason: str) -> pd.DataFrame:
    hit = frame.index[mask.fillna(False).to_numpy(dtype=bool)]
    vals = frame.loc[hit, column] if column in frame.columns else pd.Series("", index=hit)
    return pd.DataFrame({"column": column, "value": vals.map(_show), "reason": reason}, index=hit)


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return "" if value is None else str(value)[:80]


def required(frame: pd.DataFrame, table: str) -> list[pd.DataFrame]:
    out = []
    for col in TABLES[table].columns:
        if not col.nullable:
            out.append(_failures(frame, frame[col.name].isna(), col.name, "missing required value"))
    return out


def contract(frame: pd.DataFrame, table: str) -> list[pd.DataFrame]:
    """Codes, ranges and lengths from the pandera schema (types are already clean)."""
    try:
        schema(table).validate(frame, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        # Missing values are reported by `required`, with the same words for every source.
        cases = cases[~cases["check"].astype(str).str.startswith("not_nullable")]
        if cases.empty:
            return []
        result = pd.DataFrame(
            {
                "column": cases["column"].astype(str).to_numpy(),
                "value": cases["failure_case"].map(_show).to_numpy(),
                "reason": cases["check"].map(_readable_check).to_numpy(),
            },
            index=pd.Index(cases["index"].astype("int64").to_numpy()),
        )
        return [result]
    return []


def _readable_check(check: object) -> str:
    text = str(check)
    if text.startswith("isin"):
        return "not an allowed code"
    if text.startswith("in_range"):
        return "outside the allowed range " + text[len("in_range") :]
    if text.startswith("str_length"):
        return "identifier longer than 128 characters"
    if text.startswith("not_nullable"):
        return "missing required value"
    if text.startswith("coerce_dtype"):
        return "wrong type " + text[len("coerce_dtype") :]
    if text.startswith("field_uniqueness") or "unique" in text:
        return "duplicate record id"
    return text


def dates(
    frame: pd.DataFrame, table: str, reference: date, births: pd.Series | None = None
) -> list[pd.DataFrame]:
    """Plausible dates: none after the extract's reference date, none before 1990 (births
    before 1980), no end before its start, and no event more than UNBORN_MONTHS before the
    child's month of birth (work before an expected birth is allowed: unborn children).

    ``births``: month of birth by child id (unknown births are not checked)."""
    t = TABLES[table]
    ref = pd.Timestamp(reference)
    out = []
    if table == "children":
        limit = ref + pd.DateOffset(months=UNBORN_MONTHS)
        out.append(
            _failures(
                frame,
                frame["birth_month"] > limit,
                "birth_month",
                f"date of birth more than {UNBORN_MONTHS} months after the reference date "
                f"{reference.isoformat()}",
            )
        )
        out.append(
            _failures(
                frame,
                frame["birth_month"] < EARLIEST_BIRTH,
                "birth_month",
                f"implausible date of birth (before {EARLIEST_BIRTH.date().isoformat()})",
            )
        )
        return out
    for col in t.date_columns:
        out.append(
            _failures(
                frame,
                frame[col] > ref,
                col,
                f"date after the extract's reference date {reference.isoformat()}",
            )
        )
        out.append(
            _failures(
                frame,
                frame[col] < EARLIEST_EVENT,
                col,
                f"implausible date (before {EARLIEST_EVENT.date().isoformat()})",
            )
        )
    for later, earlier in ORDER_RULES.get(table, []):
        mask = frame[later].notna() & frame[earlier].notna() & (frame[later] < frame[earlier])
        out.append(_failures(frame, mask, later, f"{later} before {earlier}"))
    if births is not None and t.event_date and "child_id" in frame.columns and len(frame):
        birth = pd.to_datetime(frame["child_id"].map(births)).astype("datetime64[ns]")
        months = birth.to_numpy().astype("datetime64[M]") - np.timedelta64(UNBORN_MONTHS, "M")
        earliest = pd.Series(months.astype("datetime64[ns]"), index=frame.index)
        mask = birth.notna() & frame[t.event_date].notna() & (frame[t.event_date] < earliest)
        out.append(
            _failures(
                frame,
                mask,
                t.event_date,
                f"{t.event_date} more than {UNBORN_MONTHS} months before the child's birth",
            )
        )
    return out


def orphans(frame: pd.DataFrame, known_children: pd.Index) -> list[pd.DataFrame]:
    mask = ~frame["child_id"].isin(known_children)
    return [_failures(frame, mask, "child_id", "record for a child not in children")]


def collect(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All failures, one row per failing record (reasons joined)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    allp = pd.concat(parts).astype(str)
    keys = pd.DataFrame(
        {
            "at": allp.index.to_numpy(),
            "column": allp["column"].to_numpy(),
            "reason": allp["reason"].to_numpy(),
        }
    )
    allp = allp[~keys.duplicated().to_numpy()]
    return allp.groupby(level=0).agg("; ".join)
