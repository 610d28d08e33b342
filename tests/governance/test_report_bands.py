"""The report's band table: the backtest's figures per band, with small counts suppressed so
that no hidden count can be worked out again (issue 15; the DfE convention)."""

from __future__ import annotations

import re

import pandas as pd

from frontdoor.governance.report_bands import band_rows
from frontdoor.records.disclosure import SUPPRESSED, is_small
from tests.support.governance import back_solve

UP_TO = 5


def _bands(outcomes: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """A bands.csv as a run logs it: (test referrals, with the outcome) per band."""
    rows = []
    for i, (band, (n, pos)) in enumerate(outcomes.items()):
        rate = pos / n if n else float("nan")
        rows.append(
            {
                "band": band,
                "training_share": (0.5, 0.3, 0.15, 0.05)[i],
                "from_score": float(i),
                "to_score": float(i + 1),
                "from_probability": 0.1 * i,
                "to_probability": 0.1 * (i + 1),
                "test_referrals": n,
                "test_outcomes": pos,
                "observed_rate": rate,
                "observed_low": max(rate - 0.05, 0.0),
                "observed_high": min(rate + 0.05, 1.0),
                "mean_probability": 0.1 * i + 0.05,
            }
        )
    return pd.DataFrame(rows)


def test_the_bands_show_the_backtests_figures():
    rows = band_rows(
        _bands(
            {"low": (1352, 268), "medium": (1043, 459), "high": (588, 293), "very high": (218, 134)}
        ),
        UP_TO,
    )
    low = rows[0]
    assert low["test_referrals"] == "1,352" and low["observed"] == "20%"
    assert low["interval"] == "15% to 25%" and low["mean_probability"] == "5%"
    assert [r["observed"] for r in rows] == ["20%", "44%", "50%", "61%"]


def test_a_small_count_is_suppressed_and_cannot_be_worked_back():
    """3 of 400 "low" referrals had the outcome: its rate would give 3 back (rate x 400), and
    the total outcomes (shown elsewhere) minus the other bands' would too."""
    truth = {"low": (400, 3), "medium": (300, 120), "high": (150, 75), "very high": (50, 47)}
    rows = band_rows(_bands(truth), UP_TO)
    by_band = {r["band"]: r for r in rows}
    assert by_band["low"]["observed"] == SUPPRESSED and by_band["low"]["interval"] == ""
    # "very high" has 3 referrals without the outcome (50 - 47): hidden too
    assert by_band["very high"]["observed"] == SUPPRESSED
    total_n = sum(n for n, _ in truth.values())
    total_pos = sum(p for _, p in truth.values())
    possible = back_solve(rows, total_n, total_pos)
    for band, (n, pos) in truth.items():
        assert pos in possible[band]  # the attack is sound
        if is_small(pos, UP_TO) or is_small(n - pos, UP_TO):
            # not pinned, and not even known to be small
            assert len(possible[band]) > 1
            assert any(
                not is_small(k, UP_TO) and not is_small(n - k, UP_TO) for k in possible[band]
            )
    # every rate still shown gives back a count that is not small
    for r in rows:
        if r["observed"] != SUPPRESSED:
            n, pos = truth[r["band"]]
            assert not is_small(pos, UP_TO) and not is_small(n - pos, UP_TO)


def test_one_small_band_alone_hides_another_so_subtraction_fails():
    """Only "low" is small; without secondary suppression the total minus the three shown
    bands would give its 2 outcomes back."""
    truth = {"low": (400, 2), "medium": (300, 120), "high": (150, 75), "very high": (50, 30)}
    rows = band_rows(_bands(truth), UP_TO)
    hidden = [r["band"] for r in rows if r["observed"] == SUPPRESSED]
    assert "low" in hidden and len(hidden) >= 2
    possible = back_solve(rows, 900, 227)
    assert len(possible["low"]) > UP_TO


def test_a_small_band_count_is_shown_as_c():
    rows = band_rows(
        _bands({"low": (600, 100), "medium": (300, 120), "high": (96, 40), "very high": (4, 4)}),
        UP_TO,
    )
    very_high = rows[-1]
    assert very_high["test_referrals"] == SUPPRESSED and very_high["observed"] == SUPPRESSED
    # the band count is a part of the shown total: another band count is hidden too
    assert sum(r["test_referrals"] == SUPPRESSED for r in rows) >= 2
    assert not any(re.fullmatch(r"[1-5]", str(r["test_referrals"])) for r in rows)


def test_a_run_without_the_figures_shows_its_ranges_only():
    old = _bands({"low": (10, 5), "medium": (10, 5), "high": (10, 5), "very high": (10, 5)})
    rows = band_rows(old.drop(columns=["test_referrals", "test_outcomes", "observed_rate"]), UP_TO)
    assert rows[0]["training_share"] == "50%" and rows[0]["test_referrals"] == "—"
