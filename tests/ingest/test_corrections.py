"""Issue 16: corrections across extracts, versions of a record, and what was known when.

Extracts are canonical folders (a manifest.json gives each its extract date) made here.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.features.build import build_feature_table
from frontdoor.ingest.run import ingest_sources
from frontdoor.ingest.write import DUPLICATES_CSV, SUPERSEDED_CSV
from frontdoor.records import store
from tests.support.settings import make_settings

REF = date(2025, 3, 31)


def extract(folder, when: date, tables: dict[str, pd.DataFrame]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "manifest.json").write_text(json.dumps({"reference_date": when.isoformat()}))
    return folder


def kids(*ids):
    return pd.DataFrame(
        {
            "child_id": list(ids),
            "sex": "F",
            "ethnicity": "WBRI",
            "birth_month": "2015-01-01",
            "disability": False,
            "household_id": [f"H{i}" for i in ids],
        }
    )


def referrals(rows, keyed=False):
    frame = pd.DataFrame(rows, columns=["child_id", "referral_date", "source", "outcome"])
    if keyed:
        frame.insert(0, "referral_id", [f"R{i}" for i in range(len(frame))])
    return frame


def settings_for(tmp_path):
    return make_settings(tmp_path, ingest={"reference_date": REF})


def test_the_newest_extract_wins_whatever_the_order(tmp_path):
    s = settings_for(tmp_path)
    jan = extract(
        tmp_path / "jan",
        date(2025, 1, 31),
        {"children": kids("A"), "referrals": referrals([("A", "2025-01-05", "6", "assessment")])},
    )
    feb = extract(
        tmp_path / "feb",
        date(2025, 2, 28),
        {"children": kids("A"), "referrals": referrals([("A", "2025-01-05", "6", "nfa")])},
    )
    for order, out in (([feb, jan], "one"), ([jan, feb], "two")):
        ingest_sources(order, tmp_path / out, s)
        assert store.read_table(tmp_path / out, "referrals")["outcome"].tolist() == ["nfa"]
    # month by month, in the wrong order: still February's value
    ingest_sources([feb], tmp_path / "inc", s)
    report = ingest_sources([jan], tmp_path / "inc", s)
    assert store.read_table(tmp_path / "inc", "referrals")["outcome"].tolist() == ["nfa"]
    dupes = pd.read_csv(report.quarantine_dir / DUPLICATES_CSV)
    assert dupes.iloc[0]["columns_differing"] == "outcome"
    assert dupes.iloc[0]["source"].endswith("referrals.csv") and dupes.iloc[0]["row"] == 2


def test_a_corrected_date_replaces_the_record_by_its_source_key(tmp_path):
    s = settings_for(tmp_path)
    first = extract(
        tmp_path / "a",
        date(2025, 1, 31),
        {
            "children": kids("A"),
            "referrals": referrals([("A", "2025-01-05", "6", "nfa")], keyed=True),
        },
    )
    fixed = extract(
        tmp_path / "b",
        date(2025, 2, 28),
        {
            "children": kids("A"),
            "referrals": referrals([("A", "2025-01-07", "6", "nfa")], keyed=True),
        },
    )
    ingest_sources([first], tmp_path / "out", s)
    ingest_sources([fixed], tmp_path / "out", s)
    out = store.read_table(tmp_path / "out", "referrals")
    assert out["referral_date"].tolist() == [pd.Timestamp("2025-01-07")]


def test_without_a_source_key_the_superseded_row_is_listed_for_review(tmp_path):
    s = settings_for(tmp_path)
    before = ("A", "2024-12-01", "6", "nfa")
    first = extract(
        tmp_path / "a",
        date(2025, 1, 31),
        {"children": kids("A"), "referrals": referrals([before, ("A", "2025-01-05", "6", "nfa")])},
    )
    fixed = extract(
        tmp_path / "b",
        date(2025, 2, 28),
        {"children": kids("A"), "referrals": referrals([before, ("A", "2025-01-07", "6", "nfa")])},
    )
    ingest_sources([first], tmp_path / "out", s)
    report = ingest_sources([fixed], tmp_path / "out", s)
    assert len(store.read_table(tmp_path / "out", "referrals")) == 3  # kept, not guessed
    listed = pd.read_csv(report.quarantine_dir / SUPERSEDED_CSV)
    assert len(listed) == 1
    assert listed.iloc[0]["row"] == 3 and listed.iloc[0]["extract_date"] == "2025-01-31"
    assert "not in the newer extract of 2025-02-28" in listed.iloc[0]["reason"]


# --- a rebuild equals the incremental result ---------------------------------------------------
EXTRACTS = [
    (date(2024, 11, 30), [("A", "2024-11-02", "6", "assessment"), ("B", "2024-11-20", "2A", None)]),
    (
        date(2024, 12, 31),
        [
            ("A", "2024-11-02", "6", "nfa"),
            ("B", "2024-11-20", "2A", "nfa"),
            ("A", "2024-12-15", "4", None),
        ],
    ),
    (date(2025, 1, 31), [("A", "2024-12-15", "4", "assessment"), ("B", "2024-11-20", "8", None)]),
    (date(2025, 2, 28), [("A", "2024-11-02", "6", "assessment"), ("C", "2025-02-01", "6", "nfa")]),
]


def _state(folder):
    tables = store.read_tables(folder)
    versions = store.read_versions(folder)
    return (
        {n: f.sort_values(list(f.columns)).reset_index(drop=True) for n, f in tables.items()},
        {n: f.sort_values(list(f.columns)).reset_index(drop=True) for n, f in versions.items()},
    )


# Examples: the hypothesis profile's (tests/conftest.py): 5 in the fast loop, 50 in the full suite.
@given(order=st.permutations(range(len(EXTRACTS))), split=st.integers(1, len(EXTRACTS)))
def test_rebuild_equals_incremental_in_any_order(tmp_path_factory, order, split):
    tmp = tmp_path_factory.mktemp("corr")
    s = settings_for(tmp)
    folders = [
        extract(
            tmp / f"e{i}", when, {"children": kids("A", "B", "C"), "referrals": referrals(rows)}
        )
        for i, (when, rows) in enumerate(EXTRACTS)
    ]
    ingest_sources(list(folders), tmp / "rebuild", s)
    shuffled = [folders[i] for i in order]
    ingest_sources(shuffled[:split], tmp / "inc", s)
    for folder in shuffled[split:]:
        ingest_sources([folder], tmp / "inc", s)
    (tables_a, versions_a), (tables_b, versions_b) = _state(tmp / "rebuild"), _state(tmp / "inc")
    for name in tables_a:
        pd.testing.assert_frame_equal(tables_a[name], tables_b[name], check_dtype=False)
    assert versions_a.keys() == versions_b.keys()
    for name in versions_a:
        pd.testing.assert_frame_equal(versions_a[name], versions_b[name], check_dtype=False)
    current = tables_a["referrals"].set_index("referral_date")
    assert current.loc[pd.Timestamp("2024-11-02"), "outcome"] == "assessment"  # February's
    assert current.loc[pd.Timestamp("2024-11-20"), "source"] == "8"  # January's correction


# --- versions: features read what was known before each decision -------------------------------
def _assessment_extracts(tmp_path):
    children = kids("A")
    refs = referrals(
        [
            ("A", "2024-06-01", "6", "assessment"),
            ("A", "2024-09-01", "6", None),
            ("A", "2025-01-10", "6", None),
        ]
    )

    def assess(factors):
        return pd.DataFrame(
            {
                "child_id": ["A"],
                "start_date": ["2024-06-02"],
                "authorisation_date": ["2024-06-20"],
                "factors": [factors],
                "outcome": ["cin_support"],
            }
        )

    a = extract(
        tmp_path / "a",
        date(2024, 10, 31),
        {"children": children, "referrals": refs, "assessments": assess("3B")},
    )
    b = extract(
        tmp_path / "b",
        date(2024, 12, 31),
        {"children": children, "referrals": refs, "assessments": assess("3B,4B")},
    )
    return a, b


def test_a_correction_is_not_known_to_earlier_decisions(tmp_path):
    s = settings_for(tmp_path)
    a, b = _assessment_extracts(tmp_path)
    ingest_sources([a], tmp_path / "out", s)
    ingest_sources([b], tmp_path / "out", s)
    tables, versions = store.read_tables(tmp_path / "out"), store.read_versions(tmp_path / "out")
    assert len(versions["assessments"]) == 2
    assert versions["assessments"]["factors"].tolist() == ["3B", "3B,4B"]
    assert tables["assessments"]["factors"].tolist() == ["3B,4B"]
    with_versions = build_feature_table(tables, REF, s, versions=versions).set_index(
        "decision_date"
    )
    without = build_feature_table(tables, REF, s).set_index("decision_date")
    factor_columns = [c for c in with_versions.columns if "mental_health_assessments" in c]
    assert factor_columns, "a feature that counts factor 4B (parental mental health)"
    before, after = pd.Timestamp("2024-09-01"), pd.Timestamp("2025-01-10")
    # the September decision saw the October extract's factors (3B only) ...
    assert (with_versions.loc[before, factor_columns] == 0).all()
    assert (without.loc[before, factor_columns] > 0).any()  # the leak the versions prevent
    # ... the January decision, after the December correction, sees 4B
    pd.testing.assert_series_equal(with_versions.loc[after], without.loc[after])


# Examples: the hypothesis profile's (tests/conftest.py): 5 in the fast loop, 50 in the full suite.
@given(shift=st.integers(-60, 200), factors=st.sampled_from(["3B", "4B", "3B,4B", "16A", "21"]))
def test_leakage_features_before_a_correction_ignore_it(tmp_path_factory, shift, factors):
    """Whatever a later extract changes, decisions up to its extract date do not move (the
    first extract is dated 2024-10-31; the correction comes after it)."""
    tmp = tmp_path_factory.mktemp("leak")
    s = settings_for(tmp)
    a, b = _assessment_extracts(tmp)
    ingest_sources([a], tmp / "one", s)
    baseline = build_feature_table(
        store.read_tables(tmp / "one"), REF, s, versions=store.read_versions(tmp / "one")
    ).set_index("decision_date")
    correction = date.fromordinal(date(2024, 12, 31).toordinal() + shift)
    later = pd.read_csv(b / "assessments.csv")
    later["factors"] = factors
    c = extract(
        tmp / "c",
        correction,
        {
            "children": kids("A"),
            "referrals": pd.read_csv(b / "referrals.csv"),
            "assessments": later,
        },
    )
    ingest_sources([a, c], tmp / "two", s)
    corrected = build_feature_table(
        store.read_tables(tmp / "two"), REF, s, versions=store.read_versions(tmp / "two")
    ).set_index("decision_date")
    early = baseline.index[baseline.index <= pd.Timestamp(correction)]
    features = [c for c in baseline.columns if c not in ("decision_id", "child_id")]
    numeric = baseline.loc[early, features].select_dtypes(include=[np.number]).columns
    pd.testing.assert_frame_equal(
        baseline.loc[early, numeric], corrected.loc[early, numeric], check_dtype=False
    )
