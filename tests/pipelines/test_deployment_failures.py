"""Deployments that do not break (issue 18), each failure seen in the field as a test on real
components: a real Prefect engine and server (the session's temporary server, or a fresh one
started by the CLI in a subprocess), a real MLflow store, a real Dask LocalCluster."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from frontdoor.pipelines.deployments import (
    SERVED_SUFFIX,
    build_deployments,
    deployment_parameters,
    register_for_worker,
)
from frontdoor.pipelines.preflight import NothingToRunOn
from frontdoor.settings import Settings
from tests.support import TEST_KEY

pytestmark = [pytest.mark.xdist_group("pipelines")]
ROOT = Path(__file__).resolve().parents[2]


def _read(coro_fn):
    from prefect.client.orchestration import get_client

    async def run():
        async with get_client() as client:
            return await coro_fn(client)

    return asyncio.run(run())


def _project(tmp_path: Path, **sections) -> Path:
    """A project folder with its own frontdoor.yaml (what a deployment's `root` points at)."""
    config = {
        "privacy": {"pseudonym_key": TEST_KEY},
        "synth": {"children": 1500},
        "models": {"bootstrap_samples": 20},
        "pipelines": {"ephemeral_startup_seconds": 300},
        **sections,
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "frontdoor.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return tmp_path


@pytest.mark.slow
def test_deploy_without_a_work_pool_creates_it_instead_of_a_traceback(prefect_harness, tmp_path):
    from frontdoor.cli import app

    project = _project(tmp_path)
    result = CliRunner().invoke(
        app,
        ["--config", str(project / "frontdoor.yaml"), "deploy", "--work-pool", "fresh-pool"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Created the work pool 'fresh-pool'" in result.output
    pool = _read(lambda c: c.read_work_pool("fresh-pool"))
    assert pool.type == "process"
    nightly = _read(lambda c: c.read_deployment_by_name("score/nightly-scoring"))
    assert nightly.work_pool_name == "fresh-pool"


def test_deploy_without_a_prefect_server_says_what_to_run(tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from frontdoor.cli import app

    project = _project(tmp_path)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(
            app, ["--config", str(project / "frontdoor.yaml"), "deploy"], env={"COLUMNS": "300"}
        )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert "no Prefect server is configured" in result.output
    assert "prefect work-pool create frontdoor --type process" in result.output


@pytest.mark.slow
def test_deploy_and_serve_flows_on_one_server_never_replace_each_other(prefect_harness):
    from prefect.client.schemas.actions import WorkPoolCreate

    _read(lambda c: c.create_work_pool(WorkPoolCreate(name="both", type="process")))
    settings = Settings()
    register_for_worker(settings, str(ROOT), "both", config="frontdoor.yaml")
    served = [d.apply() for d in build_deployments(settings, config="frontdoor.yaml")]
    assert len(set(served)) == 3

    async def all_of_them(client):
        return await client.read_deployments()

    found = {d.name: d for d in _read(all_of_them)}
    for name in ("nightly-scoring", "weekly-monitoring", "monthly-retraining"):
        worker, local = found[name], found[name + SERVED_SUFFIX]
        assert worker.id != local.id
        assert worker.work_pool_name == "both"  # the worker's copy kept its pool and code
        assert worker.pull_steps, "the worker deployment lost where its code comes from"
        assert local.work_pool_name is None
        assert worker.parameters["root"] == local.parameters["root"] == str(ROOT)


def test_every_deployment_carries_the_project_root_explicitly(tmp_path):
    settings = Settings(paths={"root": str(tmp_path)})
    assert deployment_parameters(settings, "frontdoor.yaml") == {
        "root": str(tmp_path),
        "config": "frontdoor.yaml",
    }
    for d in build_deployments(settings):
        assert d.parameters == {"root": str(tmp_path)}
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert all("root" in d["parameters"] for d in spec["deployments"])


@pytest.mark.slow
def test_a_scheduled_run_from_a_project_without_data_says_so_and_fails(
    prefect_harness, tmp_path, monkeypatch
):
    from frontdoor.pipelines.flows import score_flow

    project = _project(tmp_path / "project")
    elsewhere = tmp_path / "worker-temp"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a worker running from a temporary directory
    with pytest.raises(NothingToRunOn, match="no council extracts in .*project"):
        score_flow(config="frontdoor.yaml", root=str(project))
    assert not (elsewhere / "mlflow.db").exists() and not (project / "mlflow.db").exists()
    with pytest.raises(NothingToRunOn, match="does not exist"):
        score_flow(config="frontdoor.yaml", root=str(tmp_path / "nowhere"))


@pytest.mark.slow
def test_a_scheduled_run_without_a_registered_model_says_so_and_creates_no_store(
    prefect_harness, tmp_path, monkeypatch
):
    from frontdoor.pipelines import tasks as t
    from frontdoor.pipelines.flows import score_flow
    from frontdoor.pipelines.preflight import scheduled_settings

    project = _project(tmp_path)
    settings = scheduled_settings("frontdoor.yaml", str(project))
    t.synth_step.fn(settings, out=str(settings.resolve(settings.paths.synthetic)))
    monkeypatch.chdir(ROOT.parent)  # not the project: the root parameter decides
    with pytest.raises(NothingToRunOn, match="no MLflow store at .*mlflow.db"):
        score_flow(config="frontdoor.yaml", root=str(project))
    assert not (project / "mlflow.db").exists()


def test_the_cli_sets_prefect_home_from_the_settings(tmp_path, monkeypatch):
    from frontdoor.cli import app

    home = tmp_path / "prefect-home"
    project = _project(tmp_path, pipelines={"prefect_home": str(home)})
    monkeypatch.setenv("PREFECT_HOME", str(Path.home() / ".prefect"))  # what it replaces
    result = CliRunner().invoke(app, ["--config", str(project / "frontdoor.yaml"), "version"])
    assert result.exit_code == 0, result.output
    assert os.environ["PREFECT_HOME"] == str(home)


@pytest.mark.slow
def test_build_features_for_one_council_runs_on_dask(prefect_harness, small, tmp_path):
    from distributed import Client, LocalCluster, get_task_stream

    from frontdoor.pipelines import tasks as t
    from frontdoor.pipelines.runners import run_flow

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        settings = small(
            tmp_path,
            synth={"children": 1500},
            pipelines={"dask_address": cluster.scheduler_address},
        )
        w = settings.resolve
        t.synth_step.fn(settings, out=str(w(settings.paths.synthetic)))
        t.ingest_step.fn(
            settings, sources=w(settings.paths.synthetic), out=str(w("data/canonical"))
        )
        with Client(cluster) as client, get_task_stream(client) as stream:
            result = run_flow("build-features", settings)
    assert result.features[""].decisions > 0
    assert len(stream.data) >= 1, "the feature build never reached the Dask cluster"


@pytest.mark.slow
def test_dask_local_uses_one_temporary_prefect_server_and_keeps_the_terminal_quiet(small, tmp_path):
    """In a fresh process with no Prefect server configured, as a user runs it: one temporary
    server for the run (the Dask workers used to start one each), library output in the log."""
    from frontdoor.pipelines import tasks as t

    settings = small(tmp_path, synth={"children": 1500})
    w = settings.resolve
    t.synth_step.fn(settings, out=str(w(settings.paths.synthetic)))
    t.ingest_step.fn(settings, sources=w(settings.paths.synthetic), out=str(w("data/canonical")))
    config = tmp_path / "frontdoor.yaml"
    dumped = settings.model_dump(mode="json")
    dumped["privacy"]["pseudonym_key"] = TEST_KEY
    dumped["pipelines"]["ephemeral_startup_seconds"] = 300
    config.write_text(yaml.safe_dump(dumped), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FRONTDOOR_"))}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("frontdoor")), "--config", str(config)]
        + ["flow", "run", "build-features", "--dask", "local", "--no-cache"],
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    log = (tmp_path / ".frontdoor/logs/frontdoor.log").read_text(encoding="utf-8")
    assert log.count("Starting temporary server") == 1, log[-3000:]
    assert (tmp_path / ".prefect").is_dir()  # PREFECT_HOME from the settings, not ~/.prefect
    assert "Warning" not in done.stdout + done.stderr and "INFO" not in done.stdout + done.stderr


@pytest.mark.slow
def test_a_temporary_server_that_does_not_answer_in_time_is_said_plainly(tmp_path):
    """Under load a cold start of the temporary server took more than the 90 s allowed and the
    demo ended in a traceback; now the command says what happened and what to change."""
    project = _project(tmp_path, pipelines={"ephemeral_startup_seconds": 1})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / ".prefect")
    done = subprocess.run(
        [sys.executable, "-c", "from frontdoor.cli import main; main()"]
        + ["--config", str(project / "frontdoor.yaml"), "flow", "run", "demo"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=project,
    )
    out = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, out
    assert "Traceback" not in out
    assert "did not answer within 1 s" in out and "ephemeral_startup_seconds" in out
