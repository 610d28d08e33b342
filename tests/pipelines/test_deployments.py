"""The schedules: built from the settings, registered on a real (temporary) Prefect server and
read back, without serving anything forever; prefect.yaml says the same as the settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from frontdoor.pipelines.deployments import SERVED_SUFFIX, build_deployments, schedule_rows
from frontdoor.settings import Settings

pytestmark = [pytest.mark.xdist_group("pipelines")]
ROOT = Path(__file__).resolve().parents[2]


def test_deployments_carry_the_configured_schedules():
    settings = Settings(pipelines={"scoring_cron": "30 1 * * *"})
    built = {
        d.name.removesuffix(SERVED_SUFFIX): d
        for d in build_deployments(settings, config="/etc/frontdoor.yaml")
    }
    assert set(built) == {"nightly-scoring", "weekly-monitoring", "monthly-retraining"}
    crons = {name: d.schedules[0].schedule.cron for name, d in built.items()}
    assert crons == {
        "nightly-scoring": "30 1 * * *",
        "weekly-monitoring": settings.pipelines.monitoring_cron,
        "monthly-retraining": settings.pipelines.retraining_cron,
    }
    assert all(d.schedules[0].schedule.timezone == "Europe/London" for d in built.values())
    assert all(d.parameters["config"] == "/etc/frontdoor.yaml" for d in built.values())
    assert all(d.parameters["root"] == str(ROOT) for d in built.values())
    assert built["nightly-scoring"].flow_name == "score"
    assert built["monthly-retraining"].flow_name == "retrain"


def test_prefect_yaml_matches_the_settings():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    settings = Settings()
    rows = {r["deployment"]: r for r in schedule_rows(settings)}
    found = {d["name"]: d for d in spec["deployments"]}
    assert set(found) == set(rows)
    for name, d in found.items():
        assert d["schedules"][0]["cron"] == rows[name]["cron"]
        assert d["schedules"][0]["timezone"] == settings.pipelines.timezone
        module, function = d["entrypoint"].split(":")
        flow = getattr(
            __import__(module.removesuffix(".py").replace("/", "."), fromlist=[function]), function
        )
        assert flow.name == rows[name]["flow"]


@pytest.mark.slow
def test_deployments_register_on_a_prefect_server_with_their_schedules(prefect_harness):
    from prefect.client.orchestration import get_client

    settings = Settings()
    ids = [d.apply() for d in build_deployments(settings, config="frontdoor.yaml")]
    assert len(ids) == 3

    async def read():
        async with get_client() as client:
            nightly = await client.read_deployment_by_name(f"score/nightly-scoring{SERVED_SUFFIX}")
            schedules = await client.read_deployment_schedules(nightly.id)
            return nightly, schedules

    nightly, schedules = asyncio.run(read())
    assert nightly.parameters == {"config": "frontdoor.yaml", "root": str(ROOT)}
    assert [s.schedule.cron for s in schedules] == [settings.pipelines.scoring_cron]
    assert schedules[0].active


def test_cli_lists_the_flows_and_the_schedules():
    from frontdoor.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["flow", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for name in ("ingest", "build-features", "train", "audit", "score", "monitor", "demo"):
        assert name in listed.output
    schedules = runner.invoke(app, ["deployments"], env={"COLUMNS": "200"})
    assert schedules.exit_code == 0, schedules.output
    assert "0 2 * * *" in schedules.output and "monthly-retraining" in schedules.output
    unknown = runner.invoke(app, ["flow", "run", "nonsense"], env={"COLUMNS": "200"})
    assert unknown.exit_code == 2 and "No flow called" in unknown.output


@pytest.mark.slow
def test_deployments_register_for_a_worker_on_a_work_pool(prefect_harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from frontdoor.pipelines.deployments import register_for_worker

    async def make_pool():
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name="frontdoor-test", type="process"))

    asyncio.run(make_pool())
    settings = Settings()
    ids = register_for_worker(settings, str(ROOT), "frontdoor-test", config="frontdoor.yaml")
    assert len(ids) == 3

    async def read():
        async with get_client() as client:
            monthly = await client.read_deployment_by_name("retrain/monthly-retraining")
            return monthly, await client.read_deployment_schedules(monthly.id)

    monthly, schedules = asyncio.run(read())
    assert monthly.work_pool_name == "frontdoor-test"
    assert monthly.entrypoint == "pipelines/flows.py:retrain_flow"
    assert [s.schedule.cron for s in schedules] == [settings.pipelines.retraining_cron]
