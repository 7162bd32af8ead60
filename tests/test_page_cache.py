"""Kept public pages: a change shows at the very next request, in every worker, and nothing
kept for one reader reaches another."""

import os
import re
import signal
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from feedback import content_version, page_cache
from feedback.db import get_session
from feedback.models import Status, Submission, Topic, Visibility
from tests.conftest import AuthActions, add_owner, form_data
from tests.servers import start_gunicorn

SHOWN = "Lanyards that say which talks you want to discuss"
EDITED = "Badges that list the hallway topics you care about"


def _topic(app) -> Topic:
    with app.app_context():
        return get_session().scalars(sa.select(Topic).order_by(Topic.position)).first()


def _urls(item_id: int, slug: str) -> list[str]:
    return [
        "/",
        "/?sort=top",
        f"/ideas/{item_id}",
        f"/topics/{slug}",
        f"/topics/{slug}?sort=top",
        "/api/ideas",
        f"/api/ideas?topic={slug}",
        "/feed.atom",
        f"/topics/{slug}/feed.atom",
    ]


def _change(app, item_id: int, **values) -> None:
    """Change an idea the way any other process would: straight in the database."""
    with app.app_context():
        session = get_session()
        item = session.get(Submission, item_id)
        for name, value in values.items():
            setattr(item, name, value)
        session.commit()


def _delete(app, item_id: int) -> None:
    with app.app_context():
        session = get_session()
        session.delete(session.get(Submission, item_id))
        session.commit()


def _version(app) -> tuple[str, int] | None:
    with app.app_context():
        return content_version.read(get_session())


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda app, i: _change(app, i, visibility=Visibility.PRIVATE), id="hidden"),
        pytest.param(lambda app, i: _change(app, i, status=Status.REJECTED), id="rejected"),
        pytest.param(lambda app, i: _change(app, i, status=Status.WITHDRAWN), id="withdrawn"),
        pytest.param(lambda app, i: _change(app, i, status=Status.PENDING), id="back-to-pending"),
        pytest.param(_delete, id="deleted"),
    ],
)
def test_an_idea_taken_down_leaves_every_kept_page_at_the_next_request(
    app, client, make_submission, change
):
    item_id = make_submission(title="Lanyards", body=SHOWN)
    slug = _topic(app).slug
    urls = _urls(item_id, slug)
    for url in urls * 2:
        assert SHOWN in client.get(url).get_data(as_text=True), url
    change(app, item_id)
    for url in urls:
        response = client.get(url)
        assert SHOWN not in response.get_data(as_text=True), url
    assert client.get(f"/ideas/{item_id}").status_code == 404


def test_an_edit_and_a_new_idea_show_at_the_next_request(app, client, make_submission):
    item_id = make_submission(title="Lanyards", body=SHOWN)
    slug = _topic(app).slug
    urls = _urls(item_id, slug)
    for url in urls:
        client.get(url)
    _change(app, item_id, body=EDITED)
    for url in urls:
        text = client.get(url).get_data(as_text=True)
        assert EDITED in text and SHOWN not in text, url
    newer = make_submission(title="Quiet room", body="A quiet room for the overwhelmed.")
    for url in _urls(newer, slug):
        assert "A quiet room for the overwhelmed." in client.get(url).get_data(as_text=True), url


def test_a_renamed_topic_and_a_new_vote_count_show_at_once(app, client, make_submission):
    item_id = make_submission(body=SHOWN)
    topic = _topic(app)
    client.get(f"/topics/{topic.slug}")
    client.get("/")
    with app.app_context():
        session = get_session()
        session.get(Topic, topic.id).name = "Hallway track"
        session.commit()
    assert "Hallway track" in client.get(f"/topics/{topic.slug}").get_data(as_text=True)
    assert 'aria-label="0 readers agree"' in client.get("/").get_data(as_text=True)
    client.post(f"/ideas/{item_id}/vote", data={"back": "/"})
    assert 'aria-label="1 readers agree"' in client.get("/").get_data(as_text=True)


def test_the_owner_hiding_an_idea_clears_it_for_readers(app, client, make_submission):
    item_id = make_submission(body=SHOWN)
    reader = app.test_client()
    assert SHOWN in reader.get("/").get_data(as_text=True)
    add_owner(app)
    AuthActions(client).login()
    assert client.post(f"/admin/items/{item_id}/hide").status_code == 303
    assert SHOWN not in reader.get("/").get_data(as_text=True)
    assert reader.get(f"/ideas/{item_id}").status_code == 404


def test_ideas_no_reader_sees_leave_the_version_alone(app, client, make_submission):
    """A new pending idea or a private note changes no public page: nothing is rendered
    again for it (with hundreds of ideas arriving, the kept pages stay kept)."""
    client.get("/")
    before = _version(app)
    make_submission(status=Status.PENDING, body="Waiting for the owner.")
    make_submission(visibility=Visibility.PRIVATE, body="A private note.")
    assert _version(app) == before
    kept = app.extensions[page_cache.EXTENSION_KEY].renders
    client.get("/")
    assert app.extensions[page_cache.EXTENSION_KEY].renders == kept


def test_a_change_made_in_plain_sql_raises_the_version(app, make_submission):
    item_id = make_submission(body=SHOWN)
    epoch, before = _version(app)
    with app.app_context():
        session = get_session()
        session.execute(
            sa.text("UPDATE submissions SET body = 'x' || body WHERE id = :id"), {"id": item_id}
        )
        session.commit()
    assert _version(app) == (epoch, before + 1)


def test_one_transaction_raises_the_version_once_on_postgresql(app, make_submission, database_url):
    ids = [make_submission(body=f"{SHOWN} {n}") for n in range(5)]
    epoch, before = _version(app)
    with app.app_context():
        session = get_session()
        session.execute(
            sa.update(Submission).where(Submission.id.in_(ids)).values(status=Status.REJECTED)
        )
        session.commit()
    after = _version(app)
    assert after[0] == epoch
    if database_url.startswith("postgresql"):
        assert after[1] == before + 1
    else:
        assert after[1] == before + 5


def test_without_the_version_row_every_page_is_made_fresh(app, client, make_submission):
    item_id = make_submission(body=SHOWN)
    with app.app_context():
        session = get_session()
        session.execute(sa.text("DELETE FROM content_version"))
        session.commit()
    assert SHOWN in client.get("/").get_data(as_text=True)
    _change(app, item_id, status=Status.REJECTED)
    assert SHOWN not in client.get("/").get_data(as_text=True)


# What belongs to one reader.


def _tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)) | set(
        re.findall(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    )


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)[1]


def test_each_reader_gets_their_own_form_token_and_form_values(make_app, make_submission):
    app = make_app(WTF_CSRF_ENABLED=True)
    make_submission(body=SHOWN)
    first, second = app.test_client(), app.test_client()
    one, two = first.get("/").get_data(as_text=True), second.get("/").get_data(as_text=True)
    assert len(_tokens(one)) == 1 and len(_tokens(two)) == 1
    assert _tokens(one) != _tokens(two)
    again = first.get("/").get_data(as_text=True)
    assert _field(again, "form_key") != _field(one, "form_key")
    assert "\x00" not in one + two + again
    # Each reader's token works for them, in the form and in a +1.
    data = form_data(app, csrf_token=_tokens(again).pop(), form_key=_field(again, "form_key"))
    assert first.post("/ideas", data=data).status_code == 303
    item_id = int(re.search(r'id="idea-(\d+)"', two)[1])
    vote = second.post(
        f"/ideas/{item_id}/vote", data={"csrf_token": _tokens(two).pop(), "back": "/"}
    )
    assert vote.status_code == 303


def test_one_readers_plus_one_is_never_shown_to_another(app, make_submission):
    item_id = make_submission(body=SHOWN)
    voter, other = app.test_client(), app.test_client()
    voter.post(f"/ideas/{item_id}/vote", data={"back": "/"})
    for url in ("/", f"/ideas/{item_id}", f"/topics/{_topic(app).slug}"):
        assert "You +1'd this" in voter.get(url).get_data(as_text=True), url
        text = other.get(url).get_data(as_text=True)
        assert "You +1'd this" not in text and "+1 me too" in text, url
        assert "You +1'd this" in voter.get(url).get_data(as_text=True), url


def test_a_message_and_the_owner_links_stay_with_their_reader(app, client, make_submission):
    item_id = make_submission(body=SHOWN)
    reader = app.test_client()
    reader.get("/")
    reader.post(f"/ideas/{item_id}/vote", data={"back": "/"})
    add_owner(app)
    AuthActions(client).login()
    owner_page = client.get("/").get_data(as_text=True)
    stranger = app.test_client().get("/").get_data(as_text=True)
    reader_page = reader.get("/").get_data(as_text=True)
    assert "Log out" in owner_page and "Log out" not in stranger + reader_page
    assert "Thanks for your +1" in reader_page and "Thanks for your +1" not in stranger
    assert "Thanks for your +1" not in reader.get("/").get_data(as_text=True)
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_a_vote_comes_back_to_the_page_it_was_given_on(app, client, make_submission):
    ids = [make_submission(body=f"{SHOWN} {n}") for n in range(3)]
    page = client.get("/?sort=top&utm_source=blog").get_data(as_text=True)
    assert f'name="back" value="/?sort=top#idea-{ids[0]}"' in page


# Several workers.


def _fetch(base: str, url: str) -> str:
    with urllib.request.urlopen(base + url, timeout=30) as response:
        return response.read().decode()


def test_every_gunicorn_worker_shows_a_change_at_once(app, database_url, make_submission):
    hidden = make_submission(title="Lanyards", body=SHOWN)
    edited = make_submission(title="Badges", body="Badges with a line of text.")
    slug = _topic(app).slug
    urls = sorted(set(_urls(hidden, slug) + _urls(edited, slug)))
    process, base = start_gunicorn(database_url, workers=3)
    try:
        # Enough requests that every worker has kept every page.
        for url in urls * 20:
            _fetch(base, url)
        _change(app, hidden, visibility=Visibility.PRIVATE)
        _change(app, edited, body=EDITED)
        for url in urls * 20:
            text = _fetch(base, url) if url != f"/ideas/{hidden}" else ""
            assert SHOWN not in text, url
            assert "Badges with a line of text." not in text, url
        assert all(EDITED in _fetch(base, f"/ideas/{edited}") for _ in range(20))
        for _ in range(20):
            with pytest.raises(urllib.error.HTTPError, match="404"):
                _fetch(base, f"/ideas/{hidden}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
