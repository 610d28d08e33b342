"""Attribution of a disparity to feature families, as the governance report publishes it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.governance.fairness.attribution import (
    TOO_FEW,
    attribute,
    disparity_attributions,
    family_contributions,
    family_of,
    sentence,
)
from frontdoor.governance.gate import GateCheck


def check(characteristic, group, reference, verdict="inconclusive", metric="flag_rate"):
    return GateCheck(characteristic, group, reference, metric, "ratio", 1.4, 1.1, 1.8, verdict, "")


def synthetic_rows(rng, n_b=200, n_t=4):
    """White and Black children; Black children's police contacts raise their scores by 0.5
    on average, their domestic-abuse notifications by 0.2; a tiny group T beside them."""
    groups = np.array(["White"] * 800 + ["Black"] * n_b + ["T"] * n_t)
    black = groups == "Black"
    families = pd.DataFrame(
        {
            "police-sourced contacts": rng.normal(0, 0.1, groups.size) + 0.5 * black,
            "domestic-abuse notifications": rng.normal(0, 0.1, groups.size) + 0.2 * black,
            "earlier assessments": rng.normal(0, 0.1, groups.size),
        }
    )
    return families, pd.DataFrame({"ethnicity": groups})


def test_the_families_behind_a_groups_higher_scores_are_named_in_order():
    families, groups = synthetic_rows(np.random.default_rng(3))
    rows = disparity_attributions(families, groups, [check("ethnicity", "Black", "White")], 5, 30)
    (row,) = rows
    assert row["rows"] == 200 and row["reference_rows"] == 800
    assert [f["family"] for f in row["families"][:2]] == [
        "police-sourced contacts",
        "domestic-abuse notifications",
    ]
    assert row["families"][0]["difference"] == pytest.approx(0.5, abs=0.03)
    assert row["total"] == pytest.approx(0.7, abs=0.05)
    assert row["sentence"].startswith("Black children's higher scores")
    assert "police-sourced contacts" in row["sentence"]
    # the table's differences add up to the difference in mean score
    table = attribute(families, groups["ethnicity"], "White")
    assert table.loc["Black", "total"] == pytest.approx(table.loc["Black"].drop("total").sum())
    assert sentence(table, "White", "White").endswith("on average.")


def test_a_group_too_small_to_describe_shows_no_figure():
    """A mean over a handful of children describes those children: no number at all, and the
    count of rows behind it shown through the disclosure rule (1-5 as c)."""
    families, groups = synthetic_rows(np.random.default_rng(4))
    checks = [
        check("ethnicity", "T", "White", "fail"),
        check("ethnicity", "T", "White", "fail", "fpr"),
    ]
    rows = disparity_attributions(families, groups, checks, 5, 30)
    assert len(rows) == 1  # one row per group, however many of its checks are shown
    (row,) = rows
    assert row["rows"] == "c" and row["sentence"] == TOO_FEW
    assert row["families"] == [] and "total" not in row
    small, groups = synthetic_rows(np.random.default_rng(4), n_b=20)
    (row,) = disparity_attributions(small, groups, [check("ethnicity", "Black", "White")], 5, 30)
    assert row["rows"] == 20 and row["sentence"] == TOO_FEW and row["families"] == []


def test_contributions_are_summed_within_declared_families():
    from frontdoor.features import declarations

    name = declarations.FEATURES[0].name
    columns = [name, f"{name}=x", "not a declared feature"]
    frame = family_contributions(np.array([[1.0, 2.0, 4.0]]), columns)
    assert frame.loc[0, family_of(name)] == 3.0
    assert frame.loc[0, "other inputs"] == 4.0
