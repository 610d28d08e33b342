"""MLflow as a tracking server on a real PostgreSQL, as a consortium would run it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("pipelines")]


def test_a_run_a_registered_model_and_an_alias_live_in_postgresql(
    mlflow_server_url, postgres_uri, tmp_path
):
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    url, artifacts = mlflow_server_url
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    experiment_id = client.create_experiment("frontdoor-server-test")
    # Both URIs: an earlier test in this process may have set the registry URI globally.
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    try:
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_metric("auc", 0.71)
            mlflow.log_param("seed", 7)
            model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                serialization_format="cloudpickle",
                pip_requirements=["scikit-learn"],
            )
        version = mlflow.register_model(info.model_uri, "frontdoor-server-test")
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    client.set_registered_model_alias("frontdoor-server-test", "challenger", version.version)

    # Read back through the server...
    aliased = client.get_model_version_by_alias("frontdoor-server-test", "challenger")
    assert aliased.version == version.version
    assert client.get_run(run.info.run_id).data.metrics["auc"] == pytest.approx(0.71)
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    try:  # the model comes back through the server's proxied artifact store
        loaded = mlflow.sklearn.load_model("models:/frontdoor-server-test@challenger")
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]
    # ...and check it really is in PostgreSQL, and the artifacts in the shared store.
    engine = sa.create_engine(postgres_uri)
    with engine.connect() as conn:
        alias = conn.execute(
            sa.text("select alias, version from registered_model_aliases where name = :n"),
            {"n": "frontdoor-server-test"},
        ).one()
        metric = conn.execute(
            sa.text("select value from metrics where run_uuid = :r and key = 'auc'"),
            {"r": run.info.run_id},
        ).scalar_one()
    engine.dispose()
    assert alias == ("challenger", int(version.version))
    assert metric == pytest.approx(0.71)
    assert any(p.name == "MLmodel" for p in artifacts.rglob("MLmodel"))


def test_the_train_audit_and_score_flows_run_against_the_tracking_server(
    prefect_harness, mlflow_server_url, small, tmp_path
):
    """The flows do not care where MLflow lives: the same train, audit and score against a
    tracking server on PostgreSQL, with the artifacts in its shared store."""
    from frontdoor.pipelines import tasks as t
    from frontdoor.pipelines.runners import run_flow

    url, artifacts = mlflow_server_url
    settings = small(tmp_path, synth={"children": 1500}, tracking={"tracking_uri": url})
    t.synth_step.fn(settings, out=str(settings.resolve(settings.paths.synthetic)))
    run_flow("ingest", settings)
    run_flow("build-features", settings)
    trained = run_flow("train", settings).train[0]
    assert trained.model_name == "frontdoor-escalation_12m"
    audited = run_flow(
        "audit",
        settings,
        override_rationale="Test of the server deployment on synthetic data only.",
        by="tests",
    )
    assert audited.models[0].promotion.promoted is True
    scored = run_flow("score", settings).score[""]
    assert scored.model_version == trained.model_version
    assert scored.scored > 0

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    champion = client.get_model_version_by_alias("frontdoor-escalation_12m", "champion")
    assert champion.version == trained.model_version
    assert champion.tags["fairness_audit"] in ("pass", "fail")
    run = client.get_run(trained.run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied by the server
    assert any(artifacts.rglob("governance-report.html"))
