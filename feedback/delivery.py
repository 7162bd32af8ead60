"""Getting a digest to the organisers: recording it, emailing it, telling its authors."""

import logging
from collections.abc import Mapping
from email.utils import make_msgid

from sqlalchemy.orm import Session

from feedback import digests, exporters, mailer
from feedback.db import utcnow
from feedback.digests import DigestError, Header, Options
from feedback.models import Digest, Submission

log = logging.getLogger(__name__)


def _domain(config: Mapping) -> str | None:
    return config["MAIL_FROM"].rpartition("@")[2].strip("> ") or None


def digest_message(config: Mapping, session: Session, digest: Digest, *, fresh_id: bool = False):
    """A sent digest as an email, rebuilt from what it held (identical on every download)."""
    head = Header.from_json(digest.header_json)
    return exporters.build_eml(
        head,
        list(digests.sent_entries(session, digest)),
        sender=config["MAIL_FROM"],
        recipients=[r.strip() for r in digest.recipients.split(",") if r.strip()],
        message_id=make_msgid(domain=_domain(config)) if fresh_id else digest.message_id,
        sent_at=utcnow() if fresh_id else digest.sent_at,
    )


def new_message(config: Mapping, head: Header, entries, *, recipients: list[str] | None = None):
    """A digest not recorded yet as an email (a preview download)."""
    return exporters.build_eml(
        head,
        list(entries),
        sender=config["MAIL_FROM"],
        recipients=recipients or list(config["ORGANISER_EMAILS"]),
        message_id=make_msgid(domain=_domain(config)),
        sent_at=utcnow(),
    )


def mark_sent(session: Session, config: Mapping, options: Options, *, created_by: str) -> Digest:
    """Record a digest the owner sent some other way; the next one starts after it.

    :raise DigestError: when there is nothing new.
    """
    head = digests.header(session, options, config["CONFERENCE_NAME"])
    if head.total == 0:
        raise DigestError("There is nothing new for the organisers since the last digest.")
    digest = digests.record(
        session,
        options,
        head,
        method="marked",
        recipients=[],
        created_by=created_by,
        message_id=make_msgid(domain=_domain(config)),
    )
    session.commit()
    tell_authors(session, config, digest)
    return digest


def send(session: Session, config: Mapping, options: Options, *, created_by: str) -> Digest:
    """Email a new digest to the organisers and record it; a failure records nothing.

    :raise DigestError: when there is nothing new, no organiser address, or sending failed.
    """
    recipients = list(config["ORGANISER_EMAILS"])
    if not recipients:
        raise DigestError("No organiser addresses are configured (set ORGANISER_EMAILS).")
    head = digests.header(session, options, config["CONFERENCE_NAME"])
    if head.total == 0:
        raise DigestError("There is nothing new for the organisers since the last digest.")
    digest = digests.record(
        session,
        options,
        head,
        method="email",
        recipients=recipients,
        created_by=created_by,
        message_id=make_msgid(domain=_domain(config)),
    )
    # Committed before sending, so a reader's submission never waits on the mail server
    # behind this transaction; undone below if the mail does not go.
    session.commit()
    try:
        mailer.send(config, digest_message(config, session, digest))
    except mailer.MailError as exc:
        session.delete(digest)
        session.commit()
        raise DigestError(f"The digest was not sent and is not marked as sent. {exc}") from exc
    tell_authors(session, config, digest)
    return digest


def resend(session: Session, config: Mapping, digest: Digest) -> None:
    """Send a digest's identical content again; no new record, only a count.

    :raise DigestError: when sending fails.
    """
    try:
        mailer.send(config, digest_message(config, session, digest, fresh_id=True))
    except mailer.MailError as exc:
        raise DigestError(f"The digest was not sent again. {exc}") from exc
    digest.send_count += 1
    digest.last_sent_at = utcnow()
    session.commit()


def tell_authors(session: Session, config: Mapping, digest: Digest) -> int:
    """Email once each author who asked to hear when their idea goes out; returns how many.

    A failure is logged and leaves the author to be told after the next digest.
    """
    if not config.get("MAIL_SERVER"):
        return 0
    told = 0
    for item in digests.authors_to_tell(session, digest):
        try:
            mailer.send(config, _author_message(config, item, digest))
        except mailer.MailError:
            log.exception("Could not tell the author of #%s about digest %s", item.id, digest.id)
            break
        item.author_told_at = utcnow()
        session.commit()
        told += 1
    return told


def _author_message(config: Mapping, item: Submission, digest: Digest):
    when = digest.sent_at.strftime("%-d %B %Y")
    title = digests.title_of(item)
    text = (
        f"Hello {item.author_name},\n\n"
        f"Your idea “{title}” was passed to the organisers of {config['CONFERENCE_NAME']} "
        f"on {when}, in their digest of readers' ideas.\n\n"
        "Thank you for sharing it. You asked to be told; this is the only email about it.\n"
    )
    return mailer.build_message(
        config,
        to=[item.email],
        subject=f"Your idea went to the organisers of {config['CONFERENCE_NAME']}",
        text=text,
    )
