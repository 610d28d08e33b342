"""The board's report and `frontdoor compare`, on real runs.

Findings of issue 14: no summary on page one, no natural frequencies, raw column names and
"-inf", "N since the last ..." without its unit, no synthetic banner, the comparison with the
champion lost after promotion and without intervals or hyperparameters."""

from __future__ import annotations

import re
from html import escape as html_escape

import pandas as pd
import pytest

from frontdoor.governance.compare import compare, comparison_text
from frontdoor.governance.report import build_report
from frontdoor.governance.wording import feature_phrase
from tests.support.governance import LABEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages(governed, tmp_path_factory):
    settings, features, good, poor, _ = governed
    folder = tmp_path_factory.mktemp("pages")
    built = {
        v: build_report(settings, LABEL, v, folder / f"v{v}.html", features=features)
        for v in (good, poor)
    }
    return {v: b.html_path.read_text() for v, b in built.items()}


def _page_one(html: str) -> str:
    return html.split('<section class="page-break">')[0]


def test_page_one_answers_the_boards_questions(governed, pages):
    _, _, good, _, _ = governed
    one = _page_one(pages[good])
    for heading in (
        "What it predicts",
        "For whom",
        "How well",
        "Fairness gate",
        "Against the champion",
        "Promotion record",
    ):
        assert heading in one
    assert re.search(r"Of every 100 flagged referrals, about \d+ had", one)
    assert "Head of data, test" in one  # the promotion record, from the log
    assert "never decides" in one


def test_the_comparison_survives_promotion(governed, pages):
    _, _, good, poor, _ = governed
    # the poor version is compared with the champion; the champion's own report, written after
    # its promotion, still says what it was compared with (here: none before it)
    assert "against version" in _page_one(pages[poor]) and f"version {good}" in pages[poor]
    assert "first promoted" in pages[good] or "compared" in pages[good]


def test_no_raw_column_names_and_units_in_feature_phrases(governed, pages):
    _, _, good, _, _ = governed
    for html in pages.values():
        body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
        body = re.sub(r"<img [^>]*>", "", body)
        for raw in (
            "training_share",
            "from_score",
            "days_since_last",
            "gap_days",
            "referrals_365d",
        ):
            assert raw not in body, raw
        assert not re.search(r"(?<![A-Za-z])-?inf(?![A-Za-z-])", body)  # no -inf/inf edges
    assert feature_phrase("days_since_last_referral") == "days since the child's last referral"
    assert feature_phrase("referrals_365d").startswith("number of referrals")


def test_a_synthetic_banner_on_every_page(governed, pages):
    _, _, good, _, _ = governed
    html = pages[good]
    sections = html.count('class="page-break"') + 1
    assert html.count('<div class="synthetic-banner">') == sections
    assert "synthetic-banner repeat" in html and "position: fixed" in html  # printed pages


def test_compare_has_paired_intervals_frequencies_fairness_and_settings(governed):
    settings, _, good, poor, _ = governed
    c = compare(settings, LABEL, poor, good)
    auc = next(m for m in c.metrics if m["metric"] == "auc")
    assert auc["difference"] == pytest.approx(auc["challenger"] - auc["champion"])
    assert auc["difference_low"] <= auc["difference"] <= auc["difference_high"] < 0
    assert c.rows > 500 and c.children <= c.rows
    assert c.frequencies["challenger"]["flagged"] == c.frequencies["champion"]["flagged"]
    assert c.frequencies["champion"]["of_flagged"] >= c.frequencies["challenger"]["of_flagged"]
    assert c.fairness and c.gates["champion"] in ("pass", "fail")
    changed = {p["parameter"] for p in c.parameters}
    assert {"models.lightgbm.n_estimators", "models.lightgbm.num_leaves"} <= changed
    assert c.contributions and all("_" not in r["feature"] for r in c.contributions)
    lines = comparison_text(c)
    assert any("of 100 flagged" in line for line in lines)


def test_frontdoor_compare_prints_the_comparison(governed, tmp_path):
    import json

    from typer.testing import CliRunner

    from frontdoor.cli import app

    settings, _, good, poor, _ = governed
    config = tmp_path / "frontdoor.yaml"
    config.write_text(
        json.dumps(
            {
                "demo_mode": True,
                "paths": {"root": str(settings.paths.root)},
                "tracking": {"tracking_uri": settings.tracking.tracking_uri},
                "governance": {"comparison_bootstrap_samples": 50},
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["--config", str(config), "compare", poor])
    assert result.exit_code == 0, result.output
    assert f"Version {poor} against version {good}" in result.output  # the log's champion
    assert "of 100 flagged referrals about" in result.output
    assert "models.lightgbm.n_estimators" in result.output


def test_one_interval_per_disparity_and_the_gate_summarised_on_page_one(governed, pages):
    """Before: page one listed every inconclusive check, and each disparity showed two
    intervals (the published 95% one and the gate's, one of them in a collapsed section)."""
    from frontdoor.governance.report import gather

    settings, features, good, poor, _ = governed
    shown = 0
    for version in (good, poor):
        context = gather(settings, LABEL, version, features)
        gate, published = context["gate"], context["record"]["gate"]["checks"]
        html, one = pages[version], _page_one(pages[version])
        assert f"{len(gate.gated_checks)} checks" in one
        # the run kept its scored referrals, so the selection family was judged on them
        assert {c.population for c in gate.checks if c.family == "selection"} == {"scored"}
        assert "Who is flagged, on every scored referral" in html
        detail = html.split('id="gate-detail"')[1]
        for c in gate.inconclusive:
            assert f"group {c.group} against {c.reference}: inconclusive" not in one
        if gate.inconclusive:
            assert f"{len(gate.inconclusive)} inconclusive" in one
        for c in published:  # as published: small groups' figures are shown as c
            if c["gated"] and c["verdict"] in ("fail", "inconclusive"):
                if isinstance(c["gate_lo"], float):
                    assert f"{c['gate_lo']:.2f} to {c['gate_hi']:.2f}" in detail
                    shown += 1
                assert f"<td>{html_escape(str(c['group']))}</td>" in detail
        for c in gate.checks:
            if None in (c.lo, c.gate_lo) or f"{c.lo:.3f}" == f"{c.gate_lo:.3f}":
                continue
            assert f"{c.lo:.3f}–{c.hi:.3f}" not in html, c  # the published 95% interval
        assert html.count("Intervals: each figure carries one interval") == 1
    assert shown, "neither version has a check that did not pass: the test shows nothing"


def test_the_report_and_mlflow_show_the_calibration_line_with_its_interval(governed, pages):
    """Issue 15: a manager reads "an estimated 37% chance" literally, so the board sees the
    calibration intercept and slope (0 and 1 when literal) with their intervals, from the
    run's own metrics, and MLflow holds them overall and per fold."""
    import pandas as pd

    from frontdoor.models import registry, tracking

    settings, _, good, _, _ = governed
    run_id = registry.run_id_of(settings, LABEL, good)
    metrics = registry.run_metrics(settings, run_id)
    overall = metrics[
        (metrics["fold"].astype(str) == "overall") & (metrics["scorer"] == "lightgbm")
    ]
    line = overall.set_index("metric").loc[["calibration_intercept", "calibration_slope"]]
    assert line["value"].notna().all() and (line["ci_low"] < line["ci_high"]).all()
    html = pages[good]
    for metric, words in (
        ("calibration_slope", "calibration slope (1 when they can be read literally)"),
        ("calibration_intercept", "calibration intercept (0 when the probabilities"),
    ):
        assert html_escape(words) in html or words in html
        row = line.loc[metric]
        assert f"{row.value:.3f}" in html and f"{row.ci_low:.3f}–{row.ci_high:.3f}" in html
    logged = tracking.client(settings).get_run(run_id).data.metrics
    assert logged["lightgbm_calibration_slope"] == pytest.approx(
        line.loc["calibration_slope", "value"]
    )
    assert any(k.startswith("fold") and k.endswith("lightgbm_calibration_slope") for k in logged)
    assert pd.isna(
        metrics[(metrics["scorer"] == "rule") & (metrics["metric"] == "calibration_slope")]["value"]
    ).all()


def test_the_rereferral_models_report_and_comparison_never_say_escalated(governed, tmp_path):
    """A board reading the re-referral model's report must read "were referred again": the
    outcome's words come from the label (frontdoor.settings.label_words), never a fixed
    "escalated" (the report, the comparison and its metric names said so before)."""
    from frontdoor.governance.wording import metric_name
    from tests.support.governance import train_audit

    settings, features, *_ = governed
    table = pd.read_parquet(features)
    label = "rereferral_12m"
    first = train_audit(table, settings, label=label)
    second = train_audit(table, settings, models={"lightgbm": {"n_estimators": 20}}, label=label)
    html = build_report(settings, label, second, tmp_path / "r.html", features=features)
    text = html.html_path.read_text()
    c = compare(settings, label, second, first)
    printed = "\n".join(comparison_text(c))
    for words in (text, printed, *(m["name"] for m in c.metrics)):
        assert not re.search(r"escalat", words, re.IGNORECASE), re.findall(
            r".{80}escalat.{40}", words
        )
    assert "of 100 flagged referrals about" in printed and "were referred again" in printed
    assert "were referred again" in text and "a referral followed by another" in text
    assert "calibration slope" in printed  # the comparison now shows the calibration line
    assert "escalated" in metric_name("precision_at_capacity", "escalation_12m")


def test_the_bands_show_the_backtest_and_suppress_what_would_give_a_count_back(governed, pages):
    """Issue 15: beside each band's range, what happened to the backtest's referrals in it (the
    run's own figures); with the threshold raised to the smallest count behind a band's rate,
    that rate shows c, and neither it nor subtraction from the totals gives the count back."""
    from frontdoor.governance.report import gather, render
    from frontdoor.models import registry
    from frontdoor.records.disclosure import is_small
    from tests.support.governance import back_solve, band_table_rows

    settings, features, good, _, _ = governed
    bands = registry.band_table(settings, registry.run_id_of(settings, LABEL, good))
    shown = {r["band"]: r for r in band_table_rows(pages[good])}
    assert "observed rate" in pages[good] and "mean estimated chance" in pages[good]
    for b in bands.itertuples(index=False):
        assert shown[b.band]["test_referrals"] == f"{b.test_referrals:,}"
        assert shown[b.band]["observed"] == f"{100 * b.observed_rate:.0f}%"
    counts = {b.band: (b.test_referrals, b.test_outcomes) for b in bands.itertuples(index=False)}
    smallest = min(min(pos, n - pos) for n, pos in counts.values())
    strict = settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"suppress_counts_up_to": smallest})}
    )
    html = render(gather(strict, LABEL, good, features=features))
    rows = band_table_rows(html)
    total_n = sum(n for n, _ in counts.values())
    total_pos = sum(pos for _, pos in counts.values())
    possible = back_solve(rows, total_n, total_pos)
    small = [
        b
        for b, (n, pos) in counts.items()
        if is_small(pos, smallest) or is_small(n - pos, smallest)
    ]
    assert small
    for r in rows:
        n, pos = counts[r["band"]]
        assert pos in possible[r["band"]]  # the attack is sound
        if r["band"] in small:
            assert r["observed"] == "c"
            assert len(possible[r["band"]]) > 1
        if r["observed"] != "c":
            assert not is_small(pos, smallest) and not is_small(n - pos, smallest)
