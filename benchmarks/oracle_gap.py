"""Benchmark: how far LightGBM (and the scorecard) sit below the oracle on the default council.

Prints figures for docs/models.md ("the oracle gap"). Run:

    PYTHONPATH=. .venv/bin/python benchmarks/oracle_gap.py [--children 50000] [--cache DIR]

It generates the default synthetic council (synth), ingests it (pseudonymised ids), builds the
feature table with the current declarations, and per label runs the models room's backtest
(`models.train.backtest`: 3 temporal folds, both models fitted, calibrated and evaluated with
paired bootstrap CIs against the oracle on the same test rows). With `--cache DIR` the raw and
canonical council is kept in DIR and reused, so only features and models are rebuilt (useful
when comparing feature declarations on the same council; delete DIR after changing the
generator). No timing is asserted; this prints figures.

With `--decompose` it also splits the gap by what the records miss (synthetic councils only:
it reads the generator's latent state): a LightGBM regression of the oracle's probability on
the features alone, then on the features plus parts of the child's true state at the referral
(each concern, exploitation, the plan bit, the number of present concerns), each fitted by
5-fold cross-validation over all labelled decisions and scored by AUC against the outcomes of
the newest 18 months (the functions live in `frontdoor.models.oracle_gap`, which `frontdoor
oracle-gap` also uses). The distance from "features" to the oracle is information the records do
not carry; the distance from the model to "features" is mostly estimation. Last, the floor of
estimation: LightGBM and the scorecard trained on the labels exactly as the backtest trains
them (same folds, settings, calibration), but given the generator's true state, the child's age
and the rule's referral count as their only inputs. No records can do better than perfect
information, so the gap this leaves is what the council's number of decisions alone costs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--labels", nargs="*", default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--decompose", action="store_true")
    args = parser.parse_args()

    from frontdoor.models.train import backtest

    table, settings = council_table(args.children, args.cache)
    for label in args.labels or settings.models.labels:
        result = backtest(table, label, settings)
        m = result.metrics
        auc = m[m.metric == "auc"]
        print(f"\n== {label} (AUC, 95% paired bootstrap CI; gap = oracle - model)")
        for fold in [*sorted(set(auc.fold) - {"overall"}), "overall"]:
            rows = auc[auc.fold == fold].set_index("scorer")
            cells = []
            for scorer in ("lightgbm", "logistic", "oracle", "gap:lightgbm", "gap:logistic"):
                if scorer in rows.index:
                    r = rows.loc[scorer]
                    cells.append(f"{scorer} {r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]")
            print(f"  fold {fold}: " + "; ".join(cells))
    if args.decompose:
        decompose(table, settings, Path(settings.paths.root), args.labels or settings.models.labels)


def council_table(children: int, cache: Path | None = None, seed: int | None = None):
    """The default synthetic council (``children`` of them) as a feature table, with its settings.

    With ``cache`` the raw and canonical council is kept there and reused (one cache per
    ``seed``: the default council's seed unless given)."""
    from frontdoor.features.build import build_feature_table
    from frontdoor.ingest.run import ingest_sources
    from frontdoor.models.train import feature_columns
    from frontdoor.records import store
    from frontdoor.records.feature_table import read_truth
    from frontdoor.settings import Settings
    from frontdoor.synth.council import generate, write_council

    root = cache or Path(tempfile.mkdtemp(prefix="oracle_gap_"))
    root.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        paths={"root": str(root)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        tracking={"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
        synth={"children": children, **({} if seed is None else {"seed": seed})},
    )
    t0 = time.perf_counter()
    canonical = root / "canonical"
    if not (canonical / ".done").exists():
        raw = write_council(generate(settings), root / "raw")
        ingest_sources([raw], canonical, settings)
        (canonical / ".done").write_text("ok\n")
    t_data = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = build_feature_table(
        store.read_tables(canonical),
        settings.synth.end_date,
        settings,
        truth=read_truth(settings),
    )
    t_features = time.perf_counter() - t0
    table.to_parquet(root / "features.parquet")  # for `frontdoor splits --features`
    n_features = len(feature_columns(table, settings))
    print(
        f"council: {children:,} children, {len(table):,} decisions, {n_features} features "
        f"(synth + ingest {t_data:.1f} s, features {t_features:.1f} s)"
    )
    return table, settings


def decompose(table, settings, root: Path, labels) -> None:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from frontdoor.models.oracle_gap import STATE_BITS, ceiling, enough_history, latent_at_decisions
    from frontdoor.models.oracle_gap import decompose as on_test_rows
    from frontdoor.models.train import feature_columns, labelled, truth_column

    states = latent_at_decisions(table, settings, root)
    full = table.join(states)
    columns = feature_columns(table, settings)
    for label in labels:
        rows = labelled(full, label)
        truth = rows[truth_column(label)].to_numpy()
        y = rows[label].to_numpy()
        newest = rows["decision_date"] >= rows["decision_date"].max() - np.timedelta64(548, "D")
        newest = newest.to_numpy()

        oracle = roc_auc_score(y[newest], truth[newest])
        print(f"\n== {label}: oracle regressed on features (+ true state), newest 18 months")
        print(
            f"  oracle {oracle:.3f}; features only {ceiling(rows, columns, truth, y, newest):.3f}"
        )
        for name in [*STATE_BITS, "n_concerns"]:
            print(
                f"  features + state_{name} {ceiling(rows, columns + [f'state_{name}'], truth, y, newest):.3f}"
            )
        every = [f"state_{n}" for n in STATE_BITS]
        print(
            f"  features + the whole state {ceiling(rows, columns + every, truth, y, newest):.3f}"
        )
        print(
            f"  floor (models given the true state, trained on labels): {floor(full, label, settings)}"
        )
        gap = on_test_rows(table, label, settings, states)
        print(f"\n== {label}: the decomposition on the pooled test folds (frontdoor oracle-gap)")
        print(gap.decomposition.round(3).to_string(index=False))
        print(gap.curve.round(3).to_string(index=False))
        print(f"  {enough_history(gap.curve, gap.rule_auc)}")


def floor(full, label: str, settings) -> str:
    """Backtest AUCs and gaps when the models' only inputs are the true state (see docstring)."""
    from dataclasses import replace

    from frontdoor.models.oracle_gap import floor_inputs
    from frontdoor.models.train import combine_folds, fit_fold, training_data

    data = training_data(full, label, settings)
    data = replace(data, columns=floor_inputs(settings))
    result = combine_folds(data, [fit_fold(data, f, settings) for f in data.folds], settings)
    m = result.metrics
    auc = m[(m.metric == "auc") & (m.fold == "overall")].set_index("scorer")["value"]
    return "; ".join(
        f"{k} {auc[k]:.3f}"
        for k in ("lightgbm", "logistic", "oracle", "gap:lightgbm", "gap:logistic")
    )


if __name__ == "__main__":
    main()
