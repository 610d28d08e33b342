"""Screenshots of the queue and a case page for the docs.

    python -m frontdoor.review.screenshots docs/screenshots                      # sample records
    python -m frontdoor.review.screenshots docs/screenshots --config frontdoor.yaml   # a scored council

With ``--config``, the app runs on that configuration's review database and canonical tables
(for example after ``frontdoor demo``) and a screenshot user is added to it; otherwise on sample
records (``review.sample``) in a temporary folder. Uses Debian's Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from datetime import datetime
from pathlib import Path

from frontdoor.settings import Settings, load_settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _photograph(settings, out: Path, username: str, password: str, executable: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from frontdoor.review import store
    from frontdoor.review.app import create_app
    from frontdoor.review.live import serve_in_thread

    app = create_app(settings, preload=True)
    server = serve_in_thread(app)
    saved = [out / "queue.png", out / "case.png"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1150})
            page.goto(f"{server.url}/login")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server.url}/queue")
            page.screenshot(path=str(saved[0]))
            # a case with siblings and some history, so the page shows what it can
            index = app.state.history.index()
            items, _ = store.queue(settings, app.state.engine, store.QueueFilters())
            best = max(
                items,
                key=lambda i: (
                    len(index.members.get(index.household.get(i.child_id), [])) > 1,
                    min(len(index.child_events(i.child_id, i.referral_date)), 25),
                ),
            )
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{server.url}/cases/{best.decision_id}")
            page.screenshot(path=str(saved[1]), full_page=True)
            browser.close()
    finally:
        server.stop()
    return saved


def take(
    out: Path, config: Path | None = None, executable: str = "/usr/bin/chromium"
) -> list[Path]:
    from frontdoor.review import auth, store
    from frontdoor.review.sample import populate

    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    if config is not None:
        settings = load_settings(config)
        username = f"screenshots-{secrets.token_hex(3)}"
        auth.add_user(settings, store.ready_engine(settings), username, "reviewer", password)
        return _photograph(settings, out, username, password, executable)
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
            children=80,
            users={"m.khan": "reviewer"},
            now=datetime.now(),
            password=password,
        )
        return _photograph(settings, out, "m.khan", password, executable)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Screenshots of the review app.")
    parser.add_argument("out", nargs="?", default="docs/screenshots", type=Path)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    for path in take(args.out, args.config):
        print(path)
