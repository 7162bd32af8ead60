"""The digest end to end: what goes in, the ledger across digests, every format, sending."""

import csv
import hashlib
import io
import json
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from feedback.db import get_session, utcnow
from feedback.digest import contents, delivery, formats
from feedback.models import Credit, Digest, Status, Submission, Visibility
from tests.conftest import OWNER_EMAIL, Inbox, add_owner, get_item
from tests.servers import free_port

PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE


def _export(app, fmt: str, options: contents.Options | None = None) -> str:
    """The next digest in one format, as the CLI and the owner's download write it."""
    options = options or contents.Options()
    with app.app_context():
        session = get_session()
        draft = delivery.rendition(session, app.config, options=options)
        if fmt == "eml":
            raw = io.BytesIO()
            draft.write_eml(raw)
            return raw.getvalue().decode("ascii")
        out = io.StringIO()
        formats.write(fmt, out, draft.head, draft.entries(), options=options)
        return out.getvalue()


def _ids(app, options: contents.Options | None = None) -> list[int]:
    with app.app_context():
        entries = contents.new_entries(get_session(), options or contents.Options())
        return [entry.id for _item, entry in entries]


def _expect(page: str) -> str:
    return re.search(r'name="expect" value="([0-9a-f]+)"', page).group(1)


def _download(client, url: str) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.data


def _logged_in(app):
    from tests.conftest import OWNER_PASSWORD

    add_owner(app)
    client = app.test_client()
    client.post("/admin/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    return client


STALE = "New ideas arrived (or some changed) since you opened this preview"


def _digest_count(app) -> int:
    with app.app_context():
        return get_session().scalar(sa.select(sa.func.count()).select_from(Digest))


def _mark(app, options: contents.Options | None = None) -> Digest:
    with app.app_context():
        session = get_session()
        digest = delivery.mark_sent(
            session, app.config, options or contents.Options(), created_by=OWNER_EMAIL
        )
        session.commit()
        return digest


def test_default_selection(app, make_submission):
    expected = {
        make_submission(visibility=PUBLIC, status=Status.APPROVED),
        make_submission(visibility=PRIVATE, status=Status.PENDING),
        make_submission(visibility=PRIVATE, status=Status.APPROVED),
    }
    for visibility in (PUBLIC, PRIVATE):
        for status in (Status.REJECTED, Status.SPAM, Status.WITHDRAWN):
            make_submission(visibility=visibility, status=status, body="Never in a digest.")
    make_submission(visibility=PUBLIC, status=Status.PENDING, body="Not approved yet.")
    assert set(_ids(app)) == expected
    for fmt in formats.FORMATS:
        output = _export(app, fmt)
        assert "Never in a digest" not in output
        assert "Not approved yet" not in output


def test_three_consecutive_digests_each_hold_only_what_is_new(app, make_submission):
    first = make_submission(body="In the first digest.")
    assert _mark(app).item_count == 1
    assert _ids(app) == []
    second = make_submission(body="In the second digest.")
    assert [e for e in _ids(app)] == [second]
    assert _mark(app).item_count == 1

    third = make_submission(body="In the third digest.")
    # An item edited after it went out is offered again, flagged.
    with app.app_context():
        session = get_session()
        session.get(Submission, first).body = "In the first digest, then corrected."
        session.commit()
    assert sorted(_ids(app)) == sorted([first, third])
    text = " ".join(_export(app, "txt").split())
    assert "updated since the digest of" in text
    assert _mark(app).item_count == 2
    assert _ids(app) == []
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Digest)) == 3


def test_nothing_new_is_a_clear_refusal(app, make_submission):
    make_submission()
    _mark(app)
    with pytest.raises(contents.DigestError, match="nothing new"):
        _mark(app)


def test_anonymise_removes_every_name_email_and_website(app, make_submission):
    make_submission(
        author_name="Secret Person",
        email="secret.person@example.org",
        website="https://secret-site.example.org",
        credit=Credit.NAME_AND_ORGANISATION,
        organisation="Secret Org",
    )
    make_submission(visibility=PRIVATE, status=Status.PENDING, author_name="Hidden Writer")
    options = contents.Options(anonymise=True, include_contact=True)
    for fmt in formats.FORMATS:
        output = _export(app, fmt, options)
        for secret in ("Secret Person", "secret.person", "secret-site", "Secret Org", "Hidden"):
            assert secret not in output, (fmt, secret)
        assert "A reader" in output


def test_credit_is_as_the_author_chose_in_every_format(app, make_submission):
    make_submission(
        author_name="Named Author", credit=Credit.NAME, website="https://named.example"
    )
    make_submission(
        author_name="Org Author", credit=Credit.NAME_AND_ORGANISATION, organisation="Mercy Clinic"
    )
    make_submission(
        author_name="Shy Author",
        email="shy@example.org",
        website="https://shy.example",
        credit=Credit.ANONYMOUS,
    )
    # Even asking for contact details never reveals an anonymous author.
    options = contents.Options(include_contact=True)
    for fmt in formats.FORMATS:
        output = _export(app, fmt, options)
        assert "Named Author" in output, fmt
        assert "Org Author (Mercy Clinic)" in output, fmt
        assert "Shy Author" not in output and "shy@" not in output and "shy.example" not in output
        assert "A reader" in output, fmt


def test_emails_only_with_contact_details_and_notes_only_when_asked(app, make_submission):
    make_submission(email="reach.me@example.org", owner_note="Owner's private remark XQ.")
    for fmt in formats.FORMATS:
        output = _export(app, fmt)
        assert "reach.me" not in output, fmt
        assert "XQ" not in output, fmt
    options = contents.Options(include_contact=True, include_notes=True)
    for fmt in formats.FORMATS:
        output = _export(app, fmt, options)
        assert "reach.me@example.org" in output, fmt
        assert "remark XQ" in output, fmt


def test_grouped_by_topic_in_order_starred_first_then_oldest(app, make_submission):
    with app.app_context():
        from feedback.models import Topic

        slugs = dict(get_session().execute(sa.select(Topic.slug, Topic.id)).all())
    now = utcnow()
    late = make_submission(topic_id=slugs["blog"], created_at=now, body="Blog, newest.")
    early = make_submission(
        topic_id=slugs["blog"], created_at=now - timedelta(days=3), body="Blog, oldest."
    )
    starred = make_submission(
        topic_id=slugs["blog"], created_at=now, starred=True, body="Blog, starred."
    )
    other = make_submission(topic_id=slugs["other"], created_at=now - timedelta(days=9))
    social = make_submission(topic_id=slugs["social"], created_at=now - timedelta(days=5))
    assert _ids(app) == [starred, early, late, social, other]
    document = json.loads(_export(app, "json"))
    assert [t["topic"] for t in document["counts"]["per_topic"]] == [
        "Conference blog",
        "Social media at the conference",
        "Other",
    ]


def test_options_narrow_the_digest(app, make_submission):
    now = utcnow()
    old = make_submission(created_at=now - timedelta(days=20))
    private = make_submission(visibility=PRIVATE, status=Status.PENDING, created_at=now)
    starred = make_submission(starred=True, created_at=now)
    assert private not in _ids(app, contents.Options(include_private=False))
    assert _ids(app, contents.Options(starred_only=True)) == [starred]
    since = (now - timedelta(days=2)).date()
    assert old not in _ids(app, contents.Options(since=since))
    until = (now - timedelta(days=10)).date()
    assert _ids(app, contents.Options(until=until)) == [old]
    assert _ids(app, contents.Options(topics=("social",))) == []


def test_a_sent_digest_downloads_identically_later(app, make_submission):
    item_id = make_submission(title="As it was", body="Text as it went out.")
    digest = _mark(app)
    client = _logged_in(app)
    url = f"/admin/digests/{digest.id}/download."
    before = {fmt: _download(client, url + fmt) for fmt in formats.FORMATS}
    # The item changes and then disappears; the sent digest does not.
    with app.app_context():
        session = get_session()
        session.get(Submission, item_id).body = "Changed afterwards."
        session.commit()
        session.delete(session.get(Submission, item_id))
        session.commit()
    for fmt in formats.FORMATS:
        again = _download(client, url + fmt)
        assert again == before[fmt], fmt
        assert b"Text as it went out" in again.replace(b"=\n", b""), fmt


def test_csv_download_has_a_bom_and_parses(app, make_submission, auth, client):
    make_submission(author_name="Zoë Café", body="=1+1 looks like a formula.")
    auth.login()
    with client.get("/admin/digests/new/download.csv") as response:
        disposition = response.headers["Content-Disposition"]
        text = response.data.decode("utf-8")
    assert disposition.startswith("attachment; filename=digest-draft-")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert rows[0]["credit"] == "Zoë Café"
    assert rows[0]["body"] == "'=1+1 looks like a formula."


def _mail_app(make_app, port: int, **extra):
    return make_app(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        ORGANISER_EMAILS=["organisers@example.org", "Zoë Chair <chair@example.org>"],
        **extra,
    )


def test_send_by_smtp_records_and_never_sends_the_same_items_twice(make_app, smtp):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    runner = app.test_cli_runner()
    _seed(app, body="Goes to the organisers.", notify_author=True, email="author@example.org")
    first = runner.invoke(args=["digest", "send"])
    assert first.exit_code == 0, first.output
    assert "Sent digest 1 with 1 ideas" in first.output
    digest_mail = [m for r, m in inbox.messages if "organisers@example.org" in r]
    assert len(digest_mail) == 1
    message = digest_mail[0]
    assert message["To"].addresses[1].display_name == "Zoë Chair"
    assert "Goes to the organisers." in message.get_body(("plain",)).get_content()
    # The author who asked is told once.
    told = [m for r, m in inbox.messages if r == ["author@example.org"]]
    assert len(told) == 1
    assert "was passed to the organisers" in told[0].get_content()

    second = runner.invoke(args=["digest", "send"])
    assert second.exit_code != 0
    assert "nothing new" in second.output
    assert len(inbox.messages) == 2
    listed = runner.invoke(args=["digest", "list"]).output
    assert "1 ideas\temailed to organisers@example.org" in listed

    # Re-sending sends the identical content again, and records nothing new.
    again = runner.invoke(args=["digest", "send", "--digest", "1"])
    assert again.exit_code == 0, again.output
    resent = [m for r, m in inbox.messages if "organisers@example.org" in r][-1]
    assert resent.get_body(("plain",)).get_content() == message.get_body(("plain",)).get_content()
    with app.app_context():
        digest = get_session().scalars(sa.select(Digest)).one()
        assert digest.send_count == 2


def _seed(app, **fields) -> int:
    from feedback import submissions
    from feedback.models import Topic

    with app.app_context():
        session = get_session()
        idea = submissions.NewIdea(
            visibility=Visibility.PUBLIC,
            author_name=fields.pop("author_name", "Ann Author"),
            email=fields.pop("email", "ann@example.org"),
            topic_id=session.scalar(sa.select(Topic.id)),
            body=fields.pop("body"),
            **fields,
        )
        item, _token = submissions.create(
            session, idea, secret_key="test-secret", auto_approve_public=True
        )
        session.commit()
        return item.id


def test_a_failing_mail_server_leaves_the_digest_unmarked(make_app):
    app = _mail_app(make_app, free_port())
    _seed(app, body="Waiting for a working server.")
    result = app.test_cli_runner().invoke(args=["digest", "send"])
    assert result.exit_code != 0
    assert "The digest was not sent and is not marked as sent." in result.output
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Digest)) == 0
    assert len(_ids(app)) == 1


def test_no_organisers_configured_is_a_clear_error(app, make_submission):
    make_submission()
    result = app.test_cli_runner().invoke(args=["digest", "send"])
    assert "No organiser addresses are configured" in result.output


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_cli_export_every_format(app, make_submission, tmp_path, fmt):
    make_submission(body="Exported idea text.")
    out = tmp_path / f"digest.{fmt}"
    result = app.test_cli_runner().invoke(
        args=["digest", "export", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if fmt == "eml":
        parsed = message_from_bytes(data, policy=policy.default)
        assert "Exported idea text." in parsed.get_body(("plain",)).get_content()
    else:
        assert "Exported idea text." in data.decode("utf-8")
    # Exporting alone records nothing; the next export holds the same idea.
    assert len(_ids(app)) == 1


def test_cli_export_mark_sent_and_export_again(app, make_submission, tmp_path):
    make_submission(body="Marked while exported.")
    runner = app.test_cli_runner()
    first = tmp_path / "first.md"
    result = runner.invoke(
        args=["digest", "export", "--format", "md", "--out", str(first), "--mark-sent"]
    )
    assert "recorded as digest 1" in result.output
    assert _ids(app) == []
    again = tmp_path / "again.md"
    runner.invoke(
        args=["digest", "export", "--format", "md", "--digest", "1", "--out", str(again)]
    )
    assert again.read_bytes() == first.read_bytes()
    bad = runner.invoke(args=["digest", "export", "--format", "md", "--digest", "99"])
    assert "There is no digest 99" in bad.output
    wrong = runner.invoke(args=["digest", "export", "--format", "pdf"])
    assert wrong.exit_code != 0


def test_owner_digest_pages(app, make_submission, auth, client):
    make_submission(body="Preview me, please.")
    auth.login()
    assert "No digest yet" in client.get("/admin/digests/").get_data(as_text=True)
    page = client.get("/admin/digests/new").get_data(as_text=True)
    assert "1 idea: 1 public, 0 private" in page
    assert "Preview me, please." in page
    expect = _expect(page)
    # What the owner saw is what counts: an idea arriving meanwhile stops the marking.
    late = make_submission(body="Arrived after the preview.")
    stale = client.post("/admin/digests/new/mark-sent", data={"expect": expect})
    assert stale.status_code == 409
    fresh = stale.get_data(as_text=True)
    assert STALE in fresh
    # The answer is a fresh preview: the late idea shows, with the fingerprint it now has.
    assert "Arrived after the preview." in fresh
    assert _expect(fresh) != expect
    assert _digest_count(app) == 0
    assert client.post("/admin/digests/new/mark-sent", data={}).status_code == 400
    with app.app_context():
        session = get_session()
        session.delete(session.get(Submission, late))
        session.commit()
    response = client.post("/admin/digests/new/mark-sent", data={"expect": expect})
    assert response.status_code == 303
    listing = client.get("/admin/digests/").get_data(as_text=True)
    assert "marked as sent by owner@example.org" in listing
    assert "Nothing new for the organisers" in client.get("/admin/digests/new").get_data(
        as_text=True
    )
    # Nothing is left: the empty selection's fingerprint, and still nothing to record.
    again = hashlib.sha256(b"").hexdigest()[:32]
    refused = client.post("/admin/digests/new/mark-sent", data={"expect": again})
    assert refused.status_code == 409
    assert "nothing new" in refused.get_data(as_text=True)
    dashboard = client.get("/admin/dashboard").get_data(as_text=True)
    assert "The last digest went out" in dashboard


@pytest.mark.parametrize(
    "query",
    ["since=yesterday", "until=2026-13-01", "since=2026-05-02&until=2026-05-01", "topics=nope"],
)
def test_bad_digest_options_are_a_400(auth, client, query):
    auth.login()
    response = client.get("/admin/digests/new?" + query)
    assert response.status_code == 400
    assert "Those digest options cannot be used" in response.get_data(as_text=True)


def test_owner_send_with_a_dead_server_says_so(make_app, make_submission):
    app = _mail_app(make_app, free_port())
    add_owner(app)
    _seed(app, body="Still waiting.")
    client = app.test_client()
    client.post(
        "/admin/login", data={"email": OWNER_EMAIL, "password": "correct horse battery staple"}
    )
    expect = _expect(client.get("/admin/digests/new?anonymise=y").get_data(as_text=True))
    response = client.post("/admin/digests/new/send", data={"anonymise": "y", "expect": expect})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The digest was not sent and is not marked as sent." in page
    assert 'name="anonymise" type="checkbox" value="y" checked' in page or "checked" in page


def test_manage_page_says_when_the_idea_went_out(app, client):
    from tests.conftest import form_data

    client.post("/ideas", data=form_data(app, visibility="private", credit="anonymous"))
    link = re.search(
        r'href="http://localhost(/s/[^"]+)"', client.get("/thanks").get_data(as_text=True)
    ).group(1)
    assert "Passed to the organisers" not in client.get(link).get_data(as_text=True)
    _mark(app)
    page = client.get(link).get_data(as_text=True)
    assert "Passed to the organisers on" in page
    assert "Anonymously" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"credit": "name_org", "organisation": ""}, "Please give your organisation"),
        ({"credit": "famous"}, "Please choose how the organisers should credit you."),
        ({"credit": "name_org", "organisation": "<b>Org</b>"}, "can&#39;t contain"),
        ({"credit": "name_org", "organisation": "o" * 121}, "120 characters or fewer"),
        ({"credit": "name_org", "organisation": "Org\r\nBcc: x@example.org"}, "single line"),
    ],
)
def test_credit_field_bad_input(app, client, fields, message):
    from tests.conftest import count_submissions, form_data

    response = client.post("/ideas", data=form_data(app, **fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_credit_choices_are_stored(app, client):
    from tests.conftest import form_data

    client.post(
        "/ideas",
        data=form_data(app, credit="name_org", organisation="Mercy Clinic", notify_author="y"),
    )
    client.post(
        "/ideas",
        data=form_data(
            app, credit="name", organisation="Ignored Org", body="A second, different idea."
        ),
    )
    with app.app_context():
        rows = get_session().scalars(sa.select(Submission).order_by(Submission.id)).all()
    assert (rows[0].credit, rows[0].organisation, rows[0].notify_author) == (
        Credit.NAME_AND_ORGANISATION,
        "Mercy Clinic",
        True,
    )
    assert (rows[1].credit, rows[1].organisation) == (Credit.NAME, None)
    assert get_item(app, rows[0].id).content_hash == rows[0].digest_fingerprint()


def test_two_digests_taking_the_same_items_is_a_clear_refusal(app, make_submission, monkeypatch):
    make_submission()
    _mark(app)
    # As if a second sender had read the selection before the first one committed.
    monkeypatch.setattr(contents, "_already_sent", lambda: sa.false())
    with pytest.raises(contents.DigestError, match="Another digest took some of these ideas"):
        _mark(app)


def test_any_failure_while_sending_marks_nothing(make_app, smtp, monkeypatch):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    _seed(app, body="Must stay unsent.")

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(delivery, "digest_message", broken)
    result = app.test_cli_runner().invoke(args=["digest", "send"])
    assert "not marked as sent" in result.output
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Digest)) == 0
    assert len(_ids(app)) == 1
    assert inbox.messages == []


class RefusingInbox(Inbox):
    """Refuses one address until told otherwise, as a full mailbox would."""

    def __init__(self, refuse: str) -> None:
        super().__init__()
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_an_author_not_told_because_of_a_mail_failure_is_told_later(make_app):
    from aiosmtpd.controller import Controller

    inbox = RefusingInbox("author@example.org")
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app = _mail_app(make_app, controller.port)
        item_id = _seed(app, body="Tell me.", notify_author=True, email="author@example.org")
        runner = app.test_cli_runner()
        assert runner.invoke(args=["digest", "send"]).exit_code == 0
        assert get_item(app, item_id).author_told_at is None
        inbox.refuse = None
        _seed(app, body="Another idea, for a second digest.")
        assert runner.invoke(args=["digest", "send"]).exit_code == 0
        assert get_item(app, item_id).author_told_at is not None
        told = [m for r, m in inbox.messages if r == ["author@example.org"]]
        assert len(told) == 1
    finally:
        controller.stop()


def test_resend_discard_and_tell_authors_leave_the_commit_to_the_caller(make_app, smtp):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    item_id = _seed(app, body="Tell me later.", notify_author=True, email="author@example.org")
    _mark(app)
    with app.app_context():
        session = get_session()
        assert delivery.tell_authors(session, app.config) == 1
        session.rollback()
    assert len(inbox.messages) == 1  # the mail went; whether it counts is the caller's call
    assert get_item(app, item_id).author_told_at is None

    with app.app_context():
        session = get_session()
        digest = session.get(Digest, 1)
        digest.method = "email"
        session.commit()
        delivery.resend(session, app.config, digest)
        session.rollback()
        assert session.get(Digest, 1).send_count == 1
        digest.method = contents.SENDING
        session.commit()
        delivery.discard(session, digest)
        session.rollback()
    assert _digest_count(app) == 1


def test_an_emailed_digest_downloads_as_it_was_sent(make_app, smtp):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    _seed(app, body="Sent and kept.")
    app.test_cli_runner().invoke(args=["digest", "send"])
    sent = inbox.messages[0][1]
    client = _logged_in(app)
    first = _download(client, "/admin/digests/1/download.eml")
    assert _download(client, "/admin/digests/1/download.eml") == first
    downloaded = message_from_bytes(first, policy=policy.default)
    for part in ("plain", "html"):
        # SMTP carries lines with CRLF; the content is the same.
        received = sent.get_body((part,)).get_content().replace("\r\n", "\n")
        assert downloaded.get_body((part,)).get_content() == received
    assert downloaded["Message-ID"] == sent["Message-ID"]


def test_a_marked_digest_is_not_resent_by_email(make_app, smtp, make_submission):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    _seed(app, body="Marked only.")
    runner = app.test_cli_runner()
    runner.invoke(args=["digest", "export", "--format", "md", "--mark-sent", "--out", "/dev/null"])
    result = runner.invoke(args=["digest", "send", "--digest", "1"])
    assert "marked as sent, not emailed from here" in result.output
    assert inbox.messages == []


def test_a_digest_left_sending_can_be_sent_or_discarded(app, make_submission):
    make_submission(body="Stuck while sending.")
    with app.app_context():
        session = get_session()
        digest = contents.record(
            session,
            contents.Options(),
            "HIMSS",
            method=contents.SENDING,
            recipients=["o@example.org"],
            created_by=OWNER_EMAIL,
            message_id="<stuck@example.org>",
        )
        session.commit()
        digest_id = digest.id
    assert _ids(app) == []
    listed = app.test_cli_runner().invoke(args=["digest", "list"]).output
    assert "SENDING NEVER FINISHED" in listed
    client = _logged_in(app)
    assert "sending never finished" in client.get("/admin/digests/").get_data(as_text=True)
    assert client.post(f"/admin/digests/{digest_id}/discard").status_code == 303
    assert len(_ids(app)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "9999-12-31"], "between the years 1900 and 9000"),
        (["--since", "2026-05-02", "--until", "2026-05-01"], "must not be before the start date"),
        (["--topic", "nope"], "no topic nope"),
        (["--digest", "99999999999999999999"], "99999999999999999999"),
        (["--since", "yesterday"], "yesterday"),
    ],
)
def test_bad_cli_digest_options_are_clear_errors(app, args, message):
    result = app.test_cli_runner().invoke(args=["digest", "export", "--format", "md", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not isinstance(result.exception, (OverflowError, ValueError))


def test_mark_sent_into_a_missing_folder_records_nothing(app, make_submission, tmp_path):
    make_submission()
    out = tmp_path / "no-such-folder" / "digest.md"
    result = app.test_cli_runner().invoke(
        args=["digest", "export", "--format", "md", "--mark-sent", "--out", str(out)]
    )
    assert result.exit_code != 0
    assert "Nothing was recorded." in result.output
    assert len(_ids(app)) == 1
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Digest)) == 0


def _digest_mail(inbox) -> list:
    return [m for r, m in inbox.messages if "organisers@example.org" in r]


def test_owner_send_refuses_a_preview_that_new_ideas_made_stale(make_app, smtp):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    _seed(app, body="Seen in the preview.")
    client = _logged_in(app)
    page = client.get("/admin/digests/new?anonymise=y").get_data(as_text=True)
    expect = _expect(page)
    _seed(app, body="Arrived after the preview.")

    stale = client.post("/admin/digests/new/send", data={"anonymise": "y", "expect": expect})
    assert stale.status_code == 409
    fresh = stale.get_data(as_text=True)
    assert STALE in fresh
    # The fresh preview shows what would go now, with the options the owner chose.
    assert "2 ideas: 2 public, 0 private" in fresh
    assert "Arrived after the preview." in fresh
    assert '<input type="hidden" name="anonymise" value="y">' in fresh
    assert "download.md?anonymise=y" in fresh
    assert _digest_mail(inbox) == []
    assert _digest_count(app) == 0
    assert len(_ids(app)) == 2

    sent = client.post(
        "/admin/digests/new/send", data={"anonymise": "y", "expect": _expect(fresh)}
    )
    assert sent.status_code == 303
    [message] = _digest_mail(inbox)
    text = message.get_body(("plain",)).get_content()
    assert "Seen in the preview." in text
    assert "Arrived after the preview." in text
    assert _digest_count(app) == 1
    assert _ids(app) == []


def test_owner_send_with_a_fresh_preview_sends(make_app, smtp):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    _seed(app, body="Exactly what was previewed.")
    client = _logged_in(app)
    expect = _expect(client.get("/admin/digests/new").get_data(as_text=True))
    response = client.post("/admin/digests/new/send", data={"expect": expect})
    assert response.status_code == 303
    assert "went to organisers@example.org" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert len(_digest_mail(inbox)) == 1
    assert _digest_count(app) == 1


@pytest.mark.parametrize(
    ("expect", "status", "message"),
    [
        (None, 400, "Send from the preview page"),
        ("", 400, "Send from the preview page"),
        ("0" * 32, 409, STALE),
        ("<script>alert(1)</script>", 409, STALE),
        ("f" * 5000, 409, STALE),
    ],
    ids=["missing", "empty", "forged", "markup", "long"],
)
@pytest.mark.parametrize("action", ["send", "mark-sent"])
def test_a_missing_or_forged_fingerprint_sends_nothing(
    make_app, smtp, action, expect, status, message
):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    _seed(app, body="Never sent without a preview.")
    client = _logged_in(app)
    data = {} if expect is None else {"expect": expect}
    response = client.post(f"/admin/digests/new/{action}", data=data)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert inbox.messages == []
    assert _digest_count(app) == 0


def _cli_fingerprint(runner, *options: str) -> str:
    result = runner.invoke(args=["digest", "preview", *options])
    assert result.exit_code == 0, result.output
    return re.search(r"Fingerprint: ([0-9a-f]{32})", result.output).group(1)


def test_cli_preview_prints_the_fingerprint_of_the_owner_page(app, make_submission, auth, client):
    make_submission(body="One fingerprint for both.")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["digest", "preview", "--anonymise"])
    # The digest text stays alone on standard output, so it can be piped.
    assert "One fingerprint for both." in result.stdout
    assert "Fingerprint:" not in result.stdout
    auth.login()
    page = client.get("/admin/digests/new?anonymise=y").get_data(as_text=True)
    assert _cli_fingerprint(runner, "--anonymise") == _expect(page)


def test_cli_send_refuses_a_stale_expect_and_sends_a_matching_one(make_app, smtp):
    port, inbox = smtp
    app = _mail_app(make_app, port)
    runner = app.test_cli_runner()
    _seed(app, body="Seen by the command line.")
    expect = _cli_fingerprint(runner, "--no-private")
    _seed(app, body="Arrived after the preview.")

    stale = runner.invoke(args=["digest", "send", "--no-private", "--expect", expect])
    assert stale.exit_code == 1
    assert "changed since the preview with that fingerprint" in stale.output
    assert "nothing was sent or recorded" in stale.output
    assert inbox.messages == []
    assert _digest_count(app) == 0

    fresh = _cli_fingerprint(runner, "--no-private")
    sent = runner.invoke(args=["digest", "send", "--no-private", "--expect", fresh])
    assert sent.exit_code == 0, sent.output
    assert "with 2 ideas" in sent.output
    assert len(_digest_mail(inbox)) == 1
    # Without --expect the command works as before.
    _seed(app, body="A third idea.")
    assert runner.invoke(args=["digest", "send"]).exit_code == 0
    assert len(_digest_mail(inbox)) == 2


def test_cli_mark_sent_refuses_a_stale_expect_and_marks_a_matching_one(
    app, make_submission, tmp_path
):
    runner = app.test_cli_runner()
    make_submission(body="Seen by the command line.")
    expect = _cli_fingerprint(runner)
    make_submission(body="Arrived after the preview.")
    out = tmp_path / "digest.md"
    mark = ["digest", "export", "--format", "md", "--out", str(out), "--mark-sent"]

    stale = runner.invoke(args=[*mark, "--expect", expect])
    assert stale.exit_code == 1
    assert "changed since the preview with that fingerprint" in stale.output
    assert not out.exists()
    assert _digest_count(app) == 0
    assert len(_ids(app)) == 2

    marked = runner.invoke(args=[*mark, "--expect", _cli_fingerprint(runner)])
    assert marked.exit_code == 0, marked.output
    assert "Wrote 2 ideas as md" in marked.output
    assert "Arrived after the preview." in out.read_text()
    assert _digest_count(app) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--format", "md", "--expect", "abc"], "add --mark-sent"),
        (["send", "--digest", "1", "--expect", "abc"], "drop --expect"),
    ],
)
def test_cli_expect_where_it_checks_nothing_is_a_usage_error(app, args, message):
    result = app.test_cli_runner().invoke(args=["digest", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_the_check_is_made_on_what_is_recorded(app, make_submission, monkeypatch):
    """An idea slipping in between the check and the recording cannot go out unseen."""
    make_submission(body="Previewed.")
    make_submission(body="Slips in while recording.", visibility=PRIVATE)
    options = contents.Options(include_private=False)
    with app.app_context():
        expected = contents.selection_fingerprint(get_session(), options)
    original = contents.new_entries
    # As if the private note had arrived after the fingerprint was checked.
    monkeypatch.setattr(
        contents,
        "new_entries",
        lambda session, _options, _arranged: original(session, contents.Options()),
    )
    with app.app_context():
        session = get_session()
        with pytest.raises(contents.SelectionChanged):
            delivery.mark_sent(
                session, app.config, options, created_by=OWNER_EMAIL, expected=expected
            )
        session.rollback()
    assert _digest_count(app) == 0


def test_nothing_new_is_said_plainly_even_with_a_stale_fingerprint(app, runner, tmp_path):
    out = tmp_path / "digest.md"
    result = runner.invoke(
        args=["digest", "export", "--format", "md", "--out", str(out), "--mark-sent"]
        + ["--expect", "deadbeef"]
    )
    assert result.exit_code == 1
    assert "There is nothing new for the organisers since the last digest." in result.output
