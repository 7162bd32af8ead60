"""`flask mail fetch` against a real Dovecot IMAP server on loopback (TLS, its own certificate
authority), on SQLite and PostgreSQL. Skipped, with the reason, where Dovecot is missing."""

import imaplib
import ssl

import pytest
import sqlalchemy as sa

from feedback.db import get_session
from feedback.models import MailFolder, Submission
from tests.servers import imap_unavailable, start_dovecot
from tests.test_mail_import import mail

pytestmark = pytest.mark.skipif(imap_unavailable() is not None, reason=str(imap_unavailable()))


@pytest.fixture
def imap():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def fetching(make_app, imap):
    """An app whose MAIL_IMAP_* settings point at the test server."""

    def make(**settings):
        server = {
            "MAIL_IMAP_HOST": "127.0.0.1",
            "MAIL_IMAP_PORT": imap.port,
            "MAIL_IMAP_USER": imap.user,
            "MAIL_IMAP_PASSWORD": imap.password,
            "MAIL_IMAP_CA_FILE": imap.ca_file,
        }
        return make_app(**{**server, **settings})

    return make


def fetch(app, *args: str):
    return app.test_cli_runner().invoke(args=["mail", "fetch", *args])


def bodies(app) -> list[str]:
    with app.app_context():
        return list(get_session().scalars(sa.select(Submission.body).order_by(Submission.id)))


def test_fetch_reads_new_mail_once_and_leaves_the_server_as_it_was(fetching, imap):
    app = fetching()
    imap.deliver(mail("Captions for every keynote.").as_bytes())
    imap.deliver(mail("Back on Monday.", headers={"Auto-Submitted": "auto-replied"}).as_bytes())
    first = fetch(app)
    assert first.exit_code == 0, first.output
    assert "Imported 1, already there 0, skipped 1 (auto-reply 1)." in first.output
    # Only messages after the last one read are asked for.
    assert "Imported 0, already there 0, skipped 0." in fetch(app).output
    imap.deliver(mail("A quiet room to write in.").as_bytes())
    assert "Imported 1, already there 0, skipped 0." in fetch(app).output
    assert bodies(app) == ["Captions for every keynote.", "A quiet room to write in."]
    client = imaplib.IMAP4_SSL(
        "127.0.0.1", imap.port, ssl_context=ssl.create_default_context(cafile=imap.ca_file)
    )
    client.login(imap.user, imap.password)
    client.select("INBOX", readonly=True)
    _status, flags = client.uid("FETCH", "1:*", "(FLAGS)")
    client.logout()
    assert len(flags) == 3 and not any(b"\\Seen" in line for line in flags)


def test_a_new_uidvalidity_reads_the_folder_again_without_doubles(fetching, imap):
    app = fetching()
    imap.deliver(mail("Read before the server was rebuilt.").as_bytes())
    fetch(app)
    with app.app_context():
        session = get_session()
        session.scalar(sa.select(MailFolder)).uid_validity += 1
        session.commit()
    assert "Imported 0, already there 1, skipped 0." in fetch(app).output
    assert len(bodies(app)) == 1


def test_dry_run_lists_without_writing_or_moving_on(fetching, imap):
    app = fetching()
    imap.deliver(mail(subject="Lounge").as_bytes())
    result = fetch(app, "--dry-run")
    assert "would import: 2026-03-02 Priya Shah <priya@example.org>: Lounge" in result.output
    assert "Dry run, nothing written. Imported 1" in result.output
    assert bodies(app) == []
    assert "Imported 1" in fetch(app).output


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAIL_IMAP_PASSWORD": "wrong"}, "127.0.0.1 refused the login of reader."),
        ({"MAIL_IMAP_FOLDER": "Nowhere"}, "127.0.0.1 has no folder 'Nowhere'."),
        ({"MAIL_IMAP_FOLDER": "In\r\nbox"}, "MAIL_IMAP_FOLDER must be a folder name"),
        ({"MAIL_IMAP_CA_FILE": None}, "certificate verify failed"),
        ({"MAIL_IMAP_HOST": None}, "Set MAIL_IMAP_HOST to fetch mail over IMAP."),
        ({"MAIL_IMAP_CA_FILE": "/nowhere/ca.pem"}, "MAIL_IMAP_CA_FILE: there is no file"),
    ],
)
def test_what_cannot_work_says_why_in_one_line(fetching, settings, message):
    app = fetching(**settings)
    result = fetch(app)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_server_that_does_not_answer(make_app):
    from tests.servers import free_port

    app = make_app(
        MAIL_IMAP_HOST="127.0.0.1",
        MAIL_IMAP_PORT=free_port(),
        MAIL_IMAP_USER="reader",
        MAIL_IMAP_PASSWORD="x",
    )
    result = fetch(app)
    assert result.exit_code == 1 and "Could not reach 127.0.0.1:" in result.output


def test_since_leaves_older_mail_and_a_bad_message_stops_nothing(fetching, imap):
    app = fetching()
    imap.deliver(mail("Before the broken one.").as_bytes())
    nested = b"From: Deep <deep@example.org>\nMessage-ID: <deep-2@example.org>\n"
    for level in range(3000):
        nested += f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
    imap.deliver(nested + b"Content-Type: text/plain\n\nAt the bottom.\n")
    imap.deliver(mail("After the broken one.").as_bytes())
    # The server received all three today: nothing is from 2999 on.
    assert "Imported 0, already there 0, skipped 0." in fetch(app, "--since", "2999-01-01").output
    result = fetch(app)
    assert "Imported 2, already there 0, skipped 1 (not readable as an email 1)." in result.output
    assert bodies(app) == ["Before the broken one.", "After the broken one."]
    assert "Imported 0, already there 0, skipped 0." in fetch(app).output


def test_a_password_beyond_ascii_logs_in(make_app):
    server = start_dovecot(password="pässwörd ✓")
    try:
        app = make_app(
            MAIL_IMAP_HOST="127.0.0.1",
            MAIL_IMAP_PORT=server.port,
            MAIL_IMAP_USER=server.user,
            MAIL_IMAP_PASSWORD="pässwörd ✓",
            MAIL_IMAP_CA_FILE=server.ca_file,
        )
        server.deliver(mail("Logged in with a password in UTF-8.").as_bytes())
        assert "Imported 1" in fetch(app).output
    finally:
        server.stop()
