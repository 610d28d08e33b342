"""Pseudonymisation at the boundary: identifiers become HMAC-SHA256 keyed hashes.

The key comes from configuration (a secret or a key file made by ``frontdoor keys new``: 32
random bytes). A key shorter than 32 bytes is refused: council ids are few and guessable, so
the key is all that stands between a pseudonym and a child. Outside demo mode a missing key
is an error that says how to make one; demo mode (opt-in: ``frontdoor demo``, ``frontdoor
synth``, or ``demo_mode: true``) generates a local random key once under paths.keys, and
every run that uses it says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from frontdoor.settings import Settings
from frontdoor.settings.local_secret import demo_secret_file

PSEUDONYM_PREFIX = "p"
PSEUDONYM_HEX_CHARS = 24  # 96 bits: collision-free at council scale, short enough to read
KEY_BYTES = 32  # the minimum key length, and what `frontdoor keys new` writes
HOW_TO_MAKE_A_KEY = (
    "Make one with `frontdoor keys new PATH` (32 random bytes, readable by you only) and "
    "configure it as privacy.pseudonym_key_file: PATH in frontdoor.yaml or "
    "FRONTDOOR_PRIVACY__PSEUDONYM_KEY_FILE=PATH; keep it safe and use the same key for every "
    "extract. (`frontdoor demo` and `frontdoor synth` use a local demo key instead.)"
)


class MissingKeyError(RuntimeError):
    pass


def load_key(settings: Settings) -> bytes:
    """The pseudonymisation key, from the settings, a key file, or (demo only) a generated file."""
    privacy = settings.privacy
    if privacy.pseudonym_key is not None:
        return _strong(
            privacy.pseudonym_key.get_secret_value().encode("utf-8"), "privacy.pseudonym_key"
        )
    if privacy.pseudonym_key_file:
        path = settings.resolve(privacy.pseudonym_key_file)
        if not path.exists():
            raise MissingKeyError(
                f"Pseudonymisation key file {path} does not exist. {HOW_TO_MAKE_A_KEY}"
            )
        return _strong(path.read_bytes().strip(), str(path))
    if not settings.demo_mode:
        raise MissingKeyError(
            "No pseudonymisation key configured (privacy.pseudonym_key_file or "
            f"FRONTDOOR_PRIVACY__PSEUDONYM_KEY). {HOW_TO_MAKE_A_KEY}"
        )
    path = default_key_path(settings)
    return demo_secret_file(path.parent, path.name)


def key_source(settings: Settings) -> str:
    """Where the key comes from, for the run's notes (never the key)."""
    if settings.privacy.pseudonym_key is not None:
        return "the configured privacy.pseudonym_key"
    if settings.privacy.pseudonym_key_file:
        return f"the key file {settings.resolve(settings.privacy.pseudonym_key_file)}"
    return (
        f"DEMO MODE: a local demo key ({default_key_path(settings)}), not for real "
        "records; configure a key of your own (`frontdoor keys new`)"
    )


def _strong(key: bytes, where: str) -> bytes:
    if len(key) < KEY_BYTES:
        raise MissingKeyError(
            f"The pseudonymisation key in {where} is {len(key)} bytes; at least {KEY_BYTES} "
            f"random bytes are needed (a short or patterned key can be guessed, and then every "
            f"pseudonym reversed). {HOW_TO_MAKE_A_KEY}"
        )
    return key


def new_key_file(path: Path) -> Path:
    """Write a new key (32 random bytes, as 64 hex characters) readable by its owner only.
    An existing file is never overwritten: losing a key loses every pseudonym made with it."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; a key is never overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return path


def pseudonymise_value(key: bytes, value: object, namespace: str = "child") -> str:
    # hmac.digest: the same HMAC-SHA256 as hmac.new(...).hexdigest(), in one C call.
    digest = hmac.digest(key, f"{namespace}:{value}".encode(), "sha256").hex()
    return f"{PSEUDONYM_PREFIX}{digest[:PSEUDONYM_HEX_CHARS]}"


def pseudonymise_series(
    key: bytes,
    values: pd.Series,
    namespace: str = "child",
    known: dict[object, str] | None = None,
) -> pd.Series:
    """Keyed hashes of a column; each distinct value is hashed once. Missing stays missing.

    ``known``: pseudonyms of this namespace made earlier in the same run (a child's id is
    in every table), used and added to."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    made: dict[object, str] = {} if known is None else known

    def one(value: object) -> str:
        found = made.get(value)
        if found is None:
            found = made[value] = pseudonymise_value(key, value, namespace)
        return found

    pseudonyms = np.empty(len(uniques), dtype=object)
    pseudonyms[:] = [one(v) for v in uniques]
    out = np.full(len(codes), np.nan, dtype=object)
    present = codes >= 0
    out[present] = pseudonyms[codes[present]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def is_pseudonym(value: object) -> bool:
    text = str(value)
    return (
        len(text) == PSEUDONYM_HEX_CHARS + 1
        and text.startswith(PSEUDONYM_PREFIX)
        and all(ch in "0123456789abcdef" for ch in text[1:])
    )


def new_fingerprint_salt() -> str:
    return secrets.token_hex(16)


def key_fingerprint(key: bytes, salt: str) -> str:
    """A label of the key in use, for a folder's manifest (never the key itself).

    Salted (a random salt per folder, kept beside it) and slow (scrypt, 16 MB per try): a
    fingerprint cannot be matched against a precomputed list, and each guess costs real
    work; with keys of 32 random bytes (refused otherwise) there is nothing to guess."""
    digest = hashlib.scrypt(
        b"frontdoor-key-fingerprint:" + key, salt=bytes.fromhex(salt), n=2**14, r=8, p=1, dklen=16
    )
    return digest.hex()


def default_key_path(settings: Settings) -> Path:
    return settings.resolve(settings.paths.keys) / "demo-pseudonym.key"
