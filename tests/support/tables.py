"""Hand-made contract-valid canonical tables: exact rows and ids a test can predict.

- ``raw_council``: a small valid council (raw ids, every table filled with distinct records
  that respect the contract), so that round trips and malformed variants are quick to build;
- ``make_tables`` / ``child``: tables from a few hand-written rows (missing columns empty);
- ``pseudonymised``, ``sort_table``, ``with_derived_ids``, ``write_canonical_folder``: what
  ingestion should make of raw tables, and a folder as ``frontdoor synth`` writes it.

A council's worth of realistic tables comes from the one generator, ``frontdoor.synth``
(docs/contributing.md, "Where test tables come from").
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from frontdoor.records import codes
from frontdoor.records.contract import TABLES, conform, empty_frame


def raw_council(
    children: int = 40,
    seed: int = 0,
    reference_date: date = date(2025, 3, 31),
    events_per_child: int = 2,
) -> dict[str, pd.DataFrame]:
    """Every canonical table with raw (not pseudonymised) ids, valid under the contract."""
    rng = np.random.default_rng(seed)
    ref = pd.Timestamp(reference_date)
    n = children
    child_ids = np.array([f"LA{seed:02d}{i:07d}" for i in range(n)], dtype=object)
    # born before any of their events (events go back up to 1,500 days): valid under the
    # rule that no event comes more than 9 months before birth
    birth = ref - pd.to_timedelta(rng.integers(1_600, 6_000, n), unit="D")
    kids = pd.DataFrame(
        {
            "child_id": child_ids,
            "sex": rng.choice(list(codes.SEX_CODES), n),
            "ethnicity": rng.choice(list(codes.ETHNICITY_CODES), n),
            "birth_month": pd.DatetimeIndex(birth).to_period("M").to_timestamp(),
            "disability": rng.random(n) < 0.1,
            "household_id": [f"HH{seed:02d}{i // 2:07d}" for i in range(n)],
            "idaci_decile": rng.integers(1, 11, n),
        }
    )
    tables = {"children": kids}

    def events(table: str, prefix: str, k: int) -> pd.DataFrame:
        who = np.repeat(np.arange(n), k)
        # distinct days per child: day offsets k*j + stride keep (child, date) unique
        offsets = rng.integers(30, 1500, len(who)) // k * k + np.tile(np.arange(k), n)
        start = ref - pd.to_timedelta(offsets, unit="D")
        return pd.DataFrame(
            {
                TABLES[table].key: [f"{prefix}{seed:02d}{i:08d}" for i in range(len(who))],
                "child_id": child_ids[who],
                "_start": start,
            }
        )

    k = events_per_child
    c = events("contacts", "C", k)
    tables["contacts"] = pd.DataFrame(
        {
            "contact_id": c["contact_id"],
            "child_id": c["child_id"],
            "contact_date": c["_start"],
            "source": rng.choice(list(codes.SOURCE_CODES), len(c)),
            # own stream: the other tables stay as they were before this column existed
            "presenting_concerns": np.random.default_rng([seed, 1]).choice(
                ["16A", "3B,4B", "21", "1B,2B,16A", None], len(c)
            ),
        }
    )
    r = events("referrals", "R", k)
    tables["referrals"] = pd.DataFrame(
        {
            "referral_id": r["referral_id"],
            "child_id": r["child_id"],
            "referral_date": r["_start"],
            "source": rng.choice(list(codes.SOURCE_CODES), len(r)),
            "outcome": rng.choice([*codes.REFERRAL_OUTCOMES, None], len(r)),
        }
    )
    a = events("assessments", "A", k)
    auth = a["_start"] + pd.to_timedelta(rng.integers(0, 40, len(a)), unit="D")
    auth = auth.where((auth <= ref) & (rng.random(len(a)) < 0.9))
    factors = [
        codes.join_factors(rng.choice(list(codes.ASSESSMENT_FACTOR_CODES), rng.integers(0, 4)))
        for _ in range(len(a))
    ]
    tables["assessments"] = pd.DataFrame(
        {
            "assessment_id": a["assessment_id"],
            "child_id": a["child_id"],
            "start_date": a["_start"],
            "authorisation_date": auth,
            "factors": factors,
            "outcome": rng.choice([*codes.ASSESSMENT_OUTCOMES, None], len(a)),
        }
    )
    s = events("section47_enquiries", "S", 1)
    icpc = s["_start"] + pd.to_timedelta(rng.integers(5, 20, len(s)), unit="D")
    s47_outcome = rng.choice(list(codes.S47_OUTCOMES), len(s))
    icpc = icpc.where((s47_outcome != "no_icpc") & (icpc <= ref))
    tables["section47_enquiries"] = pd.DataFrame(
        {
            "s47_id": s["s47_id"],
            "child_id": s["child_id"],
            "start_date": s["_start"],
            "icpc_date": icpc,
            "outcome": s47_outcome,
        }
    )
    p = events("cp_plans", "P", 1)
    end = p["_start"] + pd.to_timedelta(rng.integers(60, 500, len(p)), unit="D")
    tables["cp_plans"] = pd.DataFrame(
        {
            "plan_id": p["plan_id"],
            "child_id": p["child_id"],
            "start_date": p["_start"],
            "end_date": end.where(end <= ref),
            "initial_category": rng.choice(list(codes.CP_CATEGORIES), len(p)),
        }
    )
    d = events("domestic_abuse_notifications", "D", 1)
    tables["domestic_abuse_notifications"] = pd.DataFrame(
        {
            "notification_id": d["notification_id"],
            "child_id": d["child_id"],
            "notification_date": d["_start"],
            "dash_risk": rng.choice(list(codes.DASH_LEVELS), len(d)),
            "marac_referral": rng.random(len(d)) < 0.2,
        }
    )
    e = events("early_help_episodes", "E", 1)
    eh_end = e["_start"] + pd.to_timedelta(rng.integers(30, 300, len(e)), unit="D")
    tables["early_help_episodes"] = pd.DataFrame(
        {
            "episode_id": e["episode_id"],
            "child_id": e["child_id"],
            "start_date": e["_start"],
            "end_date": eh_end.where(eh_end <= ref),
        }
    )
    # Dated households: every child a member of its household from its month of birth, and
    # the first child of each pair also of a second home it left at 2 (or a month before the
    # reference date; no rng: the draws
    # above stay as they were before this table existed).
    first = np.arange(0, n, 2)
    left = (kids["birth_month"].iloc[first] + pd.DateOffset(years=2)).clip(
        upper=ref - pd.Timedelta(days=30)
    )
    tables["household_memberships"] = pd.DataFrame(
        {
            "membership_id": [f"M{seed:02d}{i:08d}" for i in range(n + len(first))],
            "child_id": np.concatenate([child_ids, child_ids[first]]),
            "household_id": [*kids["household_id"], *[f"HX{seed:02d}{i:07d}" for i in first]],
            "start_date": [*kids["birth_month"], *kids["birth_month"].iloc[first]],
            "end_date": [*([pd.NaT] * n), *left],
        }
    )
    return {name: conform(frame, name) for name, frame in tables.items()}


def write_canonical_folder(
    tables: dict[str, pd.DataFrame], folder, reference_date: date, fmt: str = "parquet"
) -> None:
    """A folder as ``frontdoor synth`` writes it: one file per table plus manifest.json."""
    import json
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "manifest.json").write_text(
        json.dumps({"reference_date": reference_date.isoformat()}), encoding="utf-8"
    )


def pseudonymised(tables: dict[str, pd.DataFrame], key: bytes) -> dict[str, pd.DataFrame]:
    """What ingestion should produce from raw tables: the same records under pseudonyms."""
    from frontdoor.records.pseudonymise import pseudonymise_series

    out = {}
    for name, frame in tables.items():
        t = TABLES[name]
        f = frame.copy()
        f["child_id"] = pseudonymise_series(key, f["child_id"].astype(str), "child")
        if "household_id" in t.column_names:
            f["household_id"] = pseudonymise_series(key, f["household_id"].astype(str), "household")
        if name != "children":
            f[t.key] = pseudonymise_series(key, f[t.key].astype(str), name)
        out[name] = sort_table(conform(f, name), name)
    return out


def sort_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The order ingestion writes a table in (event date, then record id)."""
    t = TABLES[name]
    order = [c for c in (t.event_date, t.key) if c] if t.event_date else [t.key]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def with_derived_ids(
    tables: dict[str, pd.DataFrame],
    keep: tuple[str, ...] = ("domestic_abuse_notifications", "household_memberships"),
) -> dict[str, pd.DataFrame]:
    """Raw tables with record ids replaced by the ids ingestion derives for sources without ids
    (Annex A and CIN census hold none); tables in ``keep`` travel as CSV with their ids."""
    from frontdoor.records.contract import derived_ids

    out = {}
    for name, frame in tables.items():
        f = frame.copy()
        if name != "children" and name not in keep:
            f[TABLES[name].key] = derived_ids(f, name)
        out[name] = f
    return out


T = pd.Timestamp


def make_tables(**frames: list[dict]) -> dict[str, pd.DataFrame]:
    """Canonical tables from lists of row dicts; missing columns are left empty (None/NaT)."""
    out = {}
    for name in TABLES:
        rows = frames.get(name, [])
        if not rows:
            out[name] = empty_frame(name)
            continue
        frame = pd.DataFrame(rows)
        for column in TABLES[name].columns:
            if column.name not in frame.columns:
                frame[column.name] = None
        out[name] = conform(frame, name)
    return out


def child(child_id, household_id="h1", birth="2015-01-01", **extra) -> dict:
    row = {
        "child_id": child_id,
        "sex": "F",
        "ethnicity": "WBRI",
        "birth_month": T(birth),
        "disability": False,
        "household_id": household_id,
        "idaci_decile": 3,
    }
    row.update(extra)
    return row
