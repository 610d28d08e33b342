"""Every audit metric against values worked out by hand on a tiny example.

Rows (label, score; flagged when score >= 0.5):
  A: (1, .9) (1, .6) (1, .2) (0, .7)      B: (0, .1) (0, .3) (0, .4) (1, .8)
Overall: TP 3 (.9 .6 .8), FN 1 (.2), FP 1 (.7), TN 3 (.1 .3 .4).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, selection_rate, true_negative_rate
from sklearn.metrics import precision_score, roc_auc_score

from frontdoor.governance.fairness.audit import AuditInputError, run_audit
from frontdoor.governance.fairness.intervals import jeffreys
from frontdoor.governance.fairness.metrics import bootstrap_replicates, point_estimates
from frontdoor.models.stats import replicate_auc
from frontdoor.settings.fairness import FairnessSettings

Y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
S = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4, 0.8])
G = ["A"] * 4 + ["B"] * 4


def tiny() -> pd.DataFrame:
    return pd.DataFrame({"y": Y, "s": S, "g": G})


def audit(**changes):
    settings = FairnessSettings(**{"min_group_size": 2, "bootstrap_samples": 50, **changes})
    return run_audit(
        tiny(), label="y", score="s", threshold=0.5, characteristics={"grp": "g"}, settings=settings
    )


def test_overall_metrics_by_hand():
    m = {k: e.value for k, e in audit().overall.metrics.items()}
    assert m["base_rate"] == 0.5
    assert m["flag_rate"] == 0.5
    assert m["tpr"] == 0.75  # 3 of 4 positives flagged
    assert m["fnr"] == 0.25
    assert m["fpr"] == 0.25  # 1 of 4 negatives flagged
    assert m["precision"] == 0.75  # 3 of 4 flagged are positive
    assert m["false_omission_rate"] == 0.25  # 1 of 4 unflagged is positive
    assert m["auc"] == pytest.approx(12 / 16)  # 12 of 16 positive-negative pairs ordered
    assert m["predicted"] == pytest.approx(0.5)
    assert m["calibration_gap"] == pytest.approx(0.0)


def test_group_metrics_by_hand():
    a = audit()
    A, B = a.group("grp", "A"), a.group("grp", "B")
    assert A.counts == {"n": 4, "positives": 3, "flagged": 3, "tp": 2, "fp": 1, "fn": 1, "tn": 0}
    ma = {k: e.value for k, e in A.metrics.items()}
    assert ma["tpr"] == pytest.approx(2 / 3)
    assert ma["fnr"] == pytest.approx(1 / 3)
    assert ma["fpr"] == 1.0
    assert ma["precision"] == pytest.approx(2 / 3)
    assert ma["false_omission_rate"] == 1.0  # the one unflagged row (.2) is positive
    assert ma["auc"] == pytest.approx(1 / 3)  # only .9 beats the negative .7
    assert ma["observed"] == 0.75
    assert ma["predicted"] == pytest.approx(0.6)
    assert ma["calibration_gap"] == pytest.approx(0.15)
    mb = {k: e.value for k, e in B.metrics.items()}
    assert (mb["tpr"], mb["fnr"], mb["fpr"], mb["precision"], mb["false_omission_rate"]) == (
        1,
        0,
        0,
        1,
        0,
    )
    assert mb["auc"] == 1.0
    assert mb["calibration_gap"] == pytest.approx(0.25 - 0.4)


def test_reference_and_disparities_by_hand():
    a = audit()
    assert a.references["grp"] == "A"  # equal sizes: the first by name
    B = a.group("grp", "B")
    assert B.disparities["fnr"].value == 0.0  # 0 / (1/3)
    assert B.disparities["flag_rate"].value == pytest.approx(0.25 / 0.75)
    assert B.disparities["precision"].value == pytest.approx(1 / (2 / 3))
    assert B.disparities["calibration_gap"].value == pytest.approx(-0.15 - 0.15)  # a difference
    ref = a.group("grp", "A")
    assert ref.is_reference and ref.disparities["fnr"].value == 1.0
    a2 = audit(reference_groups={"grp": "B"})
    assert a2.group("grp", "A").disparities["fpr"].value == math.inf or math.isnan(
        a2.group("grp", "A").disparities["fpr"].value
    )  # B's FPR is 0: no finite ratio
    assert a2.group("grp", "A").disparities["flag_rate"].value == pytest.approx(0.75 / 0.25)


def test_point_estimates_match_metricframe_and_sklearn():
    """The count formulas agree with fairlearn's MetricFrame and scikit-learn on random data."""
    rng = np.random.default_rng(5)
    n = 500
    y, s = rng.integers(0, 2, n), np.round(rng.random(n), 2)
    f = (s >= 0.6).astype(int)
    g = pd.Series(rng.choice(["p", "q", "r"], n))
    points = point_estimates(y, f, s, g)
    reference = MetricFrame(
        metrics={
            "precision": lambda a, b: precision_score(a, b, zero_division=np.nan),
            "tnr": true_negative_rate,
            "fnr": false_negative_rate,
            "flag_rate": selection_rate,
        },
        y_true=y,
        y_pred=f,
        sensitive_features=g,
    ).by_group
    for grp in ("p", "q", "r"):
        idx = (g == grp).to_numpy()
        assert points.loc[grp, "precision"] == pytest.approx(reference.loc[grp, "precision"])
        assert points.loc[grp, "fpr"] == pytest.approx(1 - reference.loc[grp, "tnr"])
        assert points.loc[grp, "fnr"] == pytest.approx(reference.loc[grp, "fnr"])
        assert points.loc[grp, "auc"] == pytest.approx(roc_auc_score(y[idx], s[idx]))
        assert points.loc[grp, "false_omission_rate"] == pytest.approx(y[idx][f[idx] == 0].mean())
        assert points.loc[grp, "predicted"] == pytest.approx(s[idx].mean())
        assert points.loc[grp, "n"] == idx.sum()


def test_auc_with_ties_counts_half():
    counts = np.ones((1, 4))
    assert replicate_auc(counts, np.array([1.0, 0, 1, 0]), np.array([0.5, 0.5, 0.9, 0.1]))[
        0
    ] == pytest.approx(roc_auc_score([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]))


def test_bootstrap_replicates_equal_direct_computation_on_the_resample():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60)
    s = np.round(rng.random(60), 1)  # ties on purpose
    f = s >= 0.5
    reps = bootstrap_replicates(y, f, s, 5, np.random.default_rng(9))
    draw = np.random.default_rng(9).integers(0, 60, size=(5, 60))
    for r in range(5):
        idx = draw[r]
        yy, ss, ff = y[idx], s[idx], f[idx]
        assert reps["auc"][r] == pytest.approx(roc_auc_score(yy, ss))
        assert reps["fnr"][r] == pytest.approx(((yy == 1) & ~ff).sum() / (yy == 1).sum())
        assert reps["fpr"][r] == pytest.approx(((yy == 0) & ff).sum() / (yy == 0).sum())
        assert reps["precision"][r] == pytest.approx(yy[ff].mean())
        assert reps["false_omission_rate"][r] == pytest.approx(yy[~ff].mean())
        assert reps["calibration_gap"][r] == pytest.approx(yy.mean() - ss.mean())


def test_intervals_are_seeded_and_contain_the_estimate():
    rng = np.random.default_rng(0)
    n = 2000
    p = rng.beta(2, 5, n)
    frame = pd.DataFrame(
        {"y": (rng.random(n) < p).astype(int), "p": p, "g": rng.choice(["x", "y"], n)}
    )
    kw = dict(label="y", score="p", threshold=0.4, characteristics={"g": "g"})
    one = run_audit(frame, settings=FairnessSettings(seed=1), **kw)
    two = run_audit(frame, settings=FairnessSettings(seed=1), **kw)
    three = run_audit(frame, settings=FairnessSettings(seed=2), **kw)
    e1, e2, e3 = (a.group("g", "x").metrics["auc"] for a in (one, two, three))
    assert (e1.lo, e1.hi) == (e2.lo, e2.hi)  # the bootstrap (AUC, calibration) is seeded
    assert (e1.lo, e1.hi) != (e3.lo, e3.hi)
    # a count rate's interval is Jeffreys' from its counts: no resampling, no seed
    fnr = one.group("g", "x")
    c = fnr.counts
    lo, hi = jeffreys(c["positives"] - c["tp"], c["positives"], 0.05)
    assert (fnr.metrics["fnr"].lo, fnr.metrics["fnr"].hi) == pytest.approx((float(lo), float(hi)))
    assert fnr.metrics["fnr"].lo == three.group("g", "x").metrics["fnr"].lo
    for m, e in one.overall.metrics.items():
        assert e.lo <= e.value <= e.hi, m
        assert e.hi - e.lo < 0.1, m


def test_bad_labels_are_a_clear_error():
    frame = tiny().assign(y=["1", "0", "yes", 0, 0, 0, 0, 1])
    with pytest.raises(AuditInputError, match=r"must hold 0 or 1; data row 3 holds 'yes'"):
        run_audit(
            frame,
            label="y",
            score="s",
            threshold=0.5,
            characteristics={},
            settings=FairnessSettings(),
        )
    with pytest.raises(AuditInputError, match="score column 'nope' not found"):
        run_audit(
            tiny(),
            label="y",
            score="nope",
            threshold=0.5,
            characteristics={},
            settings=FairnessSettings(),
        )


def test_small_groups_are_not_assessable_and_reference_must_be():
    frame = tiny().assign(g=["A"] * 5 + ["B"] * 3)
    kw = dict(label="y", score="s", threshold=0.5, characteristics={"grp": "g"})
    a = run_audit(frame, settings=FairnessSettings(min_group_size=4), **kw)
    assert a.group("grp", "A").assessable and not a.group("grp", "B").assessable
    with pytest.raises(AuditInputError, match="fewer than the minimum"):
        run_audit(
            frame, settings=FairnessSettings(min_group_size=4, reference_groups={"grp": "B"}), **kw
        )


def test_resampling_whole_children_widens_intervals_when_their_referrals_share_outcomes():
    """Ten referrals per child with one outcome per child: resampling referrals one by one
    pretends there are ten times as many independent outcomes; resampling children does not."""
    rng = np.random.default_rng(5)
    children = 300
    y_child = rng.random(children) < 0.3
    frame = pd.DataFrame(
        {
            "child_id": np.repeat([f"c{i}" for i in range(children)], 10),
            "y": np.repeat(y_child, 10).astype(int),
            "s": rng.random(children * 10),
            "group": np.repeat(rng.choice(["a", "b"], children), 10),
        }
    )
    kw = dict(label="y", score="s", threshold=0.5, characteristics={"g": "group"})
    by_child = run_audit(frame, settings=FairnessSettings(), **kw)
    by_row = run_audit(frame, settings=FairnessSettings(cluster_column=None), **kw)
    assert by_child.resampled_by == "child_id" and by_row.resampled_by == "rows"

    def width(audit):
        e = audit.overall.metrics["base_rate"]
        return e.hi - e.lo

    assert width(by_child) > 2.5 * width(by_row)  # about sqrt(10) = 3.2 times wider
    # the estimates themselves do not change
    assert by_child.overall.metrics["base_rate"].value == by_row.overall.metrics["base_rate"].value
