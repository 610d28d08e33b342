"""The gate fails a fair model rarely (at most 5%) and judges exactly as its benchmark does.

A smaller version of benchmarks/gate_calibration.py, through the real audit and gate: fair score
sets at the default council's group sizes (3,201 test decisions), each audited by `run_audit`
and judged by `evaluate_gate`. With 100 sets the test fails when 10 or more fail: a gate whose
true false-failure rate is 15% (today's, measured) fails it with probability 0.93, one at 5%
with probability 0.03 (binomial tails). The per-check intervals are checked exactly, by
enumerating every outcome, where asymptotic ones break: small groups with rates near 0 or 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from frontdoor.governance.fairness.audit import run_audit
from frontdoor.governance.fairness.intervals import clopper_pearson, jeffreys, ratio_interval
from frontdoor.governance.gate import evaluate_gate, family_alphas, selection_check
from frontdoor.settings.fairness import FairnessSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import gate_calibration as bench  # noqa: E402

SETS = 100


def frames(pop, draws) -> list[pd.DataFrame]:
    """The benchmark's score sets as the tables `frontdoor audit` reads."""
    score, y, flag, _ = draws
    eth = [
        n.split(" × ")[0]
        for n in np.array(pop.names["ethnicity_x_sex"])[pop.groups["ethnicity_x_sex"]]
    ]
    sex = np.array(pop.names["sex"])[pop.groups["sex"]]
    return [
        pd.DataFrame(
            {
                "ethnicity": eth,
                "sex": sex,
                "ethnicity_x_sex": [f"{e} × {s}" for e, s in zip(eth, sex, strict=True)],
                "p": score[i],
                "y": y[i].astype(int),
                "flag": flag[i].astype(int),
            }
        )
        for i in range(score.shape[0])
    ]


def audit(frame: pd.DataFrame, settings: FairnessSettings):
    return run_audit(
        frame,
        label="y",
        score="p",
        flagged="flag",
        characteristics={c: c for c in ("ethnicity", "sex", "ethnicity_x_sex")},
        settings=settings,
    )


@pytest.fixture(scope="module")
def fair_sets():
    pop = bench.Population.of(bench.SIZES_50K)
    draws = bench.draw_sets(pop, SETS, np.random.default_rng(2026))
    return pop, draws, frames(pop, draws)


@pytest.mark.slow
def test_the_gate_fails_few_fair_models_and_the_benchmark_judges_as_the_gate(fair_sets):
    pop, draws, sets = fair_sets
    settings = FairnessSettings(bootstrap_samples=20, cluster_column=None)
    failed = np.array([not evaluate_gate(audit(f, settings)).passed for f in sets])
    assert failed.sum() <= 9, f"{failed.sum()} of {SETS} fair score sets failed the gate"
    vectorised, _ = bench.new_gate_fails(pop, draws, settings)
    assert (vectorised == failed).all()  # the benchmark's figures are the gate's


def test_a_planted_disparity_is_caught():
    """FPR x2.5 in a group of 400 children: the gate fails it in nearly every set."""
    pop = bench.Population.of(bench.resized(bench.SIZES_50K, "Black", 400))
    draws = bench.draw_sets(pop, 20, np.random.default_rng(5), plant=("Black", 2.5, "fpr"))
    _, checks = bench.new_gate_fails(pop, draws, FairnessSettings())
    assert checks[("ethnicity", "Black", "fpr")].sum() >= 18
    settings = FairnessSettings(bootstrap_samples=20)
    gate = evaluate_gate(audit(frames(pop, draws)[0], settings))
    assert ("ethnicity", "Black", "fpr") in {
        (c.characteristic, c.group, c.metric) for c in gate.failures
    }


def test_the_selection_family_and_the_rest_share_the_family_error_rate():
    """Weighted Bonferroni: k_sel checks at alpha_sel plus k_rest at alpha add up to the family
    rate, so a fair model still fails at most that often; the selection checks get the larger
    share each, and the flag rates of intersections are not among them."""
    s = FairnessSettings()
    judged = [("ethnicity", "flag_rate")] * 5 + [("sex", "flag_rate"), ("disability", "flag_rate")]
    judged += [("ethnicity_x_sex", "flag_rate")] * 10 + [("ethnicity", "fnr")] * 60
    alphas = family_alphas(judged, s)
    assert sum(alphas[selection_check(c, m, s)] for c, m in judged) == pytest.approx(0.05)
    assert alphas[True] == pytest.approx(0.025 / 7) and alphas[False] == pytest.approx(0.025 / 70)
    # one family empty: the other takes the whole rate (nothing is left unspent or double-spent)
    assert family_alphas(judged[7:], s)[False] == pytest.approx(0.05 / 70)
    assert family_alphas(judged[:7], s)[True] == pytest.approx(0.05 / 7)
    assert family_alphas(judged, FairnessSettings(multiplicity="none")) == {True: None, False: None}


def test_a_planted_selection_disparity_is_judged_at_the_family_level_as_the_benchmark_judges():
    """Black children flagged 1.5 times as often (239 of them, as on the default council): the
    gate's selection check and the benchmark's agree set by set, and the selection family
    catches it more often than flat Bonferroni over every check would."""
    pop = bench.Population.of(bench.SIZES_50K)
    draws = bench.draw_sets(pop, 10, np.random.default_rng(8), plant=("Black", 1.5, "flag_rate"))
    settings = FairnessSettings(bootstrap_samples=20, cluster_column=None)
    key = ("ethnicity", "Black", "flag_rate")
    _, checks = bench.new_gate_fails(pop, draws, settings)
    _, flat = bench.new_gate_fails(pop, draws, settings, flat=True)
    gates = [evaluate_gate(audit(f, settings)) for f in frames(pop, draws)]
    caught = np.array(
        [key in {(c.characteristic, c.group, c.metric) for c in g.failures} for g in gates]
    )
    assert (caught == checks[key]).all()
    assert caught.sum() >= 5 and caught.sum() > flat[key].sum()
    gate = gates[0]
    black = next(c for c in gate.checks if (c.characteristic, c.group, c.metric) == key)
    assert gate.alpha_selection > gate.alpha
    assert black.gate_lo is not None and black.gate_lo > 1 or black.verdict != "fail"


@pytest.mark.parametrize("n1", [10, 40, 150])
@pytest.mark.parametrize("p", [0.03, 0.3, 0.9])
def test_a_fair_check_rejects_at_most_about_its_share_at_the_far_tail(n1, p):
    """Exactly, over every outcome: the chance that a group with the reference's rate is judged
    different, at the level the gate uses for ~70 checks. Koopman's score interval rejects up to
    nine times its share here; the gate's (MOVER over Clopper-Pearson) never more than its share."""
    alpha, n2 = 0.05 / 72, 2000
    x1 = np.arange(n1 + 1)[:, None]
    lo, hi = stats.binom.ppf([1e-9, 1 - 1e-9], n2, p)
    x2 = np.arange(lo, hi + 1)[None, :]
    weight = stats.binom.pmf(x1, n1, p) * stats.binom.pmf(x2, n2, p)
    low, high = ratio_interval(*np.broadcast_arrays(x1, n1, x2, n2), alpha, exact=True)
    size = (weight * ((low > 1) | (high < 1))).sum()
    assert size <= alpha


def test_rate_intervals_by_hand():
    lo, hi = clopper_pearson(0, 10, 0.05)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 10))
    lo, hi = clopper_pearson(10, 10, 0.05)
    assert hi == 1 and lo == pytest.approx(0.025 ** (1 / 10))
    lo, hi = jeffreys(3, 20, 0.1)
    assert (lo, hi) == pytest.approx(tuple(stats.beta.ppf([0.05, 0.95], 3.5, 17.5)))
    # 10 of 10 missed in a small group: the interval is not the point (1.00-1.00)
    lo, hi = jeffreys(10, 10, 0.05)
    assert hi == 1 and lo < 0.85
    # a reference so large its rate is known: the ratio interval is the group's over that rate
    lo, hi = ratio_interval(30, 100, 3_000_000, 10_000_000, 0.05)
    glo, ghi = jeffreys(30, 100, 0.05)
    assert (lo, hi) == pytest.approx((glo / 0.3, ghi / 0.3), rel=2e-3)
