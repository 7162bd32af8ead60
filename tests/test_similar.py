"""Similar public ideas: GET /api/similar while a reader types, and the thank-you page."""

import itertools
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback import similar, visibility
from feedback.db import get_session, utcnow
from feedback.models import Status, Submission, Topic, Visibility
from feedback.themes import store
from tests.conftest import form_data, get_item

WIFI = "We need power strips and a stronger Wi-Fi signal in the bloggers' lounge."
QUERY = "power strips and wifi for the bloggers lounge please"
FIELDS = {"id", "url", "title", "votes", "score"}

HIDDEN = [
    (v, s)
    for v, s in itertools.product(Visibility, Status)
    if not (v is Visibility.PUBLIC and s is Status.APPROVED)
]


def _similar(client, q: str = QUERY) -> list[dict]:
    response = client.get("/api/similar", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["ideas"]


def _ids(client, q: str = QUERY) -> list[int]:
    return [idea["id"] for idea in _similar(client, q)]


@pytest.fixture
def owner_client(client, auth):
    auth.login()
    return client


def test_the_most_similar_public_idea_comes_first(app, client, make_submission):
    make_submission(title="Post slides within a day", body="Upload every deck after the talk.")
    wifi = make_submission(title="Power in the bloggers' lounge", body=WIFI)
    make_submission(title="A hashtag per track", body="Short tags so lurkers can follow.")
    untitled = make_submission(body="More power strips near the lounge sofas, and wifi " * 2)

    response = client.get("/api/similar", query_string={"q": QUERY})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    ideas = response.get_json()["ideas"]
    assert [i["id"] for i in ideas] == [wifi, untitled]
    assert all(set(i) == FIELDS for i in ideas)
    first, second = ideas
    assert first["url"] == f"{app.config['PUBLIC_URL']}/ideas/{wifi}"
    assert first["title"] == "Power in the bloggers' lounge"
    # An untitled idea is shown by its first words, as everywhere else.
    assert second["title"] == get_item(app, untitled).shown_title
    assert second["title"].startswith("More power strips near the lounge")
    assert first["votes"] == 0
    assert 1 >= first["score"] >= second["score"] >= similar.MIN_SCORE
    assert first["score"] == round(first["score"], 3)


def test_at_most_five_and_nothing_below_the_minimum_score(client, make_submission):
    for n in range(8):
        make_submission(title=f"Lounge power, take {n}", body=WIFI)
    assert len(_similar(client)) == 5
    assert _similar(client, "Vegetarian lunch options at the keynote buffet") == []
    # Only stop words: nothing to compare, and no error either.
    assert _similar(client, "what would you like to do with it?") == []


def test_votes_are_the_current_count(app, client, make_submission):
    item_id = make_submission(title="Power in the lounge", body=WIFI, vote_count=7)
    assert _similar(client)[0]["votes"] == 7
    with app.app_context():
        session = get_session()
        session.get(Submission, item_id).vote_count = 8
        session.commit()
    assert _similar(client)[0]["votes"] == 8


@pytest.mark.parametrize(("item_visibility", "status"), HIDDEN)
def test_ideas_that_are_not_public_and_approved_never_appear(
    app, client, make_submission, item_visibility, status
):
    public = make_submission(title="Lounge power", body="Power strips in the lounge.")
    hidden = make_submission(
        visibility=item_visibility, status=status, title="Lounge power and wifi", body=WIFI
    )
    page = client.get("/api/similar", query_string={"q": WIFI}).get_data(as_text=True)
    assert '"ideas"' in page
    assert f'"id": {hidden}' not in page
    assert "wifi" not in page.lower()
    assert _ids(client, WIFI) == [public]


@pytest.mark.parametrize("action", ["hide", "reject", "spam"])
def test_an_idea_hidden_after_the_index_was_built_vanishes_at_the_next_request(
    app, owner_client, make_submission, action
):
    public = app.test_client()
    item_id = make_submission(title="Power in the lounge", body=WIFI)
    assert _ids(public) == [item_id]
    assert owner_client.post(f"/admin/items/{item_id}/{action}").status_code == 303
    assert not visibility.is_public(get_item(app, item_id))
    assert _ids(public) == []


def test_an_idea_published_after_the_index_was_built_appears_at_the_next_request(
    app, owner_client, make_submission
):
    public = app.test_client()
    first = make_submission(title="Power in the lounge", body=WIFI)
    assert _ids(public) == [first]
    waiting = make_submission(status=Status.PENDING, title="Lounge wifi", body=WIFI + " Soon!")
    assert _ids(public) == [first]
    assert owner_client.post(f"/admin/items/{waiting}/approve").status_code == 303
    assert sorted(_ids(public)) == [first, waiting]
    # Rejected, then approved again: back at once, once.
    assert owner_client.post(f"/admin/items/{first}/reject").status_code == 303
    assert _ids(public) == [waiting]
    assert owner_client.post(f"/admin/items/{first}/approve").status_code == 303
    assert sorted(_ids(public)) == [first, waiting]


def test_an_idea_committed_late_is_still_found(app, client, make_submission):
    """Published a moment before the newest idea the index holds, but committed after it."""
    newest = make_submission(title="Power in the lounge", body=WIFI)
    assert _ids(client) == [newest]
    make_submission(
        title="Lounge wifi",
        body=WIFI + " Again.",
        published_at=get_item(app, newest).published_at - timedelta(seconds=30),
    )
    assert len(_ids(client)) == 2


def test_an_edited_idea_is_scored_on_its_current_text(app, owner_client, make_submission):
    public = app.test_client()
    item_id = make_submission(title="Power in the lounge", body=WIFI)
    assert _ids(public) == [item_id]
    response = owner_client.post(
        f"/admin/items/{item_id}/edit",
        data={"title": "Slides", "body": "Post every deck within a day of the talk."},
    )
    assert response.status_code == 303
    assert _ids(public) == []
    # Found by a word of its old text (until the index is rebuilt), scored on the new one.
    assert _ids(public, "post the slides from the lounge within a day") == [item_id]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "q is required"),
        ("q=", "q is required"),
        ("q=%20%0A%09", "q is required"),
        ("q=" + "a" * 2001, "at most 2000 characters"),
        ("q=wifi%00lounge", "NUL byte"),
        ("q=wifi%07lounge", "control characters"),
        ("q=wifi%E2%80%AElounge", "text-direction"),
        ("q=wifi%FFlounge", "not valid UTF-8"),
        ("q=wifi%C3lounge", "not valid UTF-8"),
    ],
)
def test_a_missing_empty_overlong_or_malformed_q_is_a_400_with_a_message(
    client, make_submission, query, message
):
    make_submission(body=WIFI)
    response = client.get(f"/api/similar?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "Bad Request"
    assert message in body["message"]


def test_the_longest_q_and_line_breaks_are_fine(client, make_submission):
    item_id = make_submission(title="Power in the lounge", body=WIFI)
    longest = ((QUERY + " ") * 40)[:1999] + "x"
    assert len(longest) == 2000
    assert _ids(client, longest) == [item_id]
    response = client.get("/api/similar?q=power+strips%0D%0Aand+wifi+in+the+lounge")
    assert response.status_code == 200
    assert [i["id"] for i in response.get_json()["ideas"]] == [item_id]


def test_the_api_is_rate_limited_per_address(make_app, make_submission):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    for _ in range(60):
        assert client.get("/api/similar", query_string={"q": QUERY}).status_code == 200
    refused = client.get("/api/similar", query_string={"q": QUERY})
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "Too Many Requests"
    other = client.get(
        "/api/similar", query_string={"q": QUERY}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


def test_no_theme_label_or_keyword_reaches_the_answer(app, client, make_submission):
    make_submission(title="Power in the lounge", body=WIFI)
    make_submission(title="Lounge power", body=WIFI + " Zanzibar outlets.")
    make_submission(visibility=Visibility.PRIVATE, title="Zanzibar lounge", body=WIFI)
    with app.app_context():
        session = get_session()
        store.rebuild(session)
        session.commit()
        theme = store.summaries(session)[0]
        store.rename(session, theme.id, "Owner label Qx7", by=None)
        session.commit()
    page = client.get("/api/similar", query_string={"q": QUERY}).get_data(as_text=True)
    assert len(_similar(client)) == 2
    assert "Owner label Qx7" not in page
    assert "zanzibar" not in page.lower()
    assert all(set(i) == FIELDS for i in _similar(client))


def test_find_leaves_out_the_excluded_idea(app, make_submission):
    own = make_submission(title="Power in the lounge", body=WIFI)
    other = make_submission(title="Lounge power", body=WIFI + " Chargers at the tables too.")
    with app.app_context():
        session = get_session()
        found = similar.find(session, WIFI)
        assert [m.submission.id for m in found] == [own, other]
        assert 1.0 >= found[0].score > found[1].score >= similar.MIN_SCORE
        assert [m.submission.id for m in similar.find(session, WIFI, exclude=own)] == [other]
        assert [m.submission.id for m in similar.find(session, WIFI, limit=1)] == [own]


def _send(client, app, **fields):
    response = client.post("/ideas", data=form_data(app, **fields))
    assert response.status_code == 303
    return client.get("/thanks").get_data(as_text=True)


def test_the_thank_you_page_shows_similar_public_ideas_with_their_plus_one(
    make_app, make_submission
):
    app = make_app(AUTO_APPROVE_PUBLIC=True)
    client = app.test_client()
    wifi = make_submission(title="Power in the bloggers' lounge", body=WIFI)
    make_submission(visibility=Visibility.PRIVATE, title="Private lounge wifi", body=WIFI)
    make_submission(title="Post slides within a day", body="Upload every deck.")

    page = _send(client, app, title="Lounge power", body=QUERY)
    assert "Similar ideas other readers sent" in page
    assert f'<a href="/ideas/{wifi}">Power in the bloggers&#39; lounge</a>' in page
    assert f'action="/ideas/{wifi}/vote"' in page
    assert f'value="/ideas/{wifi}#idea-{wifi}"' in page
    assert "Private lounge wifi" not in page
    assert "Post slides within a day" not in page
    # The reader's own idea, published at once, is not suggested to them.
    with app.app_context():
        own = get_session().scalar(
            sa.select(Submission.id).where(Submission.title == "Lounge power")
        )
    assert get_item(app, own).status is Status.APPROVED
    assert f"/ideas/{own}/vote" not in page
    assert re.findall(r'action="/ideas/(\d+)/vote"', page) == [str(wifi)]

    assert client.post(f"/ideas/{wifi}/vote", data={"back": f"/ideas/{wifi}"}).status_code == 303
    assert get_item(app, wifi).vote_count == 1


def test_the_thank_you_page_without_similar_ideas_says_nothing_of_them(
    app, client, make_submission
):
    make_submission(title="Post slides within a day", body="Upload every deck.")
    page = _send(client, app, visibility="private", body="Vegetarian lunch at the buffet.")
    assert "Similar ideas" not in page
    assert "/vote" not in page


def test_the_form_page_loads_the_script_deferred_and_nothing_inline(client):
    page = client.get("/").get_data(as_text=True)
    assert '<script src="/static/similar.js" defer></script>' in page
    assert 'data-similar="/api/similar"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)
    with client.get("/static/similar.js") as script:
        assert script.status_code == 200
        assert "javascript" in script.mimetype
        source = script.get_data(as_text=True)
    assert "innerHTML" not in source and "eval(" not in source


def test_a_large_index_is_built_in_the_background(app, client):
    """Past the inline limit the first answers are empty at once, never slow, until built."""
    with app.app_context():
        session = get_session()
        topic_id = session.scalar(sa.select(Topic.id))
        now = utcnow()
        rows = [
            {
                "visibility": "public",
                "status": "approved",
                "author_name": "R",
                "email": "r@example.org",
                "topic_id": topic_id,
                "title": f"Idea {n}",
                "body": f"Topic number {n} about session {n % 97} and room {n % 13}.",
                "manage_token_hash": f"{n:064d}",
                "content_hash": f"{n:064d}",
                "created_at": now,
                "updated_at": now,
                "published_at": now - timedelta(seconds=n),
            }
            for n in range(similar.INLINE_BUILD_LIMIT + 1)
        ]
        session.execute(sa.insert(Submission), rows)
        session.execute(
            sa.insert(Submission),
            [{**rows[0], "manage_token_hash": "f" * 64, "title": "Power", "body": WIFI}],
        )
        session.commit()
    began = time.perf_counter()
    assert _similar(client) == []
    assert time.perf_counter() - began < 2
    deadline = time.monotonic() + 60
    while not (found := _similar(client)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [i["title"] for i in found] == ["Power"]
