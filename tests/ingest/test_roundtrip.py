"""Export then ingest gives back the same canonical tables (compared under the same key)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from frontdoor.ingest.run import ingest_sources
from frontdoor.records import store
from frontdoor.records.export import export_council
from frontdoor.records.pseudonymise import load_key
from tests.support import make_settings
from tests.support.tables import (
    pseudonymised,
    raw_council,
    with_derived_ids,
    write_canonical_folder,
)

REF = date(2025, 3, 31)


def _assert_same(out_dir, expected):
    got = store.read_tables(out_dir)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, check_dtype=False, obj=name)


def test_round_trip_all_formats(tmp_path, settings):
    tables = raw_council(children=50, seed=7, reference_date=REF)
    written = export_council(tables, tmp_path / "x", reference_date=REF)
    assert {p.name for p in written} >= {
        "annex_a.xlsx",
        "cin_census.xml",
        "domestic_abuse_notifications.csv",
        "children.extra.csv",
        "assessments.extra.csv",
        "contacts.extra.csv",
    }
    report = ingest_sources([tmp_path / "x"], tmp_path / "out", settings)
    assert report.rows_quarantined == 0
    _assert_same(tmp_path / "out", pseudonymised(with_derived_ids(tables), load_key(settings)))


def test_annex_a_alone_loads_contacts_without_presenting_concerns(tmp_path, settings):
    """List 1 has no presenting concerns: they load empty (the features then count none),
    and the same contacts gain them when a case-system file beside it holds them."""
    tables = raw_council(children=30, seed=9, reference_date=REF)
    export_council(tables, tmp_path / "x", formats=("annex_a",), reference_date=REF)
    ingest_sources([tmp_path / "x" / "annex_a.xlsx"], tmp_path / "alone", settings)
    alone = store.read_table(tmp_path / "alone", "contacts")
    assert len(alone) == len(tables["contacts"])
    assert alone["presenting_concerns"].isna().all()
    export_council(tables, tmp_path / "y", formats=("annex_a", "csv"), reference_date=REF)
    ingest_sources([tmp_path / "y"], tmp_path / "both", settings)
    both = store.read_table(tmp_path / "both", "contacts")
    assert (
        both["presenting_concerns"].notna().sum()
        == tables["contacts"]["presenting_concerns"].notna().sum()
        > 0
    )


def test_round_trip_csv_only_keeps_record_ids(tmp_path, settings):
    tables = raw_council(children=20, seed=8, reference_date=REF)
    export_council(tables, tmp_path / "x", formats=("csv",), reference_date=REF)
    ingest_sources(
        [tmp_path / "x"], tmp_path / "out", make_settings(tmp_path, ingest={"reference_date": REF})
    )
    _assert_same(tmp_path / "out", pseudonymised(tables, load_key(settings)))


@pytest.mark.slow
def test_round_trip_synthetic_council_with_its_ground_truth(tmp_path):
    from frontdoor.synth.council import generate

    s = make_settings(tmp_path, synth={"children": 1500, "years": 3})
    council = generate(s)
    ref = date.fromisoformat(council.manifest["reference_date"])
    export_council(
        council.tables, tmp_path / "x", reference_date=ref, ground_truth=council.ground_truth
    )
    report = ingest_sources([tmp_path / "x"], tmp_path / "out", s)
    assert report.rows_quarantined == 0
    _assert_same(tmp_path / "out", pseudonymised(with_derived_ids(council.tables), load_key(s)))
    truth = pd.read_parquet(s.resolve(s.paths.truth) / "ground_truth.parquet")
    refs = store.read_table(tmp_path / "out", "referrals")
    assert set(truth["referral_id"]) == set(refs["referral_id"])


def test_export_command_then_ingest_command(tmp_path):
    from typer.testing import CliRunner

    from frontdoor.cli import app
    from tests.support.tables import write_canonical_folder

    tables = raw_council(children=15, seed=4, reference_date=REF)
    write_canonical_folder(tables, tmp_path / "raw", REF)
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"paths:\n  root: {tmp_path}\nprivacy:\n  pseudonym_key: 'k-0123456789abcdef0123456789abcdef'\n"
    )
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--config", str(config), "export", str(tmp_path / "raw"), "--out", str(tmp_path / "x")],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "annex_a.xlsx").exists() and (
        tmp_path / "x" / "cin_census.xml"
    ).exists()
    result = runner.invoke(
        app,
        ["--config", str(config), "ingest", str(tmp_path / "x"), "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    s = make_settings(tmp_path, privacy={"pseudonym_key": "k-0123456789abcdef0123456789abcdef"})
    _assert_same(tmp_path / "out", pseudonymised(with_derived_ids(tables), load_key(s)))


def test_synth_export_option_then_ingest(tmp_path):
    from typer.testing import CliRunner

    from frontdoor.cli import app

    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"paths:\n  root: {tmp_path}\nprivacy:\n  pseudonym_key: 'k-0123456789abcdef0123456789abcdef'\n"
    )
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "--config",
            str(config),
            "synth",
            "--children",
            "400",
            "--years",
            "2",
            "--out",
            str(tmp_path / "syn"),
            "--export",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "x").iterdir()}
    assert {
        "annex_a.xlsx",
        "cin_census.xml",
        "domestic_abuse_notifications.csv",
        "ground_truth",
    } <= names
    a = runner.invoke(
        app,
        [
            "--config",
            str(config),
            "ingest",
            str(tmp_path / "x"),
            "--out",
            str(tmp_path / "from_export"),
        ],
    )
    b = runner.invoke(
        app,
        [
            "--config",
            str(config),
            "ingest",
            str(tmp_path / "syn"),
            "--out",
            str(tmp_path / "from_parquet"),
        ],
    )
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    for name in store.TABLES:
        x = store.read_table(tmp_path / "from_export", name)
        y = store.read_table(tmp_path / "from_parquet", name)
        assert len(x) == len(y), name
        key = store.TABLES[name].key
        same = [c for c in x.columns if c != key]  # record ids differ: derived vs the synth's own
        pd.testing.assert_frame_equal(
            x[same].sort_values(same).reset_index(drop=True),
            y[same].sort_values(same).reset_index(drop=True),
            check_dtype=False,
            obj=name,
        )


def test_annex_a_yes_or_no_keeps_the_finer_outcome_of_its_class(tmp_path, settings):
    """Annex A List 4 only says whether the child was assessed as requiring support (yes/no).
    A newer workbook's yes keeps a case-system file's strategy_s47 (and its no keeps
    early_help) instead of overwriting them with cin_support / nfa; a newer answer of the
    other class (the outcome changed) still wins, whatever order the sources come in."""
    tables = raw_council(children=40, seed=11, reference_date=REF)
    outcomes = tables["assessments"]["outcome"]
    assert {"strategy_s47", "early_help"} <= set(outcomes)
    write_canonical_folder(tables, tmp_path / "case", REF)  # the older extract
    changed = outcomes[outcomes == "strategy_s47"].index[0]
    newer = {**tables, "assessments": tables["assessments"].copy()}
    newer["assessments"].loc[changed, "outcome"] = "nfa"
    export_council(newer, tmp_path / "annex", formats=("annex_a",), reference_date=REF)
    # The workbook's saved date (today) makes it the newest extract.
    expected = pseudonymised(newer, load_key(settings))["assessments"]
    cols = ["child_id", "start_date"]
    for order, out in (
        ((tmp_path / "case", tmp_path / "annex"), "one"),
        ((tmp_path / "annex", tmp_path / "case"), "two"),
    ):
        ingest_sources(list(order), tmp_path / out, settings)
        got = store.read_table(tmp_path / out, "assessments")
        both = got.merge(expected, on=cols, suffixes=("", "_expected"), validate="1:1")
        assert len(both) == len(expected) == len(got)
        assert both["outcome"].fillna("-").tolist() == both["outcome_expected"].fillna("-").tolist()
        assert (both["outcome"] == "strategy_s47").sum() == (outcomes == "strategy_s47").sum() - 1
