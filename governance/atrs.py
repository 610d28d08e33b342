"""The UK Algorithmic Transparency Recording Standard (ATRS) record for a model version, in the
structure of the official template, version 3.0: Metadata, Tier 1 (overview for the public),
Tier 2 in five sections (owner and responsibility; description and rationale; decision-making
process; tool specification, with the model; risks, mitigations and impact assessments) and
the optional dataset card. The JSON Schema is ``governance/schemas/atrs-3.0.schema.json``;
every record is validated against it before it is written.

Each attribute says who filled it: ``pipeline`` for what frontdoor knows from the run, ``council``
for what only the council can write (value null, status "to be completed by the council",
with guidance and sometimes a suggested wording).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from frontdoor import REVIEW_NOTICE

COUNCIL = "council"
PIPELINE = "pipeline"
TO_COMPLETE = "to be completed by the council"
STANDARD = "UK Algorithmic Transparency Recording Standard"
TEMPLATE_VERSION = "3.0"
SCHEMA_FILE = "atrs-3.0.schema.json"


@dataclass
class Field:
    title: str
    value: str | None
    filled_by: str  # "pipeline" or "council"
    guidance: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.value)

    def as_dict(self) -> dict:
        out = {
            "title": self.title,
            "value": self.value or None,
            "filled_by": self.filled_by,
            "status": "complete" if self.complete else TO_COMPLETE,
        }
        if self.guidance:
            out["guidance"] = self.guidance
        return out


def council(title: str, guidance: str, draft: str | None = None) -> Field:
    """An attribute only the council can complete (a pipeline draft may be offered)."""
    return Field(title, None, COUNCIL, guidance + (f" Suggested wording: {draft}" if draft else ""))


def pipeline(title: str, value: str) -> Field:
    return Field(title, value, PIPELINE)


def _records_text(facts: dict) -> str:
    if facts["synthetic"]:
        return "records of a synthetic council generated for demonstration (no real child)"
    return "the council's own children's social care records"


def metadata(facts: dict) -> dict[str, Field]:
    return {
        "title": pipeline("Title", f"frontdoor: {facts['label_text']} flag for the front door"),
        "organisation": council("Organisation", "The local authority that uses the tool."),
        "function": pipeline("Function", "Children's social care (front door / MASH)"),
        "phase": council("Phase", "Pre-deployment, Beta/Pilot, Production or Retired."),
        "geographic_region": council("Geographic region", "The area the council serves."),
        "date_published": council("Date published", "When the council publishes the record."),
        "date_updated": pipeline("Date updated", facts["today"]),
        "standard_version": pipeline("Standard version", TEMPLATE_VERSION),
    }


def tier_1(facts: dict) -> dict[str, Field]:
    return {
        "name": pipeline(
            "Name", f"frontdoor: {facts['label_text']} flag for the children's services front door"
        ),
        "description": pipeline(
            "Description",
            "When a referral about a child reaches the front door (the multi-agency safeguarding "
            f"hub), frontdoor looks at what {_records_text(facts)} already held about the child "
            f"and their household before that day, estimates the chance of {facts['label_text']}, "
            "and flags the referrals with the highest chance so that a manager looks at the "
            f"child's history with the reasons shown. {REVIEW_NOTICE} It never decides, closes "
            "or screens out a referral.",
        ),
        "website": council("Website", "Where the public can read more about the tool."),
        "contact_email": council("Contact email", "A contact for questions about the tool."),
    }


def owner(facts: dict) -> dict[str, Field]:
    return {
        "organisation_or_department": council("Organisation or department", "The local authority."),
        "team": council("Team", "The team responsible (for example children's services data)."),
        "senior_responsible_owner": council(
            "Senior responsible owner", "A named role, not a person's private details."
        ),
        "external_supplier_involvement": pipeline(
            "External supplier involvement",
            "No supplier: built with open-source software (frontdoor, scikit-learn, LightGBM, "
            "SHAP, fairlearn, MLflow, Prefect). No data leave the council's systems.",
        ),
        "external_supplier": council("External supplier", "Any supplier the council uses."),
        "companies_house_number": council("Companies House number", "The supplier's, if any."),
        "external_supplier_role": council("External supplier role", "What the supplier does."),
        "procurement_procedure_type": council(
            "Procurement procedure type", "How any supplier was procured."
        ),
        "data_access_terms": council(
            "Data access terms for the external supplier", "Who outside the council sees data."
        ),
    }


def description(facts: dict) -> dict[str, Field]:
    return {
        "detailed_description": pipeline("Detailed description", facts["model_description"]),
        "scope": pipeline(
            "Scope",
            "Referrals to children's social care at the front door of one English local "
            "authority. Not for use outside the front door, for any other population, or to make "
            "or support a decision about a person without professional review.",
        ),
        "benefit": council(
            "Benefit",
            "Why the council uses it.",
            "Inspection found that a child's history was not analysed when a new referral "
            "arrived; the flag brings repeat referrals, neglect and domestic-abuse history to a "
            "manager's attention.",
        ),
        "previous_process": council("Previous process", "How referrals were prioritised before."),
        "alternatives_considered": pipeline(
            "Alternatives considered",
            "An interpretable scorecard (regularised logistic regression) and a current-practice "
            f"rule ({facts['rule_text']}) are evaluated beside the deployed model on the same "
            "test periods; see the governance report's performance table.",
        ),
    }


def process(facts: dict) -> dict[str, Field]:
    return {
        "process_integration": pipeline(
            "Process integration",
            "Scores are written to a review queue. MASH managers open each flagged referral with "
            "its reasons and the child's chronology and record their own decision and rationale. "
            "The tool does not change what the front door must do with any referral.",
        ),
        "provided_information": pipeline(
            "Provided information",
            "A calibrated probability, a band, and the top reasons raising and lowering it, each "
            f"in plain English from the feature catalogue. Every screen says: {REVIEW_NOTICE}",
        ),
        "frequency_and_scale_of_usage": pipeline(
            "Frequency and scale of usage", facts["scale_text"]
        ),
        "human_decisions_and_review": pipeline(
            "Human decisions and review",
            "Every decision is made by a social work manager. Flags prompt review only; "
            "unflagged referrals are handled exactly as before. Managers' decisions and their "
            "reasons are recorded and monitored against the flags.",
        ),
        "required_training": council(
            "Required training", "Training managers receive before using the flags."
        ),
        "appeals_and_review": council(
            "Appeals and review", "How a family or professional can challenge the tool's use."
        ),
    }


def model_entry(facts: dict) -> dict[str, Field]:
    return {
        "model_name": pipeline("Model name", facts["model_name"]),
        "model_version": pipeline("Model version", facts["model_version"]),
        "model_task": pipeline("Model task", facts["model_task_text"]),
        "model_input": pipeline("Model input", facts["features_text"]),
        "model_output": pipeline("Model output", facts["output_text"]),
        "model_architecture": pipeline("Model architecture", facts["model_type_text"]),
        "model_performance": pipeline("Model performance", facts["performance_text"]),
        "datasets": pipeline("Datasets", facts["dataset_name"]),
        "dataset_purposes": pipeline(
            "Dataset purposes",
            "Training on the oldest periods, calibration on a later one, testing on rolling later "
            "periods (temporal folds); the fairness audit on the test periods.",
        ),
    }


def specification(facts: dict) -> dict:
    return {
        "system_architecture": pipeline("System architecture", facts["architecture_text"]),
        "phase": council("Phase", "Pre-deployment, Beta/Pilot, Production or Retired."),
        "maintenance": pipeline("Maintenance", facts["maintenance_text"]),
        "models": [model_entry(facts)],
    }


def risks(facts: dict) -> dict:
    assessments = [
        {
            "assessment_title": pipeline("Assessment title", "Fairness audit and promotion gate"),
            "assessment_description": pipeline("Assessment description", facts["fairness_text"]),
            "date_completed": pipeline("Date completed", facts["audit_date"]),
            "link": pipeline("Link", "fairness/audit.html in the model's MLflow run"),
        },
        {
            "assessment_title": pipeline("Assessment title", "Data protection impact assessment"),
            "assessment_description": council("Assessment description", "The DPIA's scope."),
            "date_completed": council("Date completed", "When the DPIA was signed off."),
            "link": council("Link", "Where the DPIA is published or held."),
        },
        {
            "assessment_title": pipeline("Assessment title", "Equality impact assessment"),
            "assessment_description": council("Assessment description", "The EIA's scope."),
            "date_completed": council("Date completed", "When the EIA was signed off."),
            "link": council("Link", "Where the EIA is published or held."),
        },
    ]
    listed = [
        (
            "What the outcome measures",
            "The outcome records how services responded as well as what the child needed. "
            "Groups who are referred or watched more are labelled more, so the model can learn "
            "and repeat that pattern.",
            "A fairness audit compares error rates between groups before any promotion; the flag "
            "is only ever a prompt for review.",
        ),
        (
            "Over-reliance on the flag",
            "Managers may defer to a flag or overlook an unflagged referral.",
            "Reasons with every flag, the review notice on every screen, decisions recorded with "
            "rationale, and monitoring of agreement rates and drift.",
        ),
        (
            "A worse or unaudited model in use",
            "A retrained model could be less accurate or less fair than the one in use.",
            "Promotion requires the fairness gate (or a recorded override), non-inferiority to "
            "the champion on the same test referrals and sane bands; every promotion and refusal "
            "is in an append-only, signed log, and scoring refuses any version the log does not "
            "name.",
        ),
    ]
    return {
        "impact_assessments": assessments,
        "risks": [
            {
                "risk_name": pipeline("Risk name", name),
                "risk_description": pipeline("Risk description", text),
                "risk_mitigation": pipeline("Risk mitigation", mitigation),
            }
            for name, text, mitigation in listed
        ],
    }


def dataset_card(facts: dict) -> dict[str, Field]:
    return {
        "name": pipeline("Name", facts["dataset_name"]),
        "data_modality": pipeline("Data modality", "Tabular"),
        "data_description": pipeline("Data description", facts["data_text"]),
        "data_quantity": pipeline("Data quantity", facts["data_quantity_text"]),
        "sensitive_attributes": pipeline(
            "Sensitive attributes",
            "Ethnicity, sex, age band, disability and deprivation (IDACI) are not model inputs; "
            "they are kept beside the scores only to audit fairness. Identifiers are pseudonyms.",
        ),
        "data_completeness_and_representativeness": pipeline(
            "Data completeness and representativeness", facts["completeness_text"]
        ),
        "source_data_url": council("Source data URL", "Where the source data are described."),
        "data_collection": pipeline("Data collection", facts["collection_text"]),
        "data_cleaning": pipeline("Data cleaning", facts["cleaning_text"]),
        "data_sharing_agreements": council(
            "Data sharing agreements", "Any data sharing agreements that apply."
        ),
        "data_access_and_storage": pipeline(
            "Data access and storage",
            "Identifiers are pseudonymised with a keyed hash before features, models, logs or "
            "reports; no names, dates of birth or free text are kept in artifacts. Published "
            "tables show counts from 1 to 5 as c.",
        ),
    }


def build_atrs(facts: dict) -> dict:
    """The record's parts (fields not yet serialised) from what the pipeline knows."""
    return {
        "metadata": metadata(facts),
        "tier_1": tier_1(facts),
        "tier_2": {
            "owner_and_responsibility": owner(facts),
            "description_and_rationale": description(facts),
            "decision_making_process": process(facts),
            "tool_specification": specification(facts),
            "risks_mitigations_and_impact_assessments": risks(facts),
        },
        "dataset_cards": [dataset_card(facts)],
    }


def _serialise(value, path: str, fields: list[tuple[str, Field]]):
    if isinstance(value, Field):
        fields.append((path, value))
        return value.as_dict()
    if isinstance(value, dict):
        return {k: _serialise(v, f"{path}.{k}" if path else k, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_serialise(v, f"{path}[{i}]", fields) for i, v in enumerate(value)]
    return value


def atrs_json(parts: dict, meta: dict) -> dict:
    """The record as JSON in the template's structure, with what the council must complete."""
    fields: list[tuple[str, Field]] = []
    body = _serialise(parts, "", fields)
    record = {
        "standard": STANDARD,
        "template_version": TEMPLATE_VERSION,
        "notice": REVIEW_NOTICE,
        **meta,
        **body,
        "completion": {
            "filled_by_pipeline": sum(f.filled_by == PIPELINE for _, f in fields),
            "to_be_completed_by_council": [p for p, f in fields if not f.complete],
        },
    }
    validate(record)
    return record


def schema() -> dict:
    text = resources.files("frontdoor.governance").joinpath("schemas", SCHEMA_FILE).read_text()
    return json.loads(text)


def validate(record: dict) -> None:
    """Raise ``jsonschema.ValidationError`` unless the record fits the ATRS v3.0 schema."""
    import jsonschema

    jsonschema.validate(record, schema(), format_checker=jsonschema.FormatChecker())


SECTION_TITLES = {
    "metadata": "Metadata",
    "tier_1": "Tier 1: overview",
    "owner_and_responsibility": "Tier 2 · 1. Owner and responsibility",
    "description_and_rationale": "Tier 2 · 2. Description and rationale",
    "decision_making_process": "Tier 2 · 3. Decision-making process",
    "tool_specification": "Tier 2 · 4. Tool specification",
    "risks_mitigations_and_impact_assessments": "Tier 2 · 5. Risks, mitigations and impact assessments",
    "dataset_cards": "Dataset card",
}
