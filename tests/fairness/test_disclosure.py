"""records.disclosure: counts that subtraction would give back are hidden too."""

from __future__ import annotations

from frontdoor.records.disclosure import hidden_parts, redact_url, shown_count, shown_parts


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
