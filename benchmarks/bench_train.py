"""Benchmark: train both models with calibration and SHAP on the default synthetic council.

Prints figures for docs/performance.md ("Training"). Run:

    .venv/bin/python benchmarks/bench_train.py [--children 50000] [--labels escalation_12m]

It generates the council (synth), ingests it (pseudonymised ids), builds the feature table,
then per label runs
the full backtest (3 folds x {LightGBM, logistic} fitted, calibrated on a later window,
banded, evaluated with bootstrap CIs, plus the deployable model), explains every test row with
SHAP, and logs the run and model version to a throwaway MLflow store (SQLite in a temp folder).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--labels", nargs="*", default=None)
    args = parser.parse_args()

    from frontdoor.features.build import build_feature_table
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.models.tracking import log_run
    from frontdoor.models.train import backtest, summary_table
    from frontdoor.records import store
    from frontdoor.records.feature_table import read_truth
    from frontdoor.settings import Settings
    from frontdoor.synth.council import generate, write_council

    tmp = Path(tempfile.mkdtemp(prefix="bench_train_"))
    settings = Settings(
        paths={"root": str(tmp)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        tracking={"tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}"},
        synth={"children": args.children},
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    t0 = time.perf_counter()
    raw = write_council(generate(settings), tmp / "raw")
    ingest_sources([raw], tmp / "canonical", settings)
    t_data = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = build_feature_table(
        store.read_tables(tmp / "canonical"),
        settings.synth.end_date,
        settings,
        truth=read_truth(settings),
    )
    t_features = time.perf_counter() - t0
    print(
        f"council: {args.children:,} children, {len(table):,} decisions "
        f"(synth + ingest {t_data:.1f} s, features {t_features:.1f} s; not counted below)"
    )
    grand = 0.0
    for label in args.labels or settings.models.labels:
        t0 = time.perf_counter()
        result = backtest(table, label, settings)
        t_backtest = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = result.explain_rows
        contrib, _ = result.deployed.contributions(rows)
        t_shap = time.perf_counter() - t0
        t0 = time.perf_counter()
        record = log_run(result, table, settings, source="bench")
        t_log = time.perf_counter() - t0
        total = t_backtest + t_shap + t_log
        grand += total
        fits = sum(v for f in result.folds for k, v in f.seconds.items() if k.startswith("fit"))
        evals = sum(f.seconds["evaluate"] for f in result.folds)
        print(
            f"\n== {label}: {total:.1f} s  (backtest {t_backtest:.1f} s of which fitting "
            f"{fits + result.seconds['fit_deployed']:.1f} s and bootstrap evaluation "
            f"{evals:.1f} s; SHAP on {len(rows):,} test rows {t_shap:.1f} s; MLflow run + "
            f"pyfunc + version {t_log:.1f} s -> v{record.model_version})"
        )
        print(summary_table(result).to_string(index=False))
        m = result.metrics
        pooled = m[(m.fold == "overall") & ~m.scorer.str.startswith("gap:")]
        print(pooled.pivot(index="scorer", columns="metric", values="value").round(3).to_string())
    print(f"\nTOTAL both labels, both models, calibration, SHAP and MLflow: {grand:.1f} s")


if __name__ == "__main__":
    main()
