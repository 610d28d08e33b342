"""Point-in-time features: speed against featuretools, and scale.

Prints figures (docs/performance.md, docs/features.md); it is not a timed test.

    .venv/bin/python benchmarks/bench_features.py compare   # vs featuretools, ~100,000 events
    .venv/bin/python benchmarks/bench_features.py scale     # 1M and 10M events, full feature set
    .venv/bin/python benchmarks/bench_features.py scale --events 10000000 --decisions 1000000

`compare` writes the same tables to benchmarks/results/ and runs featuretools 1.31 in its
own virtual environment (benchmarks/.venv-featuretools, pandas 2.3.3; created on first use)
as a subprocess, on the same data and the same features (every child-scope window count and
days-since; featuretools has no household-minus-the-child scope). Values are asserted equal.
`scale` runs each size in a fresh subprocess so that peak RSS is that size's own.

Its tables come from its own ``synthetic_tables``, not from ``frontdoor.synth`` (the one generator
of tables for tests, issue #18), on purpose: the benchmark measures the engine against an exact
number of events and decision points in a fixed mix of tables, made in seconds at 10M events. A
synth council of 10M events would be over three million simulated children (3,000 make about
9,200 records), all generated in memory before the engine starts, and its mix and per-child
concentration would move with synth's parameters, and a replicated small council would repeat the
same histories, which the engine's per-child grouping would see. A benchmark input is not a
test-support generator; the figures in docs/performance.md stay comparable across runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from frontdoor.features.build import build_feature_table  # noqa: E402
from frontdoor.features.declarations import FEATURES  # noqa: E402
from frontdoor.features.engine import Decisions, Engine, Population, SourceEvents  # noqa: E402
from frontdoor.features.timeline import day_numbers  # noqa: E402
from frontdoor.records import codes  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402

RESULTS = HERE / "results"
FT_VENV = HERE / ".venv-featuretools"
FT_REQUIREMENTS = ["featuretools==1.31.0", "pandas==2.3.3", "pyarrow<26"]
REFERENCE = date(2025, 3, 31)
START = np.datetime64("2015-04-01")
SPAN_DAYS = int((np.datetime64(REFERENCE.isoformat()) - START).astype(int))

# share of the non-referral events per table (a busy council's mix)
MIX = {
    "contacts": 0.34,
    "assessments": 0.20,
    "domestic_abuse_notifications": 0.20,
    "early_help_episodes": 0.12,
    "section47_enquiries": 0.08,
    "cp_plans": 0.06,
}


class _Draws:
    """The benchmark's random draws: children (weighted by activity), days, codes, ends."""

    def __init__(self, rng: np.random.Generator, child_ids: np.ndarray, weight: np.ndarray):
        self.rng, self.child_ids, self.weight = rng, child_ids, weight

    def who(self, n: int) -> np.ndarray:
        return self.child_ids[self.rng.choice(len(self.child_ids), n, p=self.weight)]

    def days(self, n: int) -> np.ndarray:
        return START + self.rng.integers(0, SPAN_DAYS, n).astype("timedelta64[D]")

    def pick(self, values, n: int, p=None) -> np.ndarray:
        return np.asarray(values, dtype=object)[self.rng.choice(len(values), n, p=p)]

    def ends(self, start: np.ndarray) -> np.ndarray:
        """30 to 700 days later; 30% still open."""
        end = start + self.rng.integers(30, 700, len(start)).astype("timedelta64[D]")
        end[self.rng.random(len(start)) < 0.3] = np.datetime64("NaT")
        return end.astype("datetime64[ns]")


def synthetic_tables(events: int, decisions: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Canonical-shaped tables with `events` records in all (of which `decisions` referrals).

    Vectorised (ids are shared string objects), so that making 10M events takes seconds.
    Children have 2.5 referrals on average; households hold 1 to 4 children."""
    rng = np.random.default_rng(seed)
    n_children = max(decisions * 2 // 5, 10)
    child_ids = np.array([f"p{i:024x}" for i in range(n_children)], dtype=object)
    household_ids = np.array([f"h{i:024x}" for i in range(n_children // 2 + 1)], dtype=object)
    households = np.minimum(
        np.arange(n_children) // 2 + rng.integers(-1, 2, n_children), n_children // 2
    ).clip(0)
    factor_pool = np.array(
        [
            codes.join_factors(rng.choice(list(codes.ASSESSMENT_FACTOR_CODES), rng.integers(1, 5)))
            for _ in range(400)
        ],
        dtype=object,
    )
    # children with more activity get more events (a skewed, realistic distribution)
    weight = rng.gamma(0.8, 1.0, n_children)
    d = _Draws(rng, child_ids, weight / weight.sum())
    tables = {
        "children": _children(d, household_ids[households]),
        "referrals": _referrals(d, decisions),
    }
    rest = events - decisions
    sizes = {name: int(rest * share) for name, share in MIX.items()}
    tables["contacts"] = _contacts(d, sizes["contacts"], factor_pool)
    tables["assessments"] = _assessments(d, sizes["assessments"], factor_pool)
    tables["domestic_abuse_notifications"] = _notifications(
        d, sizes["domestic_abuse_notifications"]
    )
    n = sizes["section47_enquiries"]
    tables["section47_enquiries"] = pd.DataFrame(
        {"child_id": d.who(n), "start_date": d.days(n).astype("datetime64[ns]")}
    )
    n = sizes["early_help_episodes"]
    start = d.days(n)
    tables["early_help_episodes"] = pd.DataFrame(
        {
            "child_id": d.who(n),
            "start_date": start.astype("datetime64[ns]"),
            "end_date": d.ends(start),
        }
    )
    tables["cp_plans"] = _plans(d, sizes["cp_plans"])
    # one referral per child and day, as the contract's de-duplication guarantees
    tables["referrals"] = tables["referrals"].drop_duplicates(["child_id", "referral_date"])
    tables["household_memberships"] = _memberships(d, tables["children"], household_ids)
    return tables


def _children(d: _Draws, households: np.ndarray) -> pd.DataFrame:
    n, rng = len(d.child_ids), d.rng
    return pd.DataFrame(
        {
            "child_id": d.child_ids,
            "sex": d.pick(["M", "F", "U"], n, p=[0.49, 0.49, 0.02]),
            "ethnicity": d.pick(list(codes.ETHNICITY_CODES), n),
            "birth_month": (np.datetime64("2000-01") + rng.integers(0, 300, n))
            .astype("datetime64[D]")
            .astype("datetime64[ns]"),
            "disability": rng.random(n) < 0.1,
            "household_id": households,
            "idaci_decile": rng.integers(1, 11, n),
        }
    )


def _referrals(d: _Draws, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "referral_id": np.array([f"r{i:024x}" for i in range(n)], dtype=object),
            "child_id": d.who(n),
            "referral_date": d.days(n).astype("datetime64[ns]"),
            "source": d.pick(list(codes.SOURCE_CODES), n),
            "outcome": d.pick(["nfa", "assessment"], n),
        }
    )


def _contacts(d: _Draws, n: int, factor_pool: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "child_id": d.who(n),
            "contact_date": d.days(n).astype("datetime64[ns]"),
            "source": d.pick(list(codes.SOURCE_CODES), n),
            "presenting_concerns": factor_pool[d.rng.integers(0, len(factor_pool), n)],
        }
    )


def _assessments(d: _Draws, n: int, factor_pool: np.ndarray) -> pd.DataFrame:
    authorised = d.days(n)
    authorised[d.rng.random(n) < 0.05] = np.datetime64("NaT")
    return pd.DataFrame(
        {
            "child_id": d.who(n),
            "start_date": d.days(n).astype("datetime64[ns]"),
            "authorisation_date": authorised.astype("datetime64[ns]"),
            "factors": factor_pool[d.rng.integers(0, len(factor_pool), n)],
            "outcome": d.pick(list(codes.ASSESSMENT_OUTCOMES), n),
        }
    )


def _notifications(d: _Draws, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "child_id": d.who(n),
            "notification_date": d.days(n).astype("datetime64[ns]"),
            "dash_risk": d.pick(["standard", "medium", "high"], n, p=[0.6, 0.3, 0.1]),
            "marac_referral": d.rng.random(n) < 0.1,
        }
    )


def _plans(d: _Draws, n: int) -> pd.DataFrame:
    start = d.days(n)
    return pd.DataFrame(
        {
            "child_id": d.who(n),
            "start_date": start.astype("datetime64[ns]"),
            "end_date": d.ends(start),
            "initial_category": d.pick(list(codes.CP_CATEGORIES), n),
        }
    )


def _memberships(d: _Draws, kids: pd.DataFrame, household_ids: np.ndarray) -> pd.DataFrame:
    """Dated households: every child from its month of birth, and one child in ten also in a
    second household for a while (a move), so the dated-sibling path is what is measured."""
    n_children = len(d.child_ids)
    movers = np.flatnonzero(d.rng.random(n_children) < 0.1)
    moved_in = d.days(len(movers)).astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "membership_id": np.arange(n_children + len(movers)).astype(str).astype(object),
            "child_id": np.concatenate([d.child_ids, d.child_ids[movers]]),
            "household_id": np.concatenate(
                [
                    kids["household_id"].to_numpy(),
                    household_ids[d.rng.integers(0, len(household_ids), len(movers))],
                ]
            ),
            "start_date": np.concatenate([kids["birth_month"].to_numpy(), moved_in]),
            "end_date": np.concatenate(
                [
                    np.full(n_children, np.datetime64("NaT"), "datetime64[ns]"),
                    moved_in + np.timedelta64(400, "D"),
                ]
            ),
        }
    )


def event_count(tables) -> int:
    return sum(len(t) for name, t in tables.items() if name != "children")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- scale ----------------------------------------------------------------------------------
def scale_one(events: int, decisions: int) -> dict:
    made = time.perf_counter()
    tables = synthetic_tables(events, decisions)
    made = time.perf_counter() - made
    data_rss = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    table = build_feature_table(tables, REFERENCE, Settings())
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "cpu_seconds": round(cpu_seconds, 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "events": event_count(tables),
        "decisions": len(table),
        "features": len(FEATURES),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "rss_after_data_mb": round(data_rss),
        "data_seconds": round(made, 1),
        "censored": int(table["censored"].sum()),
    }


def run_scale(sizes) -> list[dict]:
    results = []
    for events, decisions in sizes:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "scale-one",
                "--events",
                str(events),
                "--decisions",
                str(decisions),
            ],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"scale run failed:\n{out.stderr[-4000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{result['events']:>11,} events {result['decisions']:>10,} decisions "
            f"{result['features']} features: {result['seconds']:6.2f} s wall, "
            f"{result['cpu_seconds']:6.2f} s CPU (load {result['load_average_1min']}), "
            f"peak RSS {result['peak_rss_mb']:,} MB (input data alone {result['rss_after_data_mb']:,} MB)",
            flush=True,
        )
    return results


# --- featuretools comparison ----------------------------------------------------------------
def comparable_features():
    """Child-scope counts and days-since: what featuretools expresses (Count, TimeSinceLast
    with use_previous and where)."""
    return [f for f in FEATURES if f.scope == "child" and f.agg in ("count", "days_since_last")]


def _flag_column(f) -> str | None:
    if not f.where:
        return None
    return "flag__" + "__".join(f"{k}_{'_'.join(map(str, v))}" for k, v in f.where.items())


def write_comparison_data(tables, folder: Path) -> list[dict]:
    """The same records for both engines, with each filter as a boolean column (featuretools
    has no 'any of these factor codes'), and the feature specs as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    population = Population.from_tables(tables["children"], tables["referrals"]["child_id"])
    specs = []
    features = comparable_features()
    for name in {f.source for f in features}:
        frame = tables[name].copy()
        frame["event_id"] = np.arange(len(frame))
        events = SourceEvents.from_table(name, frame, population, [*frame.columns])
        kept = events.frame
        out = pd.DataFrame(
            {
                "event_id": kept["event_id"].to_numpy(),
                "child_id": kept["child_id"].astype(str).to_numpy(),
                "time": kept[_kd(name)].to_numpy(),
            }
        )
        for f in features:
            flag = _flag_column(f)
            if f.source == name and flag and flag not in out:
                out[flag] = events.mask(f.where)
        out.to_parquet(folder / f"{name}.parquet", index=False)
    for f in features:
        specs.append(
            {
                "name": f.name,
                "source": f.source,
                "agg": f.agg,
                "window_days": f.window_days,
                "flag": _flag_column(f),
            }
        )
    referrals = tables["referrals"]
    pd.DataFrame(
        {"child_id": referrals["child_id"].astype(str), "time": referrals["referral_date"]}
    ).to_parquet(folder / "cutoffs.parquet", index=False)
    pd.DataFrame({"child_id": tables["children"]["child_id"].astype(str)}).to_parquet(
        folder / "children.parquet", index=False
    )
    (folder / "specs.json").write_text(json.dumps(specs, indent=1))
    return specs


def _kd(name: str) -> str:
    from frontdoor.records.contract import TABLES

    return TABLES[name].knowledge_date


def data_digest(folder: Path) -> str:
    """A digest of the comparison's inputs, so that a kept featuretools run is reused only
    on exactly the data it saw."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.parquet")):
        if not path.name.startswith("featuretools"):
            h.update(pd.read_parquet(path).to_csv(index=False).encode())
    h.update((folder / "specs.json").read_bytes())
    return h.hexdigest()


def ensure_featuretools_venv() -> Path:
    python = FT_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *FT_REQUIREMENTS], check=True)
    return python


def frontdoor_seconds(tables, features, repeat: int = 5) -> tuple[float, float, pd.DataFrame]:
    """Best of `repeat` runs of the engine alone on the given features (as featuretools):
    wall seconds and CPU seconds of this process."""
    best, best_cpu = float("inf"), float("inf")
    referrals = tables["referrals"]
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        population = Population.from_tables(tables["children"], referrals["child_id"])
        child = population.codes_of(referrals["child_id"])
        decisions = Decisions(
            child=child,
            household=population.household_of_child[child],
            day=day_numbers(referrals["referral_date"]),
            birth_day=np.zeros(len(child), dtype=np.int64),
        )
        values = Engine(tables, population).compute(decisions, features)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    frame = pd.DataFrame(values)
    frame.insert(0, "child_id", referrals["child_id"].astype(str).to_numpy())
    frame.insert(1, "time", referrals["referral_date"].to_numpy())
    return best, best_cpu, frame


def run_compare(events: int, decisions: int, reuse: bool = False) -> dict:
    tables = synthetic_tables(events, decisions, seed=1)
    folder = RESULTS / f"compare-{events}-{decisions}"
    specs = write_comparison_data(tables, folder)
    features = comparable_features()
    ours, ours_cpu, ours_frame = frontdoor_seconds(tables, features)
    started = time.perf_counter()
    build_feature_table(tables, REFERENCE, Settings())
    full_seconds = time.perf_counter() - started

    saved = folder / "featuretools.json"
    digest = data_digest(folder)
    kept = json.loads(saved.read_text()) if saved.exists() else {}
    if reuse and kept.get("data_digest") == digest:  # featuretools' run on these same data
        ft_report = kept
    else:
        python = ensure_featuretools_venv()
        out = subprocess.run(
            [str(python), str(HERE / "featuretools_side.py"), str(folder)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"featuretools failed:\n{out.stderr[-4000:]}")
        ft_report = json.loads(out.stdout.strip().splitlines()[-1])
        saved.write_text(json.dumps({**ft_report, "data_digest": digest}))
    theirs = pd.read_parquet(folder / "featuretools_matrix.parquet")

    merged = ours_frame.merge(
        theirs, on=["child_id", "time"], suffixes=("", "__ft"), validate="one_to_one"
    )
    assert len(merged) == len(ours_frame) == len(theirs), "decision points differ"
    for spec in specs:
        a = merged[spec["name"]].to_numpy(dtype=float)
        b = merged[spec["name"] + "__ft"].to_numpy(dtype=float)
        if spec["agg"] == "count":
            b = np.nan_to_num(b, nan=0.0)
        np.testing.assert_array_equal(a, b, err_msg=spec["name"])
    result = {
        "events": event_count(tables),
        "decisions": len(ours_frame),
        "features_compared": len(specs),
        "values_compared": int(len(merged) * len(specs)),
        "featuretools_seconds": round(ft_report["seconds"], 2),
        "featuretools_cpu_seconds": round(ft_report["cpu_seconds"], 2),
        "frontdoor_seconds": round(ours, 4),
        "frontdoor_cpu_seconds": round(ours_cpu, 4),
        "speed_ratio_wall": round(ft_report["seconds"] / ours),
        "speed_ratio_cpu": round(ft_report["cpu_seconds"] / ours_cpu),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "frontdoor_full_set_seconds": round(full_seconds, 3),
        "full_set_features": len(FEATURES),
        "featuretools_version": ft_report["featuretools"],
        "pandas_for_featuretools": ft_report["pandas"],
    }
    print(
        f"{result['events']:,} events, {result['decisions']:,} decision points, "
        f"{result['features_compared']} features ({result['values_compared']:,} values equal)\n"
        f"  featuretools {result['featuretools_version']}: {result['featuretools_seconds']} s "
        f"wall, {result['featuretools_cpu_seconds']} s CPU\n"
        f"  frontdoor engine: {result['frontdoor_seconds']} s wall, "
        f"{result['frontdoor_cpu_seconds']} s CPU\n"
        f"  speed ratio: {result['speed_ratio_wall']}x (wall), {result['speed_ratio_cpu']}x (CPU)\n"
        f"  frontdoor full table ({result['full_set_features']} features, labels, "
        f"characteristics): {result['frontdoor_full_set_seconds']} s",
        flush=True,
    )
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["compare", "scale", "scale-one"])
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--decisions", type=int, default=None)
    parser.add_argument(
        "--reuse-featuretools",
        action="store_true",
        help="compare: reuse featuretools' matrix and time from an earlier run on the same data",
    )
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.what == "scale-one":
        print(json.dumps(scale_one(args.events, args.decisions)))
        return
    print(f"cores available: {len(os.sched_getaffinity(0))}", flush=True)
    if args.what == "compare":
        result = run_compare(
            args.events or 100_000, args.decisions or 10_000, reuse=args.reuse_featuretools
        )
        (RESULTS / f"compare-{result['events']}-{result['decisions']}.json").write_text(
            json.dumps(result, indent=1)
        )
        return
    if args.events:
        sizes = [(args.events, args.decisions or args.events // 10)]
    else:
        sizes = [(1_000_000, 100_000), (1_000_000, 1_000_000), (10_000_000, 1_000_000)]
    results = run_scale(sizes)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
