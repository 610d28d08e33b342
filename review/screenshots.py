"""Photograph the queue and a case page of a running review app (Debian's Chromium, Playwright).

The command that makes the docs' screenshots is ``python -m frontdoor.pipelines.review_screenshots``
(it may build sample records with the synthetic council, which the review room never imports).
``CHROMIUM_ARGS`` is the one list of launch flags for every headless Chromium of the project.
"""

from __future__ import annotations

from pathlib import Path

from frontdoor.settings import Settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def photograph(
    settings: Settings, out: Path, username: str, password: str, executable: str
) -> list[Path]:
    """Sign in as ``username`` and save queue.png and case.png (a case with siblings and history)."""
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
