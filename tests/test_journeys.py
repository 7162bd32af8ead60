"""Whole journeys in a real Chromium (JavaScript off), each one a story a reviewer can read:
a reader's idea from the form to the page, a private note withdrawn, a form sent back with
the text kept, an owner's day of moderation, and a digest from preview to "sent"."""

import re

import pytest

from feedback.models import Status, Visibility
from tests.conftest import OWNER_EMAIL, add_owner, get_item, log_in_browser
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _store

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM}")


@pytest.fixture
def browser_context(live_server):
    """A reader's and an owner's browser, side by side."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        reader = browser.new_context(java_script_enabled=False, accept_downloads=True)
        owner = browser.new_context(java_script_enabled=False, accept_downloads=True)
        yield reader.new_page(), owner.new_page()
        reader.close()
        owner.close()
        browser.close()


def send(page, base: str, kind: str, body: str, email: str = "rita@example.org") -> str:
    """A reader fills in the form and sends it; the manage link the thank-you page shows."""
    page.goto(base + "/")
    page.get_by_label(kind).check()
    page.get_by_label("Your name").fill("Rita Reader")
    page.get_by_label("Your email").fill(email)
    page.get_by_label("Topic").select_option(label="Sessions and speakers")
    page.get_by_label("Your idea").fill(body)
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send my idea").click()
    return re.search(r"http://[^\"]+(/s/[A-Za-z0-9_-]{43})", page.content()).group(1)


def test_a_public_idea_appears_once_the_owner_approves_it(live_server, browser_context):
    base, app = live_server
    add_owner(app)
    reader, owner = browser_context
    send(reader, base, "Public comment", "Live captions on the main stage, please.")
    assert reader.get_by_role("heading", name="Thank you").first.is_visible()
    reader.goto(base + "/")
    assert reader.get_by_text("Live captions on the main stage").count() == 0

    log_in_browser(owner, base)
    idea = owner.locator(".queue-item", has_text="Live captions on the main stage")
    idea.get_by_role("button", name="Approve", exact=True).click()

    reader.reload()
    assert reader.get_by_text("Live captions on the main stage, please.").is_visible()


def test_a_private_note_is_withdrawn_through_its_manage_link(live_server, browser_context):
    base, app = live_server
    add_owner(app)
    reader, owner = browser_context
    link = send(reader, base, "Private note to the organisers", "The venue's wifi is poor.")
    reader.goto(base + link)
    reader.get_by_role("button", name="Withdraw my idea").click()
    assert reader.get_by_text("Withdrawn by you").first.is_visible()

    log_in_browser(owner, base)
    owner.goto(base + "/admin/?status=withdrawn")
    assert owner.get_by_role("link", name="The venue's wifi is poor.").is_visible()


def test_a_form_sent_back_keeps_what_the_reader_typed(live_server, browser_context):
    base, _app = live_server
    reader, _owner = browser_context
    reader.goto(base + "/")
    reader.get_by_label("Public comment").check()
    reader.get_by_label("Your name").fill("Rita Reader")
    # The browser takes it for an address; the app's check does not (no dot in the domain).
    reader.get_by_label("Your email").fill("rita@example")
    reader.get_by_label("Topic").select_option(label="Sessions and speakers")
    reader.get_by_label("Your idea").fill("A long idea I would hate to type twice.")
    reader.wait_for_timeout(1100)
    reader.get_by_role("button", name="Send my idea").click()
    assert reader.get_by_label("Your idea").input_value() == (
        "A long idea I would hate to type twice."
    )
    assert reader.get_by_label("Your name").input_value() == "Rita Reader"
    assert reader.locator("#email-error").is_visible()


def test_an_owner_approves_hides_asks_consent_publishes_and_bulk_rejects(
    live_server,
    browser_context,
):
    base, app = live_server
    add_owner(app)
    reader, owner = browser_context
    shown = _store(app, "Shown, then hidden by the owner.")
    link = send(reader, base, "Private note to the organisers", "Private first, public later.")
    junk = [_store(app, f"Off-topic post number {n}.") for n in range(2)]
    log_in_browser(owner, base)

    owner.locator(f"#item-{shown}").get_by_role("button", name="Approve", exact=True).click()
    owner.goto(base + "/admin/?status=approved")
    owner.locator(f"#item-{shown}").get_by_role("button", name="Make private").click()
    assert get_item(app, shown).visibility is Visibility.PRIVATE

    note = get_item(app, shown + 1)
    owner.goto(base + f"/admin/items/{note.id}")
    owner.get_by_role("button", name="Ask the author").click()
    reader.goto(base + link)
    reader.get_by_role("button", name="Publish this version").click()
    published = get_item(app, note.id)
    assert (published.visibility, published.status) == (Visibility.PUBLIC, Status.APPROVED)
    reader.goto(base + "/")
    assert reader.get_by_text("Private first, public later.").is_visible()

    owner.goto(base + "/admin/")
    for item_id in junk:
        owner.get_by_label(f"Select idea #{item_id}").check()
    owner.get_by_label("With the checked ideas").select_option(label="Reject")
    owner.get_by_role("button", name="Apply to checked").click()
    assert [get_item(app, item_id).status for item_id in junk] == [Status.REJECTED] * 2


def test_a_digest_is_previewed_downloaded_in_every_format_and_marked_sent(
    live_server,
    browser_context,
):
    base, app = live_server
    add_owner(app)
    _reader, owner = browser_context
    log_in_browser(owner, base)
    for body in ("A bloggers' lounge with power strips.", "Stream the keynotes."):
        item_id = _store(app, body)
        owner.goto(base + "/admin/")
        owner.locator(f"#item-{item_id}").get_by_role("button", name="Approve", exact=True).click()

    owner.get_by_role("link", name="Digests").click()
    owner.get_by_role("link", name="New digest").click()
    preview = owner.locator(".digest-preview")
    assert preview.get_by_role("paragraph").filter(has_text="A bloggers' lounge").is_visible()
    for fmt in ("md", "txt", "html", "csv", "json", "eml"):
        with owner.expect_download() as download:
            owner.get_by_role("link", name=fmt, exact=True).click()
        assert "Stream the keynotes." in download.value.path().read_bytes().decode(), fmt
    owner.get_by_role("button", name="Mark as sent").click()
    owner.goto(base + "/admin/digests/")
    assert owner.get_by_role("cell", name="marked as sent by " + OWNER_EMAIL).is_visible()
