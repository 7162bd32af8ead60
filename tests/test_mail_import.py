"""Ideas that arrived by email: `flask mail import` with real messages and real mailbox files,
on SQLite and PostgreSQL."""

import json
import mailbox
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from feedback import mail_import
from feedback.db import get_session
from feedback.models import (
    Block,
    BlockKind,
    Credit,
    MailMessage,
    Status,
    Submission,
    Visibility,
)
from tests.conftest import OWNER_EMAIL, owner_client

SENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "digest.schema.json").read_text())


def mail(
    body: str | None = "A quiet room for bloggers, with power strips and good Wi-Fi.",
    *,
    sender: str = "Priya Shah <priya@example.org>",
    subject: str = "An idea for the conference",
    html: str | None = None,
    message_id: str | None = "auto",
    date: datetime | None = SENT,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    """A message as a mail client would send it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Blogger <blog@example.org>"
    message["Subject"] = subject
    if date is not None:
        message["Date"] = format_datetime(date)
    if message_id == "auto":
        message_id = make_msgid(domain="example.org")
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    if attachment:
        filename, data = attachment
        message.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return message


def write_mbox(path: Path, messages) -> Path:
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message.as_bytes() if isinstance(message, EmailMessage) else message)
    box.close()
    return path


def block_email(app, address: str) -> None:
    """The owner blocks an email address, as the blocks page does."""
    with app.app_context():
        session = get_session()
        session.add(
            Block(kind=BlockKind.EMAIL, value=address, label=address, created_by=OWNER_EMAIL)
        )
        session.commit()


def run_import(app, *args: str):
    return app.test_cli_runner().invoke(args=["mail", "import", *args])


def imported(app) -> list[Submission]:
    with app.app_context():
        session = get_session()
        items = session.scalars(sa.select(Submission).order_by(Submission.id)).all()
        session.expunge_all()
        return items


def test_each_message_becomes_a_pending_private_note(app, tmp_path):
    box = write_mbox(
        tmp_path / "ideas.mbox",
        [
            mail(subject="Re: Fwd: AW: Bloggers' lounge"),
            mail("Please stream the keynotes.", sender="jan@example.net", subject=""),
        ],
    )
    result = run_import(app, str(box))
    assert result.exit_code == 0, result.output
    assert "Imported 2, already there 0, skipped 0." in result.output
    first, second = imported(app)
    assert (first.visibility, first.status, first.by_email) == (
        Visibility.PRIVATE,
        Status.PENDING,
        True,
    )
    assert (first.author_name, first.email, first.title) == (
        "Priya Shah",
        "priya@example.org",
        "Bloggers' lounge",
    )
    assert first.body == "A quiet room for bloggers, with power strips and good Wi-Fi."
    assert first.created_at == SENT
    assert not first.consent_to_publish
    # No name given: the address's own name; no subject: the text stands in for a title.
    assert (second.author_name, second.title) == ("jan", None)
    assert second.shown_title == "Please stream the keynotes."
    # Emailed ideas go to the last topic ("Other") and are credited as the setting says.
    assert first.topic.slug == "other"
    assert first.credit is Credit.ANONYMOUS


def test_importing_the_same_mail_twice_adds_nothing(app, tmp_path):
    again = mail("Sent twice by a nervous reader.")
    no_id = mail("A message without a Message-ID.", message_id=None)
    box = write_mbox(tmp_path / "ideas.mbox", [again, no_id, again])
    first = run_import(app, str(box))
    assert "Imported 2, already there 1, skipped 0." in first.output
    second = run_import(app, str(box))
    assert "Imported 0, already there 3, skipped 0." in second.output
    assert len(imported(app)) == 2


def test_maildir_folders_and_single_eml_files(app, tmp_path):
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder.add(mail("From the Maildir.").as_bytes())
    folder.close()
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail("From a single file.").as_bytes())
    result = run_import(app, str(tmp_path / "Maildir"), str(eml))
    assert "Imported 2" in result.output
    assert {item.body for item in imported(app)} == {"From the Maildir.", "From a single file."}


def test_machine_mail_is_skipped_and_counted(app, tmp_path):
    # As Postfix sends it (RFC 3464): a report with a delivery-status part.
    bounce = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n"
        b"To: blog@example.org\nSubject: Undelivered Mail Returned to Sender\n"
        b"Message-ID: <bounce-1@mx.example.org>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
        b"--b1\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        b"--b1\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; gone@example.org\n"
        b"Action: failed\nStatus: 5.1.1\n--b1--\n"
    )
    box = write_mbox(
        tmp_path / "noise.mbox",
        [
            mail("I am away until Monday.", headers={"Auto-Submitted": "auto-replied"}),
            bounce,
            mail("Weekly newsletter.", headers={"List-Id": "News <news.example.org>"}),
            mail("Big sale!", headers={"Precedence": "bulk"}),
            mail(None, attachment=("slides.pdf", b"%PDF-1.4")),
            mail("A real idea among the noise."),
        ],
    )
    result = run_import(app, str(box))
    assert result.exit_code == 0, result.output
    assert "Imported 1, already there 0, skipped 5" in result.output
    for reason in ("auto-reply 1", "bounce 1", "mailing list or bulk mail 2", "no text 1"):
        assert reason in result.output
    assert [item.body for item in imported(app)] == ["A real idea among the noise."]


def test_encoded_and_non_ascii_senders_and_an_injection_attempt(app, tmp_path):
    encoded = mail(
        sender="=?utf-8?b?Wm/DqyDDnG7Dr2PDtmRl?= <zoe@example.org>",
        subject="=?utf-8?q?Caf=C3=A9_for_bloggers?=",
    )
    raw_utf8 = mail(sender="Jürgen Groß <juergen@example.de>", subject="Überraschung")
    # Line breaks hidden in encoded words, where a careless decoder lets them through.
    injected = (
        b"From: =?utf-8?q?Evil=0D=0ABcc:_victim@example.org?= <evil@example.org>\n"
        b"Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@example.org=0D=0A=0D=0A<b>x</b>?=\n"
        b"Message-ID: <injected-1@example.org>\n\nA line-break attack, and an idea.\n"
    )
    box = write_mbox(tmp_path / "people.mbox", [encoded, raw_utf8, injected])
    result = run_import(app, str(box))
    assert "Imported 3" in result.output, result.output
    zoe, juergen, evil = imported(app)
    assert (zoe.author_name, zoe.title) == ("Zoë Ünïcöde", "Café for bloggers")
    assert (juergen.author_name, juergen.title) == ("Jürgen Groß", "Überraschung")
    for field in (evil.author_name, evil.title, evil.email):
        assert "\r" not in field and "\n" not in field
    assert evil.email == "evil@example.org"
    assert evil.title.startswith("Hello Bcc: victim@example.org")


def test_html_only_mail_keeps_its_words_and_nothing_that_runs(app, client, tmp_path):
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head><body>"
        "<p>Live captions <b>for every session</b>.</p>"
        "<img src='https://tracker.example/pixel.gif' alt=''>"
        '<p onclick="steal()">Please &amp; thank you.</p></body></html>'
    )
    eml = tmp_path / "html.eml"
    eml.write_bytes(mail(None, html=html).as_bytes())
    assert "Imported 1" in run_import(app, str(eml)).output
    (item,) = imported(app)
    assert "Live captions for every session." in item.body
    assert "Please & thank you." in item.body
    for hostile in ("<", "alert", "tracker.example", "steal", "color: red"):
        assert hostile not in item.body


def test_a_reply_keeps_only_its_new_words_and_the_owner_sees_the_rest(app, tmp_path):
    text = (
        "Yes! A bloggers' corner with power strips, please.\n\n"
        "Best,\nPriya\n-- \nPriya Shah\nClinic IT, Example Hospital\n\n"
        "On Mon, 2 Mar 2026 at 10:00, Blogger <blog@example.org> wrote:\n"
        "> Do you have ideas for the conference?\n> Reply to this mail.\n"
    )
    eml = tmp_path / "reply.eml"
    eml.write_bytes(
        mail(text, subject="Re: Ideas?", attachment=("photo of the room.pdf", b"%PDF")).as_bytes()
    )
    assert "Imported 1" in run_import(app, str(eml)).output
    (item,) = imported(app)
    assert item.body == "Yes! A bloggers' corner with power strips, please."
    assert item.title == "Ideas?"
    owner = owner_client(app)
    queue = owner.get("/admin/").get_data(as_text=True)
    assert "received by email" in queue
    page = owner.get(f"/admin/items/{item.id}").get_data(as_text=True)
    assert "The email it came in" in page
    assert "Do you have ideas for the conference?" in page
    assert "Clinic IT, Example Hospital" in page
    assert "photo of the room.pdf" in page
    assert "Subject: Re: Ideas?" in page


def test_broken_and_odd_messages_never_crash_the_import(app, tmp_path):
    broken = (
        b"From: Broken <broken@example.org>\r\nSubject: Half a message\r\n"
        b"Message-ID: <broken-1@example.org>\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-8\r\n\r\n"
        b"Text in an unknown charset \xe9t\xe9.\r\n"
    )
    garbage = bytes(range(256)) * 4
    no_sender = mail("Who sent this?", sender="undisclosed-recipients:;")
    bad_date = mail("A date nobody can read.")
    bad_date.replace_header("Date", "yesterday-ish, around lunch")
    future = mail("Sent from the future.", date=datetime.now(UTC) + timedelta(days=400))
    for n, raw in enumerate([broken, garbage, no_sender.as_bytes(), bad_date.as_bytes()]):
        (tmp_path / f"{n}.eml").write_bytes(raw)
    (tmp_path / "future.eml").write_bytes(future.as_bytes())
    paths = sorted(str(p) for p in tmp_path.glob("*.eml"))
    result = run_import(app, *paths)
    assert result.exit_code == 0, result.output
    assert "Imported 3, already there 0, skipped 2" in result.output
    assert "no usable sender address 2" in result.output
    items = {item.body.split()[0]: item for item in imported(app)}
    assert "Text in an unknown charset" in items["Text"].body
    now = datetime.now(UTC)
    assert abs((items["A"].created_at - now).total_seconds()) < 60
    assert items["Sent"].created_at <= now


def test_dry_run_lists_and_writes_nothing(app, tmp_path):
    box = write_mbox(
        tmp_path / "ideas.mbox",
        [mail(subject="Lounge"), mail("Away.", headers={"Auto-Submitted": "auto-replied"})],
    )
    result = run_import(app, "--dry-run", str(box))
    assert result.exit_code == 0, result.output
    assert "would import: 2026-03-02 Priya Shah <priya@example.org>: Lounge" in result.output
    assert "skipped (auto-reply)" in result.output
    assert "Dry run, nothing written. Imported 1, already there 0, skipped 1" in result.output
    assert imported(app) == []


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda tmp: tmp / "missing.mbox", "no such file or folder"),
        (lambda tmp: tmp, "not a Maildir"),
    ],
)
def test_paths_that_hold_no_mail_are_refused_by_name(app, tmp_path, make_path, message):
    result = run_import(app, str(make_path(tmp_path)))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_blocked_sender_is_skipped(app, tmp_path):
    block_email(app, "priya@example.org")
    eml = tmp_path / "blocked.eml"
    eml.write_bytes(mail().as_bytes())
    result = run_import(app, str(eml))
    assert "sender blocked by the owner 1" in result.output
    assert imported(app) == []


def test_topic_and_credit_come_from_the_settings(make_app, tmp_path):
    app = make_app(MAIL_TOPIC="sessions", MAIL_CREDIT="name")
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail().as_bytes())
    run_import(app, str(eml))
    (item,) = imported(app)
    assert (item.topic.slug, item.credit) == ("sessions", Credit.NAME)
    wrong = make_app(MAIL_TOPIC="nowhere")
    result = run_import(wrong, str(eml))
    assert result.exit_code == 1 and "no topic #nowhere" in result.output


def test_the_owner_asks_an_emailing_author_to_publish(make_app, smtp, tmp_path):
    port, inbox = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_URL="https://ideas.example")
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail().as_bytes())
    run_import(app, str(eml))
    (item,) = imported(app)
    owner = owner_client(app)
    response = owner.post(f"/admin/items/{item.id}/ask", data={"body": item.body})
    assert response.status_code == 303
    recipients, sent = inbox.messages[-1]
    assert recipients == ["priya@example.org"]
    link = re.search(r"https://ideas\.example(/s/\S+)", sent.get_content()).group(1)
    reader = app.test_client()
    assert "asks to publish" in reader.get(link).get_data(as_text=True)


def test_deleting_an_emailed_idea_keeps_its_message_read(app, tmp_path):
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail().as_bytes())
    run_import(app, str(eml))
    with app.app_context():
        session = get_session()
        session.execute(sa.delete(Submission))
        session.commit()
        assert session.scalar(sa.select(MailMessage.submission_id)) is None
    assert "Imported 0, already there 1" in run_import(app, str(eml)).output


def test_long_text_is_cut_and_kept_whole_for_the_owner():
    text = "word " * 3000
    idea = mail_import.read(mail(text).as_bytes())
    assert len(idea.body) <= mail_import.BODY_MAX and idea.body.endswith("…")
    assert idea.original == text.strip()


def test_the_digest_says_which_ideas_came_by_email(app, tmp_path):
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail().as_bytes())
    run_import(app, str(eml))
    runner = app.test_cli_runner()
    text = runner.invoke(args=["digest", "export", "--format", "txt"]).output
    assert "A reader · private note by email ·" in " ".join(text.split())
    document = json.loads(runner.invoke(args=["digest", "export", "--format", "json"]).output)
    jsonschema.validate(document, SCHEMA)
    assert [item["by_email"] for item in document["items"]] == [True]


def test_hostile_messages_are_counted_and_never_stop_the_others(app, tmp_path):
    nested = b"From: Deep <deep@example.org>\nMessage-ID: <deep-1@example.org>\n"
    for level in range(3000):
        nested += f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
    nested += b"Content-Type: text/plain\n\nAt the bottom.\n"
    far_future = mail("From the year 9999.")
    far_future.replace_header("Date", "Fri, 31 Dec 9999 23:59:59 -0100")
    ancient = mail("From the year 1970.")
    ancient.replace_header("Date", "Thu, 31 Dec 1970 12:00:00 +0000")
    rambling = mail("On " + "and on " * 15_000)
    box = write_mbox(
        tmp_path / "hostile.mbox",
        [mail("Before the trouble."), nested, far_future, ancient, rambling, mail("After it.")],
    )
    result = run_import(app, str(box))
    assert result.exit_code == 0, result.output
    assert "Imported 5, already there 0, skipped 1 (not readable as an email 1)." in result.output
    now = datetime.now(UTC)
    items = imported(app)
    assert items[0].body == "Before the trouble." and items[-1].body == "After it."
    for item in items[1:3]:
        assert abs((item.created_at - now).total_seconds()) < 60
    assert items[3].body.startswith("On and on") and len(items[3].body) <= 5000


def test_raw_utf8_headers_keep_their_letters(app, tmp_path):
    eml = tmp_path / "utf8.eml"
    eml.write_bytes(
        "From: Jürgen Groß <juergen@bücher.example>\nSubject: Grüße aus Köln\n"
        "Message-ID: <utf8-1@example.org>\nContent-Type: text/plain; charset=utf-8\n\n"
        "Ein ruhiger Raum für Blogger.\n".encode()
    )
    assert "Imported 1" in run_import(app, str(eml)).output
    (item,) = imported(app)
    assert (item.author_name, item.email, item.title) == (
        "Jürgen Groß",
        "juergen@bücher.example",
        "Grüße aus Köln",
    )


def test_dry_run_tells_of_blocked_senders_too(app, tmp_path):
    block_email(app, "priya@example.org")
    eml = tmp_path / "blocked.eml"
    eml.write_bytes(mail().as_bytes())
    result = run_import(app, "--dry-run", str(eml))
    assert "skipped (sender blocked by the owner)" in result.output
    assert "Imported 0, already there 0, skipped 1" in result.output


def test_mbox_files_with_blank_lines_first_and_ones_with_a_bom(app, tmp_path):
    box = write_mbox(tmp_path / "ideas.mbox", [mail("First."), mail("Second.")])
    padded = tmp_path / "padded.mbox"
    padded.write_bytes(b"\n\n" + box.read_bytes())
    assert "Imported 2" in run_import(app, str(padded)).output
    marked = tmp_path / "marked.mbox"
    marked.write_bytes(b"\xef\xbb\xbf" + box.read_bytes())
    result = run_import(app, str(marked))
    assert result.exit_code == 1 and "starts with a byte-order mark" in result.output


def test_emailed_spam_goes_to_the_spam_tab_for_review(make_app, tmp_path):
    app = make_app(SPAM_WORDS=["casino bonus"])
    eml = tmp_path / "spam.eml"
    eml.write_bytes(mail("Claim your CASINO bonus today!").as_bytes())
    links = tmp_path / "links.eml"
    links.write_bytes(mail("See a.example/1 b.example/2 c.example/3 for more.").as_bytes())
    assert "Imported 2" in run_import(app, str(eml), str(links)).output
    spam, held = imported(app)
    assert spam.status is Status.SPAM and "casino bonus" in spam.hold_reason
    assert held.status is Status.PENDING and "links" in held.hold_reason


def test_emailed_notes_never_reach_a_public_page_feed_or_api(app, client, tmp_path):
    eml = tmp_path / "private.eml"
    eml.write_bytes(mail("A confidential remark about the sponsors.").as_bytes())
    run_import(app, str(eml))
    (item,) = imported(app)
    with app.app_context():
        session = get_session()
        session.get(Submission, item.id).status = Status.APPROVED
        session.commit()
    assert client.get(f"/ideas/{item.id}").status_code == 404
    for path in ("/", "/api/ideas", "/feed.atom", "/topics/other", "/api/similar?q=sponsors"):
        page = client.get(path).get_data(as_text=True)
        assert "confidential" not in page and "priya@example.org" not in page, path
