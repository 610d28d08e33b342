"""The feature table's shape, what travels beside the features, the CLI and the catalogue."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.features.build import SENSITIVE_COLUMNS, build_feature_table
from frontdoor.features.catalogue import render_html, render_markdown
from frontdoor.features.declarations import FEATURES, feature_names, model_input_columns
from frontdoor.records.store import write_tables
from tests.support import make_settings
from tests.support.features import random_history
from tests.support.tables import T, child, make_tables

REFERENCE = date(2022, 6, 30)


def _small():
    return make_tables(
        children=[
            child("A", "h1", "2020-02-01", ethnicity="BAFR", sex="M", idaci_decile=1),
            child("B", "h1", "2005-01-01", ethnicity="WROM", disability=True, idaci_decile=10),
        ],
        referrals=[
            {"referral_id": "r1", "child_id": "A", "referral_date": T("2021-01-10")},
            {"referral_id": "r2", "child_id": "B", "referral_date": T("2021-02-10")},
        ],
        contacts=[
            {
                "contact_id": "k1",
                "child_id": "A",
                "contact_date": T("2020-12-01"),
                "source": "6",
                "presenting_concerns": "3B",
            },
            {
                "contact_id": "k2",
                "child_id": "A",
                "contact_date": T("2021-01-10"),
                "source": "6",
                "presenting_concerns": "16A,4B",
            },
        ],
    )


def test_columns_in_order(settings):
    table = build_feature_table(_small(), REFERENCE, settings)
    expected = [
        "decision_id",
        "child_id",
        "decision_date",
        "decision_kind",
        *feature_names(),
        "censored",
        "rereferral_12m",
        "escalation_12m",
        *SENSITIVE_COLUMNS,
    ]
    assert list(table.columns) == expected
    assert list(table["decision_id"]) == ["r1", "r2"]
    assert (table["decision_kind"] == "referral").all()
    assert table["decision_date"].dtype == "datetime64[ns]"


def test_sensitive_characteristics_travel_beside(settings):
    table = build_feature_table(_small(), REFERENCE, settings).set_index("decision_id")
    assert table.at["r1", "ethnicity_group"] == "Black"
    assert table.at["r2", "ethnicity_group"] == "White"
    assert table.at["r1", "age_band"] == "0-4"
    assert table.at["r2", "age_band"] == "16+"
    assert table.at["r1", "idaci_quintile"] == 1
    assert table.at["r2", "idaci_quintile"] == 5
    assert table.at["r2", "disability"] == 1.0
    assert table.at["r1", "sex"] == "M"


def test_model_inputs_exclude_sensitive_unless_configured(tmp_path):
    off = model_input_columns(make_settings(tmp_path))
    assert off == feature_names()
    assert not set(off) & set(SENSITIVE_COLUMNS)
    on = model_input_columns(make_settings(tmp_path, features={"use_sensitive_as_inputs": True}))
    assert set(on) - set(off) and set(on) - set(off) <= set(SENSITIVE_COLUMNS)


def test_contacts_as_decisions(tmp_path):
    settings = make_settings(tmp_path, features={"include_contacts_as_decisions": True})
    table = build_feature_table(_small(), REFERENCE, settings).set_index("decision_id")
    assert list(table.index) == ["k1", "k2", "r1", "r2"]
    assert table.at["k2", "decision_kind"] == "contact"
    assert table.at["k2", "contacts_all"] == 1  # k1 only; itself is the same day
    assert table.at["r1", "contacts_all"] == 1  # k2 arrives the same day as r1
    assert table.at["k1", "rereferral_12m"] == 1.0  # r1 41 days later


def test_truth_joins_on_the_referral(settings):
    truth = pd.DataFrame(
        {
            "referral_id": ["r2", "r1"],
            "p_rereferral_12m": [0.2, 0.1],
            "p_escalation_12m": [0.4, 0.3],
        }
    )
    table = build_feature_table(_small(), REFERENCE, settings, truth=truth).set_index("decision_id")
    assert table.at["r1", "truth_rereferral_12m"] == 0.1
    assert table.at["r2", "truth_escalation_12m"] == 0.4


def test_empty_tables_give_an_empty_table(settings):
    table = build_feature_table(make_tables(), REFERENCE, settings)
    assert len(table) == 0
    assert set(feature_names()) <= set(table.columns)


def test_cli_build_and_catalogue(tmp_path):
    settings = make_settings(tmp_path)
    canonical = settings.resolve(settings.paths.canonical)
    write_tables(canonical, random_history(3), {"reference_date": REFERENCE.isoformat()})
    truth_dir = settings.resolve(settings.paths.truth)
    truth_dir.mkdir(parents=True)
    referrals = pd.read_parquet(canonical / "referrals.parquet")
    pd.DataFrame(
        {
            "referral_id": referrals["referral_id"],
            "p_rereferral_12m": 0.25,
            "p_escalation_12m": 0.5,
        }
    ).to_parquet(truth_dir / "ground_truth.parquet")
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"demo_mode: true\npaths:\n  root: {tmp_path}\n"
        "privacy:\n  pseudonym_key: test-key-not-secret-0123456789abcdef\n"
    )
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(config), "features", "build"])
    assert result.exit_code == 0, result.output
    assert "decisions: " + str(len(referrals)) in result.output
    assert "censored" in result.output
    written = pd.read_parquet(settings.resolve(settings.paths.features) / "features.parquet")
    assert len(written) == len(referrals)
    assert (written["truth_escalation_12m"] == 0.5).all()

    out = tmp_path / "catalogue"
    result = runner.invoke(
        app, ["--config", str(config), "features", "catalogue", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    markdown = (out / "feature-catalogue.md").read_text()
    assert all(f"`{f.name}`" in markdown for f in FEATURES)
    assert "<table>" in (out / "feature-catalogue.html").read_text()


def test_cli_build_refuses_a_folder_without_tables(tmp_path):
    result = CliRunner().invoke(app, ["features", "build", "--canonical", str(tmp_path)])
    assert result.exit_code != 0
    assert "manifest.json" in result.output


def test_catalogue_lists_every_declaration():
    markdown, page = render_markdown(), render_html()
    for f in FEATURES:
        assert f"`{f.name}`" in markdown
        assert f"<code>{f.name}</code>" in page
        if f.knowledge_date:
            assert f.knowledge_date in markdown


def test_values_are_the_same_types_every_time(settings):
    table = build_feature_table(random_history(11), REFERENCE, settings)
    again = build_feature_table(random_history(11), REFERENCE, settings)
    pd.testing.assert_frame_equal(table, again)
    assert np.isfinite(table["referrals_all"]).all()


def test_committed_catalogue_is_up_to_date():
    """docs/feature-catalogue.md is rendered from the declarations; regenerate it with
    `frontdoor features catalogue --out docs` after changing a feature."""
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "docs" / "feature-catalogue.md"
    assert committed.read_text(encoding="utf-8") == render_markdown()


def test_a_missing_column_is_named(settings):
    tables = _small()
    tables["domestic_abuse_notifications"] = tables["domestic_abuse_notifications"].drop(
        columns="dash_risk"
    )
    with pytest.raises(
        ValueError, match="'domestic_abuse_notifications' has no column 'dash_risk'"
    ):
        build_feature_table(tables, REFERENCE, settings)
    tables = _small()
    tables["referrals"] = tables["referrals"].drop(columns="referral_date")
    with pytest.raises(ValueError, match="'referrals' has no column 'referral_date'"):
        build_feature_table(tables, REFERENCE, settings)
    tables = _small()
    tables["domestic_abuse_notifications"] = tables["domestic_abuse_notifications"].drop(
        columns="dash_risk"
    )
    with pytest.raises(ValueError, match="needed by the features da_high_risk_365d, da_high"):
        build_feature_table(tables, REFERENCE, settings)  # only the features that use it


def test_an_optional_column_the_source_lacks_counts_as_empty(settings):
    """Presenting concerns are optional (Annex A has none): without the column, the features
    that filter on it are 0, and every other feature is as it was."""
    tables = _small()
    full = build_feature_table(tables, REFERENCE, settings)
    tables["contacts"] = tables["contacts"].drop(columns="presenting_concerns")
    without = build_feature_table(tables, REFERENCE, settings)
    raising = [c for c in full.columns if "contacts_raising_" in c]
    assert len(raising) == 19 and full[raising].to_numpy().sum() > 0
    assert (without[raising] == 0).all().all()
    others = [c for c in full.columns if c not in raising]
    pd.testing.assert_frame_equal(without[others], full[others])


def test_cli_refuses_tables_that_are_not_pseudonymised_outside_demo_mode(tmp_path):
    canonical = tmp_path / "raw"
    write_tables(canonical, random_history(5), {"reference_date": REFERENCE.isoformat()})
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        f"demo_mode: false\npaths:\n  root: {tmp_path}\n"
        "privacy:\n  pseudonym_key: test-key-not-secret-0123456789abcdef\n"
    )
    args = ["--config", str(config), "features", "build", "--canonical", str(canonical)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "not pseudonymised" in result.output
    assert not (tmp_path / "data" / "features" / "features.parquet").exists()
