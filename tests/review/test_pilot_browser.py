"""What a MASH manager sees, in real headless Chromium: narrow screens, the GOV.UK error
pattern, the case page's order, the re-identification result, sessions ended by an admin."""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd
import pytest

from frontdoor.pipelines import review_sample
from frontdoor.records import reidentification
from frontdoor.review import auth, store
from frontdoor.review.screenshots import CHROMIUM_ARGS
from tests.support import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("review-browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = CHROMIUM_ARGS  # the one list of launch flags (review.screenshots)
PASSWORD = "a-long-test-password-1"
USERS = {"rita": "reviewer", "tom": "team_manager", "ada": "admin", "vic": "reviewer"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from frontdoor.review.app import create_app
    from frontdoor.review.live import serve_in_thread

    root = tmp_path_factory.mktemp("review-pilot")
    settings = make_settings(
        root,
        review={
            "password_time_cost": 1,
            "password_memory_kib": 8192,
            "sign_in_per_ip_per_minute": 1000,
        },
    )
    review_sample.populate(
        settings, children=400, users=USERS, now=datetime.now(), password=PASSWORD
    )
    app = create_app(settings)
    items, _ = store.queue(settings, app.state.engine, store.QueueFilters())
    reidentification.record(
        settings,
        pd.DataFrame(
            {
                "pseudonym": [i.child_id for i in items],
                "la_child_id": [f"LA-{n:05d}" for n in range(len(items))],
            }
        ),
    )
    server = serve_in_thread(app)
    yield settings, server.url, app
    server.stop()


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height})
    return context, context.new_page()


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/login" not in u)


def _first_case(live) -> str:
    settings, _url, app = live
    items, _ = store.queue(settings, app.state.engine, store.QueueFilters())
    return items[0].decision_id


def test_the_queue_scrolls_in_its_box_at_320_px(browser, live):
    _settings, url, _app = live
    context, page = _page(browser, 320, 640)
    try:
        sign_in(page, url, "rita")
        page.goto(f"{url}/queue")
        box = page.locator(".table-scroll")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls in here
        assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        assert page.evaluate("document.documentElement.scrollWidth") <= 321  # the page does not
    finally:
        context.close()


def test_invalid_filters_follow_the_govuk_error_pattern(browser, live):
    _settings, url, _app = live
    context, page = _page(browser)
    try:
        sign_in(page, url, "rita")
        page.goto(f"{url}/queue")
        page.get_by_label("Day", exact=True).first.fill("31")
        page.get_by_label("Month", exact=True).first.fill("2")
        page.get_by_label("Year", exact=True).first.fill("2026")
        page.get_by_label("Pseudonym").fill("??")
        page.get_by_role("button", name="Apply filters").click()
        assert page.title().startswith("Error: ")
        summary = page.locator(".error-summary")
        assert summary.evaluate("e => e === document.activeElement")
        links = summary.locator("a")
        assert links.count() == 2
        assert (
            "must be a real date" in links.nth(0).inner_text()
            or "must be a real date" in links.nth(1).inner_text()
        )
        summary.get_by_role("link", name="real date").click()
        assert page.evaluate("document.activeElement.id") == "from-day"
        assert page.locator("#from-day").input_value() == "31"  # what was typed is kept
    finally:
        context.close()


def test_the_case_page_puts_the_decision_before_the_chronology(browser, live):
    _settings, url, _app = live
    context, page = _page(browser)
    try:
        sign_in(page, url, "rita")
        page.goto(f"{url}/cases/{_first_case(live)}")
        top = {
            s: page.locator(s).evaluate("e => e.getBoundingClientRect().top + window.scrollY")
            for s in ("#decision", "#chronology", "#household")
        }
        assert top["#decision"] < top["#chronology"] < top["#household"]
        contents = page.get_by_role("navigation", name="Contents of this page")
        for name in ("Record your decision", "The child's chronology", "Council child id"):
            assert contents.get_by_role("link", name=name).count() == 1
        contents.get_by_role("link", name="Record your decision").click()
        assert page.url.endswith("#decision")
        assert page.locator("#decision h2").is_visible()
        assert "UK time" in page.content()
    finally:
        context.close()


def test_the_reidentification_result_is_where_the_eye_is(browser, live):
    _settings, url, _app = live
    context, page = _page(browser)
    try:
        sign_in(page, url, "vic")
        page.goto(f"{url}/cases/{_first_case(live)}#reidentify")
        page.get_by_label("Safeguarding check").check()
        page.get_by_role("button", name="Show the council's child id").click()
        result = page.locator("#reid-result")
        assert "LA-" in result.inner_text()
        box = result.bounding_box()
        assert 0 <= box["y"] < 900  # in view without scrolling
        assert result.evaluate("e => e === document.activeElement")
    finally:
        context.close()


CONTRAST_JS = """e => {
  const rgb = c => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  let bg = e, colour = getComputedStyle(e).backgroundColor;
  while (bg && (colour === 'rgba(0, 0, 0, 0)' || colour === 'transparent')) {
    bg = bg.parentElement; colour = bg ? getComputedStyle(bg).backgroundColor : 'rgb(255,255,255)';
  }
  const [a, b] = [lum(getComputedStyle(e).color), lum(colour)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_the_model_banner_is_inside_a_landmark(browser, live):
    _settings, url, _app = live
    context, page = _page(browser)
    try:
        page.goto(f"{url}/login")
        landmark = page.locator(".model-banner").evaluate(
            "e => { const l = e.closest('header, main, nav, footer, aside, [role=region]');"
            " return l ? l.tagName : null; }"
        )
        assert landmark == "HEADER"
        # and readable there: not the header's white text on the banner's pale background
        # (WCAG AA needs a contrast ratio of at least 4.5 for text this size)
        ratio = page.locator(".model-banner .wrap").evaluate(CONTRAST_JS)
        assert ratio >= 4.5, ratio
    finally:
        context.close()


def test_disabling_a_user_ends_their_session_at_once(browser, live):
    settings, url, app = live
    context, page = _page(browser)
    try:
        sign_in(page, url, "vic")
        page.goto(f"{url}/queue")
        assert page.locator("h1").inner_text() == "Review queue"
        auth.change_user(settings, app.state.engine, "vic", "disable", by="test")
        page.reload()
        assert "/login" in page.url
        page.get_by_label("Username").fill("vic")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        assert page.locator(".error-summary").is_visible()
    finally:
        auth.change_user(settings, app.state.engine, "vic", "enable", by="test")
        context.close()


def test_a_team_manager_reassigns_a_claimed_case(browser, live):
    _settings, url, _app = live
    case = _first_case(live)
    context, page = _page(browser)
    try:
        sign_in(page, url, "rita")
        page.goto(f"{url}/cases/{case}")
        page.get_by_role("button", name="Claim this case").click()
        assert page.locator(".assignee").inner_text() == "rita"
        context.close()
        context, page = _page(browser)
        sign_in(page, url, "tom")
        page.goto(f"{url}/cases/{case}")
        page.get_by_label("Assign to").select_option("vic")
        page.get_by_role("button", name="Assign").click()
        assert page.locator(".assignee").inner_text() == "vic"
        page.goto(f"{url}/queue?status=in+review")
        assert page.get_by_role("cell", name="vic").count() >= 1
    finally:
        context.close()
