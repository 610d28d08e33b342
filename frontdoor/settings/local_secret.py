"""Secrets that demo mode may generate: one random value per file under paths.keys (mode 0600).

Outside demo mode every secret must be configured; callers raise their own clear error.
"""

from __future__ import annotations

import secrets
from pathlib import Path


def demo_secret_file(keys_folder: Path, name: str) -> bytes:
    """The secret kept in ``keys_folder/name``, generated (readable by its owner only) on first use."""
    path = Path(keys_folder) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_bytes().strip()
