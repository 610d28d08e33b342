"""What a scheduled run checks before it works: that it runs on the project it was deployed
for, that the project holds data, and that the model it needs is registered. A run started
from the wrong folder used to find an empty store and fail later, obscurely (or create an
empty MLflow database where it stood); now it says what is missing, where, and fails.
"""

from __future__ import annotations

from pathlib import Path

from frontdoor.models.registry import get_version, model_name
from frontdoor.models.tracking import tracking_uri
from frontdoor.settings import Settings, load_settings


class NothingToRunOn(LookupError):
    """The project holds no data, or no registered model, for the run: the message says which."""


def scheduled_settings(config: str | None, root: str | None) -> Settings:
    """Settings for a run started by a deployment: the project ``root`` comes as a parameter
    (never from the worker's working directory), and a relative ``config`` is read from it."""
    if root is None:
        return load_settings(config)
    base = Path(root)
    if not base.is_dir():
        raise NothingToRunOn(f"the project root {base} of this deployment does not exist")
    path = Path(config) if config else Path("frontdoor.yaml")
    settings = load_settings(path if path.is_absolute() else base / path)
    paths = settings.paths.model_copy(update={"root": base})
    return settings.model_copy(update={"paths": paths})


def require_extracts(settings: Settings, raw: Path) -> None:
    """Ingestion needs extracts: an absent or empty folder is a mistake, not an empty month."""
    if not raw.is_dir() or not any(p for p in raw.iterdir() if not p.name.startswith(".")):
        raise NothingToRunOn(
            f"no council extracts in {raw} (project root {settings.resolve('.')}): put the "
            "extracts there (pipelines.extracts), or check the deployment's `root` parameter"
        )


def require_model(settings: Settings, label: str, alias: str) -> None:
    """The registered model an alias points at must exist in the configured MLflow store; a
    local store that does not exist yet is never created by looking."""
    uri = tracking_uri(settings)
    name = model_name(settings, label)
    hint = "train one first (`frontdoor flow run retrain`), or check the deployment's `root`"
    if uri.startswith("sqlite:///"):
        store = Path(uri.removeprefix("sqlite:///"))
        if not store.exists():
            raise NothingToRunOn(f"no MLflow store at {store}, so no model {name}: {hint}")
    try:
        get_version(settings, label, alias)
    except Exception as error:  # MLflow's RestException for a missing model or alias
        if "RESOURCE_DOES_NOT_EXIST" in str(getattr(error, "error_code", "")) or (
            "not found" in str(error).lower()
        ):
            raise NothingToRunOn(
                f"no registered model {name} with alias {alias!r} in {uri}: {hint}"
            ) from error
        raise
