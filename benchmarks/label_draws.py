"""Scratch benchmark: are the recorded labels exact draws from the oracle's probabilities?

Prints figures for docs/synthetic-council.md ("Are the recorded labels draws from the
oracle?"). No timing is asserted. Run:

    PYTHONPATH=. .venv/bin/python benchmarks/label_draws.py --cache /work/cache50k --children 50000
    PYTHONPATH=. .venv/bin/python benchmarks/label_draws.py --cache /work/cache200k --children 200000
    PYTHONPATH=. .venv/bin/python benchmarks/label_draws.py --seeds 30 --children 50000

With ``--cache DIR`` (a council built by ``benchmarks/oracle_gap.py``: DIR/features.parquet
with truth_* columns, DIR/raw the generator's tables) it regenerates the same council in
memory, capturing the generator's own events (every simulated referral with its day, its
Section 47 and plan and their start days, before anything is cut to the window), and per
labelled (uncensored) referral compares

- the label in the feature table (built from the ingested records), and
- the label from the generator's own events (same definition: another referral 1..365 days
  later; a Section 47 or plan starting 1..365 days later),

then prints, per label, the calibration line of each on the oracle's log-odds (95% intervals
resampling children and, separately, households: siblings share the household's future), a
decile table, and the same split by decision year and by an earlier referral of the child in
the 365 days before (overlapping windows).

With ``--seeds K`` it generates K councils (seeds ``--first-seed`` 20261126, 20261127, ...) and gives, for the
generator's own labels and for labels computed from each council's tables, the calibration
slope per council: the spread across councils is the slope's real sampling spread at that size
(all dependence between referrals included), and the pooled line tests the oracle itself.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from frontdoor.models.stats import calibration_line, cluster_sampler, percentile_interval

LABELS = ("rereferral_12m", "escalation_12m")
KEY = 1 << 20  # child * KEY + day (days since 1970 stay below 2**20 until 4840)


# --- the generator's own events ------------------------------------------------------------
def generate_with_events(settings):
    """``generate(settings)`` plus what it drew: the population, every simulated referral and
    the referrals table with each row's index into them."""
    import frontdoor.synth.council as council_mod
    import frontdoor.synth.tables as tables_mod

    captured: dict[str, object] = {}
    originals = (
        council_mod.build_population,
        council_mod.simulate,
        tables_mod.referral_events,
        tables_mod.referrals_table,
    )

    def build_population(*a, **k):
        captured["pop"] = originals[0](*a, **k)
        return captured["pop"]

    def simulate(*a, **k):
        captured["events"] = originals[1](*a, **k)
        return captured["events"]

    def referral_events(*a, **k):
        captured["ref"] = originals[2](*a, **k)
        return captured["ref"]

    def referrals_table(*a, **k):
        frame = originals[3](*a, **k)
        captured["referrals"] = frame[["_i", "referral_id"]].copy()
        return frame

    council_mod.build_population = build_population
    council_mod.simulate = simulate
    tables_mod.referral_events = referral_events
    tables_mod.referrals_table = referrals_table
    try:
        council = council_mod.generate(settings)
    finally:
        (
            council_mod.build_population,
            council_mod.simulate,
            tables_mod.referral_events,
            tables_mod.referrals_table,
        ) = originals
    return council, captured


def count_after(ev_child, ev_day, child, day, first=1, last=365) -> np.ndarray:
    """How many events of each decision's child fall first..last days after its day."""
    keys = np.sort(ev_child.astype(np.int64) * KEY + ev_day.astype(np.int64))
    base = child.astype(np.int64) * KEY + day.astype(np.int64)
    return np.searchsorted(keys, base + last, "right") - np.searchsorted(keys, base + first, "left")


def own_labels(council, captured) -> pd.DataFrame:
    """Per referral of the referrals table: the oracle, the generator's own labels, censoring,
    child, household, day, and whether the child had a referral 1..365 days before."""
    pop, ev, ref = captured["pop"], captured["events"], captured["ref"]
    rows = captured["referrals"]
    i = rows["_i"].to_numpy()
    child, day = ref.child[i], ref.day[i]
    end_day = int(np.datetime64(council.manifest["reference_date"], "D").astype(np.int64))
    rr = count_after(ref.child, ref.day, child, day) > 0
    esc_child = np.concatenate([ref.child[ev.ref_s47], ref.child[ev.ref_plan]])
    esc_day = np.concatenate([ref.s47_start[ev.ref_s47], ref.icpc_day[ev.ref_plan]])
    esc = count_after(esc_child, esc_day, child, day) > 0
    prior = count_after(ref.child, ref.day, child, day, -365, -1) > 0
    truth = council.ground_truth.set_index("referral_id")
    out = pd.DataFrame(
        {
            "referral_id": rows["referral_id"].to_numpy(),
            "child": child,
            "household": pop.household[child],
            "day": day,
            "censored": day + 365 > end_day,
            "own_rereferral_12m": rr.astype(float),
            "own_escalation_12m": esc.astype(float),
            "earlier_referral_12m": prior,
        }
    )
    out["truth_rereferral_12m"] = truth.loc[out["referral_id"], "p_rereferral_12m"].to_numpy()
    out["truth_escalation_12m"] = truth.loc[out["referral_id"], "p_escalation_12m"].to_numpy()
    return out


def table_labels(council, frame: pd.DataFrame) -> pd.DataFrame:
    """Labels computed from the council's tables (raw ids) with the product's label function."""
    from frontdoor.features import labels as lab
    from frontdoor.features import timeline as tl

    t = council.tables

    def code(ids: pd.Series) -> np.ndarray:
        return ids.str[1:].astype(np.int64).to_numpy() - 1

    def days(col: pd.Series) -> np.ndarray:
        return tl.day_numbers(col)

    refs = t["referrals"].set_index("referral_id").loc[frame["referral_id"]]
    s47, plans = t["section47_enquiries"], t["cp_plans"]
    out = lab.labels(
        code(refs["child_id"]),
        days(refs["referral_date"]),
        (code(t["referrals"]["child_id"]), days(t["referrals"]["referral_date"])),
        (
            np.concatenate([code(s47["child_id"]), code(plans["child_id"])]),
            np.concatenate([days(s47["start_date"]), days(plans["start_date"])]),
        ),
        pd.Timestamp(council.manifest["reference_date"]).date(),
    )
    return pd.DataFrame({name: out[name] for name in LABELS}, index=frame.index)


# --- calibration ---------------------------------------------------------------------------
def line_with_ci(y, p, clusters, samples: int = 200, seed: int = 0):
    a, b = calibration_line(y, p)
    draw = cluster_sampler(len(y), clusters)
    rng = np.random.default_rng(seed)
    reps = np.array(
        [calibration_line(y[idx], p[idx]) for idx in (draw(rng) for _ in range(samples))]
    )
    return a, b, percentile_interval(reps[:, 0]), percentile_interval(reps[:, 1])


def describe(name: str, y, p, child, household, samples: int) -> None:
    a, b, _, ci_c = line_with_ci(y, p, child, samples)
    _, _, _, ci_h = line_with_ci(y, p, household, samples)
    print(
        f"  {name}: n {len(y):,}, observed {y.mean():.4f}, oracle {p.mean():.4f}, "
        f"intercept {a:+.3f}, slope {b:.3f} (children {ci_c[0]:.3f}-{ci_c[1]:.3f}; "
        f"households {ci_h[0]:.3f}-{ci_h[1]:.3f})"
    )


def decile_table(y, p) -> None:
    order = np.argsort(p, kind="stable")
    decile = np.empty(len(p), dtype=int)
    decile[order] = np.arange(len(p)) * 10 // len(p)
    frame = pd.DataFrame({"decile": decile + 1, "oracle": p, "observed": y})
    g = frame.groupby("decile").agg(
        n=("observed", "size"), mean_oracle=("oracle", "mean"), observed=("observed", "mean")
    )
    g["z"] = (g.observed - g.mean_oracle) / np.sqrt(g.mean_oracle * (1 - g.mean_oracle) / g.n)
    print(g.round(4).to_string())


def report(frame: pd.DataFrame, samples: int) -> None:
    rows = frame[~frame["censored"]]
    child, household = rows["child"].to_numpy(), rows["household"].to_numpy()
    year = pd.to_datetime(rows["day"].to_numpy(), unit="D").year
    for label in LABELS:
        p = rows[f"truth_{label}"].to_numpy()
        print(f"\n== {label}: all labelled referrals (slope 95% intervals resampling ...)")
        for source in ("recorded", "own"):
            col = label if source == "recorded" else f"own_{label}"
            if col in rows:
                describe(source, rows[col].to_numpy(), p, child, household, samples)
        y = rows[label if label in rows else f"own_{label}"].to_numpy()
        if "test" in rows:
            m = rows["test"].to_numpy()
            describe("backtest test rows", y[m], p[m], child[m], household[m], samples)
        decile_table(y, p)
        print("  by decision year:")
        for yr in sorted(set(year)):
            m = np.asarray(year == yr)
            describe(str(yr), y[m], p[m], child[m], household[m], samples)
        print("  by an earlier referral of the child in the 365 days before:")
        for flag in (False, True):
            m = rows["earlier_referral_12m"].to_numpy() == flag
            describe(f"earlier {flag}", y[m], p[m], child[m], household[m], samples)


# --- runs ----------------------------------------------------------------------------------
def settings_for(children: int, seed: int | None, root: Path):
    from frontdoor.settings import Settings

    return Settings(
        paths={"root": str(root)},
        privacy={"pseudonym_key": "bench-key-not-secret-0123456789abcdef"},
        synth={"children": children, **({} if seed is None else {"seed": seed})},
    )


def on_cache(cache: Path, children: int, samples: int) -> None:
    from frontdoor.records.pseudonymise import load_key, pseudonymise_series

    settings = settings_for(children, None, cache)
    t0 = time.perf_counter()
    council, captured = generate_with_events(settings)
    frame = own_labels(council, captured)
    raw = pd.read_parquet(cache / "raw" / "referrals.parquet")
    same = raw["referral_id"].tolist() == council.tables["referrals"]["referral_id"].tolist() and (
        raw["child_id"].tolist() == council.tables["referrals"]["child_id"].tolist()
    )
    print(
        f"regenerated {children:,} children in {time.perf_counter() - t0:.1f} s; "
        f"same referrals as {cache}/raw: {same}"
    )
    if not same:
        raise SystemExit("the cache was made by another generator or settings")
    frame["decision_id"] = pseudonymise_series(
        load_key(settings), frame["referral_id"].astype(str), "referrals"
    ).to_numpy()
    table = pd.read_parquet(
        cache / "features.parquet",
        columns=["decision_id", "decision_date", "censored", *LABELS,
                 "truth_rereferral_12m", "truth_escalation_12m"],
    )  # fmt: skip
    merged = frame.merge(table, on="decision_id", how="inner", suffixes=("", "_table"))
    print(
        f"feature table: {len(table):,} decisions; matched to generator referrals: {len(merged):,}"
    )
    for c in ("truth_rereferral_12m", "truth_escalation_12m"):
        print(
            f"  {c}: max |table - generator| {np.abs(merged[c] - merged[c + '_table']).max():.2e}"
        )
    same_day = (pd.to_datetime(merged["day"], unit="D") == merged["decision_date"]).all()
    print(
        f"  decision dates equal the generator's referral days: {same_day}; "
        f"censored equal: {(merged['censored'] == merged['censored_table']).all()}"
    )
    labelled = merged[~merged["censored"]]
    for label in LABELS:
        diff = labelled[label] != labelled[f"own_{label}"]
        print(
            f"  {label}: recorded vs generator's own events disagree on {int(diff.sum())} "
            f"of {len(labelled):,} labelled referrals"
        )
    merged["test"] = test_rows(merged)
    report(merged, samples)


def test_rows(frame: pd.DataFrame) -> np.ndarray:
    """The backtest's pooled test windows (``models.splits.make_folds`` on the labelled
    decision dates, default settings): a mask over ``frame``'s rows (censored rows never)."""
    from frontdoor.models.splits import make_folds
    from frontdoor.settings import Settings

    dates = pd.Series(pd.to_datetime(frame["day"].to_numpy(), unit="D"))
    labelled = ~frame["censored"].to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    for fold in make_folds(dates[labelled], Settings()):
        mask |= fold.masks(dates)["test"].to_numpy()
    return mask & labelled


def slopes(rows: pd.DataFrame, label: str, rng: np.random.Generator) -> tuple[float, float]:
    """The calibration slope of the generator's own label, and of one independent redraw of
    the outcomes from the oracle (what a redraw null assumes)."""
    p = rows[f"truth_{label}"].to_numpy()
    _, own = calibration_line(rows[f"own_{label}"].to_numpy(), p)
    _, redraw = calibration_line((rng.random(len(p)) < p).astype(float), p)
    return own, redraw


def on_seeds(k: int, children: int, samples: int, base: int = 20261126) -> None:
    per_seed, pooled = [], []
    rng = np.random.default_rng(0)
    for j in range(k):
        t0 = time.perf_counter()
        council, captured = generate_with_events(settings_for(children, base + j, Path("/tmp")))
        frame = own_labels(council, captured)
        frame["test"] = test_rows(frame)
        rows = frame[~frame["censored"]].copy()
        tabled = table_labels(council, rows)
        row = {"seed": base + j, "labelled": len(rows), "test": int(rows["test"].sum())}
        for label in LABELS:
            short = label.split("_")[0][:3]
            row[f"{short} disagree"] = int((tabled[label] != rows[f"own_{label}"]).sum())
            row[f"{short} obs-oracle"] = float(
                rows[f"own_{label}"].mean() - rows[f"truth_{label}"].mean()
            )
            row[f"{short} slope"], row[f"{short} redraw"] = slopes(rows, label, rng)
            test = rows[rows["test"]]
            row[f"{short} test slope"], row[f"{short} test redraw"] = slopes(test, label, rng)
        rows["household"] = rows["household"] + j * KEY  # distinct across councils
        rows["child"] = rows["child"] + j * KEY
        pooled.append(rows)
        per_seed.append(row)
        print(f"  seed {base + j}: {len(rows):,} labelled, {time.perf_counter() - t0:.1f} s",
              flush=True)  # fmt: skip
    per = pd.DataFrame(per_seed)
    print(per.round(3).to_string(index=False))
    print(f"\nper council ({k} councils of {children:,} children), generator's own labels:")
    for col in [c for c in per.columns if "slope" in c or "redraw" in c or "obs-" in c]:
        s = per[col]
        print(f"  {col:22s} mean {s.mean():+.4f} (se {s.std(ddof=1) / np.sqrt(k):.4f}), "
              f"sd {s.std(ddof=1):.4f}, 2.5-97.5% {s.quantile(0.025):+.3f} .. "
              f"{s.quantile(0.975):+.3f}, min {s.min():+.3f}, max {s.max():+.3f}")  # fmt: skip
    print(f"  disagreements, tables vs own events: {int(per.filter(like='disagree').sum().sum())}")
    allrows = pd.concat(pooled, ignore_index=True)
    print(f"\npooled over {k} councils ({len(allrows):,} labelled referrals), own labels:")
    for label in LABELS:
        y = allrows[f"own_{label}"].to_numpy()
        p = allrows[f"truth_{label}"].to_numpy()
        if samples:
            describe(label, y, p, allrows["child"].to_numpy(), allrows["household"].to_numpy(),
                     samples)  # fmt: skip
        else:
            a, b = calibration_line(y, p)
            print(f"  {label}: n {len(y):,}, observed {y.mean():.4f}, oracle {p.mean():.4f}, "
                  f"intercept {a:+.4f}, slope {b:.4f}")  # fmt: skip
        decile_table(y, p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--seeds", type=int, default=0)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=20261126)
    parser.add_argument("--pooled-samples", type=int, default=0, help="bootstrap of --seeds' pool")
    args = parser.parse_args()
    t0 = time.perf_counter()
    if args.cache is not None:
        on_cache(args.cache, args.children, args.samples)
    if args.seeds:
        on_seeds(args.seeds, args.children, args.pooled_samples, args.first_seed)
    print(f"\n{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
