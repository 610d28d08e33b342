"""On a small synthetic council: the labels are the generator's labels, and the engine agrees
with the reference implementation on real-looking histories."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from frontdoor.features.build import build_feature_table, label_summary
from frontdoor.features.declarations import FEATURES
from frontdoor.synth.council import generate
from tests.support import make_settings
from tests.support.features import Oracle


@pytest.fixture(scope="module")
def council(tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("council"), synth={"children": 3000, "years": 3}
    )
    made = generate(settings)
    reference = date.fromisoformat(made.manifest["reference_date"])
    table = build_feature_table(made.tables, reference, settings, truth=made.ground_truth)
    return made, table


def test_one_row_per_referral_with_truth(council):
    made, table = council
    assert len(table) == len(made.tables["referrals"])
    assert table["decision_id"].is_unique
    assert table["truth_rereferral_12m"].notna().all()
    summary = label_summary(table)
    assert 0 < summary["censored"] < summary["decisions"]


def test_label_rates_match_the_generators_probabilities(council):
    """The generator computes its oracle on exactly our label definition: the mean oracle
    probability and the observed label rate agree within sampling error."""
    _, table = council
    labelled = table[~table["censored"]]
    for label in ("rereferral_12m", "escalation_12m"):
        rate = labelled[label].mean()
        expected = labelled[f"truth_{label}"].mean()
        se = np.sqrt(expected * (1 - expected) / len(labelled))
        assert abs(rate - expected) < 4 * se + 0.01, (label, rate, expected)
        positives = labelled.loc[labelled[label] == 1, f"truth_{label}"].mean()
        negatives = labelled.loc[labelled[label] == 0, f"truth_{label}"].mean()
        assert positives > negatives, label


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_engine_matches_the_reference_on_synthetic_histories(council):
    made, table = council
    rng = np.random.default_rng(0)
    sample = table.iloc[rng.choice(len(table), size=min(25, len(table)), replace=False)]
    nonzero = set()
    oracle = Oracle(made.tables)
    for _, row in sample.iterrows():
        for f in FEATURES:
            expected = oracle.value(f, row["child_id"], row["decision_date"])
            got = float(row[f.name])
            assert (np.isnan(expected) and np.isnan(got)) or expected == got, (
                f.name,
                row["decision_id"],
                got,
                expected,
            )
            if got and not np.isnan(got):
                nonzero.add(f.name)
    assert len(nonzero) > 20  # the sample exercises most features
