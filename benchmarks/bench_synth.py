"""Benchmark: time to generate (and write) synthetic councils of several sizes.

    .venv/bin/python benchmarks/bench_synth.py                 # 50,000 and 1,000,000 children
    .venv/bin/python benchmarks/bench_synth.py --children 200000 --no-write

Prints, per size: seconds to simulate and build the tables (``synth.generate``), seconds to
write Parquet (``synth.write_council``), rows made, peak resident memory, and the achieved
rates. Figures are recorded in docs/performance.md ("Synthetic council").
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from frontdoor.settings import Settings
from frontdoor.synth.council import generate, write_council
from frontdoor.synth.rates import within_targets


def run(children: int, years: int, seed: int, write: bool) -> None:
    settings = Settings(synth={"children": children, "years": years, "seed": seed})
    t0 = time.perf_counter()
    council = generate(settings)
    t_gen = time.perf_counter() - t0
    t_write = float("nan")
    if write:
        with tempfile.TemporaryDirectory() as folder:
            t1 = time.perf_counter()
            write_council(council, Path(folder))
            t_write = time.perf_counter() - t1
    rows = sum(len(f) for f in council.tables.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rates = council.manifest["achieved_rates"]
    ok = within_targets(rates)
    print(
        f"children={children:>9,} years={years} generate={t_gen:6.1f}s write={t_write:5.1f}s "
        f"rows={rows:>10,} referrals={len(council.tables['referrals']):>9,} "
        f"peak_rss={peak:,.0f}MiB cores={os.cpu_count()}"
    )
    print(
        "  rates: "
        + ", ".join(
            f"{k}={rates[k]:.3f}"
            for k in (
                "referrals_per_10k",
                "rereferral_share",
                "s47_per_10k",
                "cp_plans_per_10k",
                "cp_neglect_share",
            )
        )
        + f"  all within England's tolerance: {all(ok.values())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="*", default=[50_000, 1_000_000])
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--no-write", action="store_true", help="Time generation only.")
    args = parser.parse_args()
    for n in args.children:
        run(n, args.years, args.seed, not args.no_write)


if __name__ == "__main__":
    main()
