"""Point-in-time features and labels."""

from frontdoor.settings.section import Section


class FeatureSettings(Section):
    include_contacts_as_decisions: bool = False
    # For contact decisions: the child's first referral within this many days after the
    # contact is the referral the contact became (MASH screening), not a re-referral.
    contact_screening_days: int = 3
    label_window_days: int = 365
    use_sensitive_as_inputs: bool = False  # sensitive characteristics travel beside, not inside
