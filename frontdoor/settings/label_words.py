"""What each label's outcome is called in words, in one place.

The governance report, the comparison, the fairness gate's summary and the review app all say
what happened to a referral; a board reading the re-referral model's report must read "were
referred again", never "escalated". Each field is a phrase that fits one kind of sentence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelWords:
    meaning: str  # "the chance of {meaning}"
    happened: str  # "of 100 flagged referrals about 52 {happened}"
    positives: str  # "missed {positives}": the referrals that had the outcome
    ranks: str  # "it ranks {ranks} above one that did not"


LABEL_WORDS = {
    "escalation_12m": LabelWords(
        meaning="a Section 47 enquiry or a child protection plan within 12 months",
        happened="escalated",
        positives="escalations",
        ranks="a referral that escalated",
    ),
    "rereferral_12m": LabelWords(
        meaning="a new referral within 12 months",
        happened="were referred again within 12 months",
        positives="re-referrals",
        ranks="a referral followed by another within 12 months",
    ),
}


def label_words(label: str) -> LabelWords:
    """The label's words; a label without declared words reads as its own name."""
    if label in LABEL_WORDS:
        return LABEL_WORDS[label]
    name = label.replace("_", " ")
    return LabelWords(
        meaning=name,
        happened=f"had the outcome ({name})",
        positives=f"referrals with the outcome ({name})",
        ranks=f"a referral with the outcome ({name})",
    )
