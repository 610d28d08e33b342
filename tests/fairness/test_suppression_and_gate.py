"""Small-number suppression and the gate rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from frontdoor.governance.fairness.audit import run_audit
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.fairness.publish import published_audit, write_audit
from frontdoor.governance.fairness.suppression import (
    FULL,
    HIDDEN,
    SUPPRESSED,
    TOO_FEW,
    disclosure_plan,
)
from frontdoor.governance.gate import FAIL, INCONCLUSIVE, NOT_ASSESSED, PASS, evaluate_gate, judge
from frontdoor.settings.fairness import FairnessSettings
from tests.support.fairness import predictions


def audit_of(frame: pd.DataFrame, **settings):
    derived, characteristics = derive_characteristics(frame)
    s = FairnessSettings(**{"bootstrap_samples": 200, **settings})
    return run_audit(
        derived,
        label="y",
        score="probability",
        flagged="flag_at_capacity",
        characteristics=characteristics,
        settings=s,
    )


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_a_metric_is_hidden_with_a_small_count_behind_it():
    frame = predictions(n=3000, seed=4)
    frame.loc[frame["ethnicity_group"] == "Other", "y"] = 0
    other = frame.index[frame["ethnicity_group"] == "Other"]
    frame.loc[other[:3], "y"] = 1  # three with the outcome: FNR and TPR give them back
    a = audit_of(frame)
    plan = disclosure_plan(a, 5)
    key = ("ethnicity", "Other")
    assert plan.count(key, "positives", 3) == SUPPRESSED
    assert plan.view(key, "fnr") == plan.view(key, "tpr") == plan.view(key, "base_rate") == HIDDEN
    assert plan.view(key, "auc") == HIDDEN
    assert plan.view(("ethnicity", "White"), "fnr") == FULL


def _numbers(record, path=()):
    """Every (path, number) under 'counts' keys in a published record."""
    if isinstance(record, dict):
        for k, v in record.items():
            if k == "counts" and isinstance(v, dict):
                for name, value in v.items():
                    yield (*path, name), value
            else:
                yield from _numbers(v, (*path, k))


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_published_audit_never_shows_a_small_count(tmp_path):
    frame = predictions(n=3000, seed=4)
    # A tiny group: 4 children, and a group of 12 (too few to assess).
    frame.loc[:3, "ethnicity_group"] = "Other"
    frame.loc[frame["ethnicity_group"] == "Other", "ethnicity_group"] = "Mixed"
    frame.loc[:3, "ethnicity_group"] = "Other"
    frame.loc[4:15, "ethnicity_group"] = "Not known or refused"
    frame.loc[frame.index[16:], "ethnicity_group"] = frame.loc[
        frame.index[16:], "ethnicity_group"
    ].replace("Not known or refused", "White")
    a = audit_of(frame)
    record = published_audit(a, 5, evaluate_gate(a))
    for path, value in _numbers(record):
        assert not (isinstance(value, int) and 1 <= value <= 5), path
    groups = record["characteristics"]["ethnicity"]["groups"]
    assert groups["Other"]["counts"]["n"] == SUPPRESSED
    assert groups["Other"]["metrics"] == TOO_FEW
    assert groups["Not known or refused"]["metrics"] == TOO_FEW
    # Secondary suppression: with one hidden size, the next smallest is hidden too.
    assert groups["Not known or refused"]["counts"]["n"] == SUPPRESSED
    json_path, html_path = write_audit(a, tmp_path, 5, "test", evaluate_gate(a))
    html = html_path.read_text(encoding="utf-8")
    assert TOO_FEW in html and ">c<" in html
    assert "http://" not in html and "https://" not in html  # self-contained
    assert (
        json.loads(json_path.read_text())["characteristics"]["ethnicity"]["groups"]["Other"][
            "counts"
        ]["n"]
        == "c"
    )


@pytest.mark.parametrize(
    ("value", "lo", "hi", "expected"),
    [
        (1.10, 0.90, 1.30, PASS),  # inside the band
        (1.50, 1.20, 1.90, FAIL),  # outside, interval excludes 1
        (1.50, 0.95, 2.30, INCONCLUSIVE),  # outside, but could be noise
        (0.70, 0.55, 0.90, FAIL),  # below the band
        (0.79, 0.60, 1.05, INCONCLUSIVE),
        (float("nan"), float("nan"), float("nan"), NOT_ASSESSED),
    ],
)
def test_gate_rule_on_one_ratio(value, lo, hi, expected):
    assert judge(value, lo, hi, 0.8, 1.25, 1.0)[0] == expected


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_gate_passes_a_fair_model_and_fails_an_injected_fnr_disparity():
    fair = audit_of(predictions(n=8000, seed=1))
    gate = evaluate_gate(fair)
    assert gate.passed, gate.summary()
    unfair = audit_of(predictions(n=8000, seed=1, missed_group="Black", missed_share=0.5))
    gate = evaluate_gate(unfair)
    assert not gate.passed
    failed = {(c.characteristic, c.group, c.metric) for c in gate.failures}
    assert ("ethnicity", "Black", "fnr") in failed
    assert all(group.startswith("Black") for _, group, _ in failed)
    ratio = unfair.group("ethnicity", "Black").disparities["fnr"]
    assert ratio.value > 1.25 and ratio.lo > 1
    # A characteristic that is reported but not gated is judged the same way, without blocking.
    reported = evaluate_gate(
        unfair, unfair.settings.model_copy(update={"gated_characteristics": ["sex"]})
    )
    assert reported.passed
    assert ("ethnicity", "Black", "fnr") in {
        (c.characteristic, c.group, c.metric) for c in reported.reported
    }
    assert "reported characteristics (ethnicity" in reported.summary()


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_gate_fails_a_calibration_gap_and_skips_it_for_non_probabilities():
    shifted = audit_of(predictions(n=8000, seed=2, shift_group="Asian", shift=0.12))
    gate = evaluate_gate(shifted)
    assert any(
        c.group == "Asian" and c.metric == "calibration_gap" and c.verdict == FAIL
        for c in gate.checks
    )
    off = evaluate_gate(shifted, FairnessSettings(check_calibration=False))
    assert not any(c.metric == "calibration_gap" for c in off.checks)


def test_audit_flags_fall_back_to_a_share_when_capacity_flags_nearly_everyone(tmp_path):
    from frontdoor.governance.version_audit import audit_flags
    from tests.support import make_settings

    settings = make_settings(tmp_path)
    frame = predictions(n=1000, seed=3)
    flags, rule = audit_flags(frame, settings)
    assert (flags == frame["flag_at_capacity"]).all() and "review capacity" in rule
    everyone = frame.assign(flag_at_capacity=True)
    flags, rule = audit_flags(everyone, settings)
    assert "flags 100%" in rule
    for _, part in everyone.assign(f=flags.to_numpy()).groupby("fold"):
        assert part["f"].mean() == pytest.approx(0.2, abs=0.01)  # the top 20% in each period
        assert part.loc[part["f"], "probability"].min() >= part.loc[~part["f"], "probability"].max()
