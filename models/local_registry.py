"""The model registry of a local SQLite MLflow store, read and written without importing MLflow.

Why: importing MLflow and opening its store costs several CPU-seconds (SQLAlchemy, alembic, the
store's schema check), which a refused promotion (`governance.promotion`) would otherwise pay to
read one version's tags and append one row. The default store (``sqlite:///mlflow.db`` in the
project root, `models.tracking.tracking_uri`) is a plain SQLite file, so the few registry rows
promotion needs are read (and its refusal recorded) here with the standard library.

Only for a store this code knows: a ``sqlite:`` registry URI whose file exists and whose schema
revision (alembic) is one the pinned MLflow writes (`KNOWN_REVISIONS`). Anything else (a server,
PostgreSQL, an older or newer schema) gets ``None`` from `open_local_registry` and the caller
uses MLflow. What is written mirrors MLflow's own store: a version tag, a version description
with its ``last_updated_time``, a registered-model tag (tests/models/test_local_registry.py reads
every write back through ``MlflowClient``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from frontdoor import REVIEW_NOTICE
from frontdoor.settings import Settings

# Schema revisions of MLflow's SQL store this module reads and writes (alembic_version).
# A new MLflow that migrates the schema is simply not used here until its revision is added
# (after tests/models/test_local_registry.py passes on it).
KNOWN_REVISIONS = frozenset({"dc11669786a5"})
DELETED_STAGE = "Deleted_Internal"  # MLflow's mark for a deleted version it keeps
WORKSPACE = "default"
LATEST = "latest"  # the alias MLflow resolves to the highest version
DESCRIPTION_BASE_TAG = "description.base"  # what the version is (set at training)
DESCRIPTION_PARTS = ("audit", "promotion")  # then its audit and its promotion status


def description_text(tags: dict[str, str]) -> str:
    """A version's description from its ``description.*`` tags, ending with the review notice."""
    parts = [tags.get(DESCRIPTION_BASE_TAG, "")]
    parts += [tags.get(f"description.{p}", "") for p in DESCRIPTION_PARTS]
    return (" ".join(p for p in parts if p) + " " + REVIEW_NOTICE).strip()


def tracking_uri(settings: Settings) -> str:
    """The configured URI, else a SQLite file in the project root (no server needed)."""
    if settings.tracking.tracking_uri:
        return settings.tracking.tracking_uri
    return f"sqlite:///{settings.resolve('mlflow.db')}"


def model_name(settings: Settings, label: str) -> str:
    """The registered model of a label (``<prefix>-<label>``)."""
    return f"{settings.tracking.model_name_prefix}-{label}"


def registry_uri(settings: Settings) -> str:
    return settings.tracking.registry_uri or tracking_uri(settings)


def sqlite_path(uri: str) -> Path | None:
    """The file of a ``sqlite:///path`` URI, as SQLAlchemy reads it (``sqlite:///x.db``
    relative, ``sqlite:////abs/x.db`` absolute); None for any other kind of store."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    rest = unquote(uri[len(prefix) :].split("?", 1)[0])
    if not rest or rest == ":memory:":
        return None
    return Path(rest)


@dataclass(frozen=True)
class VersionRecord:
    """What promotion reads of a model version (the fields of MLflow's ``ModelVersion`` it uses)."""

    name: str
    version: str
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    description: str = ""


class UnknownVersion(LookupError):
    """No such version (or alias) of a registered model."""


class LocalRegistry:
    """Registry rows of one SQLite store. Each call opens a short connection (as MLflow does)."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            with connection:  # one transaction: committed on success, rolled back on error
                yield connection
        finally:
            connection.close()

    def revision(self) -> str | None:
        with self._connect() as db:
            try:
                row = db.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                return None
        return row[0] if row else None

    def versions(self, name: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT version FROM model_versions WHERE workspace = ? AND name = ? "
                "AND current_stage IS NOT ? ORDER BY version",
                (WORKSPACE, name, DELETED_STAGE),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def version(self, name: str, ref: str | int) -> VersionRecord:
        """A version by number ("3") or alias ("champion"; "latest": the highest)."""
        text = str(ref).strip()
        with self._connect() as db:
            number = self._number(db, name, text)
            row = db.execute(
                "SELECT run_id, description FROM model_versions WHERE workspace = ? AND name = ? "
                "AND version = ? AND current_stage IS NOT ?",
                (WORKSPACE, name, number, DELETED_STAGE),
            ).fetchone()
            if row is None:
                raise UnknownVersion(f"no version {text} of registered model {name!r}")
            tags = db.execute(
                "SELECT key, value FROM model_version_tags WHERE workspace = ? AND name = ? "
                "AND version = ?",
                (WORKSPACE, name, number),
            ).fetchall()
            aliases = db.execute(
                "SELECT alias FROM registered_model_aliases WHERE workspace = ? AND name = ? "
                "AND version = ? ORDER BY alias",
                (WORKSPACE, name, number),
            ).fetchall()
        return VersionRecord(
            name,
            str(number),
            row[0] or "",
            {k: v for k, v in tags},
            tuple(a for (a,) in aliases),
            row[1] or "",
        )

    def _number(self, db: sqlite3.Connection, name: str, text: str) -> int:
        if text.isdigit():
            return int(text)
        if text.lower() == LATEST:
            row = db.execute(
                "SELECT MAX(version) FROM model_versions WHERE workspace = ? AND name = ? "
                "AND current_stage IS NOT ?",
                (WORKSPACE, name, DELETED_STAGE),
            ).fetchone()
        else:
            row = db.execute(
                "SELECT version FROM registered_model_aliases WHERE workspace = ? AND name = ? "
                "AND alias = ?",
                (WORKSPACE, name, text),
            ).fetchone()
        if row is None or row[0] is None:
            raise UnknownVersion(f"registered model {name!r} has no version aliased {text!r}")
        return int(row[0])

    def registered_model_tag(self, name: str, key: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT value FROM registered_model_tags WHERE workspace = ? AND name = ? "
                "AND key = ?",
                (WORKSPACE, name, key),
            ).fetchone()
        return row[0] if row else None

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        with self._connect() as db:
            self._require_model(db, name)
            db.execute(
                "INSERT INTO registered_model_tags (workspace, key, value, name) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (workspace, key, name) "
                "DO UPDATE SET value = excluded.value",
                (WORKSPACE, key, value, name),
            )

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        with self._connect() as db:
            self._require_version(db, name, version)
            db.execute(
                "INSERT INTO model_version_tags (workspace, key, value, name, version) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace, key, name, version) "
                "DO UPDATE SET value = excluded.value",
                (WORKSPACE, key, value, name, int(version)),
            )

    def set_description(self, name: str, version: str, text: str) -> None:
        """As MLflow's ``update_model_version``: the description and ``last_updated_time``."""
        with self._connect() as db:
            self._require_version(db, name, version)
            db.execute(
                "UPDATE model_versions SET description = ?, last_updated_time = ? "
                "WHERE workspace = ? AND name = ? AND version = ?",
                (text, int(time.time() * 1000), WORKSPACE, name, int(version)),
            )

    def describe(self, name: str, version: str, status: str, part: str) -> None:
        """As `models.tracking.describe_version`: keep ``status`` as the ``description.<part>``
        tag and rewrite the description from the parts."""
        self.set_version_tag(name, version, f"description.{part}", status)
        self.set_description(name, version, description_text(self.version(name, version).tags))

    def _require_model(self, db: sqlite3.Connection, name: str) -> None:
        found = db.execute(
            "SELECT 1 FROM registered_models WHERE workspace = ? AND name = ?", (WORKSPACE, name)
        ).fetchone()
        if found is None:
            raise UnknownVersion(f"no registered model {name!r}")

    def _require_version(self, db: sqlite3.Connection, name: str, version: str) -> None:
        found = db.execute(
            "SELECT 1 FROM model_versions WHERE workspace = ? AND name = ? AND version = ? "
            "AND current_stage IS NOT ?",
            (WORKSPACE, name, int(version), DELETED_STAGE),
        ).fetchone()
        if found is None:
            raise UnknownVersion(f"no version {version} of registered model {name!r}")


def open_local_registry(settings: Settings) -> LocalRegistry | None:
    """The local registry when the store is a SQLite file of a known schema; else None."""
    path = sqlite_path(registry_uri(settings))
    if path is None or not path.is_file():
        return None
    registry = LocalRegistry(path)
    try:
        revision = registry.revision()
    except sqlite3.DatabaseError:
        return None
    return registry if revision in KNOWN_REVISIONS else None
