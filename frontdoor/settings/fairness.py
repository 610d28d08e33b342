"""The fairness audit and the promotion gate: configured here, in one place."""

from frontdoor.settings.section import Section


class FairnessSettings(Section):
    min_group_size: int = 30  # smaller groups show "too few to assess"
    reference_group: str = "largest"  # or a group's name
    ratio_lower: float = 0.8  # four-fifths rule (as aequitas)
    ratio_upper: float = 1.25
    gated_metrics: list[str] = ["fnr", "fpr"]
    max_calibration_gap: float = 0.05  # largest |observed - predicted| gap between groups
    bootstrap_samples: int = 200
    seed: int = 11
