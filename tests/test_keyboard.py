"""Without a mouse, in a real Chromium with JavaScript off: a reader sends each kind of idea,
and an owner approves, rejects and marks spam, then builds, downloads and records a digest.
Every step moves the focus with Tab (or arrows in a radio group), checks that the focus can
be seen, and acts with the keyboard."""

import pytest
import sqlalchemy as sa

from feedback.db import get_session
from feedback.models import Digest, Status, Submission, Visibility
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, add_owner, get_item
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _store

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM}")


@pytest.fixture
def keyboard_page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False, accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


# The focused element shows it: an outline of some width that is not "none".
_FOCUS_SHOWN = """element => {
  const style = getComputedStyle(element);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""


def tab_to(page, locator, limit: int = 250) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user would, and check that
    the focus can be seen there."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("element => document.activeElement === element", target):
            assert page.evaluate(_FOCUS_SHOWN, target), f"{locator} has no visible focus"
            return
    raise AssertionError(f"{locator} never got the focus from the keyboard")


def _send(page, base: str, private: bool, name: str, body: str) -> None:
    page.goto(base + "/")
    tab_to(page, page.get_by_label("Public comment"))
    # In a radio group the arrows choose; Space chooses the focused one.
    page.keyboard.press("ArrowDown" if private else "Space")
    tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(f"{name.split()[0].lower()}@example.org")
    tab_to(page, page.get_by_label("Topic"))
    page.keyboard.press("ArrowDown")
    tab_to(page, page.get_by_label("Your idea"))
    page.keyboard.type(body)
    page.wait_for_timeout(1100)
    tab_to(page, page.get_by_role("button", name="Send my idea"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/thanks*")


def test_a_reader_sends_each_kind_of_idea_with_the_keyboard(live_server, keyboard_page):
    base, app = live_server
    page = keyboard_page
    _send(page, base, private=False, name="Kim Keys", body="Captions on every screen, please.")
    assert page.get_by_role("heading", name="Thank you").first.is_visible()
    _send(page, base, private=True, name="Lee Keys", body="A private word about the venue.")
    with app.app_context():
        items = get_session().scalars(sa.select(Submission).order_by(Submission.id)).all()
        got = [(i.visibility, i.author_name, i.body) for i in items]
    assert got == [
        (Visibility.PUBLIC, "Kim Keys", "Captions on every screen, please."),
        (Visibility.PRIVATE, "Lee Keys", "A private word about the venue."),
    ]


def _log_in(page, base: str) -> None:
    page.goto(base + "/admin/login")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(OWNER_EMAIL)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(OWNER_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Moderation queue").wait_for()


def _act(page, item_id: int, button: str) -> None:
    item = page.locator(f"#item-{item_id}")
    tab_to(page, item.get_by_role("button", name=button, exact=True))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Moderation queue").wait_for()


def test_an_owner_moderates_and_sends_a_digest_with_the_keyboard(live_server, keyboard_page):
    base, app = live_server
    add_owner(app)
    approve, reject, spam = (_store(app, f"Keyboard idea {n}: a quiet room.") for n in range(3))
    page = keyboard_page
    _log_in(page, base)
    _act(page, approve, "Approve")
    _act(page, reject, "Reject")
    _act(page, spam, "Mark spam")
    statuses = [get_item(app, i).status for i in (approve, reject, spam)]
    assert statuses == [Status.APPROVED, Status.REJECTED, Status.SPAM]

    tab_to(page, page.get_by_role("link", name="Digests"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="New digest"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="md", exact=True))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert "Keyboard idea 0" in download.value.path().read_text()
    tab_to(page, page.get_by_role("button", name="Mark as sent"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Digest)) == 1
