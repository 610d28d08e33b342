"""records.disclosure: counts that subtraction would give back are hidden too."""

from __future__ import annotations

from frontdoor.records.disclosure import (
    hidden_parts,
    pinned_counts,
    protect,
    redact_url,
    shown_count,
    shown_parts,
)


def test_complement_of_a_part_is_protected():
    # total 9, agree 3, disagree 6: showing 6 beside 9 gives the 3 back
    assert shown_parts(9, {"agree": 3, "disagree": 6}, 5) == {"agree": "c", "disagree": "c"}
    assert shown_parts(9, {"agree": 6}, 5) == {"agree": "c"}  # the rest (3) is small
    assert shown_parts(40, {"agree": 20, "disagree": 20}, 5) == {"agree": 20, "disagree": 20}


def test_a_lone_hidden_part_hides_the_next_smallest():
    parts = {"a": 2, "b": 10, "c": 30}
    assert hidden_parts(42, parts, 5) == {"a", "b"}
    # the unnamed rest counts as a part: 47 shown beside a total of 50 gives the other 3 back
    assert hidden_parts(50, {"assessment": 47}, 5) == {"assessment"}
    # two hidden cells (nfa and the unnamed rest, 3 each) cannot be told apart from the total
    assert hidden_parts(50, {"assessment": 44, "nfa": 3}, 5) == {"nfa"}
    assert hidden_parts(50, {"assessment": 47, "nfa": 3}, 5) == {"nfa", "assessment"}


def test_threshold_comes_from_the_caller():
    assert shown_count(4, 3) == 4 and shown_count(3, 3) == "c" and shown_count(0, 5) == 0


def test_urls_lose_their_credentials():
    assert redact_url("postgresql://u:pw@h:5432/d") == "postgresql://***@h:5432/d"
    assert redact_url("sqlite:///data/review.db") == "sqlite:///data/review.db"
    assert redact_url("http://mlflow:5000") == "http://mlflow:5000"


def test_protect_hides_across_a_characteristic_and_its_intersections():
    """Asian 15 = Asian x Male 13 + Asian x Female 2: hiding 2 alone, 15 - 13 gives it back."""
    cells = {"A": 15, "AM": 13, "AF": 2, "W": 100, "WM": 50, "WF": 50, "M": 63, "F": 52}
    eqs = [("A", ["AM", "AF"]), ("W", ["WM", "WF"]), ("M", ["AM", "WM"]), ("F", ["AF", "WF"])]
    hidden = protect(cells, eqs, 5)
    assert {"AF", "AM"} <= hidden  # the part and its sibling
    for total, parts in eqs:  # no equation is left with exactly one unknown
        assert sum(k in hidden for k in (total, *parts)) != 1
    # a hidden total beside shown parts is given back by addition: a part is hidden too
    assert protect({"t": 40, "a": 20, "b": 20}, [("t", ["a", "b"])], 5, {"t"}) == {"t", "a"}


def test_pinned_counts_finds_what_rounded_rates_give_back():
    truth = {"n": 40, "positives": 10, "flagged": 8, "tp": 5}
    shown = {"positives": 10, "flagged": 8}
    # with n hidden, a 3-decimal base rate (0.25) pins n = 40 exactly among 29..51
    assert "n" in pinned_counts(truth, shown, {"base_rate": 0.25}, 3, 11)
    # one decimal (0.2 or 0.3 both near) leaves n ambiguous
    assert "n" not in pinned_counts(truth, shown, {"base_rate": 0.3}, 1, 11)
