"""Scale-out: the same flows on a real Dask cluster (a LocalCluster of 2 worker processes on
loopback): one task per council, and one task per temporal fold of a training, in parallel;
the folds combined on the cluster give the metrics of the in-process backtest."""

from __future__ import annotations

import pandas as pd
import pytest

from frontdoor.pipelines import tasks as t
from frontdoor.pipelines.flows import council_settings
from frontdoor.pipelines.runners import run_flow

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipelines")]


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    yield cluster, client
    client.close()
    cluster.close()


def test_per_council_ingest_and_per_fold_training_run_in_parallel_on_two_dask_workers(
    prefect_harness, dask_cluster, small, tmp_path
):
    from distributed import get_task_stream

    cluster, client = dask_cluster
    councils = ["northshire", "southshire"]
    base = small(
        tmp_path,
        synth={"children": 1500},
        pipelines={"councils": councils, "dask_address": cluster.scheduler_address},
    )
    for i, council in enumerate(councils):
        own = council_settings(base, council)
        own = own.model_copy(
            update={
                "synth": own.synth.model_copy(update={"seed": 100 + i, "local_authority": council})
            }
        )
        t.synth_step.fn(own, out=str(own.resolve(own.paths.synthetic)))

    with get_task_stream(client) as stream:
        ingested = run_flow("ingest", base)
    assert set(ingested.ingest) == set(councils)
    for council in councils:
        result = ingested.ingest[council]
        assert result.balanced
        assert result.canonical.endswith(f"councils/{council}/canonical")
    ran_on = {task["worker"] for task in stream.data}
    assert len(ran_on) == 2, f"tasks ran on {ran_on}"  # both workers took a council

    # Training: one task per temporal fold, in parallel on the cluster, then the combining task.
    from frontdoor.models import registry
    from frontdoor.models.train import backtest
    from frontdoor.records.feature_table import read_feature_table

    north = council_settings(base, "northshire")
    north = north.model_copy(
        update={"pipelines": north.pipelines.model_copy(update={"councils": []})}
    )
    built = run_flow("build-features", north)
    with get_task_stream(client) as stream:
        trained = run_flow("train", north, labels=["escalation_12m"])
    (model,) = trained.train
    assert model.model_name == "frontdoor-northshire-escalation_12m"
    steps = [row.step for row in trained.steps]
    assert steps == [
        *(f"train-fold (escalation_12m fold {i})" for i in range(3)),
        "backtest (escalation_12m)",
        "train (escalation_12m)",
    ]
    folds = [task for task in stream.data if task["key"].startswith("fold_step")]
    combined = [task for task in stream.data if task["key"].startswith("backtest_step")]
    assert len(folds) == north.models.splits.folds and len(combined) == 1, [
        task["key"] for task in stream.data
    ]
    ran_on = {task["worker"] for task in folds}
    assert len(ran_on) == 2, f"the fold tasks ran on {ran_on}"  # both workers took a fold
    spans = sorted(
        (task["startstops"][0]["start"], task["startstops"][-1]["stop"]) for task in folds
    )
    assert spans[1][0] < spans[0][1], "no two fold tasks overlapped in time"
    assert combined[0]["startstops"][0]["start"] >= max(stop for _, stop in spans)

    # The folds fitted apart on the workers give the metrics of one in-process backtest.
    table = read_feature_table(built.features[""].features)
    here = backtest(table, "escalation_12m", north)
    logged = registry.run_metrics(north, model.run_id)
    expected = here.metrics[logged.columns.tolist()]
    pd.testing.assert_frame_equal(logged, expected, check_dtype=False)
    assert model.auc == here.metric("lightgbm", "auc")["value"]
