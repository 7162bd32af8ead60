"""A reader in a real browser (headless Chromium, JavaScript off) submits both kinds of idea."""

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import (
    OWNER_EMAIL,
    OWNER_PASSWORD,
    add_owner,
    count_submissions,
)

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium chromium-driver "
    "(or set CHROMIUM_PATH) to run the browser tests",
)

# The flags a root user needs for headless Chromium on a machine with no outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False)
        yield context.new_page()
        context.close()
        browser.close()


def _fill(page, choice: str, name: str, body: str) -> None:
    page.get_by_label(choice).check()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your email").fill("reader@example.org")
    page.get_by_label("Website or social handle (optional)").fill("@reader")
    page.get_by_label("Topic").select_option(label="Sessions and speakers")
    page.get_by_label("Title (optional)").fill("Slides within a day")
    page.get_by_label("Your idea").fill(body)
    # The form refuses answers faster than MIN_FILL_SECONDS, as a person would never be.
    page.wait_for_timeout(1100)


def test_reader_submits_a_public_comment_without_javascript(live_server, page):
    base, app = live_server
    page.goto(base + "/")
    _fill(page, "Public comment", "Browser Reader", "Please post the slides within a day.")
    page.get_by_role("button", name="Send my idea").click()

    assert page.url == base + "/thanks#main"
    assert page.get_by_role("heading", name="Thank you for your idea!").is_visible()
    assert page.get_by_text("once the site owner has approved it").is_visible()
    link = page.locator(".manage-link a").get_attribute("href")
    assert re.fullmatch(re.escape(base) + r"/s/[A-Za-z0-9_-]{43}", link)
    page.goto(link)
    assert page.locator(".manage .body").inner_text() == "Please post the slides within a day."
    assert page.get_by_label("Your idea").input_value() == "Please post the slides within a day."
    assert count_submissions(app) == 1


def test_reader_sends_a_private_note_and_sees_errors_next_to_fields(live_server, page):
    base, app = live_server
    page.goto(base + "/")
    _fill(page, "Private note to the organisers", "Private Reader", "Only the organisers, please.")
    page.get_by_label("The owner may publish this later").check()
    # The browser cannot check this field's rules; the server answers next to the field.
    page.get_by_label("Website or social handle (optional)").fill("javascript:alert(1)")
    page.get_by_role("button", name="Send my idea").click()
    assert page.locator("#website-error").inner_text().startswith("Enter a web address")
    assert page.get_by_label("Your name").input_value() == "Private Reader"
    assert page.get_by_label("Your idea").input_value() == "Only the organisers, please."
    assert page.get_by_label("Private note to the organisers").is_checked()
    assert page.get_by_label("The owner may publish this later").is_checked()

    page.get_by_label("Website or social handle (optional)").fill("")
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send my idea").click()
    assert page.url == base + "/thanks#main"
    assert page.get_by_text("Only the site owner and the conference organisers").is_visible()
    page.goto(base + "/")
    assert page.get_by_text("Only the organisers, please.").count() == 0
    assert count_submissions(app) == 1


@pytest.fixture
def js_page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()


def _log_in(page, base: str) -> None:
    page.goto(base + "/admin/")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", name="Moderation queue").is_visible()


def test_owner_moderates_with_buttons_and_no_javascript(live_server, page):
    base, app = live_server
    add_owner(app)
    public_id = _store(app, "A public idea waiting for approval.")
    private_id = _store(app, "A private note without consent.", visibility="private")
    _log_in(page, base)

    item = page.locator(f"#item-{public_id}")
    item.get_by_role("button", name="Approve").click()
    assert page.get_by_text(f"Approve: done for idea #{public_id}.").is_visible()
    page.goto(base + "/")
    assert page.get_by_text("A public idea waiting for approval.").is_visible()

    page.goto(base + "/admin/")
    private = page.locator(f"#item-{private_id}")
    assert private.get_by_role("button", name="Make public").is_disabled()
    assert private.get_by_text("The author did not consent to publishing.").is_visible()


def test_owner_approves_with_the_keyboard(live_server, js_page):
    base, app = live_server
    add_owner(app)
    item_id = _store(app, "Approve me with the a key.")
    page = js_page
    _log_in(page, base)
    page.locator(f"#item-{item_id}").focus()
    with page.expect_navigation():
        page.keyboard.press("a")
    assert page.get_by_text(f"Approve: done for idea #{item_id}.").is_visible()
    # Typing in the search box is never taken as a shortcut.
    page.get_by_text("Filter and search").click()
    page.get_by_label("Search").press_sequentially("spam a reject")
    assert page.get_by_label("Search").input_value() == "spam a reject"
    assert page.url.startswith(base + "/admin/")


def _store(app, body: str, visibility: str = "public") -> int:
    from feedback import submissions
    from feedback.db import get_session
    from feedback.models import Topic, Visibility

    with app.app_context():
        session = get_session()
        idea = submissions.NewIdea(
            visibility=Visibility(visibility),
            author_name="Browser Author",
            email="author@example.org",
            topic_id=session.scalar(sa.select(Topic.id)),
            body=body,
        )
        item, _token = submissions.create(
            session, idea, secret_key="test-secret", auto_approve_public=False
        )
        session.commit()
        return item.id


def test_new_ideas_bar_appears_and_shows_the_idea(live_server, js_page):
    """Like the chat's "more tweets" bar: an idea approved while the page is open."""
    base, app = live_server
    add_owner(app)
    _store(app, "An idea that was there before.")
    page = js_page
    page.goto(base + "/")
    assert page.locator(".new-ideas").is_hidden()

    # A second reader, in another tab, sends an idea through the form.
    other = page.context.new_page()
    other.goto(base + "/")
    _fill(other, "Public comment", "Second Reader", "Fresh idea <b>from</b> another reader.")
    other.get_by_role("button", name="Send my idea").click()
    assert other.url == base + "/thanks#main"
    # Closed without waiting for Chromium to confirm (that wait has hung in Chromium 156), then
    # the first tab is in front again, so its timers run at full speed.
    other.close(run_before_unload=True)
    page.bring_to_front()
    with app.app_context():
        from feedback.db import get_session
        from feedback.models import Submission

        item_id = get_session().scalar(sa.select(sa.func.max(Submission.id)))
    owner = app.test_client()
    login_page = owner.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    credentials = {"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token}
    assert owner.post("/admin/login", data=credentials).status_code == 303
    queue = owner.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', queue).group(1)
    approved = owner.post(f"/admin/items/{item_id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303

    bar = page.locator(".new-ideas")
    bar.wait_for(state="visible", timeout=10000)
    assert bar.inner_text() == "1 new idea - show them"
    bar.click()
    fresh = page.locator(f"#idea-{item_id}")
    assert fresh.is_visible()
    assert fresh.locator(".body").inner_text() == "Fresh idea <b>from</b> another reader."
    assert bar.is_hidden()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_first_screen_says_what_this_is_both_ways_and_the_newest_ideas(
    live_server, width, height
):
    """Without scrolling and without JavaScript: the heading, the two ways to send an idea,
    and the newest public ideas, on a desktop and on a phone."""
    from playwright.sync_api import sync_playwright

    from feedback import moderation
    from feedback.db import get_session
    from feedback.models import Status, Submission

    base, app = live_server
    for n in range(3):
        item_id = _store(app, f"Newest idea number {n}: a quiet corner for bloggers.")
        with app.app_context():
            session = get_session()
            moderation.set_status(session, session.get(Submission, item_id), Status.APPROVED, None)
            session.commit()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        page.goto(base + "/")

        def on_first_screen(locator) -> bool:
            box = locator.first.bounding_box()
            return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height

        assert on_first_screen(page.get_by_role("heading", level=1))
        assert on_first_screen(page.get_by_text("public comment", exact=False))
        assert on_first_screen(page.get_by_text("private note", exact=False))
        assert on_first_screen(page.get_by_text("Newest idea number 2"))
        # The way to the form is one link away on a phone, beside the ideas on a desktop.
        if width < 800:
            page.get_by_role("link", name="Share an idea").click()
            assert on_first_screen(page.get_by_role("heading", name="Share an idea"))
        context.close()
        browser.close()
