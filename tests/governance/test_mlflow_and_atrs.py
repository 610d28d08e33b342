"""MLflow a data scientist enjoys, and the ATRS record in the official (v3.0) form.

Findings of issue 14: 2,052 metrics per run (1,631 of them fairness), folds as separate keys
that cannot be plotted, random run names, "Fairness audit pending" after the audit, the model
cloudpickled; a custom 38-field ATRS JSON that claimed "the council's own records" on
synthetic data."""

from __future__ import annotations

import copy
import json

import jsonschema
import mlflow
import pytest
from governance_helpers import LABEL

from frontdoor.governance.atrs import schema, validate
from frontdoor.governance.report import build_report
from frontdoor.models import registry
from frontdoor.models.tracking import client

pytestmark = pytest.mark.slow


def test_runs_have_names_descriptions_plottable_folds_and_few_metric_keys(governed):
    settings, _, good, _, _ = governed
    mv = registry.get_version(settings, LABEL, good)
    c = client(settings)
    run = c.get_run(mv.run_id)
    assert run.info.run_name.startswith(f"{LABEL} lightgbm, 3 folds")
    assert "Backtest AUC" in run.data.tags["mlflow.note.content"]
    history = c.get_metric_history(mv.run_id, "fold/lightgbm_auc")
    assert sorted(m.step for m in history) == [0, 1, 2]
    keys = set(run.data.metrics)
    assert len(keys) < 200, len(keys)
    assert not [k for k in keys if k.startswith("fairness/")]
    assert {"fairness_gate_passed", "fairness_max_fnr_ratio", "lightgbm_auc_ci_low"} <= keys
    table = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/fairness/audit_table.json")
    assert {"characteristic", "group", "metric", "value"} <= set(table["columns"])
    assert len(table["data"]) > 50


def test_version_descriptions_follow_the_audit_and_the_promotion(governed):
    settings, _, good, _, _ = governed
    text = registry.get_version(settings, LABEL, good).description
    assert "pending" not in text
    assert "Fairness audit" in text and ("PASSED" in text or "FAILED" in text)
    assert "Champion since" in text and "Head of data, test" in text


def test_the_model_is_logged_from_code_not_cloudpickled(governed, tmp_path):
    settings, _, good, _, _ = governed
    mv = registry.get_version(settings, LABEL, good)
    local = mlflow.artifacts.download_artifacts(
        run_id=mv.run_id, artifact_path="model", dst_path=str(tmp_path)
    )
    mlmodel = (tmp_path / "model" / "MLmodel").read_text()
    assert "model_code_path" in mlmodel and "python_model.pkl" not in mlmodel
    assert not list((tmp_path / "model").rglob("python_model.pkl")) and local
    native = registry.load_native(settings, LABEL, good)
    assert native.label == LABEL


@pytest.fixture(scope="module")
def report(governed, tmp_path_factory):
    settings, features, good, _, _ = governed
    out = tmp_path_factory.mktemp("report") / "report.html"
    return build_report(settings, LABEL, good, out, features=features)


def test_every_atrs_record_validates_against_the_v3_schema(report):
    record = json.loads(report.atrs_path.read_text())
    validate(record)  # raises if not
    assert (
        record["template_version"] == "3.0"
        and record["metadata"]["standard_version"]["value"] == "3.0"
    )
    assert set(record["tier_2"]) == {
        "owner_and_responsibility",
        "description_and_rationale",
        "decision_making_process",
        "tool_specification",
        "risks_mitigations_and_impact_assessments",
    }
    model = record["tier_2"]["tool_specification"]["models"][0]
    assert model["model_input"]["filled_by"] == "pipeline" and model["model_output"]["value"]
    assert record["dataset_cards"][0]["data_modality"]["value"] == "Tabular"
    council = record["tier_1"]["contact_email"]
    assert council == {**council, "value": None, "status": "to be completed by the council"}
    assert "tier_1.contact_email" in record["completion"]["to_be_completed_by_council"]


def test_the_schema_rejects_what_the_template_does_not_allow(report):
    record = json.loads(report.atrs_path.read_text())
    broken = []
    a = copy.deepcopy(record)
    del a["tier_2"]["decision_making_process"]
    broken.append(a)
    b = copy.deepcopy(record)
    b["tier_1"]["name"]["value"] = None  # a pipeline field left empty
    broken.append(b)
    c = copy.deepcopy(record)
    c["tier_2"]["tool_specification"]["phase"]["value"] = "Live-ish"
    c["tier_2"]["tool_specification"]["phase"]["status"] = "complete"
    broken.append(c)
    d = copy.deepcopy(record)
    d["tier_1"]["custom_field"] = d["tier_1"]["name"]
    broken.append(d)
    for bad in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema())


def test_synthetic_records_never_claim_the_councils_own_records(report):
    record = json.loads(report.atrs_path.read_text())
    assert record["synthetic_data"] is True
    text = json.dumps(record)
    assert "the council's own" not in text and "synthetic council" in text
