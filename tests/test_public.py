"""The readers' side: the public page, both kinds of submission, thank-you and manage pages."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback.db import get_session, utcnow
from feedback.models import Status, Submission, Visibility
from tests.conftest import count_submissions, form_data


def _manage_link(html: str) -> str:
    match = re.search(r'href="http://localhost(/s/[A-Za-z0-9_-]{43})"', html)
    assert match, "the thank-you page shows the manage link"
    return match.group(1)


def _stored(app) -> Submission:
    with app.app_context():
        return get_session().scalars(sa.select(Submission)).one()


def test_front_page_shows_conference_intro_and_form(client):
    html = client.get("/").get_data(as_text=True)
    assert "Ideas for HIMSS Conference" in html
    assert "The conference team asked how bloggers" in html
    assert 'action="/ideas#share"' in html
    assert (
        "<strong>Public comment</strong>: shown on this page after the site owner approves it"
        in html
    )
    assert (
        "<strong>Private note to the organisers</strong>: "
        "only the site owner and the organisers will read it" in html
    )
    assert "The owner may publish this later" in html
    assert "No public ideas yet" in html


def test_public_comment_end_to_end(app, client):
    response = client.post(
        "/ideas", data=form_data(app, body="Power strips for bloggers, please.")
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/thanks#main"

    thanks = client.get("/thanks").get_data(as_text=True)
    assert "It will appear on the public page once the site owner has approved it" in thanks
    link = _manage_link(thanks)

    item = _stored(app)
    assert item.visibility is Visibility.PUBLIC
    assert item.status is Status.PENDING
    assert item.email == "ada@example.org"
    # A public comment is its own consent, so an owner who hides it can show it again.
    assert item.consent_to_publish is True
    assert item.created_at.tzinfo is not None

    assert "Power strips for bloggers" not in client.get("/").get_data(as_text=True)
    manage = client.get(link)
    assert manage.status_code == 200
    assert "Power strips for bloggers, please." in manage.get_data(as_text=True)
    assert "Waiting for the site owner to approve it" in manage.get_data(as_text=True)
    assert manage.headers["Referrer-Policy"] == "same-origin"

    with app.app_context():
        session = get_session()
        session.get(Submission, item.id).status = Status.APPROVED
        session.commit()
    assert "Power strips for bloggers, please." in client.get("/").get_data(as_text=True)


def test_private_note_end_to_end(app, client):
    data = form_data(app, visibility="private", consent="y", body="Only for the organisers.")
    assert client.post("/ideas", data=data).status_code == 303
    thanks = client.get("/thanks").get_data(as_text=True)
    assert "Only the site owner and the conference organisers will read it" in thanks
    assert "unless the owner decides to publish it, as you allowed" in thanks
    link = _manage_link(thanks)

    item = _stored(app)
    assert item.visibility is Visibility.PRIVATE
    assert item.status is Status.PENDING
    assert item.consent_to_publish is True
    manage = client.get(link).get_data(as_text=True)
    assert "Private note to the organisers" in manage
    assert "Only for the organisers." in manage

    # Even once the owner accepts it, a private note never reaches the public page.
    with app.app_context():
        session = get_session()
        session.get(Submission, item.id).status = Status.APPROVED
        session.commit()
    assert "Only for the organisers." not in client.get("/").get_data(as_text=True)
    assert client.get(f"/ideas/{item.id}").status_code == 404


def test_a_public_comment_is_consent_to_publish_with_or_without_the_box(app, client):
    client.post("/ideas", data=form_data(app, visibility="public"))
    client.post(
        "/ideas", data=form_data(app, visibility="public", consent="y", body="A second idea.")
    )
    with app.app_context():
        consents = get_session().scalars(sa.select(Submission.consent_to_publish)).all()
    assert consents == [True, True]


def test_private_note_without_consent(app, client):
    client.post("/ideas", data=form_data(app, visibility="private"))
    assert _stored(app).consent_to_publish is False


def test_auto_approve_public_shows_the_comment_at_once(make_app):
    app = make_app(AUTO_APPROVE_PUBLIC=True)
    client = app.test_client()
    client.post("/ideas", data=form_data(app, body="Approved without waiting."))
    assert "already" in client.get("/thanks").get_data(as_text=True)
    assert "Approved without waiting." in client.get("/").get_data(as_text=True)
    # Private notes are never approved automatically.
    client.post("/ideas", data=form_data(app, visibility="private", email="b@example.org"))
    with app.app_context():
        statuses = (
            get_session().scalars(sa.select(Submission.status).order_by(Submission.id)).all()
        )
    assert statuses == [Status.APPROVED, Status.PENDING]


def test_thanks_shows_the_manage_link_only_once(app, client):
    client.post("/ideas", data=form_data(app))
    first = client.get("/thanks")
    assert "/s/" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    # The next person at a shared computer finds no link there.
    again = client.get("/thanks").get_data(as_text=True)
    assert "/s/" not in again
    assert "Your idea has been received." in again


def test_thanks_without_a_submission_is_generic(client):
    html = client.get("/thanks").get_data(as_text=True)
    assert "Your idea has been received." in html
    assert "/s/" not in html


def test_wrong_manage_token_is_a_plain_404(client, make_submission):
    make_submission()
    response = client.get("/s/" + "A" * 43)
    assert response.status_code == 404
    assert "Grace Example" not in response.get_data(as_text=True)


def test_list_shows_author_topic_date_and_links(client, make_submission):
    make_submission(
        author_name="Stacey",
        website="@HealthITgirl",
        title="Meet-ups",
        body="First paragraph with https://example.org/a_(b).\n\nSecond paragraph\nnext line.",
    )
    html = client.get("/").get_data(as_text=True)
    assert (
        '<a class="author" href="https://x.com/HealthITgirl" rel="nofollow ugc noopener">'
        "Stacey</a>" in html
    )
    assert "#blog" in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', html)
    assert (
        '<p>First paragraph with <a href="https://example.org/a_(b)" rel="nofollow ugc noopener">'
        "https://example.org/a_(b)</a>.</p>" in html
    )
    assert "<p>Second paragraph<br>\nnext line.</p>" in html


def test_author_without_website_is_plain_text(client, make_submission):
    make_submission(author_name="No Site", website=None)
    html = client.get("/").get_data(as_text=True)
    assert '<span class="author">No Site</span>' in html


def test_hostile_text_is_escaped_on_the_page(app, client):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> javascript:alert(1)'
    data = form_data(app, title="<b>bold</b> title", body=hostile)
    assert client.post("/ideas", data=data).status_code == 303
    with app.app_context():
        session = get_session()
        session.scalars(sa.select(Submission)).one().status = Status.APPROVED
        session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; title" in html
    assert 'href="javascript:' not in html


def test_newest_first_and_pagination_in_pages_of_twenty(client, make_submission):
    start = utcnow() - timedelta(days=1)
    for n in range(45):
        make_submission(title=f"Idea number {n:02d}", created_at=start + timedelta(minutes=n))
    first = client.get("/").get_data(as_text=True)
    titles = re.findall(r"Idea number (\d\d)", first)
    assert titles == [f"{n:02d}" for n in range(44, 24, -1)]
    assert 'rel="next" href="/?page=2#ideas"' in first
    assert 'rel="prev"' not in first

    second = client.get("/?page=2").get_data(as_text=True)
    assert re.findall(r"Idea number (\d\d)", second)[0] == "24"
    assert 'rel="prev" href="/#ideas"' in second
    assert 'rel="next" href="/?page=3#ideas"' in second
    assert "<title>HIMSS Conference: ideas (page 2)</title>" in second

    third = client.get("/?page=3").get_data(as_text=True)
    assert re.findall(r"Idea number (\d\d)", third) == [f"{n:02d}" for n in range(4, -1, -1)]
    assert 'rel="next"' not in third
    assert client.get("/?page=4").status_code == 404


@pytest.mark.parametrize(
    "page", ["0", "-1", "abc", "1.5", "99999999999", "", "²", "٣", "9" * 5000]
)
def test_bad_page_number_is_a_400_with_a_message(client, page):
    response = client.get(f"/?page={page}")
    assert response.status_code == 400
    assert "The page number must be a whole number from 1 up." in response.get_data(as_text=True)


def test_unknown_sort_order_is_a_400(client):
    assert client.get("/?sort=new").status_code == 200
    response = client.get("/?sort=%3Cscript%3E")
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


def test_get_on_the_form_address_leads_to_the_list(client):
    response = client.get("/ideas")
    assert response.status_code == 302
    assert response.headers["Location"] == "/#ideas"


def test_idea_permalink(client, make_submission):
    item_id = make_submission(title="Slides within a day")
    response = client.get(f"/ideas/{item_id}")
    assert response.status_code == 200
    assert "<title>Slides within a day: HIMSS Conference ideas</title>" in response.get_data(
        as_text=True
    )
    assert client.get("/ideas/999999").status_code == 404
    # Beyond a 32-bit id (PostgreSQL's integer) or any 64-bit one: still a plain 404.
    assert client.get("/ideas/2147483648").status_code == 404
    assert client.get("/ideas/99999999999999999999").status_code == 404
    assert client.get("/ideas/-1").status_code == 404


def test_submissions_survive_concurrent_posts(app):
    """Every reader who sees 'thank you' has their idea stored, under concurrency."""
    from concurrent.futures import ThreadPoolExecutor

    forms = [
        form_data(app, email=f"r{n}@example.org", body=f"Idea {n:03d} text") for n in range(24)
    ]

    def post(data):
        return app.test_client().post("/ideas", data=data).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(post, forms))
    assert codes == [303] * 24
    assert count_submissions(app) == 24
