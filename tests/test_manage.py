"""The author's manage link: every action, wrong and expired tokens, consent requests, resend."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback.db import get_session, utcnow
from feedback.models import ConsentRequest, ModerationEvent, Status, Submission, Visibility
from tests.conftest import (
    OWNER_EMAIL,
    form_data,
    get_item,
    owner_client,
)


def _submit(app, client, **fields) -> tuple[int, str]:
    """Send an idea through the form; return its id and its manage path."""
    assert client.post("/ideas", data=form_data(app, **fields)).status_code == 303
    thanks = client.get("/thanks").get_data(as_text=True)
    path = re.search(r'href="http://localhost(/s/[A-Za-z0-9_-]{43})"', thanks).group(1)
    with app.app_context():
        item_id = get_session().scalar(sa.select(sa.func.max(Submission.id)))
    return item_id, path


def _events(app, item_id: int) -> list[tuple[str, str | None, str | None, str]]:
    with app.app_context():
        rows = get_session().scalars(
            sa.select(ModerationEvent)
            .where(ModerationEvent.submission_id == item_id)
            .order_by(ModerationEvent.id)
        )
        return [(e.action, e.from_value, e.to_value, e.actor) for e in rows]


def _approve(app, item_id: int, minutes_ago: int = 0) -> None:
    with app.app_context():
        session = get_session()
        item = session.get(Submission, item_id)
        item.status = Status.APPROVED
        item.approved_at = utcnow() - timedelta(minutes=minutes_ago)
        session.commit()


def _edit(client, path: str, **fields):
    data = {"title": "New title", "body": "A reworded idea, still long enough.", "topic": "2"}
    data.update(fields)
    return client.post(path + "/edit", data=data)


def test_manage_page_shows_status_in_plain_words(app, client):
    _item_id, path = _submit(app, client)
    page = client.get(path).get_data(as_text=True)
    assert "Waiting for the site owner to approve it" in page
    assert "Edit your idea" in page
    assert "Withdraw my idea" in page


def test_author_edits_while_pending(app, client):
    item_id, path = _submit(app, client)
    response = _edit(client, path, website="@newhandle")
    assert response.status_code == 303
    item = get_item(app, item_id)
    assert (item.title, item.body, item.topic_id, item.website) == (
        "New title",
        "A reworded idea, still long enough.",
        2,
        "@newhandle",
    )
    actions = [e[0] for e in _events(app, item_id)]
    assert actions == ["edit_title", "edit_body", "topic", "edit_website"]
    assert {e[3] for e in _events(app, item_id)} == {"author"}


def test_edit_window_after_approval(app, client):
    item_id, path = _submit(app, client)
    _approve(app, item_id, minutes_ago=10)
    assert f'href="/ideas/{item_id}">see it</a>' in client.get(path).get_data(as_text=True)
    assert _edit(client, path).status_code == 303
    # Published edits stay published unless the owner chose otherwise.
    assert get_item(app, item_id).status is Status.APPROVED
    _approve(app, item_id, minutes_ago=31)
    late = _edit(client, path, body="Too late to change this idea now.")
    assert late.status_code == 409
    assert "can no longer be edited" in late.get_data(as_text=True)
    assert "Edit your idea" not in client.get(path).get_data(as_text=True)


def test_edit_sends_a_published_comment_back_when_configured(make_app):
    app = make_app(REAPPROVE_EDITS=True)
    client = app.test_client()
    item_id, path = _submit(app, client, body="Published and then edited.")
    _approve(app, item_id)
    assert "Published and then edited." in client.get("/").get_data(as_text=True)
    _edit(client, path, body="Edited after publishing, please look again.")
    assert get_item(app, item_id).status is Status.PENDING
    assert "Edited after publishing" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": ""}, "Please write your idea."),
        ({"body": "short"}, "between 10 and 5000"),
        ({"title": "x" * 121}, "120 characters or fewer"),
        ({"topic": "abc"}, "Please choose one of the listed topics."),
        ({"website": "javascript:alert(1)"}, "Enter a web address"),
        ({"body": "NUL \x00 inside the text"}, "NUL byte"),
    ],
)
def test_bad_edits_keep_the_text_and_say_what_is_wrong(app, client, fields, message):
    item_id, path = _submit(app, client)
    response = _edit(client, path, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert get_item(app, item_id).title == "A bloggers' corner"


def test_withdraw_takes_it_off_every_page_and_digest(app, client):
    from feedback.digest import contents

    item_id, path = _submit(app, client, body="Soon withdrawn by its author.")
    _approve(app, item_id)
    assert "Soon withdrawn" in client.get("/").get_data(as_text=True)
    assert client.post(path + "/withdraw").status_code == 303
    assert get_item(app, item_id).status is Status.WITHDRAWN
    assert "Soon withdrawn" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/ideas/{item_id}").status_code == 404
    with app.app_context():
        entries = list(contents.new_entries(get_session(), contents.Options()))
    assert entries == []
    page = client.get(path).get_data(as_text=True)
    assert "Withdrawn by you" in page
    assert "Edit your idea" not in page


def test_consent_given_and_taken_back(app, client):
    item_id, path = _submit(app, client, visibility="private")
    client.post(path + "/consent", data={"consent": "yes"})
    assert get_item(app, item_id).consent_to_publish is True
    # The owner publishes it, then the author changes their mind: it is private again.
    with app.app_context():
        session = get_session()
        item = session.get(Submission, item_id)
        item.visibility, item.status = Visibility.PUBLIC, Status.APPROVED
        session.commit()
    client.post(path + "/consent", data={"consent": "no"})
    item = get_item(app, item_id)
    assert (item.consent_to_publish, item.visibility) == (False, Visibility.PRIVATE)
    assert client.post(path + "/consent", data={"consent": "maybe"}).status_code == 400


@pytest.mark.parametrize("suffix", ["", "/edit", "/withdraw", "/consent", "/requests/1"])
def test_wrong_tokens_are_plain_404s(app, client, suffix):
    _submit(app, client)
    for token in ("A" * 43, "short", "../../admin", "%00"):
        method = client.get if suffix == "" else client.post
        response = method(f"/s/{token}{suffix}")
        assert response.status_code == 404, token
        assert "Ada" not in response.get_data(as_text=True)


def test_manage_actions_need_csrf(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    item_id, path = _submit(app, client, csrf_token=token)
    valid_edit = {"title": "T", "body": "A valid edit of the idea.", "topic": "1"}
    for suffix, data in (
        ("/withdraw", {}),
        ("/consent", {"consent": "yes"}),
        ("/edit", valid_edit),
        ("/requests/1", {"answer": "publish"}),
    ):
        response = client.post(path + suffix, data=data)
        assert response.status_code == 400, suffix
        assert "CSRF" in response.get_data(as_text=True), suffix
    assert client.post("/s/resend", data={"email": "a@example.org"}).status_code == 400
    assert client.post(f"/ideas/{item_id}/vote").status_code == 400
    item = get_item(app, item_id)
    assert (item.status, item.consent_to_publish, item.title) == (
        Status.PENDING,
        True,
        "A bloggers' corner",
    )


def test_owner_asks_and_the_author_publishes_the_proposed_version(make_app, smtp):
    port, inbox = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_URL="https://ideas.example")
    reader = app.test_client()
    item_id, path = _submit(
        app, reader, visibility="private", body="My full note, with private details."
    )
    owner = owner_client(app)
    response = owner.post(
        f"/admin/items/{item_id}/ask", data={"title": "Trimmed", "body": "My full note."}
    )
    assert response.status_code == 303
    _rcpt, mail = inbox.messages[-1]
    assert f"https://ideas.example{path}" in mail.get_content()

    page = reader.get(path).get_data(as_text=True)
    assert "The site owner asks to publish your note" in page
    assert "My full note, with private details." in page and "My full note.</p>" in page
    request_id = re.search(r"/requests/(\d+)", page).group(1)
    # Asking twice while a request is open is refused.
    again = owner.post(f"/admin/items/{item_id}/ask", data={"body": "Again."})
    assert again.status_code == 409

    reader.post(f"{path}/requests/{request_id}", data={"answer": "publish"})
    item = get_item(app, item_id)
    assert (item.visibility, item.status, item.title, item.body) == (
        Visibility.PUBLIC,
        Status.APPROVED,
        "Trimmed",
        "My full note.",
    )
    assert "My full note." in reader.get("/").get_data(as_text=True)
    assert "private details" not in reader.get("/").get_data(as_text=True)
    actions = [(e[0], e[3]) for e in _events(app, item_id)]
    assert ("consent_asked", OWNER_EMAIL) in actions
    assert ("consent_answer", "author") in actions
    assert ("visibility", "author") in actions
    # The whole answer, in order, each change by the author.
    answered = actions[actions.index(("consent_answer", "author")) :]
    assert [action for action, _actor in answered] == [
        "consent_answer",
        "edit_title",
        "edit_body",
        "consent",
        "visibility",
        "status",
    ]
    assert {actor for _action, actor in answered} == {"author"}
    assert reader.post(f"{path}/requests/{request_id}", data={"answer": "keep"}).status_code == 409


def test_author_keeps_it_private_and_requests_expire(app, client):
    item_id, path = _submit(app, client, visibility="private", body="Stays private, thanks.")
    owner = owner_client(app)
    owner.post(f"/admin/items/{item_id}/ask", data={"body": "Public version."})
    request_id = re.search(r"/requests/(\d+)", client.get(path).get_data(as_text=True)).group(1)
    client.post(f"{path}/requests/{request_id}", data={"answer": "keep"})
    item = get_item(app, item_id)
    assert (item.visibility, item.body) == (Visibility.PRIVATE, "Stays private, thanks.")

    owner.post(f"/admin/items/{item_id}/ask", data={"body": "Asking once more."})
    with app.app_context():
        session = get_session()
        latest = session.scalars(
            sa.select(ConsentRequest).order_by(ConsentRequest.id.desc())
        ).first()
        latest.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
        expired_id = latest.id
    assert "asks to publish" not in client.get(path).get_data(as_text=True)
    expired = client.post(f"{path}/requests/{expired_id}", data={"answer": "publish"})
    assert expired.status_code == 409
    assert get_item(app, item_id).visibility is Visibility.PRIVATE


def test_asking_about_a_public_or_consented_idea_is_refused(app, client):
    public_id, _ = _submit(app, client)
    consented_id, _ = _submit(
        app, client, visibility="private", consent="y", body="A note that may be published."
    )
    owner = owner_client(app)
    for item_id in (public_id, consented_id):
        response = owner.post(f"/admin/items/{item_id}/ask", data={"body": "x y z"})
        assert response.status_code == 409, item_id


@pytest.mark.parametrize("later", ["spam", "reject", "withdraw"])
def test_a_yes_after_spam_rejection_or_withdrawal_publishes_nothing(app, client, later):
    item_id, path = _submit(app, client, visibility="private", body="Asked, then stopped.")
    owner = owner_client(app)
    owner.post(f"/admin/items/{item_id}/ask", data={"body": "Public version."})
    request_id = re.search(r"/requests/(\d+)", client.get(path).get_data(as_text=True)).group(1)
    if later == "withdraw":
        client.post(path + "/withdraw")
    else:
        owner.post(f"/admin/items/{item_id}/{later}")
    assert "asks to publish" not in client.get(path).get_data(as_text=True)
    response = client.post(f"{path}/requests/{request_id}", data={"answer": "publish"})
    assert response.status_code == 409
    assert get_item(app, item_id).visibility is Visibility.PRIVATE


def test_mailed_links_still_work_after_the_secret_key_changes(make_app, smtp):
    port, inbox = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    client = app.test_client()
    _submit(app, client, email="keys@example.org")
    app.config["SECRET_KEY"] = "a-new-secret-key"
    with client.post("/s/resend", data={"email": "keys@example.org"}):
        pass
    link = re.search(r"http://127\.0\.0\.1:5000(/s/\S+)", inbox.messages[0][1].get_content())
    assert client.get(link.group(1)).status_code == 200


def test_error_answers_under_s_keep_the_link_secret(app, client):
    _item_id, path = _submit(app, client)
    response = client.post(path + "/consent", data={"consent": "maybe"})
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_resend_mails_links_and_never_tells_if_the_address_exists(make_app, smtp):
    port, inbox = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    client = app.test_client()
    _item_id, path = _submit(app, client, email="Forgetful@Example.org")
    with client.post("/s/resend", data={"email": "forgetful@example.org"}) as known:
        pass
    with client.post("/s/resend", data={"email": "stranger@example.org"}) as unknown:
        pass
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    # Both addresses get one email (the same work, the same time); only the mailbox's owner
    # learns whether ideas came from it.
    assert len(inbox.messages) == 2
    (known_to, known_mail), (unknown_to, unknown_mail) = inbox.messages
    assert known_to == ["Forgetful@example.org"]
    assert path in known_mail.get_content()
    assert unknown_to == ["stranger@example.org"]
    assert "No ideas were sent from this address" in unknown_mail.get_content()
    assert "/s/" not in unknown_mail.get_content()
    bad = client.post("/s/resend", data={"email": "not an address"})
    assert bad.status_code == 400
