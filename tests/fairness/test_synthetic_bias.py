"""On the synthetic council, the promotion decision sees the bias knobs and passes without them.

The shipped pipeline, not a stand-in: each council (knobs off; surveillance of Black children;
under-recording of Asian children's concerns, both at their default strengths) is generated at
the default size, ingested, turned into features, trained with `models.train.backtest`
(LightGBM, calibrated, temporal folds) on the primary label and audited as `frontdoor promote`
audits (`governance.version_audit.audit_predictions` with the run's scored referrals, the default
gate: ethnicity, sex, disability and ethnicity x sex gated; the selection family judged on the
labelled test rows, and again on every referral the deployed model scored, the option
`fairness.selection_rows: cross_fitted`). The same seed gives the same children with and without a knob, so
the comparison is paired. benchmarks/knob_detection.py runs the same over several seeds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from frontdoor.governance.fairness.attribution import attribute, sentence
from frontdoor.governance.version_audit import audit_predictions
from frontdoor.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import knob_detection  # noqa: E402

pytestmark = pytest.mark.slow
CHILDREN = 50_000  # the default council


@pytest.fixture(scope="module")
def councils(tmp_path_factory):
    seed = Settings().synth.seed
    out = {}
    for knob in knob_detection.KNOBS:
        folder = tmp_path_factory.mktemp(knob)
        predictions, families, scored = knob_detection.train(folder, knob, seed, CHILDREN)
        audit, gate = audit_predictions(predictions, Settings(), scored)
        on_scored, _ = audit_predictions(predictions, SCORED, scored)
        out[knob] = (audit, gate, families, on_scored)
    return out


SCORED = Settings(fairness={"selection_rows": "cross_fitted"})


def ratio(audit, group: str, metric: str):
    """A disparity as the gate judged it: flag rates on the selection rows when the audit had
    its own (the scored design), else on the labelled rows (the default)."""
    source = audit.selection if metric == "flag_rate" and audit.selection else audit
    return source.group("ethnicity", group).disparities[metric]


def test_knobs_off_the_gate_passes_with_ethnicity_by_sex_gated(councils):
    audit, gate, *_ = councils["off"]
    assert "ethnicity_x_sex" in audit.settings.gated_characteristics
    assert any(
        c.characteristic == "ethnicity_x_sex" and c.verdict != "not assessed" for c in gate.checks
    )
    assert gate.passed, gate.summary()
    assert audit.selection is None  # the default judges the selection family on labelled rows
    on_scored = councils["off"][3]
    assert on_scored.selection is not None
    assert on_scored.selection.overall.counts["n"] > 3 * audit.overall.counts["n"]
    for group in ("Black", "Asian"):
        assert 0.8 <= ratio(audit, group, "flag_rate").value <= 1.25, group


def verdict(gate, group: str, metric: str) -> str:
    return next(
        c.verdict
        for c in gate.checks
        if (c.characteristic, c.group, c.metric) == ("ethnicity", group, metric)
    )


def test_surveillance_raises_the_groups_selection(councils):
    """Measured (docs/fairness.md): on this seed the knob raises the Black flag-rate ratio on
    the labelled rows from 0.94 to 1.41 and on every scored referral from 0.87 to 1.15 (95%
    0.99-1.34, an interval about half as wide)."""
    off, on = councils["off"][0], councils["surveillance"][0]
    flag = ratio(on, "Black", "flag_rate")
    assert flag.value > 1.1
    assert flag.value > ratio(off, "Black", "flag_rate").value + 0.15
    off_scored, on_scored = councils["off"][3], councils["surveillance"][3]
    scored = ratio(on_scored, "Black", "flag_rate")
    assert scored.value > ratio(off_scored, "Black", "flag_rate").value + 0.15
    assert (scored.hi - scored.lo) < 0.7 * (flag.hi - flag.lo)
    families = councils["surveillance"][2]
    table = attribute(families.drop(columns="ethnicity"), families["ethnicity"], "White")
    assert table.loc["Black", "total"] > 0  # higher scores, and the sentence says from what
    assert sentence(table, "Black", "White").startswith("Black children's higher scores")


def test_under_recording_lowers_the_groups_selection_past_the_band(councils):
    off, on = councils["off"][0], councils["under-recording"][0]
    gate = councils["under-recording"][1]
    flag = ratio(on, "Asian", "flag_rate")
    assert flag.value < 0.8 and flag.hi < 1.0
    assert verdict(gate, "Asian", "flag_rate") == "fail"
    assert flag.value < ratio(off, "Asian", "flag_rate").value - 0.15
    assert verdict(gate, "Asian", "flag_rate") in ("inconclusive", "fail")
    # other groups are untouched by the knob
    assert ratio(on, "Black", "flag_rate").value == pytest.approx(
        ratio(off, "Black", "flag_rate").value, abs=0.1
    )
