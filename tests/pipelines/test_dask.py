"""Scale-out: the same flows on a real Dask cluster (a LocalCluster of 2 worker processes on
loopback): one task per council, and one training task per label, in parallel."""

from __future__ import annotations

import pytest

from pipelines import tasks as t
from pipelines.flows import council_settings
from pipelines.runners import run_flow

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


def test_per_council_ingest_and_per_label_training_run_in_parallel_on_two_dask_workers(
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
    assert set(ingested["ingest"]) == set(councils)
    for council in councils:
        result = ingested["ingest"][council]
        assert result["balanced"]
        assert result["outputs"]["canonical"].endswith(f"councils/{council}/canonical")
    ran_on = {task["worker"] for task in stream.data}
    assert len(ran_on) == 2, f"tasks ran on {ran_on}"  # both workers took a council

    # Training: one task per label, in parallel, on the cluster.
    north = council_settings(base, "northshire")
    north = north.model_copy(
        update={"pipelines": north.pipelines.model_copy(update={"councils": []})}
    )
    run_flow("build-features", north)
    with get_task_stream(client) as stream:
        trained = run_flow("train", north, labels=["escalation_12m", "rereferral_12m"])
    assert {m["label"] for m in trained["train"]} == {"escalation_12m", "rereferral_12m"}
    assert all(m["model_name"].startswith("frontdoor-northshire-") for m in trained["train"])
    assert len({task["worker"] for task in stream.data}) == 2
    starts = sorted(
        (task["startstops"][0]["start"], task["startstops"][-1]["stop"]) for task in stream.data
    )
    assert starts[1][0] < starts[0][1], "the two trainings did not overlap in time"
