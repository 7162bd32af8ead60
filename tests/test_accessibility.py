"""axe-core in a real Chromium over the pages of both sides, at 1280 px and 390 px, in the
light and the dark colour scheme: no violation of impact serious or critical.

axe-core (the npm package, `axe.min.js`) is injected into each page; `make test` installs it
into tests/.axe where npm is present, and these tests skip with the reason where it is not.
"""

import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from feedback import consent, demo, moderation, submissions
from feedback.db import get_session
from feedback.digest import contents, delivery
from feedback.models import Owner, Status, Submission, Theme, Visibility
from feedback.themes import store
from tests.conftest import (
    OWNER_EMAIL,
    add_owner,
    dispose,
    log_in_browser,
    setup_app,
)
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

AXE = Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium chromium-driver",
    ),
    pytest.mark.skipif(
        not AXE.exists(),
        reason="axe-core not installed: npm install --prefix tests/.axe axe-core@4.14.1 "
        "(make test does it where npm is)",
    ),
]

PUBLIC = [
    "/",
    "/?page=2",
    "/?sort=top",
    "/ideas/{idea}",
    "/topics/{topic}",
    "{manage}",
    "{manage_public}",
    "{manage_asked}",
    "{manage_withdrawn}",
    "/s/resend",
    "/no-such-page",
    "/admin/logout",  # GET: the 405 error page
    "/admin/login",
]
OWNER = [
    "/admin/",
    "/admin/?status=all",
    "/admin/?status=approved&visibility=private&q=power",
    "/admin/?status=spam",
    "/admin/?status=rejected",
    "/admin/?status=withdrawn",
    "/admin/items/{idea}",
    "/admin/items/{private}",
    "/admin/dashboard",
    "/admin/blocks",
    "/admin/digests/",
    "/admin/digests/new",
    "/admin/digests/{digest}",
    "/admin/themes",
    "/admin/themes/{theme}",
]
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A live site with the demo ideas, some approved, themes, a sent digest and an owner."""
    folder = tmp_path_factory.mktemp("axe")
    app = setup_app(f"sqlite:///{folder / 'axe.sqlite'}", PER_PAGE=5)
    add_owner(app)
    with app.app_context():
        session = get_session()
        demo.fill(session, app.config["SECRET_KEY"])
        for item in session.scalars(sa.select(Submission).order_by(Submission.id)):
            if item.visibility is Visibility.PUBLIC and item.id % 4:
                moderation.set_status(session, item, Status.APPROVED, None)
        session.commit()
        store.rebuild(session)
        session.commit()
        delivery.mark_sent(session, app.config, contents.Options(), created_by=OWNER_EMAIL)
        session.commit()
        public = session.scalar(
            sa.select(Submission.id).where(
                Submission.status == Status.APPROVED, Submission.visibility == Visibility.PUBLIC
            )
        )
        private = session.scalar(
            sa.select(Submission.id).where(Submission.visibility == Visibility.PRIVATE)
        )
        notes = session.scalars(
            sa.select(Submission)
            .where(Submission.visibility == Visibility.PRIVATE, Submission.id != private)
            .order_by(Submission.id)
        ).all()
        asked, withdrawn = notes[0], notes[1]
        owner = session.scalar(sa.select(Owner))
        secret = app.config["SECRET_KEY"]
        asked.consent_to_publish = False
        token_asked = consent.ask(
            session, asked, owner, title=None, body=asked.body, days=14, secret_key=secret
        )
        submissions.withdraw(session, withdrawn)
        manage = {
            "manage_public": submissions.manage_link_token(
                session, session.get(Submission, public), secret
            ),
            "manage_asked": token_asked,
            "manage_withdrawn": submissions.manage_link_token(session, withdrawn, secret),
        }
        session.commit()
        ids = {
            **{name: f"/s/{token}" for name, token in manage.items()},
            "idea": public,
            "private": private,
            "topic": session.get(Submission, public).topic.slug,
            "digest": session.scalar(sa.text("SELECT max(id) FROM digests")),
            "theme": session.scalar(sa.select(sa.func.min(Theme.id))),
        }
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app, ids
    server.shutdown()
    thread.join()
    dispose(app)


def _violations(page, url: str | None = None) -> list[tuple[str, str, str, int]]:
    """(page, rule, impact, nodes) for every axe violation on the page at ``url`` (or on the
    page as it stands)."""
    if url is not None:
        assert page.goto(url) is not None
    url = page.url
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [(url, v["id"], v["impact"], len(v["nodes"])) for v in found]


def _submit_and_manage(page, base: str, who: str) -> str:
    """Send a private note through the form as a new reader; the thank-you page's link."""
    page.goto(base + "/")
    page.get_by_label("Private note to the organisers").check()
    page.get_by_label("Your name").fill("Axe Reader")
    page.get_by_label("Your email").fill(f"axe-{who}@example.org")
    page.get_by_label("Topic").select_option(index=1)
    page.get_by_label("Your idea").fill(f"A quiet room for writing up notes ({who}).")
    page.wait_for_timeout(2100)
    page.get_by_role("button", name="Send my idea").click()
    return re.search(r"http://[^\"]+(/s/[A-Za-z0-9_-]{43})", page.content()).group(1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_no_serious_or_critical_violations_on_either_side(site, width, scheme):
    from playwright.sync_api import sync_playwright

    base, _app, ids = site
    found = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme=scheme,
            # The site's CSP forbids inline scripts, as it should; the injected axe is one.
            bypass_csp=True,
        )
        page = context.new_page()
        page.goto(base + "/")
        page.get_by_role("button", name="Send my idea").click()
        found += _violations(page)  # the form sent back with an error next to each field
        manage = _submit_and_manage(page, base, f"{width}-{scheme}")
        found += _violations(page)  # the thank-you page with the manage link
        paths = {**ids, "manage": manage}
        for path in PUBLIC:
            found += _violations(page, base + path.format(**paths))
        log_in_browser(page, base)
        for path in OWNER:
            found += _violations(page, base + path.format(**paths))
        context.close()
        browser.close()
    blocking = [v for v in found if v[2] in BLOCKING]
    listed = "\n".join(f"{url}: {rule} ({impact}, {n} nodes)" for url, rule, impact, n in found)
    print(f"\naxe at {width} px, {scheme}:\n{listed or 'no violations'}")
    assert blocking == [], listed


def test_printing_a_digest_prints_the_digest_alone(site):
    from playwright.sync_api import sync_playwright

    base, _app, ids = site
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        log_in_browser(page, base)
        page.goto(base + f"/admin/digests/{ids['digest']}")
        page.emulate_media(media="print")
        assert page.locator(".digest-preview").is_visible()
        assert not page.locator("header.site").is_visible()
        # The owner's page heading and options go; the digest's own heading stays.
        assert not page.locator("main > h1").is_visible()
        assert page.locator(".digest-preview h1").is_visible()
        page.emulate_media(media="screen")
        assert page.locator("header.site").is_visible()
        browser.close()


def test_nothing_scrolls_sideways_at_320_px(site):
    """The narrowest phones: every page fits its width (text wraps, tables scroll inside)."""
    from playwright.sync_api import sync_playwright

    base, _app, ids = site
    wide = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 320, "height": 640})
        paths = {**ids, "manage": ids["manage_public"]}
        for path in PUBLIC[:1] + PUBLIC[3:5]:
            page.goto(base + path.format(**paths))
            if page.evaluate("document.documentElement.scrollWidth") > 320:
                wide.append(path)
        log_in_browser(page, base)
        for path in OWNER:
            page.goto(base + path.format(**paths))
            if page.evaluate("document.documentElement.scrollWidth") > 320:
                wide.append(path)
        browser.close()
    assert wide == []
