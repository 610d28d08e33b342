"""Pseudonymisation at the boundary: identifiers become HMAC-SHA256 keyed hashes.

The key comes from configuration (a secret or a key file). Outside demo mode a missing key
is an error; in demo mode a local random key is generated once and kept under paths.keys.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pandas as pd

from frontdoor.settings import Settings
from frontdoor.settings.local_secret import demo_secret_file

PSEUDONYM_PREFIX = "p"
PSEUDONYM_HEX_CHARS = 24  # 96 bits: collision-free at council scale, short enough to read


class MissingKeyError(RuntimeError):
    pass


def load_key(settings: Settings) -> bytes:
    """The pseudonymisation key, from the settings, a key file, or (demo only) a generated file."""
    privacy = settings.privacy
    if privacy.pseudonym_key is not None:
        value = privacy.pseudonym_key.get_secret_value()
        if len(value) < 16:
            raise MissingKeyError("The pseudonymisation key must be at least 16 characters long.")
        return value.encode("utf-8")
    if privacy.pseudonym_key_file:
        path = settings.resolve(privacy.pseudonym_key_file)
        if not path.exists():
            raise MissingKeyError(f"Pseudonymisation key file {path} does not exist.")
        return path.read_bytes().strip()
    if not settings.demo_mode:
        raise MissingKeyError(
            "No pseudonymisation key configured. Set FRONTDOOR_PRIVACY__PSEUDONYM_KEY or "
            "privacy.pseudonym_key_file; only demo mode may generate a local key."
        )
    path = default_key_path(settings)
    return demo_secret_file(path.parent, path.name)


def pseudonymise_value(key: bytes, value: object, namespace: str = "child") -> str:
    digest = hmac.new(key, f"{namespace}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:PSEUDONYM_HEX_CHARS]}"


def pseudonymise_series(key: bytes, values: pd.Series, namespace: str = "child") -> pd.Series:
    """Keyed hashes of a column; each distinct value is hashed once. Missing stays missing."""
    uniques = pd.unique(values.dropna())
    mapping = {v: pseudonymise_value(key, v, namespace) for v in uniques}
    return values.map(mapping).astype(object)


def is_pseudonym(value: object) -> bool:
    text = str(value)
    return (
        len(text) == PSEUDONYM_HEX_CHARS + 1
        and text.startswith(PSEUDONYM_PREFIX)
        and all(ch in "0123456789abcdef" for ch in text[1:])
    )


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible label of the key in use, for manifests (never the key itself)."""
    return hashlib.sha256(b"fingerprint:" + key).hexdigest()[:12]


def default_key_path(settings: Settings) -> Path:
    return settings.resolve(settings.paths.keys) / "demo-pseudonym.key"
