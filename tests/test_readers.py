"""Readers' features: +1s, sorting, topic pages, permalinks, Atom feeds and the JSON API."""

import re
import threading
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa

from feedback.db import get_session, utcnow
from feedback.models import Status, Submission, Topic, Visibility, Vote
from tests.conftest import get_item

ATOM = "{http://www.w3.org/2005/Atom}"


def _topic_id(app, slug: str) -> int:
    with app.app_context():
        return get_session().scalar(sa.select(Topic.id).where(Topic.slug == slug))


def test_plus_one_once_per_browser(app, client, make_submission):
    item_id = make_submission(body="Worth a +1.")
    response = client.post(f"/ideas/{item_id}/vote", data={"back": "/#ideas"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/#ideas"
    assert get_item(app, item_id).vote_count == 1
    page = client.get("/").get_data(as_text=True)
    assert "Thanks for your +1: this idea now has 1." in page
    assert "You +1'd this" in page
    assert "1 +1</span>" in page

    again = client.post(f"/ideas/{item_id}/vote")
    assert again.status_code == 303
    assert "You have already given this idea a +1." in client.get("/").get_data(as_text=True)
    assert get_item(app, item_id).vote_count == 1


def test_a_forged_voter_cookie_is_a_new_voter_not_an_error(app, client, make_submission):
    item_id = make_submission()
    client.set_cookie("voter", "forged.value")
    assert client.post(f"/ideas/{item_id}/vote").status_code == 303
    assert get_item(app, item_id).vote_count == 1


def test_votes_per_address_are_limited(make_app):
    app = make_app(VOTES_PER_ADDRESS=2)
    with app.app_context():
        session = get_session()
        topic = session.scalar(sa.select(Topic.id))
        item = Submission(
            visibility=Visibility.PUBLIC,
            status=Status.APPROVED,
            author_name="A",
            email="a@example.org",
            topic_id=topic,
            body="An idea long enough.",
            manage_token_hash="f" * 64,
        )
        session.add(item)
        session.commit()
        item_id = item.id
    for _ in range(3):
        app.test_client().post(f"/ideas/{item_id}/vote")
    assert get_item(app, item_id).vote_count == 2
    other = app.test_client()
    other.post(f"/ideas/{item_id}/vote", environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert get_item(app, item_id).vote_count == 3


@pytest.mark.parametrize(
    ("visibility", "status"),
    [(Visibility.PRIVATE, Status.APPROVED), (Visibility.PUBLIC, Status.PENDING)],
)
def test_only_public_ideas_take_votes(app, client, make_submission, visibility, status):
    item_id = make_submission(visibility=visibility, status=status)
    assert client.post(f"/ideas/{item_id}/vote").status_code == 404
    assert client.post("/ideas/99999999999/vote").status_code == 404


def test_fifty_concurrent_votes_count_exactly_fifty(app, make_submission):
    item_id = make_submission()
    barrier = threading.Barrier(10)
    codes = []

    def voter(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        for k in range(5):
            address = f"198.51.{n}.{k}"
            response = client.post(f"/ideas/{item_id}/vote", environ_base={"REMOTE_ADDR": address})
            codes.append(response.status_code)
            client.delete_cookie("voter")

    threads = [threading.Thread(target=voter, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [303] * 50
    with app.app_context():
        session = get_session()
        rows = session.scalar(sa.select(sa.func.count()).select_from(Vote))
    assert rows == 50
    assert get_item(app, item_id).vote_count == 50


def test_the_per_address_limit_holds_under_concurrency(make_app):
    app = make_app(VOTES_PER_ADDRESS=3)
    with app.app_context():
        session = get_session()
        item = Submission(
            visibility=Visibility.PUBLIC,
            status=Status.APPROVED,
            author_name="A",
            email="a@example.org",
            topic_id=session.scalar(sa.select(Topic.id)),
            body="An idea long enough.",
            manage_token_hash="e" * 64,
        )
        session.add(item)
        session.commit()
        item_id = item.id
    barrier = threading.Barrier(20)

    def voter() -> None:
        client = app.test_client()
        barrier.wait()
        client.post(f"/ideas/{item_id}/vote", environ_base={"REMOTE_ADDR": "203.0.113.9"})

    threads = [threading.Thread(target=voter) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert get_item(app, item_id).vote_count == 3


def test_api_since_catches_ideas_approved_out_of_order(app, client, make_submission):
    first = make_submission(status=Status.PENDING, body="Sent first, approved last.")
    second = make_submission(body="Sent second, approved at once.")
    page = client.get("/").get_data(as_text=True)
    since = re.search(r'data-since="([^"]+)"', page).group(1)
    with app.app_context():
        session = get_session()
        session.get(Submission, first).status = Status.APPROVED
        session.commit()
    ideas = client.get(f"/api/ideas?since={since}").get_json()["ideas"]
    assert [i["id"] for i in ideas] == [first]
    assert second not in [i["id"] for i in ideas]
    assert client.get("/api/ideas?since=yesterday").status_code == 400


@pytest.mark.parametrize(
    "url", ["/topics/%00", "/topics/%00/feed.atom", "/api/ideas?topic=%00", "/topics/" + "x" * 300]
)
def test_impossible_topic_slugs_are_404(client, url):
    assert client.get(url).status_code == 404


def test_feeds_stay_valid_xml_whatever_was_stored(client, make_submission):
    make_submission(title="Odd \uffff title", body="Body with \x0b and \ufffe inside.")
    # Characters XML cannot hold become U+FFFD; the entry is still there, text and all.
    for url in ("/feed.atom", "/topics/blog/feed.atom"):
        entries = _feed(client, url).findall(f"{ATOM}entry")
        assert [e.find(f"{ATOM}title").text for e in entries] == ["Odd \ufffd title"], url
        content = entries[0].find(f"{ATOM}content").text
        assert "Body with \ufffd and \ufffd inside." in content, url


def test_sort_by_most_plus_ones(app, client, make_submission):
    now = utcnow()
    quiet = make_submission(title="Quiet idea", created_at=now)
    loved = make_submission(title="Loved idea", created_at=now - timedelta(days=1))
    for n in range(3):
        client.post(f"/ideas/{loved}/vote", environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
        client.delete_cookie("voter")
    newest = client.get("/").get_data(as_text=True)
    assert newest.index("Quiet idea") < newest.index("Loved idea")
    top = client.get("/?sort=top").get_data(as_text=True)
    assert top.index("Loved idea") < top.index("Quiet idea")
    assert get_item(app, quiet).vote_count == 0


def test_topic_page_lists_only_its_public_ideas(app, client, make_submission):
    social = _topic_id(app, "social")
    make_submission(topic_id=social, body="Hashtag idea for social.")
    make_submission(body="A blog idea, elsewhere.")
    make_submission(topic_id=social, visibility=Visibility.PRIVATE, body="Private social note.")
    page = client.get("/topics/social").get_data(as_text=True)
    assert "#social" in page
    assert "Hashtag idea for social." in page
    assert "A blog idea, elsewhere." not in page
    assert "Private social note." not in page
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert client.get("/topics/nope").status_code == 404
    assert client.get("/topics/social?page=0").status_code == 400
    assert client.get("/topics/social?sort=top").status_code == 200


def test_permalink_has_its_own_title_and_open_graph_tags(client, make_submission):
    item_id = make_submission(title='Slides "within" a day', body="Ask speakers <b>early</b>.")
    page = client.get(f"/ideas/{item_id}").get_data(as_text=True)
    assert "<title>Slides &#34;within&#34; a day: HIMSS Conference ideas</title>" in page
    assert '<meta property="og:title" content="Slides &#34;within&#34; a day">' in page
    assert (
        '<meta property="og:description" content="Ask speakers &lt;b&gt;early&lt;/b&gt;.">' in page
    )
    assert f'<meta property="og:url" content="http://127.0.0.1:5000/ideas/{item_id}">' in page


def _feed(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ET.fromstring(response.data)


def test_atom_feeds_are_valid_and_public_only(app, client, make_submission):
    social = _topic_id(app, "social")
    make_submission(title="Feed idea", body="Body with <script>x</script> & link https://e.org")
    make_submission(topic_id=social, title="Social feed idea")
    make_submission(visibility=Visibility.PRIVATE, title="Secret feed idea")
    make_submission(status=Status.PENDING, title="Pending feed idea")
    root = _feed(client, "/feed.atom")
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert sorted(titles) == ["Feed idea", "Social feed idea"]
    entry = root.find(f"{ATOM}entry[{ATOM}title='Feed idea']")
    for required in ("id", "updated", "author", "link", "content"):
        assert entry.find(f"{ATOM}{required}") is not None, required
    assert "&lt;script&gt;" in entry.find(f"{ATOM}content").text
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Grace Example"
    assert b"grace@example.org" not in client.get("/feed.atom").data

    topic_root = _feed(client, "/topics/social/feed.atom")
    assert [e.find(f"{ATOM}title").text for e in topic_root.findall(f"{ATOM}entry")] == [
        "Social feed idea"
    ]
    assert client.get("/topics/nope/feed.atom").status_code == 404
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page


def test_api_lists_public_ideas_after_an_id(app, client, make_submission):
    ids = [make_submission(body=f"API idea {n}.") for n in range(3)]
    make_submission(visibility=Visibility.PRIVATE, body="Not in the API.")
    response = client.get("/api/ideas")
    data = response.get_json()
    assert [i["id"] for i in data["ideas"]] == ids
    idea = data["ideas"][0]
    assert set(idea) == {
        "id",
        "url",
        "title",
        "author",
        "author_url",
        "topic",
        "created",
        "published",
        "body",
        "body_html",
        "votes",
    }
    assert "grace@example.org" not in response.get_data(as_text=True)
    assert [i["id"] for i in client.get(f"/api/ideas?after={ids[0]}").get_json()["ideas"]] == ids[
        1:
    ]
    paged = client.get("/api/ideas?limit=2").get_json()
    assert paged["more"] is True
    assert paged["next"] == f"/api/ideas?after={ids[1]}&limit=2"
    social = _topic_id(app, "social")
    make_submission(topic_id=social, body="Social API idea.")
    assert [i["body"] for i in client.get("/api/ideas?topic=social").get_json()["ideas"]] == [
        "Social API idea."
    ]


def test_api_etag_makes_an_unchanged_answer_a_304(client, make_submission):
    make_submission()
    first = client.get("/api/ideas?after=0")
    etag = first.headers["ETag"]
    again = client.get("/api/ideas?after=0", headers={"If-None-Match": etag})
    assert again.status_code == 304
    make_submission(body="Something new arrived.")
    changed = client.get("/api/ideas?after=0", headers={"If-None-Match": etag})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    "query", ["after=-1", "after=abc", "limit=0", "limit=101", "limit=x", "after=" + "9" * 20]
)
def test_bad_api_arguments_are_a_400_with_a_message(client, query):
    response = client.get("/api/ideas?" + query)
    assert response.status_code == 400
    assert "must be a whole number" in response.get_json()["message"]


def test_api_unknown_topic_is_a_json_404(client):
    response = client.get("/api/ideas?topic=nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"


def test_front_page_carries_the_live_update_hooks(client, make_submission):
    item_id = make_submission()
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'data-since="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"', page)
    assert f'data-id="{item_id}"' in page
    assert '<script src="/static/live.js" defer></script>' in page
    assert "live.js" not in client.get("/?page=1&sort=top").get_data(as_text=True)
    assert re.search(r'data-live="/api/ideas"', page)
