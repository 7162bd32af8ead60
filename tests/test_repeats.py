"""One idea per submission: a form posted twice, two tabs racing, the same text sent again."""

import os
import re
import signal
import threading
import urllib.parse
from datetime import timedelta

import sqlalchemy as sa

from feedback import submissions
from feedback.db import get_session, utcnow
from feedback.models import Status, Submission
from tests.conftest import count_submissions, form_data
from tests.servers import Browser, start_gunicorn

MANAGE_LINK = re.compile(r"/s/[A-Za-z0-9_-]{20,}")


def _keyed(app, **overrides) -> dict:
    return form_data(app, form_key=submissions.new_form_key(), **overrides)


def test_every_form_shown_carries_its_own_key(client):
    keys = [
        re.search(r'name="form_key" type="hidden" value="([^"]+)"', client.get("/").text)[1]
        for _ in range(2)
    ]
    assert keys[0] != keys[1]
    assert all(submissions.usable_form_key(key) for key in keys)


def test_the_same_form_posted_again_stores_one_idea_and_says_so(app, client):
    data = _keyed(app)
    assert client.post("/ideas", data=data).status_code == 303
    first = client.get("/thanks").text
    assert MANAGE_LINK.search(first)

    again = client.post("/ideas", data=data)
    assert again.status_code == 303
    page = client.get("/thanks").text
    assert count_submissions(app) == 1
    assert "We already have this idea" in page
    assert f"received on {utcnow().strftime('%-d %B %Y')}" in page
    # Once shown, the link is not handed out again (the next person at a shared computer).
    assert not MANAGE_LINK.search(page)
    assert "/s/resend" in page


def test_a_double_click_shows_the_link_the_first_answer_never_showed(app, client):
    data = _keyed(app)
    assert client.post("/ideas", data=data).status_code == 303
    # The browser drops the first answer and follows the second.
    assert client.post("/ideas", data=data).status_code == 303
    page = client.get("/thanks").text
    assert count_submissions(app) == 1
    link = MANAGE_LINK.search(page)[0]
    assert "Back to the ideas" in page
    assert client.get(link).status_code == 200


def test_a_form_sent_back_to_fix_keeps_its_key(app, client):
    data = _keyed(app, body="")
    page = client.post("/ideas", data=data).text
    assert f'value="{data["form_key"]}"' in page
    data["body"] = "Now with a body that is long enough."
    assert client.post("/ideas", data=data).status_code == 303
    assert client.post("/ideas", data=data).status_code == 303
    assert count_submissions(app) == 1


def test_a_malformed_form_key_is_ignored_and_the_idea_still_stored(app, client):
    for n, key in enumerate(["", "x", "<script>alert(1)</script>" * 3, "a\x00" * 20, "k" * 65]):
        data = form_data(app, form_key=key, body=f"Idea number {n} with a broken key.")
        assert client.post("/ideas", data=data).status_code == 303, key
    assert count_submissions(app) == 5
    with app.app_context():
        keys = get_session().scalars(sa.select(Submission.form_key)).all()
    assert keys == [None] * 5


def test_the_same_text_from_the_same_email_in_a_day_is_not_stored_twice(app, client):
    assert client.post("/ideas", data=_keyed(app)).status_code == 303
    client.get("/thanks")
    again = _keyed(
        app,
        email="ADA@Example.org",
        body="  give bloggers a corner with power strips\n\n and good  WI-FI.  ",
    )
    assert client.post("/ideas", data=again).status_code == 303
    page = client.get("/thanks").text
    assert count_submissions(app) == 1
    assert "We already have this idea" in page
    assert f"received on {utcnow().strftime('%-d %B %Y')}" in page

    other = _keyed(app, body="A different idea: longer coffee breaks.")
    assert client.post("/ideas", data=other).status_code == 303
    assert "Your private link" in client.get("/thanks").text
    assert count_submissions(app) == 2


def test_the_same_text_is_a_new_idea_after_a_day_or_after_withdrawing(app, client):
    assert client.post("/ideas", data=_keyed(app)).status_code == 303
    with app.app_context():
        session = get_session()
        session.execute(sa.update(Submission).values(created_at=utcnow() - timedelta(hours=25)))
        session.commit()
    assert client.post("/ideas", data=_keyed(app)).status_code == 303
    assert count_submissions(app) == 2
    with app.app_context():
        session = get_session()
        session.execute(sa.update(Submission).values(status=Status.WITHDRAWN))
        session.commit()
    assert client.post("/ideas", data=_keyed(app)).status_code == 303
    assert count_submissions(app) == 3


def test_a_different_email_with_the_same_text_is_a_new_idea(app, client):
    assert client.post("/ideas", data=_keyed(app)).status_code == 303
    assert client.post("/ideas", data=_keyed(app, email="bob@example.org")).status_code == 303
    assert count_submissions(app) == 2


def test_two_tabs_posting_one_form_at_once_against_gunicorn_store_one(app, database_url):
    process, base = start_gunicorn(database_url, workers=4)
    try:
        browser = Browser(base)
        fields = browser.form("/")
        data = {
            **fields,
            "name": "Racing Reader",
            "email": "race@example.org",
            "title": "Two tabs",
            "body": "The same form, sent twice at the same moment.",
            "visibility": "public",
            "credit": "name",
        }
        barrier = threading.Barrier(2)
        answers = []

        def post() -> None:
            # Two tabs of one browser: the same cookies, the same form.
            barrier.wait()
            answers.append(browser.request("/ideas", data))

        rounds = 5
        for n in range(rounds):
            data["form_key"] = submissions.new_form_key()
            data["body"] = f"The same form, sent twice at the same moment (round {n})."
            threads = [threading.Thread(target=post) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    assert [a.status for a in answers] == [303] * (2 * rounds)
    assert all("/thanks" in a.headers["Location"] for a in answers)
    assert count_submissions(app) == rounds


def test_the_same_text_from_another_browser_never_gets_the_link(app):
    victim, stranger = app.test_client(), app.test_client()
    # The victim's connection drops after the post: their thank-you page never loads.
    assert victim.post("/ideas", data=_keyed(app, visibility="private")).status_code == 303
    copy = _keyed(
        app,
        visibility="private",
        email=" ADA@example.org ",
        body=" give BLOGGERS a corner with power strips and good Wi-Fi. ",
    )
    assert stranger.post("/ideas", data=copy).status_code == 303
    page = stranger.get("/thanks").text
    assert "We already have this idea" in page
    assert not MANAGE_LINK.search(page)
    # Even with the victim's form key, another browser does not get the link.
    with app.app_context():
        key = get_session().scalar(sa.select(Submission.form_key))
    data = form_data(app, visibility="private", form_key=key)
    assert stranger.post("/ideas", data=data).status_code == 303
    assert not MANAGE_LINK.search(stranger.get("/thanks").text)
    assert count_submissions(app) == 1


def test_a_new_idea_typed_into_a_used_form_is_stored(app, client):
    data = _keyed(app)
    assert client.post("/ideas", data=data).status_code == 303
    client.get("/thanks")
    # Back, then a different idea in the same form (the browser keeps the hidden key).
    data["body"] = "A different idea: a quiet room for writing posts."
    assert client.post("/ideas", data=data).status_code == 303
    assert MANAGE_LINK.search(client.get("/thanks").text)
    assert count_submissions(app) == 2


def test_a_form_key_that_is_not_utf8_is_ignored(app, client):
    data = form_data(app, body="An idea whose form key was mangled on the way.")
    body = urllib.parse.urlencode(data) + "&form_key=%FF%FE"
    response = client.post(
        "/ideas", data=body.encode(), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 303
    assert count_submissions(app) == 1
