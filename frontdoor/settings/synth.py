"""The synthetic local authority's defaults (a mid-sized council) and its bias knobs.

The knobs are off by default; their sizes are documented in docs/synthetic-council.md.
"""

from datetime import date
from typing import Literal

from pydantic import Field

from frontdoor.settings.section import Section

MajorGroup = Literal["White", "Mixed", "Asian", "Black", "Other", "Not known or refused"]
SourceFamily = Literal["police", "school", "health", "council", "individual", "anonymous", "other"]


class SurveillanceBias(Section):
    """One group referred more often by one source than its true need explains.

    Every contact and referral rate of ``source`` is multiplied by ``rate_multiplier`` for
    children of ``ethnicity_major_group``, whatever their latent state.
    """

    enabled: bool = False
    ethnicity_major_group: MajorGroup = "Black"
    source: SourceFamily = "police"
    rate_multiplier: float = Field(default=1.6, gt=0)


class UnderRecordingBias(Section):
    """One group's assessment factors recorded less completely.

    A present concern is recorded with probability ``recording_rate`` (0.3) for the group, against
    0.85 otherwise; background factors are scaled by the same ratio. Need is unchanged.
    """

    enabled: bool = False
    ethnicity_major_group: MajorGroup = "Asian"
    recording_rate: float = Field(default=0.3, ge=0, le=1)


class SynthSettings(Section):
    children: int = Field(default=50_000, ge=1)  # distinct children simulated
    years: int = Field(default=6, ge=1)  # years of history ending on end_date
    seed: int = 20261126
    end_date: date = date(2026, 3, 31)  # the extract's reference date
    local_authority: str = "Synthshire"
    surveillance_bias: SurveillanceBias = Field(default_factory=SurveillanceBias)
    under_recording_bias: UnderRecordingBias = Field(default_factory=UnderRecordingBias)
