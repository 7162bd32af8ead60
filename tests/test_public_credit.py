"""The author's credit choice holds on every public surface, as it does in the digest."""

import json
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa

from feedback.db import get_session
from feedback.models import Credit, Topic

ATOM = "{http://www.w3.org/2005/Atom}"
NAME = "Zebulon Quillfeather"
ORGANISATION = "Quillfeather Labs"
WEBSITE = "https://zq-site.example.net/about"
EMAIL = "zq-mail@example.net"
# Parts of the real identity; none may reach a public response of an anonymous idea.
IDENTIFYING = ("Zebulon", "Quillfeather", "zq-site", "zq-mail")


def _slug(app) -> str:
    """The topic make_submission files ideas under."""
    with app.app_context():
        return get_session().scalar(sa.select(Topic.slug).order_by(Topic.position))


def _public_urls(item_id: int, slug: str) -> list[str]:
    return [
        "/",
        "/?sort=top",
        f"/ideas/{item_id}",
        f"/topics/{slug}",
        f"/topics/{slug}?sort=top",
        "/feed.atom",
        f"/topics/{slug}/feed.atom",
        "/api/ideas",
        f"/api/ideas?topic={slug}",
    ]


def _credits_in(url: str, body: str) -> list[tuple[str, str | None]]:
    """Each idea's (author, link) as one public response shows it."""
    if url.startswith("/api/"):
        return [(idea["author"], idea["author_url"]) for idea in json.loads(body)["ideas"]]
    if url.endswith(".atom"):
        authors = ET.fromstring(body.encode()).iter(f"{ATOM}author")
        return [(a.findtext(f"{ATOM}name"), a.findtext(f"{ATOM}uri")) for a in authors]
    return []


@pytest.fixture
def anonymous_id(make_submission) -> int:
    """An approved public idea whose author chose to be credited anonymously."""
    return make_submission(
        credit=Credit.ANONYMOUS,
        author_name=NAME,
        organisation=ORGANISATION,
        website=WEBSITE,
        email=EMAIL,
        title=None,  # the permalink's heading and tags then fall back to the author and body
        body="Quiet rooms between the sessions, please.",
    )


def test_an_anonymous_author_is_a_reader_on_every_public_url(app, client, anonymous_id):
    for url in _public_urls(anonymous_id, _slug(app)):
        with client.get(url) as response:
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
        for part in IDENTIFYING:
            assert part not in body, (url, part)
        assert "Quiet rooms between the sessions" in body, url
        if url.startswith("/api/") or url.endswith(".atom"):
            assert _credits_in(url, body) == [("A reader", None)], url
        else:
            assert '<span class="author">A reader</span>' in body, url
    permalink = client.get(f"/ideas/{anonymous_id}").get_data(as_text=True)
    assert "An idea from A reader" in permalink


def test_the_owner_still_sees_who_wrote_it(app, client, auth, anonymous_id):
    auth.login()
    queue = client.get("/admin/?status=approved").get_data(as_text=True)
    assert NAME in queue
    page = client.get(f"/admin/items/{anonymous_id}").get_data(as_text=True)
    assert NAME in page
    assert WEBSITE in page
    assert EMAIL in page
    # Being logged in does not change what the public pages say.
    assert NAME not in client.get(f"/ideas/{anonymous_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("credit", "organisation", "shown", "link"),
    [
        (Credit.NAME, ORGANISATION, NAME, "https://x.com/zqhandle"),
        (Credit.NAME_AND_ORGANISATION, ORGANISATION, f"{NAME} ({ORGANISATION})", None),
        (Credit.NAME_AND_ORGANISATION, None, NAME, None),
        (Credit.ANONYMOUS, ORGANISATION, "A reader", None),
    ],
    ids=["name", "name_org", "name_org-without-organisation", "anonymous"],
)
def test_the_credit_shows_as_chosen(
    app, client, make_submission, credit, organisation, shown, link
):
    website = "@zqhandle" if link else None
    item_id = make_submission(
        credit=credit, author_name=NAME, organisation=organisation, website=website
    )
    html = f'<span class="author">{shown}</span>'
    if link:
        html = f'<a class="author" href="{link}" rel="nofollow ugc noopener">{shown}</a>'
    for url in _public_urls(item_id, _slug(app)):
        body = client.get(url).get_data(as_text=True)
        if credit is not Credit.NAME_AND_ORGANISATION:
            assert ORGANISATION not in body, url
        if url.startswith("/api/") or url.endswith(".atom"):
            assert _credits_in(url, body) == [(shown, link)], url
        else:
            assert html in body, url
