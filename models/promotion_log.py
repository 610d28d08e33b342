"""The promotion log: an append-only, keyed hash chain of every promotion, refusal and override.

Why a log and not tags: model-version tags are last-write-wins, so a re-run could rewrite who
promoted and when, and anyone can move the ``champion`` alias by hand in MLflow. Here each row
carries ``seq``, the previous row's ``hmac`` and its own HMAC-SHA256 (keyed by
``governance.log_key``) over its canonical JSON. Editing, deleting or reordering a row breaks the
chain; forging one needs the key; truncating the tail is caught by the head (sequence and HMAC)
anchored on the registered model in MLflow at every append. Rows are only ever appended (file
opened for appending, under an exclusive lock), never rewritten.

Scoring, the score flow and the review queue ask `current_champion` which version the log says
is the champion; a version the log does not name is refused, whatever the alias says.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from frontdoor.settings import Settings
from frontdoor.settings.local_secret import demo_secret_file

PROMOTED = "promoted"  # every guard passed
OVERRIDDEN = "promoted by override"  # the fairness gate failed; a person recorded why
REFUSED = "refused"
CHAMPION_ACTIONS = (PROMOTED, OVERRIDDEN)
GENESIS = "0" * 64
HEAD_TAG = "promotion.log_head"  # "<seq>:<hmac>" of the last row appended for this model


class LogTampered(RuntimeError):
    """The promotion log does not verify: a row was edited, removed, reordered or forged."""


class MissingLogKey(RuntimeError):
    """Outside demo mode the log's key must be configured (governance.log_key)."""


def log_key(settings: Settings) -> bytes:
    key = settings.governance.log_key
    if key is not None and key.get_secret_value():
        return key.get_secret_value().encode("utf-8")
    if not settings.demo_mode:
        raise MissingLogKey(
            "The promotion log needs a key: set governance.log_key "
            "(FRONTDOOR_GOVERNANCE__LOG_KEY); only demo mode generates a local one."
        )
    return demo_secret_file(settings.resolve(settings.paths.keys), "promotion-log.key")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _canonical(row: dict) -> bytes:
    body = {k: v for k, v in row.items() if k != "hmac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def _sign(key: bytes, row: dict) -> str:
    return hmac.new(key, _canonical(row), hashlib.sha256).hexdigest()


class PromotionLog:
    """The log file with its key; ``anchor`` reads and writes the head kept in MLflow."""

    def __init__(self, path: Path, key: bytes, anchor: Anchor | None = None):
        self.path = Path(path)
        self.key = key
        self.anchor = anchor

    def _read_lines(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def rows(self) -> list[dict]:
        """Every row, verified (chain, keys, sequence); raises `LogTampered` otherwise."""
        rows, prev = [], GENESIS
        for number, line in enumerate(self._read_lines(), start=1):
            where = f"{self.path}, line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise LogTampered(f"{where}: not a JSON row ({error})") from error
            if row.get("seq") != number or row.get("prev") != prev:
                raise LogTampered(f"{where}: out of sequence (a row was removed or reordered)")
            if not hmac.compare_digest(str(row.get("hmac", "")), _sign(self.key, row)):
                raise LogTampered(f"{where}: its signature does not match (the row was edited)")
            rows.append(row)
            prev = row["hmac"]
        return rows

    def verify(self, model_name: str | None = None) -> list[dict]:
        """The verified rows, also checked against the head anchored in MLflow for a model."""
        rows = self.rows()
        if self.anchor is not None and model_name:
            head = self.anchor.read(model_name)
            if head:
                seq, mac = head.split(":", 1)
                if int(seq) > len(rows) or rows[int(seq) - 1]["hmac"] != mac:
                    raise LogTampered(
                        f"{self.path}: the log ends before row {seq}, the last one recorded for "
                        f"{model_name} in the registry (rows were removed or the file replaced)"
                    )
        return rows

    def append(self, entry: dict) -> dict:
        """Append one row (under an exclusive lock) and anchor the head; returns the row."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        with os.fdopen(fd, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            rows = self.verify(entry.get("model_name"))
            row = {
                **entry,
                "seq": len(rows) + 1,
                "prev": rows[-1]["hmac"] if rows else GENESIS,
                "at": entry.get("at") or now(),
            }
            row["hmac"] = _sign(self.key, row)
            handle.write(json.dumps(row, sort_keys=True, default=str) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if self.anchor is not None and row.get("model_name"):
            self.anchor.write(row["model_name"], f"{row['seq']}:{row['hmac']}")
        return row

    def champion(self, model_name: str) -> dict | None:
        """The last row that made a version of ``model_name`` champion (None: never)."""
        made = [
            r
            for r in self.verify(model_name)
            if r.get("model_name") == model_name and r.get("action") in CHAMPION_ACTIONS
        ]
        return made[-1] if made else None

    def history(self, model_name: str) -> list[dict]:
        return [r for r in self.verify(model_name) if r.get("model_name") == model_name]


class Anchor:
    """Where the log's head is kept for each registered model (an MLflow registered-model tag)."""

    def __init__(self, read: Callable[[str], str | None], write: Callable[[str, str], None]):
        self.read = read
        self.write = write


def mlflow_anchor(client) -> Anchor:
    def read(name: str) -> str | None:
        try:
            return client.get_registered_model(name).tags.get(HEAD_TAG)
        except Exception:  # noqa: BLE001 - no registered model: nothing anchored
            return None

    def write(name: str, value: str) -> None:
        client.set_registered_model_tag(name, HEAD_TAG, value)

    return Anchor(read, write)


def promotion_log(settings: Settings, client=None, anchor: Anchor | None = None) -> PromotionLog:
    """The configured log, anchored in the MLflow registry when a client (or an anchor over the
    same registry, `models.local_registry`) is given."""
    if anchor is None and client is not None:
        anchor = mlflow_anchor(client)
    return PromotionLog(
        settings.resolve(settings.governance.promotion_log), log_key(settings), anchor
    )
