"""The gate cannot be narrowed by repeat referrals: a child's referrals share one outcome,
so the gate's interval is at least as wide as the bootstrap that resamples whole children."""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.governance.fairness.audit import run_audit
from frontdoor.governance.gate import evaluate_gate
from frontdoor.settings.fairness import FairnessSettings


def _ten_referrals_per_child() -> pd.DataFrame:
    """All outcomes negative; group a: 200 children, 40 flagged; group b: 20 children, 7
    flagged: a false positive rate ratio of 1.75, from 27 flagged children (270 referrals)."""
    flagged = np.r_[np.arange(200) < 40, np.arange(20) < 7]
    group = np.r_[["a"] * 200, ["b"] * 20]
    return pd.DataFrame(
        {
            "child_id": np.repeat([f"c{i}" for i in range(220)], 10),
            "y": 0,
            "s": np.repeat(flagged.astype(float), 10),
            "group": np.repeat(group, 10),
        }
    )


def _gate(settings: FairnessSettings):
    audit = run_audit(
        _ten_referrals_per_child(),
        label="y",
        score="s",
        threshold=0.5,
        characteristics={"g": "group"},
        settings=settings,
    )
    check = next(
        c
        for c in evaluate_gate(
            audit, settings.model_copy(update={"gated_characteristics": ["g"]})
        ).checks
        if c.group == "b" and c.metric == "fpr"
    )
    return audit, check


def test_repeat_referrals_do_not_make_a_disparity_conclusive():
    settings = FairnessSettings(check_calibration=False, bootstrap_samples=400)
    audit, by_child = _gate(settings)
    assert audit.resampled_by == "child_id"
    assert abs(by_child.value - 1.75) < 1e-9
    assert by_child.verdict == "inconclusive", by_child  # 7 flagged children of 20: noise
    _, by_row = _gate(settings.model_copy(update={"cluster_column": None}))
    assert by_row.verdict == "fail", by_row  # 70 of 200 "independent" referrals: conclusive
    assert by_child.gate_lo < by_row.gate_lo and by_child.gate_hi > by_row.gate_hi


def _calibration_check(referrals_per_child: int):
    """Group a: 400 children, b: 60; every score 0.3; 24 of b's 60 children (0.4) and 120 of
    a's 400 (0.3) had the outcome, each child with all its referrals."""
    m = referrals_per_child
    y = np.r_[np.arange(400) < 120, np.arange(60) < 24]
    frame = pd.DataFrame(
        {
            "child_id": np.repeat([f"c{i}" for i in range(460)], m),
            "y": np.repeat(y.astype(int), m),
            "s": 0.3,
            "group": np.repeat(np.r_[["a"] * 400, ["b"] * 60], m),
        }
    )
    settings = FairnessSettings(gated_metrics=[], bootstrap_samples=200)
    audit = run_audit(
        frame,
        label="y",
        score="s",
        threshold=0.5,
        characteristics={"g": "group"},
        settings=settings,
    )
    gate = evaluate_gate(audit, settings.model_copy(update={"gated_characteristics": ["g"]}))
    return audit, next(c for c in gate.checks if c.group == "b" and c.metric == "calibration_gap")


def test_repeat_referrals_do_not_make_a_calibration_gap_conclusive():
    audit, once = _calibration_check(1)
    _, tenfold = _calibration_check(10)
    assert audit.group("g", "b").effective_n == 60
    assert once.verdict == tenfold.verdict == "inconclusive", (once, tenfold)
    assert abs(tenfold.gate_lo - once.gate_lo) < 0.01  # ten referrals each: the same 60 children
