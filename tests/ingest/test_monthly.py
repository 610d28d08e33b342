"""Monthly Annex A extracts: overlap is merged, new records added, closed plans updated."""

from __future__ import annotations

import os
import stat
from datetime import date

import pandas as pd
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from frontdoor.ingest.run import ingest_sources
from frontdoor.records import store
from frontdoor.records.contract import validate
from frontdoor.records.export import export_council
from tests.support import make_settings
from tests.support.tables import raw_council, write_canonical_folder


def test_next_months_workbook_adds_and_updates(tmp_path, settings):
    ref1, ref2 = date(2025, 2, 28), date(2025, 3, 31)
    full = raw_council(children=20, seed=12, reference_date=ref2)
    plan = full["cp_plans"].index[0]
    full["cp_plans"].loc[plan, "start_date"] = pd.Timestamp("2024-06-01")
    full["cp_plans"].loc[plan, "end_date"] = pd.Timestamp(ref2)  # closed in March
    # February's extract: what had happened by 28 February, with that plan still open.
    month1 = {}
    for name, frame in full.items():
        event = store.TABLES[name].event_date
        month1[name] = frame[frame[event] <= pd.Timestamp(ref1)].copy() if event else frame
    month1["cp_plans"].loc[plan, "end_date"] = pd.NaT
    month1["cp_plans"]["end_date"] = month1["cp_plans"]["end_date"].where(
        month1["cp_plans"]["end_date"] <= pd.Timestamp(ref1)
    )
    export_council(month1, tmp_path / "m1", formats=("annex_a",), reference_date=ref1)
    export_council(full, tmp_path / "m2", formats=("annex_a",), reference_date=ref2)
    s1 = make_settings(tmp_path, ingest={"reference_date": ref1})
    s2 = make_settings(tmp_path, ingest={"reference_date": ref2})
    ingest_sources([tmp_path / "m1" / "annex_a.xlsx"], tmp_path / "out", s1)
    before = store.read_tables(tmp_path / "out")
    report = ingest_sources([tmp_path / "m2" / "annex_a.xlsx"], tmp_path / "out", s2)
    after = store.read_tables(tmp_path / "out")
    for name in ("contacts", "referrals", "assessments", "cp_plans"):
        c = report.counts[name]
        assert c.final == len(full[name]) == len(after[name]), name
        assert c.loaded == len(full[name]) - len(before[name]), name
        assert c.duplicates == len(before[name]), name
        assert after[name][store.TABLES[name].key].is_unique
    assert (
        before["cp_plans"]["end_date"].notna().sum() < after["cp_plans"]["end_date"].notna().sum()
    )
    assert pd.Timestamp(ref2) in set(after["cp_plans"]["end_date"])  # the plan closed in March
    assert after["cp_plans"]["end_date"].notna().sum() == full["cp_plans"]["end_date"].notna().sum()
    assert store.read_manifest(tmp_path / "out")["reference_date"] == ref2.isoformat()
    assert len(store.read_manifest(tmp_path / "out")["sources"]) == 2


def test_demo_mode_generates_a_private_key(tmp_path):
    s = make_settings(tmp_path, privacy={"pseudonym_key": None}, demo_mode=True)
    write_canonical_folder(raw_council(children=3, seed=1), tmp_path / "src", date(2025, 3, 31))
    ingest_sources([tmp_path / "src"], tmp_path / "out", s)
    key = s.resolve(s.paths.keys) / "demo-pseudonym.key"
    assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_bytes() not in b"".join(
        p.read_bytes() for p in sorted(f for f in (tmp_path / "out").rglob("*") if f.is_file())
    )


CELL_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["children", "contacts", "referrals", "assessments", "cp_plans"]),
        st.integers(min_value=0, max_value=7),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(
            [
                "",
                "#N/A",
                "zz",
                "31/02/2024",
                "2099-01-01",
                "1",
                "LA099",
                " x\u00a0",
                "3B,9Z",
                "1900-01-01",
                "a) Yes",
                "N" * 300,
            ]
        ),
    ),
    min_size=1,
    max_size=6,
)


@hsettings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=CELL_EDITS)
def test_any_damage_is_counted_and_only_valid_records_load(tmp_path_factory, edits):
    tmp = tmp_path_factory.mktemp("damage")
    tables = raw_council(children=8, seed=2, reference_date=date(2025, 3, 31))
    for table, row, col, value in edits:
        frame = tables[table].astype(object)
        frame.iat[row % len(frame), col % frame.shape[1]] = value
        tables[table] = frame
    write_canonical_folder(tables, tmp / "src", date(2025, 3, 31), fmt="csv")
    report = ingest_sources([tmp / "src"], tmp / "out", make_settings(tmp))
    for name, c in report.counts.items():
        assert c.read == len(tables[name])
        assert c.read == c.loaded + c.quarantined + c.duplicates
    for name, frame in store.read_tables(tmp / "out").items():
        validate(frame, name)


def test_a_month_without_presenting_concerns_is_noted_not_silent(tmp_path, settings):
    ref1, ref2 = date(2024, 9, 30), date(2025, 3, 31)
    full = raw_council(children=20, seed=13, reference_date=ref2)
    month1 = {}
    for name, frame in full.items():
        event = store.TABLES[name].event_date
        month1[name] = frame[frame[event] <= pd.Timestamp(ref1)].copy() if event else frame
    export_council(month1, tmp_path / "m1", formats=("annex_a", "csv"), reference_date=ref1)
    export_council(full, tmp_path / "m2", formats=("annex_a",), reference_date=ref2)
    s1 = make_settings(tmp_path, ingest={"reference_date": ref1})
    s2 = make_settings(tmp_path, ingest={"reference_date": ref2})
    first = ingest_sources([tmp_path / "m1"], tmp_path / "out", s1)
    assert not any("presenting_concerns" in n for n in first.notes)
    # The next extract arrives as Annex A alone: its new contacts have no presenting concerns
    second = ingest_sources([tmp_path / "m2" / "annex_a.xlsx"], tmp_path / "out", s2)
    new = second.counts["contacts"].loaded
    assert new > 0
    note = [n for n in second.notes if "presenting_concerns" in n]
    assert len(note) == 1 and f"none of the {new:,} new records" in note[0], second.notes
    stored = store.read_table(tmp_path / "out", "contacts")["presenting_concerns"]
    assert stored.notna().sum() == month1["contacts"]["presenting_concerns"].notna().sum()
