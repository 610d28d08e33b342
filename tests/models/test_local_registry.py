"""`models.local_registry` against MLflow's own client on a real store (sqlite in tmp).

The local registry reads and writes MLflow's tables without importing MLflow (a refused
promotion answers in about a second); these tests prove that what it reads is what MLflow
reads, that what it writes MLflow reads back, and that it stands aside for stores it does not
know (another schema revision, a server)."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from mlflow import MlflowClient

from frontdoor.models import local_registry
from frontdoor.models.local_registry import (
    KNOWN_REVISIONS,
    LocalRegistry,
    UnknownVersion,
    description_text,
    open_local_registry,
    sqlite_path,
)
from tests.support import make_settings

NAME = "frontdoor-escalation_12m"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A real MLflow store: a registered model with three versions (the second deleted), tags,
    aliases and a registered-model tag. Made once; each test gets a copy (`store`)."""
    root = tmp_path_factory.mktemp("registry")
    uri = local_registry.tracking_uri(make_settings(root))
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(NAME)
    experiment = client.create_experiment("e")
    runs = [client.create_run(experiment).info.run_id for _ in range(3)]
    for run_id in runs:
        client.create_model_version(NAME, f"file:///models/{run_id}", run_id=run_id)
    client.set_model_version_tag(NAME, "1", "fairness.gate", "fail")
    client.set_model_version_tag(NAME, "1", "description.base", "LightGBM for escalation_12m.")
    client.set_model_version_tag(NAME, "3", "fairness.gate", "pass")
    client.set_registered_model_alias(NAME, "challenger", "3")
    client.set_registered_model_alias(NAME, "champion", "1")
    client.set_registered_model_tag(NAME, "promotion.log_head", "1:abc")
    client.delete_model_version(NAME, "2")
    return sqlite_path(uri)


@pytest.fixture
def store(template, tmp_path):
    """A copy of the template store, with its settings and an MLflow client on it."""
    settings = make_settings(tmp_path)
    uri = local_registry.tracking_uri(settings)
    shutil.copy(template, sqlite_path(uri))
    return settings, MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_reads_what_mlflow_reads(store):
    settings, client = store
    local = open_local_registry(settings)
    assert local is not None
    for ref, number in (("1", "1"), (3, "3"), ("champion", "1"), ("challenger", "3")):
        mine = local.version(NAME, ref)
        theirs = (
            client.get_model_version(NAME, str(ref))
            if str(ref).isdigit()
            else client.get_model_version_by_alias(NAME, ref)
        )
        assert mine.version == number == str(theirs.version)
        assert mine.name == theirs.name and mine.run_id == theirs.run_id
        assert mine.tags == dict(theirs.tags)
        assert sorted(mine.aliases) == sorted(theirs.aliases)
    assert local.version(NAME, "latest").version == "3"
    assert local.versions(NAME) == ["1", "3"]  # the deleted version is gone for both
    assert local.registered_model_tag(NAME, "promotion.log_head") == "1:abc"
    assert local.registered_model_tag(NAME, "absent") is None


def test_unknown_versions_and_aliases_are_refused_as_mlflow_refuses_them(store):
    settings, client = store
    local = open_local_registry(settings)
    for ref in ("2", "99", "nobody"):  # 2 was deleted
        with pytest.raises(UnknownVersion):
            local.version(NAME, ref)
        with pytest.raises(Exception):  # noqa: B017 - MLflow's own RestException
            if ref.isdigit():
                client.get_model_version(NAME, ref)
            else:
                client.get_model_version_by_alias(NAME, ref)
    with pytest.raises(UnknownVersion):
        local.version("frontdoor-other", "1")
    with pytest.raises(UnknownVersion):
        local.set_registered_model_tag("frontdoor-other", "k", "v")
    with pytest.raises(UnknownVersion):
        local.set_version_tag(NAME, "2", "k", "v")


def test_writes_are_read_back_by_mlflow(store):
    settings, client = store
    local = open_local_registry(settings)
    before = client.get_model_version(NAME, "1").last_updated_timestamp
    local.set_registered_model_tag(NAME, "promotion.log_head", "2:def")
    local.set_registered_model_tag(NAME, "another", "x")
    local.describe(NAME, "1", "Promotion refused: the gate failed.", "promotion")
    local.set_version_tag(NAME, "3", "fairness.gate", "fail")
    model = client.get_registered_model(NAME)
    assert model.tags == {"promotion.log_head": "2:def", "another": "x"}
    one = client.get_model_version(NAME, "1")
    assert one.tags["description.promotion"] == "Promotion refused: the gate failed."
    assert one.description == description_text(dict(one.tags))
    assert one.description.startswith("LightGBM for escalation_12m. Promotion refused")
    assert one.last_updated_timestamp >= before
    assert client.get_model_version(NAME, "3").tags["fairness.gate"] == "fail"
    # MLflow still writes over what the local registry wrote (same rows, same keys)
    client.set_registered_model_tag(NAME, "promotion.log_head", "3:ghi")
    assert local.registered_model_tag(NAME, "promotion.log_head") == "3:ghi"


def test_stands_aside_for_stores_it_does_not_know(store, tmp_path):
    settings, _ = store
    assert open_local_registry(settings).revision() in KNOWN_REVISIONS  # the pinned MLflow's
    copy = tmp_path / "other.db"
    shutil.copy(sqlite_path(local_registry.tracking_uri(settings)), copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = 'a0different1'")
    other = make_settings(tmp_path, tracking={"tracking_uri": f"sqlite:///{copy}"})
    assert open_local_registry(other) is None  # another schema: MLflow is used
    server = make_settings(tmp_path, tracking={"tracking_uri": "http://127.0.0.1:5000"})
    assert open_local_registry(server) is None
    missing = make_settings(tmp_path / "empty")
    assert open_local_registry(missing) is None  # no store yet: nothing to read
    split = make_settings(
        tmp_path, tracking={"tracking_uri": f"sqlite:///{copy}", "registry_uri": "http://x:1"}
    )
    assert open_local_registry(split) is None  # the registry is what counts


def test_sqlite_uris_are_read_as_sqlalchemy_reads_them(tmp_path):
    assert sqlite_path(f"sqlite:///{tmp_path}/m.db") == tmp_path / "m.db"
    assert str(sqlite_path("sqlite:///relative/m.db")) == "relative/m.db"
    assert sqlite_path("sqlite:///m.db?timeout=5") is not None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None
    assert isinstance(LocalRegistry(tmp_path / "x.db").path, type(tmp_path))
