"""The featuretools side of the comparison (runs in benchmarks/.venv-featuretools).

featuretools 1.31 needs pandas 2.3.3, so it cannot share frontdoor's environment; this
script reads the Parquet files and feature specs written by bench_features.py, computes
the same features with `calculate_feature_matrix` (cutoff time = each decision date,
`include_cutoff_time=False`, so only records known strictly before count) and writes the
matrix back. It prints one JSON line: wall and CPU seconds, versions.

    benchmarks/.venv-featuretools/bin/python benchmarks/featuretools_side.py FOLDER
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import featuretools as ft
import pandas as pd
from featuretools.primitives import Count, TimeSinceLast
from woodwork.logical_types import Boolean, Categorical, Datetime, Integer


def main(folder: Path) -> None:
    specs = json.loads((folder / "specs.json").read_text())
    es = ft.EntitySet("frontdoor")
    children = pd.read_parquet(folder / "children.parquet")
    es.add_dataframe(
        dataframe_name="children",
        dataframe=children,
        index="child_id",
        logical_types={"child_id": Categorical},
    )
    for source in sorted({s["source"] for s in specs}):
        frame = pd.read_parquet(folder / f"{source}.parquet")
        flags = [c for c in frame.columns if c.startswith("flag__")]
        types = {"event_id": Integer, "child_id": Categorical, "time": Datetime}
        types.update({c: Boolean for c in flags})
        es.add_dataframe(
            dataframe_name=source,
            dataframe=frame,
            index="event_id",
            time_index="time",
            logical_types=types,
        )
        es.add_relationship("children", "child_id", source, "child_id")

    features = []
    for spec in specs:
        source = spec["source"]
        where = ft.IdentityFeature(es[source].ww[spec["flag"]]) if spec["flag"] else None
        window = f"{spec['window_days']} days" if spec["window_days"] else None
        if spec["agg"] == "count":
            feature = ft.Feature(
                es[source].ww["event_id"],
                parent_dataframe_name="children",
                primitive=Count,
                use_previous=window,
                where=where,
            )
        else:
            feature = ft.Feature(
                es[source].ww["time"],
                parent_dataframe_name="children",
                primitive=TimeSinceLast(unit="days"),
                use_previous=window,
                where=where,
            )
        features.append(feature.rename(spec["name"]))

    cutoffs = pd.read_parquet(folder / "cutoffs.parquet")
    started, cpu = time.perf_counter(), time.process_time()
    matrix = ft.calculate_feature_matrix(
        features,
        entityset=es,
        cutoff_time=cutoffs,
        include_cutoff_time=False,
        cutoff_time_in_index=True,
        n_jobs=1,
        verbose=False,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    matrix = matrix.reset_index().rename(columns={"child_id": "child_id", "time": "time"})
    matrix["child_id"] = matrix["child_id"].astype(str)
    for spec in specs:
        matrix[spec["name"]] = matrix[spec["name"]].astype(float)
    matrix[["child_id", "time", *[s["name"] for s in specs]]].to_parquet(
        folder / "featuretools_matrix.parquet", index=False
    )
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "featuretools": ft.__version__,
                "pandas": pd.__version__,
                "rows": len(matrix),
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
