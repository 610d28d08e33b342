"""Benchmark: does the promotion decision see the synthetic council's bias knobs?

Prints the knob-detection table in docs/fairness.md. Run:

    .venv/bin/python benchmarks/knob_detection.py [--seeds 3] [--children 50000] [--cache DIR]

For each seed and each council (knobs off; surveillance bias on Black children; under-recording
of Asian children's concerns, each at its default strength) it generates the council (synth),
ingests it, builds the features, trains the shipped pipeline (`models.train.backtest`: LightGBM,
calibrated, three temporal folds) on the primary label and audits its pooled test predictions
exactly as promotion does (`governance.version_audit.audit_predictions`, the default gate). It
prints whether the gate failed, which checks failed, and for the knob's group the flag-rate
(selection) ratio and the attribution of its score difference to feature families (the
deployed model's contributions on the newest test window). With ``--cache DIR`` each trained
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


def train(root: Path, knob: str, seed: int, children: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pooled test predictions and the per-row family contributions (newest window)."""
    from frontdoor.features.build import build_feature_table
    from frontdoor.governance.fairness.attribution import family_contributions
    from frontdoor.governance.fairness.characteristics import ethnicity_group
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.models.train import backtest
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
    return result.predictions, families


def cached(cache: Path | None, knob: str, seed: int, children: int):
    folder = (cache or Path(tempfile.mkdtemp(prefix="knobs_"))) / f"{knob}-{seed}-{children}"
    pred, fam = folder / "predictions.parquet", folder / "families.parquet"
    if not pred.exists():
        folder.mkdir(parents=True, exist_ok=True)
        predictions, families = train(folder, knob, seed, children)
        predictions.to_parquet(pred, index=False)
        families.to_parquet(fam, index=False)
    return pd.read_parquet(pred), pd.read_parquet(fam)


def judge(
    predictions: pd.DataFrame, families: pd.DataFrame, group: str | None, seed: int, flat=False
):
    from frontdoor.governance.fairness.attribution import attribute, sentence
    from frontdoor.governance.version_audit import audit_predictions
    from frontdoor.settings import Settings

    # flat: no selection family (every check at 0.05 / checks), the gate of #13's first session
    settings = Settings(fairness={"selection_characteristics": []}) if flat else Settings()
    audit, gate = audit_predictions(predictions, settings)
    failed = [f"{c.characteristic}={c.group} {c.metric}" for c in gate.failures]
    line = f"gate {'FAIL' if not gate.passed else 'pass'}"
    line += f" ({len(failed)} failed: {'; '.join(failed[:4])})" if failed else ""
    flagged_group = False
    if group is not None:
        g = audit.group("ethnicity", group)
        ratio = g.disparities["flag_rate"]
        verdict = next(
            c.verdict
            for c in gate.checks
            if (c.characteristic, c.group, c.metric) == ("ethnicity", group, "flag_rate")
        )
        line += (
            f"\n    {group} flag-rate ratio {ratio.value:.2f} ({ratio.lo:.2f}-{ratio.hi:.2f}, "
            f"95%): gate verdict {verdict}"
        )
        flagged_group = any(
            c.characteristic in ("ethnicity", "ethnicity_x_sex") and c.group.startswith(group)
            for c in gate.failures
        )
        table = attribute(families.drop(columns="ethnicity"), families["ethnicity"], "White")
        line += f"\n    {sentence(table, group, 'White')}"
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
        "--flat", action="store_true", help="judge with flat Bonferroni (no selection family)"
    )
    args = parser.parse_args()
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
    tally = {k: [0, 0, 0] for k in KNOBS}
    seeds = range(base.seed, base.seed + args.seeds)
    for seed in reversed(seeds) if args.reverse else seeds:
        for knob, (_, group) in KNOBS.items():
            done = args.cache and (
                args.cache / f"{knob}-{seed}-{args.children}" / "families.parquet"
            )
            if args.cached_only and not (done and done.exists()):
                continue
            predictions, families = cached(args.cache, knob, seed, args.children)
            tally[knob][2] += 1
            failed, on_group, line = judge(predictions, families, group, seed, args.flat)
            tally[knob][0] += failed
            tally[knob][1] += on_group
            print(f"seed {seed} {knob:16} {line}", flush=True)
    print("\ncouncil          | gate failed | failed on the knob's group")
    for knob, (fails, on_group, runs) in tally.items():
        print(
            f"{knob:16} | {fails} of {runs}      | {on_group if KNOBS[knob][1] else '-'} of {runs}"
        )


if __name__ == "__main__":
    main()
