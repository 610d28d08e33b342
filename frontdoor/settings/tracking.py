"""MLflow tracking and registry."""

from frontdoor.settings.section import Section


class TrackingSettings(Section):
    # None: sqlite:///mlflow.db in the project root, artifacts under mlruns/ (no server needed).
    # Any MLflow URI works, e.g. http://127.0.0.1:5000 for a server on PostgreSQL.
    tracking_uri: str | None = None
    registry_uri: str | None = None
    experiment_prefix: str = "frontdoor"
    model_name_prefix: str = "frontdoor"
