"""Point-in-time features and labels."""

from frontdoor.settings.section import Section


class FeatureSettings(Section):
    include_contacts_as_decisions: bool = False
    label_window_days: int = 365
    use_sensitive_as_inputs: bool = False  # sensitive characteristics travel beside, not inside
