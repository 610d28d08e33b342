"""On the synthetic council, the audit finds what the bias knobs inject, and passes without them.

Each council is generated from the same seed, so with and without a knob the children are the
same and the comparison is paired. Two scorers are audited:

* a model: a plain regularised logistic regression on all declared features (sensitive
  characteristics are not inputs), fitted on the earlier 60% of decisions and scored on the
  rest, the top 20% flagged (the review capacity);
* a factor tool, as a vendor or a local rule might be: the number of earlier assessments that
  recorded neglect, domestic abuse or parental mental health, alcohol or drug concerns (child and
  household), flagged at one or more, audited exactly as `frontdoor audit` audits any scores.

Under-recording removes recorded factors; in this synthetic council the model leans on contact
and referral history and barely moves (measured in docs/fairness.md), while the factor tool
misses the group's children: the audit must show that.
"""

from __future__ import annotations

import pytest
from conftest import make_settings
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import frontdoor.synth.council as council_mod
from frontdoor.features.build import build_feature_table
from frontdoor.features.declarations import model_input_columns
from frontdoor.governance.fairness.audit import run_audit
from frontdoor.governance.fairness.characteristics import derive_characteristics
from frontdoor.governance.gate import evaluate_gate

pytestmark = pytest.mark.slow
# About 15,000 decisions, 5,000 of them in the test period: enough for the smaller ethnic groups
# (Other, Not known) to be judged; with 30,000 children a group of ~70 fails calibration by chance.
CHILDREN = 60_000
KNOBS = {
    "none": {},
    "surveillance": {
        "surveillance_bias": {
            "enabled": True,
            "ethnicity_major_group": "Black",
            "rate_multiplier": 3.0,
        }
    },
    "under_recording": {
        "under_recording_bias": {"enabled": True, "ethnicity_major_group": "Asian"}
    },  # the default recording rate, 0.4 against 0.85
}
ETHNICITY_SEX_DISABILITY = ["ethnicity", "sex", "disability"]


def audit_council(tmp_path, knob: str, labels: list[str]) -> dict:
    settings = make_settings(
        tmp_path / knob,
        synth={"children": CHILDREN, **KNOBS[knob]},
        fairness={"bootstrap_samples": 100},
    )
    made = council_mod.generate(settings)
    table = build_feature_table(made.tables, settings.synth.end_date, settings)
    out = {(knob, label): audit_label(table, label, settings) for label in labels}
    out[(knob, "factor_tool")] = audit_factor_tool(table, settings)
    return out


FACTOR_COLUMNS = [
    "neglect_assessments_all",
    "da_assessments_all",
    "parental_mental_health_assessments_all",
    "parental_alcohol_assessments_all",
    "parental_drugs_assessments_all",
    "household_neglect_assessments_all",
    "household_da_assessments_all",
]


def audit_factor_tool(table, settings):
    rows = table[~table["censored"]].copy()
    rows["factor_score"] = rows[FACTOR_COLUMNS].fillna(0).sum(axis=1)
    rows["y"] = rows["escalation_12m"].astype(int)
    frame, characteristics = derive_characteristics(rows)
    return run_audit(
        frame,
        label="y",
        score="factor_score",
        threshold=1,
        characteristics=characteristics,
        settings=settings.fairness,
    )


def audit_label(table, label: str, settings):
    rows = table[~table["censored"]].sort_values("decision_date")
    cut = rows["decision_date"].quantile(0.6)
    train, test = rows[rows["decision_date"] < cut], rows[rows["decision_date"] >= cut].copy()
    columns = model_input_columns(settings)
    assert not {"ethnicity", "ethnicity_group", "sex"} & set(columns)
    model = make_pipeline(
        SimpleImputer(), StandardScaler(), LogisticRegression(C=0.5, max_iter=2000)
    )
    model.fit(train[columns], train[label].astype(int))
    test["p"] = model.predict_proba(test[columns])[:, 1]
    test["y"] = test[label].astype(int)
    test["flag"] = test["p"] >= test["p"].quantile(0.8)
    frame, characteristics = derive_characteristics(test)
    return run_audit(
        frame,
        label="y",
        score="p",
        flagged="flag",
        characteristics=characteristics,
        settings=settings.fairness,
    )


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bias")
    return {
        **audit_council(tmp, "none", ["rereferral_12m", "escalation_12m"]),
        **audit_council(tmp, "surveillance", ["rereferral_12m"]),
        **audit_council(tmp, "under_recording", ["escalation_12m"]),
    }


def ratio(audit, group: str, metric: str):
    return audit.group("ethnicity", group).disparities[metric]


def test_knobs_off_the_gate_passes_on_the_characteristics_the_knobs_act_on(audits):
    for label in ("rereferral_12m", "escalation_12m"):
        a = audits[("none", label)]
        gate = evaluate_gate(
            a, a.settings.model_copy(update={"gated_characteristics": ETHNICITY_SEX_DISABILITY})
        )
        assert gate.passed, (label, gate.summary())
        for group in ("Black", "Asian"):
            assert 0.8 <= ratio(a, group, "base_rate").value <= 1.25, (label, group)
            assert 0.8 <= ratio(a, group, "fnr").value <= 1.25, (label, group)


def test_surveillance_bias_raises_the_groups_base_and_flag_rates_and_fails_the_gate(audits):
    off, on = audits[("none", "rereferral_12m")], audits[("surveillance", "rereferral_12m")]
    for metric in ("base_rate", "flag_rate"):
        assert ratio(on, "Black", metric).value > 1.25, metric  # past the band
        assert ratio(on, "Black", metric).lo > 1.0, metric  # and not noise
        assert ratio(on, "Black", metric).value > ratio(off, "Black", metric).value + 0.2
    gate = evaluate_gate(on)
    failed = {(c.characteristic, c.group, c.metric) for c in gate.failures}
    assert ("ethnicity", "Black", "fpr") in failed  # watched more, flagged more without the outcome
    assert not gate.passed


def test_under_recording_raises_the_groups_fnr_past_the_band(audits):
    """A tool reading recorded factors misses the under-recorded group's children."""
    off, on = audits[("none", "factor_tool")], audits[("under_recording", "factor_tool")]
    assert 0.8 <= ratio(off, "Asian", "fnr").value <= 1.25
    fnr = ratio(on, "Asian", "fnr")
    assert fnr.value > 1.25 and fnr.lo > 1.0
    assert ratio(on, "Asian", "flag_rate").value < 0.8  # flagged less at the same need
    assert ratio(on, "Asian", "base_rate").value == pytest.approx(
        ratio(off, "Asian", "base_rate").value
    )
    gated = {"gated_characteristics": ETHNICITY_SEX_DISABILITY}
    assert evaluate_gate(off, off.settings.model_copy(update=gated)).passed
    gate = evaluate_gate(on, on.settings.model_copy(update=gated))
    assert ("ethnicity", "Asian", "fnr") in {
        (c.characteristic, c.group, c.metric) for c in gate.failures
    }
    # Other groups are untouched by the knob.
    assert ratio(on, "Black", "fnr").value == pytest.approx(
        ratio(off, "Black", "fnr").value, abs=0.02
    )
