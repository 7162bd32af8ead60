"""Similar ideas in a real browser (headless Chromium): while typing, and without JavaScript."""

import re
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from feedback.db import get_session
from feedback.models import Status, Submission, Topic, Visibility
from feedback.tokens import new_manage_token
from tests.conftest import dispose, get_item, setup_app
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium chromium-driver "
    "(or set CHROMIUM_PATH) to run the browser tests",
)

TITLE = "Power in the bloggers' lounge"


@pytest.fixture
def live_server(tmp_path) -> Iterator[tuple[str, object, int]]:
    """The app on a real HTTP port, with CSRF on and one public idea about the lounge."""
    app = setup_app(
        f"sqlite:///{tmp_path / 'similar.sqlite'}", MIN_FILL_SECONDS=1, WTF_CSRF_ENABLED=True
    )
    with app.app_context():
        session = get_session()
        item = Submission(
            visibility=Visibility.PUBLIC,
            status=Status.APPROVED,
            author_name="Earlier Reader",
            email="earlier@example.org",
            topic_id=session.scalar(sa.select(Topic.id)),
            title=TITLE,
            body="Power strips at every table and a stronger Wi-Fi signal in the lounge.",
            manage_token_hash=new_manage_token("test-secret")[2],
        )
        session.add(item)
        session.commit()
        item_id = item.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, app, item_id
    server.shutdown()
    thread.join()
    dispose(app)


def _browser(javascript: bool):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=javascript)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def js_page(live_server):
    yield from _browser(javascript=True)


@pytest.fixture
def plain_page(live_server):
    yield from _browser(javascript=False)


def _plus_one_instead(title: str):
    return re.compile(r"^\+1 instead for “" + re.escape(title) + "”$")


def test_typing_shows_the_similar_idea_and_plus_one_instead_counts(live_server, js_page):
    base, app, item_id = live_server
    page = js_page
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/similar" in r.url else None)
    page.goto(base + "/")
    page.get_by_label("Public comment").check()
    body = page.get_by_label("Your idea")
    body.press_sequentially("wifi")
    page.wait_for_timeout(700)
    # Too short to compare: nothing asked, nothing shown.
    assert asked == []
    body.press_sequentially(" and power strips for the lounge", delay=30)
    region = page.locator("#similar")
    link = region.get_by_role("link", name=TITLE)
    link.wait_for()
    # One question after the pause, not one per key.
    assert len(asked) == 1
    assert region.get_attribute("aria-live") == "polite"
    assert link.get_attribute("href") == f"{base}/ideas/{item_id}"
    assert region.get_by_text("0 +1s").is_visible()

    with page.expect_navigation():
        region.get_by_role("button", name=_plus_one_instead(TITLE)).click()
    assert page.url == f"{base}/ideas/{item_id}#idea-{item_id}"
    assert page.get_by_text("Thanks for your +1: this idea now has 1.").is_visible()
    assert page.get_by_text("1 +1", exact=True).is_visible()
    assert get_item(app, item_id).vote_count == 1


def test_a_private_notes_words_never_leave_the_form(live_server, js_page):
    base, _app, _item_id = live_server
    page = js_page
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/similar" in r.url else None)
    page.goto(base + "/")
    page.get_by_role("radio", name=re.compile("^Private note")).check()
    page.get_by_label("Your idea").fill("More power strips and wifi for the bloggers lounge.")
    page.wait_for_timeout(1100)
    assert asked == []
    assert page.locator("#similar").get_by_role("link").count() == 0
    # Switching to a public comment asks at once.
    page.get_by_label("Public comment").check()
    page.locator("#similar").get_by_role("link", name=TITLE).wait_for()
    assert len(asked) == 1


def test_suggestions_never_stand_in_the_way_of_sending(live_server, js_page):
    base, app, item_id = live_server
    page = js_page
    page.goto(base + "/")
    page.get_by_label("Public comment").check()
    page.get_by_label("Your name").fill("Typing Reader")
    page.get_by_label("Your email").fill("typing@example.org")
    page.get_by_label("Topic").select_option(label="Conference blog")
    page.get_by_label("Your idea").fill("More power strips and wifi for the bloggers lounge.")
    page.locator("#similar").get_by_role("link", name=TITLE).wait_for()
    page.wait_for_timeout(1100)
    # Enter in the title sends the idea: the "+1 instead" buttons belong to other forms.
    title = page.get_by_label("Title (optional)")
    title.fill("Lounge power")
    with page.expect_navigation():
        title.press("Enter")
    assert page.url == base + "/thanks#main"
    assert page.get_by_role("heading", name="Thank you for your idea!").is_visible()
    assert get_item(app, item_id).vote_count == 0
    with app.app_context():
        assert get_session().scalar(
            sa.select(Submission.id).where(Submission.title == "Lounge power")
        )


def test_without_javascript_the_thank_you_page_offers_the_similar_idea(live_server, plain_page):
    base, app, item_id = live_server
    page = plain_page
    page.goto(base + "/")
    assert page.locator("#similar").count() == 0
    page.get_by_label("Public comment").check()
    page.get_by_label("Your name").fill("Plain Reader")
    page.get_by_label("Your email").fill("plain@example.org")
    page.get_by_label("Topic").select_option(label="Conference blog")
    page.get_by_label("Your idea").fill("Could we get more power strips and wifi in the lounge?")
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send my idea").click()
    assert page.url == base + "/thanks#main"
    similar = page.get_by_role("region", name="Similar ideas other readers sent")
    assert similar.get_by_role("link", name=TITLE).is_visible()
    similar.get_by_role("button", name=re.compile(r"^\+1 me too for")).click()
    assert page.url == f"{base}/ideas/{item_id}#idea-{item_id}"
    assert page.get_by_text("Thanks for your +1: this idea now has 1.").is_visible()
    assert get_item(app, item_id).vote_count == 1
