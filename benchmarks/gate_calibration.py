"""Benchmark: how often the fairness gate fails a fair model, and how often it catches a real one.

Prints the figures in docs/fairness.md ("How often the gate is wrong"). Run:

    .venv/bin/python benchmarks/gate_calibration.py [--sets 500] [--seed 7]

Score sets are drawn at the group sizes of the default council's audit (the demo, 50,000
children: 3,201 test decisions, `SIZES_50K`) and at a fifth of them (10,000 children). A *fair*
set has scores unrelated to any group (Beta(2, 3.5)), outcomes drawn from the scores (so the
scores are calibrated in every group) and the top 20% flagged. A *biased* set plants a false
positive rate ratio in one ethnic group: its children without the outcome are flagged at r
times the fair false positive rate (1.5 in a group of 300 children, 2.0 in a group of 100).

Both gates judge the same sets, vectorised over sets with NumPy:

* the new gate: `frontdoor.governance.gate` itself (`failing`) with its intervals
  (`frontdoor.governance.fairness.intervals`: MOVER over exact Clopper-Pearson intervals,
  Bonferroni over the judged checks), judging FNR, FPR and flag-rate ratios and the
  calibration difference;
* today's gate (main before this change): Katz's log interval (0.5 added to every cell when one
  is empty) for FNR and FPR ratios and a normal interval with the calibrated-null standard error
  for the calibration difference, Bonferroni over its checks. (Its bootstrap fallback only
  widens an interval when children are referred more than once; here every child is referred
  once, so Katz is what it judged with.)

A third scenario refers children more than once (1 + Poisson(0.3) referrals sharing one score and
outcome) to show that the new gate's effective-size deflation keeps the rate at the bound.
Each rate is printed with its Wilson 95% interval. No timing is asserted.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from frontdoor.governance.fairness.intervals import (
    calibration_difference_interval,
    effective,
    ratio_interval,
)
from frontdoor.governance.fairness.selection import effective_from_children
from frontdoor.governance.gate import failing, family_alphas, selection_check
from frontdoor.settings.fairness import FairnessSettings

# Test decisions per ethnicity x sex in the demo's audit of the default council (50,000
# children; `frontdoor demo`, MLflow metrics fairness/ethnicity_x_sex/*/n).
SIZES_50K = {
    ("White", "Female"): 1094,
    ("White", "Male"): 1077,
    ("White", "Not known"): 7,
    ("Asian", "Female"): 206,
    ("Asian", "Male"): 226,
    ("Black", "Female"): 119,
    ("Black", "Male"): 119,
    ("Black", "Not known"): 1,
    ("Mixed", "Female"): 88,
    ("Mixed", "Male"): 93,
    ("Other", "Female"): 53,
    ("Other", "Male"): 36,
    ("Not known or refused", "Female"): 44,
    ("Not known or refused", "Male"): 38,
}

# Referrals per ethnicity x sex in the selection family's population on the default council
# (50,000 children, knobs off, seed 20261126): the deployed model's flags on every referral of
# the extract's 72 months (`governance.version_audit.selection_rows`, fairness.selection_rows
# "deployed"), from `benchmarks/knob_detection.py --cache`'s scored referrals.
SCORED_50K = {
    ("White", "Female"): 4395,
    ("White", "Male"): 4681,
    ("White", "Not known"): 23,
    ("Asian", "Female"): 734,
    ("Asian", "Male"): 847,
    ("Asian", "Not known"): 3,
    ("Black", "Female"): 405,
    ("Black", "Male"): 475,
    ("Black", "Not known"): 2,
    ("Mixed", "Female"): 379,
    ("Mixed", "Male"): 393,
    ("Other", "Female"): 170,
    ("Other", "Male"): 156,
    ("Other", "Not known"): 3,
    ("Not known or refused", "Female"): 175,
    ("Not known or refused", "Male"): 129,
    ("Not known or refused", "Not known"): 1,
}
# Children of that population by their number of referrals (12,971 referrals, 8,751 children).
REFERRALS_PER_CHILD = {1: 6097, 2: 1648, 3: 651, 4: 225, 5: 83, 6: 30, 7: 9, 8: 6, 9: 1, 10: 1}
# A child's referrals' scores correlate at RHO (a persistent latent risk plus noise): with it the
# simulated flags' design effect (about 1.6) matches the council's (n / n_eff = 12,971 / 7,713).
RHO = 0.9


def scaled(sizes: dict, factor: float) -> dict:
    return {k: max(int(round(v * factor)), 0) for k, v in sizes.items()}


def resized(sizes: dict, ethnicity: str, children: int) -> dict:
    """The sizes with one ethnic group set to ``children`` (half each sex), White making up the
    difference, so the total is unchanged."""
    out = dict(sizes)
    old = sum(v for (e, _), v in sizes.items() if e == ethnicity)
    for key in [k for k in out if k[0] == ethnicity]:
        out[key] = 0
    out[(ethnicity, "Female")] = children - children // 2
    out[(ethnicity, "Male")] = children // 2
    out[("White", "Female")] += (old - children) // 2
    out[("White", "Male")] += (old - children) - (old - children) // 2
    return out


@dataclass
class Population:
    """One row per child in a score set: which group of each characteristic it is in."""

    groups: dict[str, np.ndarray]  # characteristic -> group index per row
    names: dict[str, list[str]]  # characteristic -> group names
    ethnicity: np.ndarray  # ethnicity name per row

    @classmethod
    def of(cls, sizes: dict) -> Population:
        cells = [(e, s) for (e, s), v in sizes.items() for _ in range(v)]
        eth = np.array([e for e, _ in cells])
        sex = np.array([s for _, s in cells])
        both = np.array([f"{e} × {s}" for e, s in cells])
        groups, names = {}, {}
        for name, values in (("ethnicity", eth), ("sex", sex), ("ethnicity_x_sex", both)):
            names[name], groups[name] = (list(a) for a in np.unique(values, return_inverse=True))
            groups[name] = np.asarray(groups[name])
        return cls(groups, names, eth)


def draw_sets(pop: Population, sets: int, rng: np.random.Generator, plant=None, repeats=0.0):
    """Scores, outcomes, flags and referrals-per-child for ``sets`` score sets (rows: sets)."""
    n = pop.ethnicity.size
    score = rng.beta(2.0, 3.5, size=(sets, n))
    y = rng.random((sets, n)) < score
    cut = np.quantile(score, 0.8, axis=1, keepdims=True)
    flag = score >= cut
    if plant is not None:
        group, ratio, metric = plant
        base = ~y if metric == "fpr" else np.ones_like(y)
        fair = (flag & base).sum(axis=1, keepdims=True) / base.sum(axis=1, keepdims=True)
        redraw = (pop.ethnicity == group)[None, :] & base
        flag = np.where(redraw, rng.random((sets, n)) < np.minimum(ratio * fair, 1.0), flag)
    referrals = 1 + rng.poisson(repeats, size=(sets, n)) if repeats else np.ones((sets, n))
    return score, y, flag, referrals.astype(float)


@dataclass
class Scored:
    """The selection population: children (with their groups) and their referrals (rows, each
    child's contiguous), drawn once per scenario from `REFERRALS_PER_CHILD`."""

    groups: dict[str, np.ndarray]  # characteristic -> group index per child
    names: dict[str, list[str]]
    ethnicity: np.ndarray  # per child
    m: np.ndarray  # referrals per child
    child: np.ndarray  # the child of each referral

    @classmethod
    def of(cls, sizes: dict, rng: np.random.Generator) -> Scored:
        per = np.array(list(REFERRALS_PER_CHILD), dtype=int)
        weight = np.array(list(REFERRALS_PER_CHILD.values()), dtype=float)
        mean = (per * weight).sum() / weight.sum()
        cells = [(e, x) for (e, x), v in sizes.items() for _ in range(max(round(v / mean), 1))]
        m = rng.choice(per, size=len(cells), p=weight / weight.sum())
        eth = np.array([e for e, _ in cells])
        sex = np.array([x for _, x in cells])
        groups, names = {}, {}
        for name, values in (("ethnicity", eth), ("sex", sex)):
            names[name], groups[name] = (list(a) for a in np.unique(values, return_inverse=True))
            groups[name] = np.asarray(groups[name])
        return cls(groups, names, eth, m, np.repeat(np.arange(len(cells)), m))


def draw_scored(sp: Scored, sets: int, rng: np.random.Generator, plant=None, rho: float = RHO):
    """Flags per referral (sets x referrals): scores unrelated to any group, a child's referrals
    correlated at ``rho``, the top 20% flagged. ``plant`` (group, ratio): that ethnic group's
    scores are shifted so that in expectation ratio x 20% of its referrals clear the others'
    top-20% cut (its children's correlation, and so the noise of its rate, kept)."""
    u = rng.standard_normal((sets, sp.m.size))[:, sp.child]
    z = rho * u + np.sqrt(1 - rho**2) * rng.standard_normal((sets, sp.child.size))
    if plant is None:
        return z >= np.quantile(z, 0.8, axis=1, keepdims=True)
    group, ratio = plant
    rows = (sp.ethnicity == group)[sp.child]
    cut = np.quantile(z[:, ~rows], 0.8, axis=1, keepdims=True)
    normal = NormalDist()
    shift = normal.inv_cdf(0.8) - normal.inv_cdf(1 - min(ratio * 0.2, 0.999))
    return np.where(rows[None, :], z + shift, z) >= cut


def scored_counts(sp: Scored, name: str, flag: np.ndarray) -> dict[str, np.ndarray]:
    """Per set and group: referrals, flagged and the effective size the gate uses
    (`selection.effective_from_children`, resampling whole children)."""
    sets, k = flag.shape[0], len(sp.names[name])
    starts = np.concatenate([[0], np.cumsum(sp.m)[:-1]])
    t = np.add.reduceat(flag.astype(float), starts, axis=1)  # flagged referrals per child
    index = (np.arange(sets)[:, None] * k + sp.groups[name][None, :]).ravel()

    def total(weights):
        w = np.broadcast_to(weights, t.shape).ravel()
        return np.bincount(index, weights=w, minlength=sets * k).reshape(sets, k)

    m = sp.m.astype(float)[None, :]
    n, flagged = total(m), total(t)
    n_eff = effective_from_children(
        n, flagged, total(np.ones_like(m)), total(m * m), total(t * t), total(t * m)
    )
    return {"n": n, "flagged": flagged, "n_eff": n_eff}


def group_counts(pop, name, score, y, flag, referrals) -> dict[str, np.ndarray]:
    """Per set and group (arrays sets x groups): the counts a gate needs, over referrals."""
    sets, k = score.shape[0], len(pop.names[name])
    index = (np.arange(sets)[:, None] * k + pop.groups[name][None, :]).ravel()

    def total(weights):
        return np.bincount(index, weights=weights.ravel(), minlength=sets * k).reshape(sets, k)

    m = referrals
    n = total(m)
    out = {
        "n": n,
        "positives": total(m * y),
        "flagged": total(m * flag),
        "tp": total(m * (y & flag)),
        "predicted_sum": total(m * score),
        "n_eff": n**2 / total(m**2),
    }
    out["negatives"] = n - out["positives"]
    out["fp"] = out["flagged"] - out["tp"]
    out["fn"] = out["positives"] - out["tp"]
    return out


RATES = {"fnr": ("fn", "positives"), "fpr": ("fp", "negatives"), "flag_rate": ("flagged", "n")}


def _ratio(c, metric, ref):
    num, base = RATES[metric]
    with np.errstate(all="ignore"):
        rate = c[num] / c[base]
        return rate, rate / rate[:, [ref]]


def planned_checks(pop, sizes_n: np.ndarray, name: str, s: FairnessSettings):
    """Reference (largest) and assessable non-reference groups of one characteristic."""
    ref = int(np.argmax(sizes_n))
    return ref, [
        g for g in range(len(pop.names[name])) if g != ref and sizes_n[g] >= s.min_group_size
    ]


def new_gate_fails(pop, draws, s: FairnessSettings, flat=False, scored=None):
    """Per set: whether the gate fails; and per (characteristic, group, metric) the fail rows.
    The gate's own weighted Bonferroni (`gate.family_alphas`); ``flat``: every check at the
    family rate / checks (last session's gate). ``scored``: per selection characteristic the
    `scored_counts` its flag-rate checks are judged on (fairness.selection_rows "deployed");
    without it they are judged on the labelled rows, like the error rates."""
    metrics = list(s.gated_metrics)
    scored = scored or {}
    plan, per_check = {}, {}
    for name in ("ethnicity", "sex", "ethnicity_x_sex"):
        c = group_counts(pop, name, *draws)
        plan[name] = (c, *planned_checks(pop, c["n"][0], name, s))
    splan = {name: (c, *_planned_scored(c, s)) for name, (c, _) in scored.items()}
    judged = [
        (name, m)
        for name, (_, _, o) in plan.items()
        for m in metrics + ["calibration_gap"] * s.check_calibration
        if not (m == "flag_rate" and name in splan)
        for _ in o
    ] + [(name, "flag_rate") for name, (_, _, o) in splan.items() for _ in o]
    alphas = family_alphas(judged, s)
    if flat:
        alphas = {True: s.family_error_rate / len(judged), False: s.family_error_rate / len(judged)}
    fails = np.zeros(draws[0].shape[0], dtype=bool)
    for name, (c, ref, others) in plan.items():
        if not others:
            continue
        g = np.array(others)
        alpha = alphas[False] or alphas[True]
        for metric in metrics:
            if metric == "flag_rate" and name in splan:
                continue
            a = alphas[selection_check(name, metric, s)] or alpha
            bad = _judge_ratio(c, metric, ref, g, a, s)
            per_check.update(
                {(name, pop.names[name][j], metric): bad[:, i] for i, j in enumerate(g)}
            )
            fails |= bad.any(axis=1)
        if s.check_calibration:
            x, n = effective(c["positives"], c["n"], c["n"], c["n_eff"])
            q = c["predicted_sum"] / c["n"]
            lo, hi = calibration_difference_interval(
                x[:, g], n[:, g], q[:, g], x[:, [ref]], n[:, [ref]], q[:, [ref]], alpha, exact=True
            )
            obs = c["positives"] / c["n"]
            diff = (obs[:, g] - q[:, g]) - (obs[:, [ref]] - q[:, [ref]])
            band = s.max_calibration_gap
            fails |= failing(diff, lo, hi, -band, band, 0.0).any(axis=1)
    for name, (c, ref, others) in splan.items():
        if not others:
            continue
        g = np.array(others)
        a = alphas[selection_check(name, "flag_rate", s)] or alphas[False]
        bad = _judge_ratio(c, "flag_rate", ref, g, a, s)
        names = scored[name][1]
        per_check.update({(name, names[j], "flag_rate"): bad[:, i] for i, j in enumerate(g)})
        fails |= bad.any(axis=1)
    return fails, per_check


def _planned_scored(c, s: FairnessSettings):
    ref = int(np.argmax(c["n"][0]))
    return ref, [g for g in range(c["n"].shape[1]) if g != ref and c["n"][0, g] >= s.min_group_size]


def _judge_ratio(c, metric, ref, g, alpha, s: FairnessSettings) -> np.ndarray:
    """Which sets fail each of groups ``g``'s ratio checks (sets x groups), as the gate judges."""
    num, base = RATES[metric]
    x, n = effective(c[num], c[base], c["n"], c["n_eff"])
    _, value = _ratio(c, metric, ref)
    lo, hi = ratio_interval(x[:, g], n[:, g], x[:, [ref]], n[:, [ref]], alpha, exact=True)
    return failing(value[:, g], lo, hi, s.ratio_lower, s.ratio_upper, 1.0)


def old_gate_fails(pop, draws, s: FairnessSettings) -> tuple[np.ndarray, dict]:
    """Today's gate (Katz; calibrated-null normal interval), vectorised the same way."""
    metrics = ["fnr", "fpr"]
    plan, per_check = {}, {}
    for name in ("ethnicity", "sex", "ethnicity_x_sex"):
        c = group_counts(pop, name, *draws)
        plan[name] = (c, *planned_checks(pop, c["n"][0], name, s))
    judged = sum(len(o) * (len(metrics) + s.check_calibration) for _, _, o in plan.values())
    z = NormalDist().inv_cdf(1 - s.family_error_rate / (2 * judged))
    fails = np.zeros(draws[0].shape[0], dtype=bool)
    for name, (c, ref, others) in plan.items():
        if not others:
            continue
        g = np.array(others)
        for metric in metrics:
            num, base = RATES[metric]
            x1, n1 = c[num][:, g], c[base][:, g]
            x2, n2 = np.broadcast_arrays(c[num][:, [ref]], c[base][:, [ref]], x1)[:2]
            _, value = _ratio(c, metric, ref)
            empty = np.minimum.reduce([x1, n1 - x1, x2, n2 - x2]) == 0
            x1c, n1c = np.where(empty, x1 + 0.5, x1), np.where(empty, n1 + 1, n1)
            x2c, n2c = np.where(empty, x2 + 0.5, x2), np.where(empty, n2 + 1, n2)
            with np.errstate(all="ignore"):
                se = np.sqrt(np.maximum(1 / x1c - 1 / n1c + 1 / x2c - 1 / n2c, 0))
                center = np.log((x1c / n1c) / (x2c / n2c))
            lo, hi = np.exp(center - z * se), np.exp(center + z * se)
            bad = failing(value[:, g], lo, hi, s.ratio_lower, s.ratio_upper, 1.0)
            per_check.update(
                {(name, pop.names[name][j], metric): bad[:, i] for i, j in enumerate(g)}
            )
            fails |= bad.any(axis=1)
        if s.check_calibration:
            q = c["predicted_sum"] / c["n"]
            obs = c["positives"] / c["n"]
            diff = (obs[:, g] - q[:, g]) - (obs[:, [ref]] - q[:, [ref]])
            se = np.sqrt(
                q[:, g] * (1 - q[:, g]) / c["n"][:, g]
                + q[:, [ref]] * (1 - q[:, [ref]]) / c["n"][:, [ref]]
            )
            band = s.max_calibration_gap
            fails |= failing(diff, diff - z * se, diff + z * se, -band, band, 0.0).any(axis=1)
    return fails, per_check


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(c - h, 0.0), min(c + h, 1.0)


def share(hits: np.ndarray) -> str:
    k, n = int(hits.sum()), hits.size
    lo, hi = wilson(k, n)
    return f"{k / n:6.1%} ({lo:.1%}-{hi:.1%}), {k} of {n}"


def scenarios(scored_50k: dict = SCORED_50K) -> list[tuple]:
    """(title, labelled sizes, labelled plant, repeats, what is counted, scored sizes, scored
    plant, rho): "fail" counts sets the gate fails; (group, metric) counts that check failing."""
    black, asian = ("Black", "flag_rate"), ("Asian", "flag_rate")
    fair = ("fair, default council (50k children)", SIZES_50K, None, 0.0, "fail", scored_50k)
    out = [
        (*fair, None, RHO),
        ("fair, 10k children", scaled(SIZES_50K, 0.2), None, 0.0, "fail"),
        ("fair, 50k, repeat referrals", SIZES_50K, None, 0.3, "fail", scored_50k, None, RHO),
        ("fair, 50k, a child's flags identical", SIZES_50K, None, 0.0, "fail", scored_50k),
        (
            "FPR x1.5 in Black (300 children)",
            resized(SIZES_50K, "Black", 300),
            ("Black", 1.5, "fpr"),
            0.0,
            ("Black", "fpr"),
            scored_50k,
        ),
        (
            "FPR x2.0 in Mixed (100 children)",
            resized(SIZES_50K, "Mixed", 100),
            ("Mixed", 2.0, "fpr"),
            0.0,
            ("Mixed", "fpr"),
            scored_50k,
        ),
    ]
    out[1] = (*out[1], scaled(scored_50k, 0.2), None, RHO)
    out[3] = (*out[3], None, 1.0)
    out[4] = (*out[4], None, RHO)
    out[5] = (*out[5], None, RHO)
    for r in (1.3, 1.4):
        plant = ("Black", r, "flag_rate")
        out.append(
            (f"flag rate x{r} in Black", SIZES_50K, plant, 0.0, black, scored_50k, plant[:2], RHO)
        )
    plant = ("Asian", 0.66, "flag_rate")
    out.append(
        ("flag rate x0.66 in Asian", SIZES_50K, plant, 0.0, asian, scored_50k, plant[:2], RHO)
    )
    return out


def scored_inputs(sp: Scored, sets: int, rng, plant, rho, s: FairnessSettings) -> dict:
    flag = draw_scored(sp, sets, rng, plant, rho)
    return {
        name: (scored_counts(sp, name, flag), sp.names[name])
        for name in s.selection_characteristics
        if name in sp.names
    }


GATES = ("Katz", "flat Bonferroni", "labelled", "scored")


def scored_population(months: int | None) -> dict:
    """The scored population judged over the extract's newest ``months`` (None: all 72), scaled
    from SCORED_50K in proportion (referrals arrive at a steady rate in the synthetic council)."""
    return SCORED_50K if months is None or months >= 72 else scaled(SCORED_50K, months / 72)


def run(
    sets: int, seed: int, batch: int = 25, only: int | None = None, months: int | None = 72
) -> list[tuple[str, ...]]:
    """(scenario, then each gate's figure with its Wilson interval) lines. The gates: Katz
    (before #13), flat Bonferroni (#13's first session), the selection family on the labelled
    rows ("labelled", main before the scored referrals) and on every scored referral
    ("scored", now)."""
    s = FairnessSettings()
    rows = []
    for i, (title, sizes, plant, repeats, what, ssizes, splant, rho) in enumerate(
        scenarios(scored_population(months))
    ):
        if only is not None and i >= only:
            break
        pop = Population.of(sizes)
        rng = np.random.default_rng([seed, i])
        sp = Scored.of(ssizes, np.random.default_rng([seed, i, 1]))
        hits: list[list[np.ndarray]] = [[] for _ in GATES]
        deff = []
        for start in range(0, sets, batch):
            size = min(batch, sets - start)
            draws = draw_sets(pop, size, rng, plant, repeats)
            scored = scored_inputs(sp, size, rng, splant, rho, s)
            c = scored["ethnicity"][0]
            deff.append(c["n"].sum(axis=1) / c["n_eff"].sum(axis=1))
            results = (
                old_gate_fails(pop, draws, s),
                new_gate_fails(pop, draws, s, flat=True),
                new_gate_fails(pop, draws, s),
                new_gate_fails(pop, draws, s, scored=scored),
            )
            key = ("ethnicity", *what) if what != "fail" else None
            for (fails, checks), found in zip(results, hits, strict=True):
                if key is None or key in checks:
                    found.append(fails if key is None else checks[key])
        figures = [share(np.concatenate(f)) if f else "not judged" for f in hits]
        rows.append((title, *figures, f"{np.concatenate(deff).mean():.2f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--months",
        type=int,
        default=FairnessSettings().selection_months,
        help="the newest months the selection family is judged on (fairness.selection_months)",
    )
    args = parser.parse_args()
    s = FairnessSettings()
    scored = scored_population(args.months)
    print(f"{args.sets} score sets per scenario, seed {args.seed}; Wilson 95% intervals")
    print("fair scenarios: share of sets the gate fails (must be <= 5%)")
    print("planted scenarios: share of sets whose planted group fails on the planted ratio (power)")
    print(
        "gates: Katz (before #13); exact, flat Bonferroni over every check (#13, first session); "
        f"exact, the selection family ({', '.join(s.selection_characteristics)} flag rates) "
        f"sharing {s.selection_share:g} of the {s.family_error_rate:g}, judged on the labelled "
        "test rows (labelled) or on every referral the deployed model scored (scored, now; "
        f"{sum(scored.values()):,} referrals of the newest {args.months} months at 50k against "
        f"{sum(SIZES_50K.values()):,})"
    )
    print(f"{'scenario':38} | " + " | ".join(f"{g:30}" for g in GATES) + " | scored n/n_eff")
    for title, *figures in run(args.sets, args.seed, months=args.months):
        print(f"{title:38} | " + " | ".join(f"{f:30}" for f in figures))


if __name__ == "__main__":
    main()
