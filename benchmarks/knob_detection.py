"""Benchmark: does the promotion decision see the synthetic council's bias knobs?

Prints the knob-detection table in docs/fairness.md. Run:

    .venv/bin/python benchmarks/knob_detection.py [--seeds 3] [--children 50000] [--cache DIR]

For each seed and each council (knobs off; surveillance bias on Black children; under-recording
of Asian children's concerns, each at its default strength) it generates the council (synth),
ingests it, builds the features, trains the shipped pipeline (`models.train.backtest`: LightGBM,
calibrated, three temporal folds) on the primary label and audits its pooled test predictions
exactly as promotion does (`governance.version_audit.audit_predictions` with the run's scored
referrals, `models.train.scored_referrals`), under each gate design of ``--designs`` side by
side ("labelled": the selection family on the labelled test rows, the default; "scored": the
option, the deployed model's flags on every referral; "out-of-sample"; "flat"). It
prints whether the gate failed, which checks failed, and for the knob's group the flag-rate
(selection) ratio with the interval the gate judged, and the attribution of its score difference
to feature families (the deployed model's contributions on the newest test window). With ``--cache DIR`` each trained
run's predictions and attribution are kept, so the audit can be re-run on changed gate code
without retraining (delete DIR after changing synth, features or models).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

KNOBS = {
    "off": ({}, None),
    "surveillance": ({"surveillance_bias": {"enabled": True}}, "Black"),
    "under-recording": ({"under_recording_bias": {"enabled": True}}, "Asian"),
}


def settings_for(root: Path, knob: str, seed: int, children: int):
    from frontdoor.settings import Settings

    return Settings(
        paths={"root": str(root)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        tracking={"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
        synth={"children": children, "seed": seed, **KNOBS[knob][0]},
    )


def train(root: Path, knob: str, seed: int, children: int):
    """The pooled test predictions, the per-row family contributions (newest window) and every
    referral the run's models score, labelled or not (`models.train.scored_referrals`)."""
    from frontdoor.features.build import build_feature_table
    from frontdoor.governance.fairness.attribution import family_contributions
    from frontdoor.governance.fairness.characteristics import ethnicity_group
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.models.train import backtest, scored_referrals
    from frontdoor.records import store
    from frontdoor.records.feature_table import read_truth
    from frontdoor.synth.council import generate, write_council

    settings = settings_for(root, knob, seed, children)
    raw = write_council(generate(settings), root / "raw")
    ingest_sources([raw], root / "canonical", settings)
    table = build_feature_table(
        store.read_tables(root / "canonical"),
        settings.synth.end_date,
        settings,
        truth=read_truth(settings),
    )
    result = backtest(table, settings.models.labels[0], settings)
    rows = result.explain_rows
    contributions, _ = result.deployed.contributions(rows)
    columns = list(result.deployed.inputs(rows.head(1)).columns)
    families = family_contributions(contributions, columns)
    families["ethnicity"] = ethnicity_group(rows).to_numpy()
    return result.predictions, families, scored_referrals(table, result, settings)


def cached(cache: Path | None, knob: str, seed: int, children: int):
    folder = (cache or Path(tempfile.mkdtemp(prefix="knobs_"))) / f"{knob}-{seed}-{children}"
    pred, fam = folder / "predictions.parquet", folder / "families.parquet"
    scored = folder / "scored.parquet"
    if not scored.exists():
        folder.mkdir(parents=True, exist_ok=True)
        predictions, families, population = train(folder, knob, seed, children)
        predictions.to_parquet(pred, index=False)
        families.to_parquet(fam, index=False)
        population.to_parquet(scored, index=False)
    return pd.read_parquet(pred), pd.read_parquet(fam), pd.read_parquet(scored)


DESIGNS = {
    # the selection family on the labelled test rows: the gate before issue #13's scored rows
    "labelled": {"selection_rows": "labelled"},
    # the option: the deployed model's flags on every referral, its training window's
    # cross-fitted (fairness.selection_rows "cross_fitted"); the default is "labelled"
    "scored": {"selection_rows": "cross_fitted"},
    # the same on the extract's newest 24, 36 or 48 months only
    "scored-24m": {"selection_rows": "cross_fitted", "selection_months": 24},
    "scored-36m": {"selection_rows": "cross_fitted", "selection_months": 36},
    "scored-48m": {"selection_rows": "cross_fitted", "selection_months": 48},
    # the same, every referral scored in sample by the deployed model
    "in-sample": {"selection_rows": "deployed"},
    # every referral scored out of sample (fold models' test windows, the deployed model after
    # its newest label)
    "out-of-sample": {"selection_rows": "out_of_sample"},
    # flat Bonferroni, no selection family: the gate of #13's first session
    "flat": {"selection_characteristics": [], "selection_rows": "labelled"},
}


def in_sample_effect(scored: pd.DataFrame, group: str, settings) -> tuple[float, float]:
    """The group's flag-rate ratio (to White) on the same referrals, the deployed model's
    training window: scored by models fitted without the referral's child (cross-fitted, out of
    sample) and by the deployed model itself (in sample), each flagged at the review capacity
    per period as the selection rows are (`governance.version_audit.period_flags`)."""
    from frontdoor.governance.fairness.characteristics import ethnicity_group
    from frontdoor.governance.version_audit import _periods, period_flags

    rows = scored[(scored["scorer"] == "deployed") & (scored["window"] == "train")]
    rows = rows.reset_index(drop=True)
    periods, weeks = _periods(rows["decision_date"], settings.models.splits.test_months)
    eth = ethnicity_group(rows).to_numpy()
    out = []
    for column in ("probability_cross_fitted", "probability"):
        flags = period_flags(rows.assign(probability=rows[column]), periods, weeks, settings)
        f = flags[0].to_numpy()
        out.append(f[eth == group].mean() / f[eth == "White"].mean())
    return out[0], out[1]


def oracle_ratios(predictions: pd.DataFrame, settings) -> str:
    """Black and Asian flag-rate ratios (to White) of the oracle (the council's true probability
    of the label) flagging as many of the labelled test rows as the model, per fold: the need
    behind the flags, which no audit of a real council has."""
    import numpy as np

    from frontdoor.governance.fairness.characteristics import ethnicity_group
    from frontdoor.governance.version_audit import audit_flags

    eth = ethnicity_group(predictions).to_numpy()
    flags = np.zeros(len(predictions), dtype=bool)
    oracle = predictions["oracle_probability"].to_numpy()
    model = audit_flags(predictions, settings)[0].to_numpy()
    for _, idx in predictions.groupby("fold").indices.items():
        k = int(model[idx].sum())
        flags[idx[np.argsort(-oracle[idx], kind="mergesort")[:k]]] = True
    white = flags[eth == "White"].mean()
    return ", ".join(f"{g} {flags[eth == g].mean() / white:.2f}" for g in ("Black", "Asian"))


def selected_ids(scored: pd.DataFrame, settings) -> pd.Series:
    from frontdoor.governance.version_audit import selection_rows

    return selection_rows(scored, settings)[0]["decision_id"]


def judge(predictions, families, scored, group: str | None, design: str, explain: bool):
    from frontdoor.governance.fairness.attribution import attribute, sentence
    from frontdoor.governance.version_audit import audit_predictions
    from frontdoor.settings import Settings

    settings = Settings(fairness=DESIGNS[design])
    audit, gate = audit_predictions(predictions, settings, scored)
    failed = [f"{c.characteristic}={c.group} {c.metric}" for c in gate.failures]
    line = f"{design:13} gate {'FAIL' if not gate.passed else 'pass'}"
    line += f" ({len(failed)} failed: {'; '.join(failed[:4])})" if failed else ""
    flagged_group = False
    ratios = {
        c.group: c
        for c in gate.checks
        if c.characteristic == "ethnicity" and c.metric == "flag_rate" and c.value is not None
    }
    line += "\n      flag-rate ratios " + ", ".join(
        f"{g} {ratios[g].value:.2f} (gate {ratios[g].gate_lo:.2f}-{ratios[g].gate_hi:.2f})"
        for g in ("Black", "Asian")
        if g in ratios
    )
    if design == "scored" and audit.selection is not None:
        sel, who = audit.selection, group or "Black"
        line += (
            f"\n      selection rows: {sel.overall.counts['n']:,} referrals of "
            f"{scored.loc[scored['decision_id'].isin(selected_ids(scored, settings)), 'child_id'].nunique():,} "
            f"children worth {sel.overall.effective_n:,.0f} (child resampling), "
            f"{sel.group('ethnicity', who).counts['n']:,} of them {who} children's; labelled rows "
            f"{audit.overall.counts['n']:,}, {audit.group('ethnicity', who).counts['n']:,} {who}"
        )
    if design == "labelled" and "oracle_probability" in predictions:
        line += (
            f"; the oracle's (need) on the labelled rows: {oracle_ratios(predictions, settings)}"
        )
    if group is not None:
        c = next(
            c
            for c in gate.checks
            if (c.characteristic, c.group, c.metric) == ("ethnicity", group, "flag_rate")
        )
        line += (
            f"\n      {group} flag-rate ratio {c.value:.2f} (95% {c.lo:.2f}-{c.hi:.2f}; gate "
            f"{c.gate_lo:.2f}-{c.gate_hi:.2f} at {c.alpha:.4f}, {c.population} rows): {c.verdict}"
        )
        flagged_group = any(
            c.characteristic in ("ethnicity", "ethnicity_x_sex") and c.group.startswith(group)
            for c in gate.failures
        )
        if design == "scored" and "probability_cross_fitted" in scored:
            out_of_sample, in_sample = in_sample_effect(scored, group, settings)
            line += (
                f"\n      training-window referrals: {group} flag-rate ratio {out_of_sample:.2f} "
                f"cross-fitted (out of sample), {in_sample:.2f} by the deployed model (in sample)"
            )
        if explain:
            table = attribute(families.drop(columns="ethnicity"), families["ethnicity"], "White")
            line += f"\n      {sentence(table, group, 'White')}"
    return not gate.passed, flagged_group, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--reverse", action="store_true", help="newest seed first")
    parser.add_argument(
        "--cached-only", action="store_true", help="judge only councils already in --cache"
    )
    parser.add_argument(
        "--designs",
        default="labelled,scored",
        help=f"comma-separated gate designs to judge each council with, of {', '.join(DESIGNS)}",
    )
    args = parser.parse_args()
    designs = args.designs.split(",")
    from frontdoor.settings.synth import SynthSettings

    base = SynthSettings()
    print(
        f"{args.children:,} children per council, seeds {base.seed}..{base.seed + args.seeds - 1}; "
        f"surveillance x{base.surveillance_bias.rate_multiplier} on "
        f"{base.surveillance_bias.ethnicity_major_group} children's "
        f"{base.surveillance_bias.source} contacts; under-recording: "
        f"{base.under_recording_bias.ethnicity_major_group} concerns recorded at "
        f"{base.under_recording_bias.recording_rate}"
    )
    tally = {(d, k): [0, 0, 0] for d in designs for k in KNOBS}
    seeds = range(base.seed, base.seed + args.seeds)
    for seed in reversed(seeds) if args.reverse else seeds:
        for knob, (_, group) in KNOBS.items():
            done = args.cache and (args.cache / f"{knob}-{seed}-{args.children}" / "scored.parquet")
            if args.cached_only and not (done and done.exists()):
                continue
            predictions, families, scored = cached(args.cache, knob, seed, args.children)
            print(f"seed {seed} {knob}", flush=True)
            for i, design in enumerate(designs):
                failed, on_group, line = judge(
                    predictions, families, scored, group, design, i == len(designs) - 1
                )
                t = tally[(design, knob)]
                t[0], t[1], t[2] = t[0] + failed, t[1] + on_group, t[2] + 1
                print(f"    {line}", flush=True)
    print("\ndesign        | council          | gate failed | failed on the knob's group")
    for (design, knob), (fails, on_group, runs) in tally.items():
        print(
            f"{design:13} | {knob:16} | {fails} of {runs}      | "
            f"{on_group if KNOBS[knob][1] else '-'} of {runs}"
        )


if __name__ == "__main__":
    main()
