"""Spam that gets past the traps: too many links wait in the queue, spam phrases go to review."""

import re

import pytest
import sqlalchemy as sa

from feedback import antispam, create_app
from feedback.db import get_session
from feedback.models import ModerationEvent, SpamPhrase, Status, Submission, TrustedAuthor
from tests.conftest import OWNER_EMAIL, TEST_CONFIG, AuthActions, add_owner, form_data


def _latest(app) -> Submission:
    with app.app_context():
        return get_session().scalars(sa.select(Submission).order_by(Submission.id.desc())).first()


def _post(app, **fields) -> int:
    return app.test_client().post("/ideas", data=form_data(app, **fields)).status_code


THREE_LINKS = "See https://a.example/one and www.b.example and c.example/three for more."


def test_more_links_than_allowed_wait_in_the_queue_even_with_auto_approve(make_app):
    app = make_app(AUTO_APPROVE_PUBLIC=True)
    assert _post(app, body=THREE_LINKS) == 303
    held = _latest(app)
    assert held.status is Status.PENDING
    assert held.hold_reason == "3 links (more than 2): held for review"
    assert "a.example/one" not in app.test_client().get("/").text

    assert _post(app, body="Two links: https://a.example and https://b.example.") == 303
    assert _latest(app).status is Status.APPROVED
    assert _latest(app).hold_reason is None


@pytest.mark.parametrize(
    "body",
    [
        "bit.ly/abc tinyurl.com/def evil.example/login",
        "HTTPS://A.EXAMPLE/x http://b.example ftp://c.example/file",
        "www.a.example www.b.example www.c.example",
    ],
)
def test_links_without_a_scheme_count_too(make_app, body):
    app = make_app(AUTO_APPROVE_PUBLIC=True)
    assert _post(app, body=f"Please look: {body}") == 303
    assert _latest(app).status is Status.PENDING
    assert _latest(app).hold_reason.startswith("3 links")


def test_links_in_the_title_count_and_the_website_field_does_not(make_app):
    app = make_app(AUTO_APPROVE_PUBLIC=True)
    assert _post(app, title="x.example/a y.example/b", body="And https://z.example.") == 303
    assert _latest(app).status is Status.PENDING
    assert (
        _post(app, website="https://me.example", body="One https://a.example, two b.io/x") == 303
    )
    assert _latest(app).status is Status.APPROVED


def test_a_trusted_author_with_many_links_waits_too(app):
    with app.app_context():
        session = get_session()
        session.add(
            TrustedAuthor(email="ada@example.org", author_name="Ada Reader", created_by="x")
        )
        session.commit()
    assert _post(app, body="Trusted, so straight in.") == 303
    assert _latest(app).status is Status.APPROVED
    assert _post(app, body=THREE_LINKS) == 303
    assert _latest(app).status is Status.PENDING


def test_the_link_limit_is_a_setting(make_app):
    app = make_app(AUTO_APPROVE_PUBLIC=True, MAX_LINKS=0)
    assert _post(app, body="Only one: example.com/page") == 303
    assert _latest(app).hold_reason == "1 link (more than 0): held for review"


def test_the_owner_sees_why_an_idea_was_held(app, client, auth):
    assert _post(app, body=THREE_LINKS) == 303
    item = _latest(app)
    auth.login()
    queue = client.get("/admin/").text
    assert "3 links (more than 2): held for review" in queue
    page = client.get(f"/admin/items/{item.id}").text
    assert "held" in page and antispam.SCREEN_ACTOR in page


def test_setting_spam_words_send_ideas_to_the_spam_tab_not_away(make_app):
    app = make_app(SPAM_WORDS=["casino", "Cheap   Pills"])
    reader = app.test_client()
    response = reader.post("/ideas", data=form_data(app, body="Best CASINO bonus here"))
    # The sender is told nothing different: a spammer learns nothing.
    assert response.status_code == 303
    assert "Thank you" in reader.get("/thanks").text
    spam = _latest(app)
    assert spam.status is Status.SPAM
    assert spam.hold_reason == "Contains “casino”, which is on the spam list"
    assert _post(app, body="Buy cheap\n pills now", email="b@example.org") == 303
    assert _latest(app).status is Status.SPAM
    # Whole words only.
    assert _post(app, body="Ask a specialist about casinos", email="c@example.org") == 303
    assert _latest(app).status is Status.PENDING
    with app.app_context():
        events = get_session().scalars(
            sa.select(ModerationEvent).where(ModerationEvent.submission_id == spam.id)
        )
        assert [(e.action, e.actor) for e in events] == [("spam", antispam.SCREEN_ACTOR)]


@pytest.mark.parametrize("field", ["name", "email", "website", "title"])
def test_spam_words_are_found_in_every_field(make_app, field):
    app = make_app(SPAM_WORDS=["spamco"])
    values = {
        "name": "Spamco Sales",
        "email": "sales@spamco.example",
        "website": "https://spamco.example",
        "title": "Spamco deals",
    }
    assert _post(app, **{field: values[field]}) == 303
    assert _latest(app).status is Status.SPAM


def test_spam_words_from_the_environment_as_a_comma_separated_string(monkeypatch, database_url):
    monkeypatch.setenv("FEEDBACK_SPAM_WORDS", "casino, cheap pills")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    assert antispam.phrases_from_setting(app.config["SPAM_WORDS"]) == ["casino", "cheap pills"]
    monkeypatch.setenv("FEEDBACK_SPAM_WORDS", '["Casino", "cheap  pills"]')
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    assert antispam.phrases_from_setting(app.config["SPAM_WORDS"]) == ["casino", "cheap pills"]


def _phrase_form(client) -> str:
    return client.get("/admin/blocks").text


def test_the_owner_keeps_a_spam_list_on_the_blocks_page(app, client, auth):
    auth.login()
    response = client.post("/admin/spam-phrases", data={"phrase": "  Crypto   Airdrop "})
    assert response.status_code == 303
    page = client.get("/admin/blocks").text
    assert "“crypto airdrop”" in page and OWNER_EMAIL in page

    assert _post(app, body="Free crypto airdrop for bloggers") == 303
    assert _latest(app).status is Status.SPAM
    assert "crypto airdrop" in client.get("/admin/?status=spam").text

    phrase_id = re.search(r'action="/admin/spam-phrases/(\d+)/remove"', page)[1]
    assert client.post(f"/admin/spam-phrases/{phrase_id}/remove").status_code == 303
    assert _post(app, body="Another crypto airdrop", email="d@example.org") == 303
    assert _latest(app).status is Status.PENDING
    with app.app_context():
        actions = get_session().scalars(
            sa.select(ModerationEvent.action).order_by(ModerationEvent.id)
        )
        assert [a for a in actions if a.startswith("spam_phrase")] == [
            "spam_phrase_add",
            "spam_phrase_remove",
        ]


@pytest.mark.parametrize(
    ("phrase", "status", "message"),
    [
        ("", 400, "Please type a word or phrase."),
        ("   ", 400, "Please type a word or phrase."),
        ("x" * 101, 400, "At most 100 characters."),
        ("bad\x00word", 400, "NUL byte"),
        ("two\r\nlines", 400, "single line"),
        ("!!!", 400, "at least one letter or digit"),
        ("casino", 409, "on the spam list already"),
    ],
)
def test_bad_spam_phrases_get_a_message(app, client, auth, phrase, status, message):
    auth.login()
    client.post("/admin/spam-phrases", data={"phrase": "casino"})
    response = client.post("/admin/spam-phrases", data={"phrase": phrase})
    assert response.status_code == status
    assert message in response.text
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(SpamPhrase)) == 1


def test_markup_in_a_spam_phrase_is_shown_as_text(app, client, auth):
    auth.login()
    client.post("/admin/spam-phrases", data={"phrase": "<script>alert(1)</script>"})
    page = client.get("/admin/blocks").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_spam_list_pages_need_an_owner(app):
    anonymous = app.test_client()
    assert anonymous.post("/admin/spam-phrases", data={"phrase": "x"}).status_code == 302
    add_owner(app)
    client = app.test_client()
    AuthActions(client).login()
    assert client.post("/admin/spam-phrases/999999/remove").status_code == 404


def test_the_blocks_page_shows_the_spam_list_once_under_a_plain_title(app, client, auth):
    auth.login()
    page = client.get("/admin/blocks").text
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    assert "<" not in title and title.startswith("Blocks and trust")
    assert page.count('id="spam-phrases"') == 1


def test_an_authors_edit_passes_the_same_rules_as_a_new_idea(make_app):
    app = make_app(AUTO_APPROVE_PUBLIC=True, SPAM_WORDS=["cheap pills"])
    client = app.test_client()
    assert client.post("/ideas", data=form_data(app)).status_code == 303
    path = re.search(r'href="http://localhost(/s/[A-Za-z0-9_-]{43})"', client.get("/thanks").text)[
        1
    ]
    assert _latest(app).status is Status.APPROVED
    edit = {"title": "Links", "topic": str(_latest(app).topic_id), "body": THREE_LINKS}
    assert client.post(f"{path}/edit", data=edit).status_code == 303
    held = _latest(app)
    assert held.status is Status.PENDING
    assert held.hold_reason.startswith("3 links")
    assert "a.example/one" not in client.get("/").text
    edit["body"] = "Now selling cheap pills."
    assert client.post(f"{path}/edit", data=edit).status_code == 303
    assert _latest(app).status is Status.SPAM


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("SUBMIT_RATE_LIMIT", "100 per month", "FEEDBACK_SUBMIT_RATE_LIMIT"),
        ("RESEND_RATE_LIMIT", "3 per week", "FEEDBACK_RESEND_RATE_LIMIT"),
        ("VOTE_RATE_LIMIT", "lots", "FEEDBACK_VOTE_RATE_LIMIT"),
        ("MAX_LINKS", "two", "FEEDBACK_MAX_LINKS"),
        ("MAX_LINKS", -1, "FEEDBACK_MAX_LINKS"),
        ("SPAM_WORDS", 5, "FEEDBACK_SPAM_WORDS"),
    ],
)
def test_unusable_settings_stop_the_app_at_start_with_their_name(setting, value, message):
    with pytest.raises(RuntimeError, match=message):
        create_app({**TEST_CONFIG, "DATABASE_URL": "sqlite://", setting: value})
