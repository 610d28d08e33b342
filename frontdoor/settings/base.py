"""The root settings object and how it is loaded (defaults < YAML file < environment)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from frontdoor.settings.sections import (
    FairnessSettings,
    FeatureSettings,
    GovernanceSettings,
    IngestSettings,
    ModelSettings,
    PathSettings,
    PipelineSettings,
    PrivacySettings,
    ReviewSettings,
    SynthSettings,
    TrackingSettings,
)


def is_project_root(folder: Path) -> bool:
    """A frontdoor project: its pyproject.toml names the project ``frontdoor`` (a folder merely
    holding a ``features/`` directory, or another project's pyproject.toml, is not one)."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return data.get("project", {}).get("name") == "frontdoor"


def project_root() -> Path:
    """The nearest frontdoor project at or above the working directory, else the working directory."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if is_project_root(folder):
            return folder
    return here


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the optional YAML file; lower priority than environment variables."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None and path.exists():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ValueError(f"{path}: the configuration file must hold a mapping of sections")
            self._data = loaded

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the ABC
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    """Everything configurable in frontdoor, with defaults that run the demo."""

    model_config = SettingsConfigDict(
        env_prefix="FRONTDOOR_", env_nested_delimiter="__", extra="forbid"
    )

    demo_mode: bool = Field(
        default=False,
        description="Demo mode (opt-in; `frontdoor demo` turns it on and says so) generates "
        "local keys and secrets when none is configured. Never for real records.",
    )
    paths: PathSettings = Field(default_factory=PathSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    synth: SynthSettings = Field(default_factory=SynthSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    fairness: FairnessSettings = Field(default_factory=FairnessSettings)
    governance: GovernanceSettings = Field(default_factory=GovernanceSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    pipelines: PipelineSettings = Field(default_factory=PipelineSettings)

    def resolve(self, relative: str | Path) -> Path:
        """A path from the configuration, made absolute against the project root."""
        path = Path(relative)
        return path if path.is_absolute() else (self.paths.root or project_root()) / path


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings: defaults, then the YAML file, then ``FRONTDOOR_*`` variables, then overrides."""
    if config_file is None:
        named = os.environ.get("FRONTDOOR_CONFIG")
        config_file = Path(named) if named else project_root() / "frontdoor.yaml"
    yaml_path = Path(config_file)

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        ):
            yaml_source = _YamlSource(settings_cls, yaml_path)
            return (init_settings, env_settings, yaml_source, file_secret_settings)

    loaded = _FromFile(**overrides)
    return Settings.model_construct(
        **{name: getattr(loaded, name) for name in Settings.model_fields}
    )


def merge_section(section: BaseModel, **changes: Any) -> BaseModel:
    """A copy of a settings section with some fields changed (validated)."""
    return section.model_validate({**section.model_dump(), **changes})
