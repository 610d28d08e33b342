"""The UK Algorithmic Transparency Recording Standard (ATRS) record for a model version.

Tier 1 is the short public summary; Tier 2 the detail in five areas (owner and responsibility;
description and rationale; decision-making process and human oversight; tool specification;
risks, mitigations and impact assessments). Each field says who filled it: ``pipeline`` for what
frontdoor knows from the run, ``council`` for what only the council can write (left empty and
marked "to be completed by the council"). Exported as JSON beside the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from frontdoor import REVIEW_NOTICE

COUNCIL = "council"
PIPELINE = "pipeline"
TO_COMPLETE = "TO BE COMPLETED BY THE COUNCIL"
STANDARD = "UK Algorithmic Transparency Recording Standard (ATRS), Tier 1 and Tier 2"


@dataclass
class Field:
    key: str
    title: str
    value: str | None
    filled_by: str  # "pipeline" or "council"
    guidance: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.value)

    def as_dict(self) -> dict:
        return {**asdict(self), "complete": self.complete, "value": self.value or TO_COMPLETE}


def council(key: str, title: str, guidance: str, draft: str | None = None) -> Field:
    """A field only the council can complete (a pipeline draft may be offered as guidance)."""
    text = guidance + (f" Suggested wording: {draft}" if draft else "")
    return Field(key, title, None, COUNCIL, text)


def pipeline(key: str, title: str, value: str) -> Field:
    return Field(key, title, value, PIPELINE)


def build_atrs(facts: dict) -> dict[str, list[Field]]:
    """The record's sections from what the pipeline knows (``facts``, see `models.report`)."""
    label_text = facts["label_text"]
    tier1 = [
        pipeline(
            "name", "Name", f"frontdoor: {label_text} flag for the children's services front door"
        ),
        pipeline(
            "description",
            "Plain-English description",
            "When a referral about a child reaches the front door (the multi-agency safeguarding "
            "hub), frontdoor looks at what the council's own records already held about the child "
            f"and their household before that day, estimates the chance of {label_text}, and "
            "flags the referrals with the highest chance so that a manager looks at the child's "
            f"history with the reasons shown. {REVIEW_NOTICE} It never decides, closes or "
            "screens out a referral.",
        ),
        council("website", "Website", "Where the public can read more about the tool."),
        council("contact", "Contact email", "A contact for questions about the tool."),
    ]
    owner = [
        council("organisation", "Organisation", "The local authority that uses the tool."),
        council("team", "Team", "The team responsible (for example children's services data)."),
        council(
            "senior_responsible_owner",
            "Senior responsible owner",
            "A named role, not a person's private details.",
        ),
        pipeline(
            "third_parties",
            "External supplier or third parties",
            "Built with open-source software (frontdoor, scikit-learn, LightGBM, SHAP, fairlearn, "
            "MLflow). No data leave the council's systems for training or scoring.",
        ),
        council(
            "supplier_access",
            "Supplier access to data",
            "Who, if anyone, outside the council can access the data.",
        ),
    ]
    description = [
        pipeline("detailed_description", "Detailed description", facts["model_description"]),
        pipeline(
            "scope",
            "Scope",
            "Referrals to children's social care at the front door of one English local authority. "
            "Not for use outside the front door, for any other population, or to make or support a "
            "decision about a person without professional review.",
        ),
        council(
            "benefit",
            "Benefit",
            "Why the council uses it.",
            "Inspection found that a child's history was not analysed when a new referral arrived; "
            "the flag brings repeat referrals, neglect and domestic-abuse history to a manager's "
            "attention.",
        ),
        council("previous_process", "Previous process", "How referrals were prioritised before."),
        pipeline(
            "alternatives",
            "Alternatives considered",
            "An interpretable scorecard (regularised logistic regression) and a current-practice "
            f"rule ({facts['rule_text']}) are evaluated beside the deployed model on the same test "
            "periods; see the model card's performance table.",
        ),
    ]
    process = [
        pipeline(
            "process_integration",
            "Process integration",
            "Scores are written to a review queue. MASH managers open each flagged referral with its "
            "reasons and the child's chronology and record their own decision and rationale. The "
            "tool does not change what the front door must do with any referral.",
        ),
        pipeline(
            "provided_information",
            "Information provided to the decision maker",
            "A calibrated probability, a band, and the top reasons raising and lowering it, each in "
            f"plain English from the feature catalogue. Every screen says: {REVIEW_NOTICE}",
        ),
        pipeline("frequency_scale", "Frequency and scale of use", facts["scale_text"]),
        pipeline(
            "human_decisions",
            "Human decisions and review",
            "Every decision is made by a social work manager. Flags prompt review only; unflagged "
            "referrals are handled exactly as before. Managers' decisions and their reasons are "
            "recorded and monitored against the flags.",
        ),
        council(
            "required_training",
            "Required training",
            "Training managers receive before using the flags.",
        ),
        council(
            "appeals",
            "Appeals and review",
            "How a family or professional can challenge the use of the tool.",
        ),
    ]
    spec = [
        pipeline("architecture", "System architecture", facts["architecture_text"]),
        council("phase", "Phase", "Idea, design, development, pilot or production."),
        pipeline("maintenance", "Maintenance", facts["maintenance_text"]),
        pipeline("model_name", "Model name and version", facts["model_id_text"]),
        pipeline("model_type", "Model type and task", facts["model_type_text"]),
        pipeline("model_performance", "Model performance", facts["performance_text"]),
        pipeline("data_sources", "Data sources", facts["data_text"]),
        pipeline("data_description", "Data used, dates and counts", facts["data_dates_text"]),
        pipeline("features", "Features (inputs)", facts["features_text"]),
        pipeline(
            "sensitive_data",
            "Sensitive characteristics",
            "Ethnicity, sex, age band, disability and deprivation (IDACI) are not model inputs; "
            "they are kept beside the scores only to audit fairness.",
        ),
        council("data_sharing", "Data sharing", "Any data sharing agreements that apply."),
        pipeline(
            "data_access_storage",
            "Data access and storage",
            "Identifiers are pseudonymised with a keyed hash before features, models, logs or "
            "reports; no names, dates of birth or free text are kept in artifacts. Published tables "
            "show counts from 1 to 5 as c.",
        ),
    ]
    risks = [
        council("dpia", "Data protection impact assessment", "Reference and date of the DPIA."),
        council(
            "eia",
            "Equality impact assessment",
            "Reference and date of the equality impact assessment.",
        ),
        pipeline("fairness_audit", "Fairness audit", facts["fairness_text"]),
        pipeline(
            "label_limits",
            "Risk: what the outcome measures",
            "The outcome records how services responded as well as what the child needed. Groups "
            "who are referred or watched more are labelled more, so the model can learn and repeat "
            "that pattern. The fairness audit compares error rates between groups, and the flag is "
            "only ever a prompt for review.",
        ),
        pipeline(
            "automation_bias",
            "Risk: over-reliance on the flag",
            "Managers may defer to a flag or ignore an unflagged case. Mitigations: reasons with "
            "every flag, the review notice on every screen, decisions recorded with rationale, and "
            "monitoring of agreement rates and drift.",
        ),
        council(
            "other_risks",
            "Other risks and mitigations",
            "Risks the council has identified locally and what it does about them.",
        ),
    ]
    return {
        "tier_1": tier1,
        "owner_and_responsibility": owner,
        "description_and_rationale": description,
        "decision_making_process": process,
        "tool_specification": spec,
        "risks_mitigations_and_impact_assessments": risks,
    }


SECTION_TITLES = {
    "tier_1": "Tier 1: summary",
    "owner_and_responsibility": "Tier 2 · 1. Owner and responsibility",
    "description_and_rationale": "Tier 2 · 2. Description and rationale",
    "decision_making_process": "Tier 2 · 3. Decision-making process and human oversight",
    "tool_specification": "Tier 2 · 4. Tool specification",
    "risks_mitigations_and_impact_assessments": "Tier 2 · 5. Risks, mitigations and impact assessments",
}


def atrs_json(sections: dict[str, list[Field]], meta: dict) -> dict:
    """The record as JSON: every field with its value (or the to-complete marker) and filler."""
    fields = [f for fs in sections.values() for f in fs]
    return {
        "standard": STANDARD,
        "notice": REVIEW_NOTICE,
        **meta,
        "completion": {
            "filled_by_pipeline": sum(f.filled_by == PIPELINE for f in fields),
            "to_be_completed_by_council": [f.key for f in fields if not f.complete],
        },
        "sections": {
            key: {"title": SECTION_TITLES[key], "fields": [f.as_dict() for f in fs]}
            for key, fs in sections.items()
        },
    }
