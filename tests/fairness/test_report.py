"""The governance report end to end on a small synthetic council (real training, real MLflow)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import frontdoor.synth.council as council_mod
from frontdoor import REVIEW_NOTICE
from frontdoor.cli import app
from frontdoor.features.build import build_feature_table
from frontdoor.governance.atrs import TO_COMPLETE
from frontdoor.governance.promotion import promote
from frontdoor.governance.report import build_report
from frontdoor.governance.version_audit import audit_model_version
from frontdoor.models.run import train_and_register
from frontdoor.models.tracking import client
from frontdoor.records.feature_table import default_feature_path, write_feature_table
from tests.support import make_settings
from tests.support.fairness import predictions, register_predictions

pytestmark = pytest.mark.slow
LABEL = "escalation_12m"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    settings = make_settings(
        root,
        synth={"children": 8000},
        models={"bootstrap_samples": 50, "explain_sample": 300, "lightgbm": {"n_estimators": 60}},
        fairness={"bootstrap_samples": 60},
    )
    made = council_mod.generate(settings)
    table = build_feature_table(
        made.tables, settings.synth.end_date, settings, truth=made.ground_truth
    )
    path = default_feature_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_feature_table(table, path)
    _, record = train_and_register(table, LABEL, settings)
    return settings, record


def test_report_is_self_contained_complete_and_logged(trained, tmp_path):
    settings, record = trained
    audit_model_version(settings, LABEL, record.model_version)
    result = build_report(settings, LABEL, record.model_version, tmp_path / "report.html")
    html = result.html_path.read_text(encoding="utf-8")
    # Self-contained: every image inline, nothing fetched from anywhere.
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", html)
    assert html.count("data:image/png;base64,") >= 4
    assert "@media print" in html
    assert html.count(REVIEW_NOTICE) >= 2
    for heading in (
        "What it predicts",
        "How well",
        "Fairness gate",
        "Against the champion",
        "Promotion record",
        "Comparison with the champion",
        "Model card",
        "Owner",
        "Licence",
        "Contact",
        "Intended use and non-uses",
        "Training and evaluation data",
        "Referrals and outcome rates by group",
        "pre-processing and quarantine",
        "The limits of the labels",
        "Performance on the test periods",
        "Fairness",
        "What the model relies on most",
        "Caveats",
        "Recommendations",
        "Tier 1: overview",
        "Owner and responsibility",
        "Decision-making process",
        "Tool specification",
        "Risks, mitigations and impact assessments",
        "Dataset card",
    ):
        assert heading in html, heading
    assert "must not be used to" in html and "screen out" in html
    assert "watched more" in html
    assert "to be completed by the council" in html
    assert "Example cases (synthetic)" in html and "Referral " in html
    # No identifiers beyond (shortened) pseudonyms: no full 64-hex pseudonyms, no raw ids.
    assert not re.search(r"\b[0-9a-f]{64}\b", html)
    atrs = json.loads(result.atrs_path.read_text(encoding="utf-8"))
    assert atrs["notice"] == REVIEW_NOTICE
    owner = atrs["tier_2"]["owner_and_responsibility"]["senior_responsible_owner"]
    assert owner["value"] is None and owner["status"] == TO_COMPLETE
    assert owner["filled_by"] == "council"
    model = atrs["tier_2"]["tool_specification"]["models"][0]
    assert model["model_version"]["filled_by"] == "pipeline"
    assert model["model_version"]["value"] == record.model_version
    assert any(
        "impact_assessments[1]" in p for p in atrs["completion"]["to_be_completed_by_council"]
    )
    logged = {f.path for f in client(settings).list_artifacts(record.run_id, "governance")}
    assert logged == {"governance/report.html", "governance/report-atrs.json"}


def test_report_compares_with_the_champion_and_degrades_gracefully(trained, tmp_path):
    settings, record = trained
    audit_model_version(settings, LABEL, record.model_version)
    try:
        promote(
            settings,
            LABEL,
            record.model_version,
            "Small synthetic test council; promoted for the report test.",
            "tester",
        )
    except Exception as error:  # pragma: no cover - promote only refuses without an audit
        raise AssertionError(error) from error
    other = register_predictions(
        settings, predictions(n=1500, seed=9)
    )  # a run without model artifacts
    runner = CliRunner()
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        "\n".join(
            [
                "demo_mode: true",
                f"paths:\n  root: {settings.paths.root}",
                "privacy:\n  pseudonym_key: test-key-not-secret-0123456789abcdef",
                f"tracking:\n  tracking_uri: {settings.tracking.tracking_uri}",
                "fairness:\n  bootstrap_samples: 60",
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "other.html"
    result = runner.invoke(
        app,
        [
            "--config",
            str(config),
            "report",
            "--model-version",
            other,
            "--label",
            LABEL,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert f"champion version {record.model_version}" in html
    assert (
        "Example cases are shown only" in html
        or "not in the feature table" in html
        or "No feature table" in html
    )
    missing = runner.invoke(
        app, ["--config", str(config), "report", "--model-version", "99", "--label", LABEL]
    )
    assert missing.exit_code == 2 and "99" in missing.output


def test_report_attributes_each_disparity_shown_to_feature_families(trained, tmp_path):
    """The report's attribution section, on the registered model's own contributions: every
    group with a disparity shown gets its families, largest first, or no figure when it is too
    small; the section is in the page."""
    from frontdoor.governance.gate import GateCheck, GateResult
    from frontdoor.governance.report_attribution import attribution_section
    from frontdoor.models import registry

    settings, record = trained
    pred = registry.test_predictions(settings, record.run_id)
    shown = [
        GateCheck(c, g, ref, "flag_rate", "ratio", 1.4, 1.1, 1.8, "inconclusive", "")
        for c, g, ref in (("sex", "Female", "Male"), ("ethnicity", "Black", "White"))
    ]
    gate = GateResult(passed=True, rule="", checks=shown)
    section = attribution_section(settings, LABEL, str(record.model_version), pred, gate)
    assert [r["group"] for r in section["rows"]] == ["Female", "Black"]
    assert section["rows"][0]["families"]  # half the children: always enough to attribute
    for row in section["rows"]:
        if row["sentence"] == "too few to attribute":
            assert row["families"] == []
            continue
        diffs = [abs(f["difference"]) for f in row["families"]]
        assert diffs == sorted(diffs, reverse=True) and len(diffs) == 3
        assert row["sentence"].startswith(f"{row['group']} children's")
    assert any(r["families"] for r in section["rows"])
    none = attribution_section(
        settings, LABEL, str(record.model_version), pred, GateResult(True, "", [])
    )
    assert none["rows"] == [] and "No disparity" in none["note"]
    audit_model_version(settings, LABEL, record.model_version)
    html = build_report(settings, LABEL, record.model_version, tmp_path / "r.html")
    page = html.html_path.read_text(encoding="utf-8")
    assert 'id="attribution"' in page and "scores differ" in page
