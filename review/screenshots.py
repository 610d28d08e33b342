"""Screenshots of the queue and a case page for the docs: ``python -m review.screenshots docs/screenshots``.

Runs the app on sample records (``review.sample``) in a temporary folder and photographs it with
Debian's Chromium through Playwright (a development dependency).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def take(out: Path, executable: str = "/usr/bin/chromium") -> list[Path]:
    from playwright.sync_api import sync_playwright

    from frontdoor.settings import Settings
    from review.app import create_app
    from review.live import serve_in_thread
    from review.sample import populate

    out.mkdir(parents=True, exist_ok=True)
    password = "screenshot-password-1"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            paths={"root": tmp},
            privacy={"pseudonym_key": "screenshots-key-0123456789"},
            review={"database_url": f"sqlite:///{tmp}/review.db"},
        )
        populate(
            settings,
            children=80,
            users={"m.khan": "reviewer"},
            now=datetime.now(),
            password=password,
        )
        server = serve_in_thread(create_app(settings))
        saved = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{server.url}/login")
                page.get_by_label("Username").fill("m.khan")
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{server.url}/queue")
                saved.append(out / "queue.png")
                page.set_viewport_size({"width": 1280, "height": 1150})
                page.screenshot(path=str(saved[-1]))
                # a case with siblings and some history, so the page shows what it can
                from review import store

                index = create_app.__globals__["history_source"](settings).index()
                items, _ = store.queue(settings, store.ready_engine(settings), store.QueueFilters())
                best = max(
                    items,
                    key=lambda i: (
                        len(index.members.get(index.household.get(i.child_id), [])) > 1,
                        len(index.child_events(i.child_id, i.referral_date)),
                    ),
                )
                page.goto(f"{server.url}/cases/{best.decision_id}")
                saved.append(out / "case.png")
                page.screenshot(path=str(saved[-1]), full_page=True)
                browser.close()
        finally:
            server.stop()
    return saved


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
