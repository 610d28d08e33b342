"""Benchmark: an Annex A workbook with about 200,000 rows across Lists 1 to 7, ingested.

Prints the figures recorded in docs/performance.md ("Ingestion"). Target: at most 30 s on
2 cores (issue 16: under 30 s). Run: .venv/bin/python benchmarks/bench_ingest.py [--rows 200000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontdoor.ingest.run import ingest_sources  # noqa: E402
from frontdoor.records.export import export_council  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from tests.support.tables import raw_council  # noqa: E402

ROWS_PER_CHILD = (
    9  # Annex A rows per child in tests.support.tables.raw_council (2 events per child)
)
REF = date(2025, 3, 31)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--engine", default="auto", choices=["auto", "fast", "openpyxl"])
    parser.add_argument("--keep", type=Path, default=None, help="Keep files in this folder.")
    parser.add_argument(
        "--workbook",
        type=Path,
        default=None,
        help="Ingest this existing workbook instead of building one.",
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    folder.mkdir(parents=True, exist_ok=True)

    children = max(1, args.rows // ROWS_PER_CHILD)
    t0 = time.perf_counter()
    if args.workbook is None:
        tables = raw_council(children=children, seed=11, reference_date=REF)
        t1 = time.perf_counter()
        export_council(tables, folder / "export", formats=("annex_a",), reference_date=REF)
        workbook = folder / "export" / "annex_a.xlsx"
    else:
        t1 = t0
        workbook = args.workbook
    t2 = time.perf_counter()

    settings = Settings(
        paths={"root": str(folder)},
        privacy={"pseudonym_key": "benchmark-key-not-secret-0123456789"},
        ingest={"xlsx_engine": args.engine},
    )
    start = time.perf_counter()
    cpu0 = os.times()
    import shutil

    shutil.rmtree(folder / "canonical", ignore_errors=True)
    report = ingest_sources([workbook], folder / "canonical", settings)
    elapsed = time.perf_counter() - start
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    list_rows = sum(c.read for name, c in report.counts.items() if name != "children")
    print(
        f"workbook: {workbook.stat().st_size / 1e6:.1f} MB, {list_rows:,} list rows "
        f"({children:,} children); built in {t1 - t0:.1f} s + written in {t2 - t1:.1f} s"
    )
    print(
        f"ingest: {elapsed:.1f} s wall, {cpu:.1f} s CPU, {list_rows / elapsed:,.0f} rows/s, "
        f"peak RSS {peak_mb:,.0f} MB, cores available {os.cpu_count()}"
    )
    for name, c in report.counts.items():
        print(
            f"  {name:<30} read {c.read:>8,}  loaded {c.loaded:>8,}  "
            f"quarantined {c.quarantined:>6,}  duplicates {c.duplicates:>8,}"
        )
    print(f"target <= 30 s: {'met' if elapsed <= 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
