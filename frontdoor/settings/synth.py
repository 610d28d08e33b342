"""The synthetic local authority's defaults (a mid-sized council)."""

from datetime import date

from pydantic import Field

from frontdoor.settings.section import Section


class SurveillanceBias(Section):
    """One group referred more often by one source than its true need explains."""

    enabled: bool = False
    ethnicity_major_group: str = "Black"
    source: str = "police"
    rate_multiplier: float = 1.6


class UnderRecordingBias(Section):
    """One group's assessment factors recorded less completely."""

    enabled: bool = False
    ethnicity_major_group: str = "Asian"
    recording_rate: float = 0.4  # share of true factors that get recorded, against ~0.85 otherwise


class SynthSettings(Section):
    children: int = 50_000
    years: int = 6
    seed: int = 20261126
    end_date: date = date(2026, 3, 31)  # the extract's reference date
    local_authority: str = "Synthshire"
    surveillance_bias: SurveillanceBias = Field(default_factory=SurveillanceBias)
    under_recording_bias: UnderRecordingBias = Field(default_factory=UnderRecordingBias)
