"""Versions of a record: what each extract said, and what was known before a decision.

Council extracts are re-sent every month and correct earlier ones (an assessment's factors,
a plan's end date). Ingestion keeps every extract's view of a record (an observation, with
the extract's date) and derives the versions that differ; the features read, for each
decision, the version known strictly before it (the newest extracted before the decision;
the first one when every extract came later), so a later correction never leaks backwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.records.contract import TABLES

KNOWN_FROM = "known_from"  # the date of the extract that gave this version
# Where each observation came from (names apart from the contract's columns, e.g. `source`).
OBSERVATION_COLUMNS = [
    KNOWN_FROM,
    "from_priority",
    "from_keyed",
    "from_file",
    "from_sheet",
    "from_row",
]


def cumulative_versions(observations: pd.DataFrame, table: str) -> pd.DataFrame:
    """The versions of every record that has more than one: contract columns + KNOWN_FROM.

    The version at extract date E takes, column by column, the newest non-empty value among
    the observations extracted on or before E (as the current table does for all of them).
    """
    t = TABLES[table]
    columns = [*t.column_names, KNOWN_FROM]
    if t.knowledge_date is None or observations.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    obs = observations.sort_values([t.key, KNOWN_FROM], kind="stable")
    several = obs[t.key].duplicated(keep=False)
    obs = obs[several]
    if obs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    values = obs[t.column_names].groupby(obs[t.key].to_numpy(), sort=False).ffill()
    values[t.key] = obs[t.key].to_numpy()
    values[KNOWN_FROM] = obs[KNOWN_FROM].to_numpy()
    if "factors" in values.columns:
        values["factors"] = values["factors"].where(values["factors"].notna(), "")
    same = values[t.column_names].astype(str).eq(values[t.column_names].astype(str).shift()).all(
        axis=1
    ) & values[t.key].eq(values[t.key].shift())
    values = values[~same.to_numpy()]
    changed = values[t.key].duplicated(keep=False)
    return values[changed.to_numpy()][columns].reset_index(drop=True)


def boundaries(versions: dict[str, pd.DataFrame]) -> np.ndarray:
    """The extract dates at which some record's known version changes (sorted, unique)."""
    found = []
    for table, frame in versions.items():
        if frame is None or frame.empty:
            continue
        later = frame[frame[TABLES[table].key].duplicated(keep="first")]
        found.append(pd.to_datetime(later[KNOWN_FROM]).to_numpy(dtype="datetime64[D]"))
    if not found:
        return np.array([], dtype="datetime64[D]")
    return np.unique(np.concatenate(found))


def known_before(
    frame: pd.DataFrame, versions: pd.DataFrame, table: str, day: object
) -> pd.DataFrame:
    """``frame`` with each versioned record as known strictly before ``day``: its newest
    version extracted before that day, else its first version."""
    if versions is None or versions.empty:
        return frame
    t = TABLES[table]
    when = pd.Timestamp(day)
    ordered = versions.sort_values([t.key, KNOWN_FROM], kind="stable")
    before = ordered[pd.to_datetime(ordered[KNOWN_FROM]) < when]
    chosen = pd.concat([ordered.groupby(t.key).head(1), before]).drop_duplicates(t.key, keep="last")
    chosen = chosen[chosen[t.key].isin(frame[t.key])]
    rest = frame[~frame[t.key].isin(chosen[t.key])]
    replaced = chosen[[c for c in frame.columns if c in chosen.columns]].copy()
    for c in replaced.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c].dtype):
            replaced[c] = pd.to_datetime(replaced[c]).astype(frame[c].dtype)
    return pd.concat([rest, replaced], ignore_index=True)
