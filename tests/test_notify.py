"""New-idea notices to the owners, against a real SMTP server on loopback (aiosmtpd)."""

import logging

import pytest

from feedback import mailer
from tests.conftest import add_owner, count_submissions, form_data
from tests.servers import free_port


def _notifying_app(make_app, port: int):
    app = make_app(NOTIFY_NEW=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    add_owner(app)
    add_owner(app, "second-owner@example.org")
    return app


def _submit(app, **fields):
    with app.test_client() as client, client.post("/ideas", data=form_data(app, **fields)) as r:
        assert r.status_code == 303
    # Leaving the block closed the response, which is when the notice goes out.


def test_owners_get_a_notice_of_a_new_idea(make_app, smtp):
    port, inbox = smtp
    app = _notifying_app(make_app, port)
    _submit(app, name="Zoë Writer", title="Power strips", visibility="private", consent="y")
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert sorted(recipients) == ["owner@example.org", "second-owner@example.org"]
    assert message["Subject"] == (
        "[HIMSS Conference] New private note from Zoë Writer: Power strips"
    )
    assert message["Reply-To"].addresses[0].addr_spec == "ada@example.org"
    assert message["Reply-To"].addresses[0].display_name == "Zoë Writer"
    assert message["Message-ID"]
    body = message.get_content()
    assert "Give bloggers a corner with power strips" in body
    assert "May be published later: yes" in body
    assert "/admin/items/1" in body


def test_notice_links_use_public_url_not_the_host_header(make_app, smtp):
    port, inbox = smtp
    app = make_app(
        NOTIFY_NEW=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        PUBLIC_URL="https://ideas.example.org",
    )
    add_owner(app)
    with app.test_client() as client:
        data = form_data(app, name='Doe, "Jane" (guest)')
        with client.post("/ideas", data=data, headers={"Host": "evil.example"}) as response:
            assert response.status_code == 303
    _, message = inbox.messages[0]
    body = message.get_content()
    assert "https://ideas.example.org/admin/items/1" in body
    assert "evil" not in body
    assert message["Reply-To"].addresses[0].display_name == 'Doe, "Jane" (guest)'


def test_no_notice_unless_switched_on(make_app, smtp):
    port, inbox = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    add_owner(app)
    _submit(app)
    assert inbox.messages == []


def test_a_dead_mail_server_loses_nothing(make_app, caplog):
    app = _notifying_app(make_app, free_port())  # nothing listens there
    with caplog.at_level(logging.ERROR, logger="feedback.notify"):
        _submit(app)
    assert count_submissions(app) == 1
    assert "New-idea notice for #1 not sent" in caplog.text


def test_reader_text_cannot_add_headers():
    message = mailer.build_message(
        {"MAIL_FROM": "Ideas <ideas@example.org>"},
        to=["owner@example.org"],
        subject="Hello\r\nBcc: victim@example.org\nX-Evil: 1",
        text="Body",
    )
    raw = message.as_string()
    assert "\nBcc:" not in raw
    assert "\nX-Evil:" not in raw
    assert message["Subject"] == "Hello Bcc: victim@example.org X-Evil: 1"


def test_sending_without_a_server_is_a_clear_error():
    message = mailer.build_message(
        {"MAIL_FROM": "ideas@example.org"}, to=["o@example.org"], subject="s", text="t"
    )
    with pytest.raises(mailer.MailError, match="No mail server is configured"):
        mailer.send({"MAIL_SERVER": None}, message)
