"""Getting a digest to the organisers: recording it, emailing it, telling its authors."""

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import make_msgid
from typing import BinaryIO

from sqlalchemy.orm import Session

from feedback import mailer
from feedback.db import utcnow
from feedback.digest import contents, formats
from feedback.digest.contents import SENDING, DigestError, Entry, Header, Options
from feedback.models import Digest, Submission

log = logging.getLogger(__name__)


def _domain(config: Mapping) -> str | None:
    return config["MAIL_FROM"].rpartition("@")[2].strip("> ") or None


def _addressing(config: Mapping, digest: Digest | None = None, *, fresh_id: bool = False):
    """Who a digest's email is from and to, its Message-ID and date: those it was sent with,
    or new ones for a digest not recorded yet (or sent again)."""
    fresh = digest is None or fresh_id
    return {
        "sender": config["MAIL_FROM"],
        "recipients": (
            list(config["ORGANISER_EMAILS"])
            if digest is None
            else [r.strip() for r in digest.recipients.split(",") if r.strip()]
        ),
        "message_id": make_msgid(domain=_domain(config)) if fresh else digest.message_id,
        "sent_at": utcnow() if fresh else digest.sent_at,
    }


def digest_message(config: Mapping, session: Session, digest: Digest, *, fresh_id: bool = False):
    """A recorded digest as an email to send, rebuilt from what it held."""
    return formats.build_eml(
        Header.from_json(digest.header_json),
        contents.sent_entries(session, digest),
        **_addressing(config, digest, fresh_id=fresh_id),
    )


@dataclass(frozen=True)
class Rendition:
    """A digest ready to write in any format: the next one (not recorded), or one sent before.

    ``entries()`` reads its entries from the database again each time it is called.
    """

    head: Header
    options: Options
    entries: Callable[[], Iterable[Entry]]
    addressing: Mapping

    def write_eml(self, out: BinaryIO) -> None:
        """The digest as an email file (identical on every download of a sent digest)."""
        formats.write_eml(out, self.head, self.entries, **self.addressing)


def rendition(
    session: Session,
    config: Mapping,
    *,
    options: Options | None = None,
    digest: Digest | None = None,
) -> Rendition:
    """The sent ``digest`` as it went out, or else the next digest with these ``options``."""
    if digest is not None:
        return Rendition(
            Header.from_json(digest.header_json),
            Options.from_json(digest.options_json),
            functools.partial(contents.sent_entries, session, digest),
            _addressing(config, digest),
        )
    options = options or Options()
    # One arrangement for both, so the header's themes are those the entries are shown in.
    arranged = contents.arrange(session, options)
    head = contents.header(session, options, config["CONFERENCE_NAME"], arranged)

    def entries() -> Iterator[Entry]:
        return (entry for _item, entry in contents.new_entries(session, options, arranged))

    return Rendition(head, options, entries, _addressing(config))


def mark_sent(
    session: Session,
    config: Mapping,
    options: Options,
    *,
    created_by: str,
    expected: str | None = None,
) -> Digest:
    """Record a digest the owner sent some other way; the caller commits, then tells authors.

    :raise SelectionChanged: when ``expected`` is not the fingerprint of what it would record.
    :raise DigestError: when there is nothing new.
    """
    return contents.record(
        session,
        options,
        config["CONFERENCE_NAME"],
        method="marked",
        recipients=[],
        created_by=created_by,
        message_id=make_msgid(domain=_domain(config)),
        expected=expected,
    )


def send(
    session: Session,
    config: Mapping,
    options: Options,
    *,
    created_by: str,
    expected: str | None = None,
) -> Digest:
    """Email a new digest to the organisers and record it; a failure records nothing.

    Sending spans transactions on purpose: the items are claimed (committed as "sending")
    before the mail server is contacted, so no reader's submission waits on the mail server,
    and two senders cannot claim the same items. Any failure removes the claim again; a
    process killed meanwhile leaves a "sending" digest that the owner sends again or discards.
    The caller then tells the authors (``tell_authors``) and commits that.

    :raise SelectionChanged: when ``expected`` (the preview's fingerprint) is not the
        fingerprint of what it would send; nothing is sent or recorded then.
    :raise DigestError: nothing new, no organiser address, or a failure.
    """
    recipients = list(config["ORGANISER_EMAILS"])
    if not recipients:
        raise DigestError("No organiser addresses are configured (set ORGANISER_EMAILS).")
    digest = contents.record(
        session,
        options,
        config["CONFERENCE_NAME"],
        method=SENDING,
        recipients=recipients,
        created_by=created_by,
        message_id=make_msgid(domain=_domain(config)),
        expected=expected,
    )
    # The one service that commits: the claim must be visible before the slow mail server.
    session.commit()
    try:
        mailer.send(config, digest_message(config, session, digest))
    except Exception as exc:
        session.rollback()
        session.delete(digest)
        session.commit()
        reason = str(exc) if isinstance(exc, mailer.MailError) else "An unexpected error."
        if not isinstance(exc, mailer.MailError):
            log.exception("Digest sending failed")
        raise DigestError(f"The digest was not sent and is not marked as sent. {reason}") from exc
    digest.method = "email"
    session.commit()
    return digest


def resend(session: Session, config: Mapping, digest: Digest) -> None:
    """Email a digest's identical content again (or finish one left "sending"); no new record.

    The caller commits, then tells the authors (``tell_authors``) and commits again.

    :raise DigestError: for a digest that was only marked as sent, or when sending fails.
    """
    if digest.method == "marked":
        raise DigestError(
            "This digest was marked as sent, not emailed from here; download it instead."
        )
    try:
        mailer.send(config, digest_message(config, session, digest, fresh_id=True))
    except mailer.MailError as exc:
        raise DigestError(f"The digest was not sent again. {exc}") from exc
    if digest.method == SENDING:
        digest.method = "email"
    else:
        digest.send_count += 1
    digest.last_sent_at = utcnow()


def discard(session: Session, digest: Digest) -> None:
    """Forget a digest whose sending never finished; its ideas are offered again.

    :raise DigestError: for a digest that was sent or marked as sent.
    """
    if digest.method != SENDING:
        raise DigestError("Only a digest that never finished sending can be discarded.")
    session.delete(digest)


def tell_authors(session: Session, config: Mapping) -> int:
    """Email once each author who asked to hear when their idea went out; returns how many.

    One connection for all; a failure is logged and that author is told after a later digest.
    The caller commits who was told.
    """
    if not config.get("MAIL_SERVER"):
        return 0
    items = contents.authors_to_tell(session)
    if not items:
        return 0
    sent_ids = mailer.send_many(
        config, [(item.id, _author_message(session, config, item)) for item in items]
    )
    now = utcnow()
    for item in items:
        if item.id in sent_ids:
            item.author_told_at = now
    return len(sent_ids)


def _author_message(session: Session, config: Mapping, item: Submission):
    went_out = contents.sent_in(session, item)
    when = went_out[-1].sent_at.strftime("%-d %B %Y") if went_out else "today"
    return mailer.from_templates(
        config,
        "told",
        to=[item.email],
        subject=f"Your idea went to the organisers of {config['CONFERENCE_NAME']}",
        item=item,
        when=when,
    )
