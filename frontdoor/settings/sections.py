"""Re-exports each room's settings section (one module per room, so each owns its own)."""

from frontdoor.settings.fairness import FairnessSettings
from frontdoor.settings.features import FeatureSettings
from frontdoor.settings.governance import GovernanceSettings
from frontdoor.settings.ingest import IngestSettings
from frontdoor.settings.models import ModelSettings
from frontdoor.settings.paths import PathSettings
from frontdoor.settings.pipelines import PipelineSettings
from frontdoor.settings.privacy import PrivacySettings
from frontdoor.settings.review import ReviewSettings
from frontdoor.settings.synth import SynthSettings
from frontdoor.settings.tracking import TrackingSettings

__all__ = [
    "FairnessSettings",
    "FeatureSettings",
    "GovernanceSettings",
    "IngestSettings",
    "ModelSettings",
    "PathSettings",
    "PipelineSettings",
    "PrivacySettings",
    "ReviewSettings",
    "SynthSettings",
    "TrackingSettings",
]
