"""The gate's calibration check uses the error a difference would have if both groups were calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontdoor.governance.fairness.audit import run_audit
from frontdoor.governance.gate import FAIL, calibration_null_se, evaluate_gate
from frontdoor.settings.fairness import FairnessSettings


def _frame(groups: dict[str, tuple[int, float, int]]) -> pd.DataFrame:
    """Each group: (size, the score everyone in it gets, how many of them had the outcome)."""
    rows = []
    for name, (n, p, positives) in groups.items():
        y = np.zeros(n, dtype=int)
        y[:positives] = 1
        rows.append(
            pd.DataFrame({"g": name, "probability": p, "y": y, "flag": (np.arange(n) % 4 == 0)})
        )
    return pd.concat(rows, ignore_index=True)


def _gate(frame: pd.DataFrame):
    settings = FairnessSettings(
        bootstrap_samples=200, gated_characteristics=["group"], min_group_size=30
    )
    audit = run_audit(
        frame.assign(flag=frame["flag"].astype(int)),
        label="y",
        score="probability",
        flagged="flag",
        characteristics={"group": "g"},
        settings=settings,
        score_is_probability=True,
    )
    return audit, evaluate_gate(audit, settings)


def _calibration_check(gate, group: str):
    return next(c for c in gate.checks if c.group == group and c.metric == "calibration_gap")


def test_null_standard_error_by_hand():
    audit, _ = _gate(_frame({"big": (1000, 0.35, 350), "small": (100, 0.2, 20)}))
    big = next(g for g in audit.groups if g.group == "big")
    small = next(g for g in audit.groups if g.group == "small")
    expected = np.sqrt(0.35 * 0.65 / 1000 + 0.2 * 0.8 / 100)
    assert calibration_null_se(small, big) == np.float64(expected).item()


def test_an_unlucky_calibrated_small_group_does_not_fail_but_a_miscalibrated_one_does():
    # "unlucky": 93 referrals scored 0.35 with 18 outcomes (3.2 standard errors below, as seen on
    # the demo council, where the true probability was 0.346); "wrong": 400 scored 0.35, 60 outcomes.
    # As on the demo council, dozens of checks are judged at once (20 calibrated groups beside).
    others = {f"calibrated {i}": (100, 0.35, 35) for i in range(20)}
    audit, gate = _gate(
        _frame(
            {
                "big": (2000, 0.35, 700),
                "unlucky": (93, 0.35, 18),
                "wrong": (400, 0.35, 60),
                **others,
            }
        )
    )
    assert sum(c.gated and c.verdict != "not assessed" for c in gate.checks) >= 60
    assert _calibration_check(gate, "unlucky").verdict != FAIL
    assert _calibration_check(gate, "wrong").verdict == FAIL
    assert not gate.passed
