"""Flow summaries publish counts with the configured threshold and hide what subtraction gives
back."""

from __future__ import annotations

import pandas as pd

from frontdoor.governance.report import data_summary
from frontdoor.pipelines import artifacts


def test_shown_uses_the_configured_threshold():
    assert artifacts.shown(7, up_to=10) == "c"
    assert artifacts.shown(7, up_to=5) == 7
    assert artifacts.shown(0, up_to=10) == 0


def test_ingest_counts_hide_a_small_quarantine_and_its_partner():
    counts = {"read": 1000, "loaded": 997, "quarantined": 3, "duplicates": 0}
    out = artifacts.ingest_counts(counts, up_to=5)
    assert out["quarantined"] == "c" and out["loaded"] == "c"  # 1000 - 997 = 3
    assert out["read"] == 1000
    wider = artifacts.ingest_counts({**counts, "quarantined": 8, "loaded": 992}, up_to=10)
    assert wider["quarantined"] == "c"


def test_band_counts_beside_the_total_hide_a_lone_small_band():
    out = artifacts.shown_with_total(120, {"low": 60, "medium": 40, "high": 17, "very high": 3}, 5)
    assert out["total"] == 120
    assert out["very high"] == "c" and out["high"] == "c"  # else 120 - 60 - 40 - 17 = 3
    assert out["low"] == 60 and out["medium"] == 40


def test_report_data_summary_hides_flagged_when_the_unflagged_are_few():
    pred = pd.DataFrame(
        {
            "fold": [0] * 40,
            "decision_date": pd.date_range("2025-01-01", periods=40, freq="D"),
            "y": [1] * 20 + [0] * 20,
            "flag_at_capacity": [True] * 37 + [False] * 3,
        }
    )
    row = data_summary(pred, up_to=5)[0]
    assert row["decisions"] == 40 and row["with_outcome"] == 20
    assert row["flagged"] == "c"  # 40 - 37 = 3 not flagged
