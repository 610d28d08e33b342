"""The review app in real headless Chromium (Debian's /usr/bin/chromium through Playwright)."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
import sqlalchemy as sa

from frontdoor import REVIEW_NOTICE
from frontdoor.pipelines import review_sample
from frontdoor.review import store
from frontdoor.review.schema import decisions
from frontdoor.review.screenshots import CHROMIUM_ARGS
from tests.support import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("review-browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = CHROMIUM_ARGS  # the one list of launch flags (review.screenshots)
PASSWORD = "a-long-test-password-1"
USERS = {"rita": "reviewer", "dan": "data_scientist", "gina": "governance", "ada": "admin"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from frontdoor.review.app import create_app
    from frontdoor.review.live import serve_in_thread

    root = tmp_path_factory.mktemp("review-live")
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
    reports = settings.resolve(settings.paths.reports) / "escalation_12m-v1"
    reports.mkdir(parents=True)
    (reports / "governance-report.html").write_text("<h1>Model card</h1>", encoding="utf-8")
    server = serve_in_thread(create_app(settings))
    yield settings, server.url
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_login_by_keyboard_lands_on_the_queue(page, live):
    settings, url = live
    page.goto(f"{url}/queue")
    assert page.url.startswith(f"{url}/login?next=")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus indicator
    page.get_by_label("Username").focus()
    page.keyboard.type("rita")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/queue")
    assert page.get_by_role("heading", level=1).inner_text() == "Review queue"


def test_wrong_password_is_refused(page, live):
    _, url = live
    page.goto(f"{url}/login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    assert "There is a problem" in page.get_by_role("alert").inner_text()


def test_queue_lists_flags_and_filters(page, live):
    settings, url = live
    sign_in(page, url, "rita")
    assert REVIEW_NOTICE in page.content()
    assert "The model does not decide" in page.content()
    rows = page.locator("table.queue tbody tr")
    items, total = store.queue(settings, store.ready_engine(settings), store.QueueFilters())
    assert rows.count() == min(total, settings.review.page_size) and total > 0
    assert page.get_by_text("Decided today").is_visible()
    band = items[-1].band  # the least urgent band shown
    page.get_by_label("Band").select_option(band)
    page.get_by_role("button", name="Apply filters").click()
    bands = page.locator("table.queue tbody td:first-child .tag").all_inner_texts()
    assert len(bands) == sum(1 for i in items if i.band == band)
    assert set(bands) == {band.capitalize()}
    # every form control has a label
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
           .filter(e => !e.labels || e.labels.length === 0).length"""
    )
    assert unlabelled == 0


def test_case_page_and_recording_a_decision(page, live):
    settings, url = live
    sign_in(page, url, "rita")
    page.locator("table.queue tbody tr a").first.click()
    page.wait_for_url(f"{url}/cases/*")
    for heading in (
        "Why the model flagged this referral",
        "What the model cannot see",
        "The child's chronology",
        "The household and siblings",
        "Record your decision",
    ):
        assert page.get_by_role("heading", name=heading).is_visible(), heading
    assert REVIEW_NOTICE in page.content()
    # issue 15: under the band's meaning, what happened to past referrals in the band
    backtest = page.locator("#flag p.backtest")
    assert backtest.is_visible()
    assert backtest.inner_text().startswith("In the backtest, of ")
    assert "the model's estimates for them averaged" in backtest.inner_text()
    assert page.locator("ol.timeline li").count() >= 1
    decision_id = page.url.rsplit("/", 1)[1]
    # submitting without a rationale is refused with a clear message
    page.get_by_label("Yes, this referral needed a closer look").check()
    page.get_by_role("group", name="Action").get_by_label("Strategy discussion").check()
    page.get_by_role("button", name="Record decision").click()
    assert "rationale" in page.get_by_role("alert").inner_text().lower()
    page.get_by_label("Rationale").fill(
        "Third police DA notification in six months; siblings known."
    )
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("heading", name="Decision recorded").is_visible()
    assert "Third police DA notification" in page.locator("#decisions table").inner_text()
    with store.ready_engine(settings).connect() as conn:
        rows = conn.execute(
            sa.select(decisions).where(decisions.c.decision_id == decision_id)
        ).all()
    assert len(rows) == 1 and rows[0].action == "strategy_discussion" and rows[0].agrees


@pytest.mark.parametrize("username", ["gina", "dan"])
def test_governance_and_data_scientists_see_reports_not_cases(page, live, username):
    settings, url = live
    sign_in(page, url, username)
    page.wait_for_url(f"{url}/reports")
    assert page.get_by_role("link", name="escalation_12m-v1/governance-report.html").is_visible()
    nav = page.get_by_role("navigation", name="Main").inner_text()
    assert "Queue" not in nav and "Audit log" not in nav
    item = store.queue(settings, store.ready_engine(settings), store.QueueFilters())[0][0]
    for target in ("/queue", f"/cases/{item.decision_id}", "/admin/audit"):
        response = page.goto(f"{url}{target}")
        assert response.status == 403, target
        assert page.get_by_role("heading", level=1).inner_text() == "Not available to you"
        assert item.child_id not in page.content()


def test_reviewer_cannot_reach_admin_pages(page, live):
    _, url = live
    sign_in(page, url, "rita")
    for target in ("/admin/audit", "/admin/users"):
        assert page.goto(f"{url}{target}").status == 403


def test_admin_reads_the_audit_log_and_cannot_decide(page, live):
    settings, url = live
    sign_in(page, url, "ada")
    item = store.queue(settings, store.ready_engine(settings), store.QueueFilters())[0][0]
    page.goto(f"{url}/cases/{item.decision_id}")
    assert page.get_by_role("heading", name="The child's chronology").is_visible()
    assert page.get_by_label("Rationale").count() == 0
    page.goto(f"{url}/admin/audit")
    text = page.locator("table").inner_text()
    assert "case view" in text and "ada" in text
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/login?out=1")
    assert page.goto(f"{url}/admin/audit").url.startswith(f"{url}/login")
