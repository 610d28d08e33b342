"""Screenshots of the review queue and a case page for the docs.

    python -m frontdoor.pipelines.review_screenshots docs/screenshots                      # sample records
    python -m frontdoor.pipelines.review_screenshots docs/screenshots --config frontdoor.yaml   # a scored council

With ``--config``, the app runs on that configuration's review database and canonical tables
(for example after ``frontdoor demo``) and a screenshot user is added to it; otherwise on sample
records (``pipelines.review_sample``: a synthetic council) in a temporary folder.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from datetime import datetime
from pathlib import Path

from frontdoor.pipelines.review_sample import populate
from frontdoor.review import auth, store
from frontdoor.review.screenshots import photograph
from frontdoor.settings import Settings, load_settings


def take(
    out: Path, config: Path | None = None, executable: str = "/usr/bin/chromium"
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    if config is not None:
        settings = load_settings(config)
        username = f"screenshots-{secrets.token_hex(3)}"
        auth.add_user(settings, store.ready_engine(settings), username, "reviewer", password)
        return photograph(settings, out, username, password, executable)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            paths={"root": tmp},
            privacy={"pseudonym_key": "screenshots-key-0123456789"},
            review={
                "database_url": f"sqlite:///{tmp}/review.db",
                "secret_key": secrets.token_hex(32),  # not demo mode: no generated key
            },
        )
        populate(
            settings,
            children=20_000,
            recent_days=60,
            users={"m.khan": "reviewer"},
            now=datetime.now(),
            password=password,
        )
        return photograph(settings, out, "m.khan", password, executable)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Screenshots of the review app.")
    parser.add_argument("out", nargs="?", default="docs/screenshots", type=Path)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    for path in take(args.out, args.config):
        print(path)
