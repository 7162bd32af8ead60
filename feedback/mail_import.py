"""Ideas that arrived by email: each message read into the pending queue as a private note.

``read`` turns one message (its bytes) into a ``MailIdea`` or says why it is ``Skipped``;
``store`` keeps it once; ``import_messages`` does both for many, committing in batches.
``messages`` reads mbox files, Maildir folders and single ``.eml`` files; `flask mail
fetch` (feedback/mail_fetch.py) hands IMAP messages to the same functions.

What a stored field may hold is decided here: names, addresses and subjects lose line
breaks and control characters (no header can carry a line into anything the app writes),
texts lose control characters but keep their paragraphs, and HTML becomes plain text
(inscriptis, which fetches nothing: remote images and scripts are simply gone).
"""

import email
import email.policy
import email.utils
import hashlib
import logging
import mailbox
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from pathlib import Path

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from inscriptis import get_text
from mailparser_reply import EmailReplyParser
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback import submissions
from feedback.db import utcnow
from feedback.models import Credit, MailMessage, Submission, Topic, Visibility

# Why a message was not read in (the summary counts each).
AUTO_REPLY = "auto-reply"
BOUNCE = "bounce"
MAILING_LIST = "mailing list or bulk mail"
NO_TEXT = "no text"
NO_SENDER = "no usable sender address"
BLOCKED = "sender blocked by the owner"
UNREADABLE = "not readable as an email"

# As the form allows.
NAME_MAX, EMAIL_MAX, TITLE_MAX, BODY_MAX = 80, 254, 120, 5000
# The original kept for the owner: far beyond any idea, short of a whole mailbox.
ORIGINAL_MAX = 100_000
# What the reply trimmer reads: its patterns cost the square of a line's length, and the
# idea keeps BODY_MAX characters anyway.
TRIM_MAX = 2 * BODY_MAX
# A Date before this (or after now) is a broken clock or a forgery: the idea counts from now.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
HEADERS_SHOWN = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID")
# Replies and forwards as mail clients mark them, in the languages the trimmer reads.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rif|enc|antw|odp)\s*(?:\[\d+\])?\s*[:：]\s*"
    r"|(?:回复|回覆|答复|转发|轉寄)\s*[:：]\s*)+",
    re.IGNORECASE,
)
# The languages whose reply headers and sign-offs it knows: each costs about 0.1 ms a message.
_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_trimmer = EmailReplyParser(languages=_LANGUAGES)
log = logging.getLogger(__name__)


class Skipped(Exception):
    """A message that is not an idea; ``reason`` is one of the reasons above."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class MailIdea:
    """What one message gives: the idea's fields and, for the owner, the original."""

    key: str
    author_name: str
    email: str
    title: str | None
    body: str
    received_at: datetime
    headers: str
    original: str
    attachments: tuple[str, ...]


# What no stored text keeps: control characters (Cc, but for tab and newline in texts),
# lone surrogates (undecodable bytes), text-direction overrides and noncharacters.
_PLANE_ENDS = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(17))
_UNWANTED = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\u202a-\\u202e\\u2066-\\u2069"
    f"\\ufdd0-\\ufdef{_PLANE_ENDS}]"
)


_ESCAPED = re.compile("[\\udc80-\\udcff]")


def unescape_utf8(value: str) -> str:
    """Raw UTF-8 in a header (RFC 6532) reaches the email package as surrogate escapes: read
    those bytes as UTF-8 (what cannot be read becomes U+FFFD)."""
    if not _ESCAPED.search(value):
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def clean_line(value: str, limit: int) -> str:
    """One line of text: every run of whitespace or control characters one space, cut to
    ``limit`` characters (at a word where it can)."""
    return _cut(" ".join(_UNWANTED.sub(" ", unescape_utf8(value)).split()), limit)


def clean_text(value: str, limit: int) -> str:
    """Paragraphs of text: line breaks kept, control characters dropped, blank runs folded."""
    value = _UNWANTED.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in value.split("\n")]
    return _cut(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def _raw_headers(message: Message) -> dict[str, str]:
    """Each header's first value as it was sent (names in lower case): enough to test for
    one, and far cheaper than parsing them all."""
    found: dict[str, str] = {}
    for name, value in message.raw_items():
        found.setdefault(name.lower(), unescape_utf8(str(value)))
    return found


def message_key(raw_headers: dict[str, str], raw: bytes) -> str:
    """The same message, however often it is read: by its Message-ID, else by its bytes."""
    message_id = " ".join(raw_headers.get("message-id", "").split())
    if message_id:
        return hashlib.sha256(b"id:" + message_id.encode("utf-8", "replace")).hexdigest()
    return hashlib.sha256(b"raw:" + raw).hexdigest()


def _header(message: Message, name: str) -> str:
    """A header decoded as text ("" when absent or beyond the email package's parsers)."""
    try:
        value = message.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - the header parsers raise many kinds on hostile input
        return ""


_REPORTS = ("message/delivery-status", "message/global-delivery-status")


def _machine_mail(message: Message, headers: dict[str, str]) -> str | None:
    """Why a message was sent by a machine, not a reader (RFC 3834, RFC 2369, RFC 3464)."""
    auto = headers.get("auto-submitted", "").strip().lower()
    if (auto and auto != "no") or any(
        name in headers for name in ("x-autoreply", "x-autorespond", "x-autoresponse")
    ):
        return AUTO_REPLY
    if message.get_content_type() == "multipart/report":
        return BOUNCE
    if message.is_multipart() and any(
        _raw_headers(part).get("content-type", "").strip().lower().startswith(_REPORTS)
        for part in message.walk()
    ):
        return BOUNCE
    sender = headers.get("from", "").lower()
    if "mailer-daemon@" in sender or "postmaster@" in sender:
        return BOUNCE
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("bulk", "junk", "list") or "list-id" in headers:
        return MAILING_LIST
    if "list-unsubscribe" in headers:
        return MAILING_LIST
    return None


_ANGLE_ADDRESS = re.compile(r"(?P<name>.*?)\s*<(?P<address>[^<>\s]+)>\s*", re.DOTALL)


def _from(message: Message) -> tuple[str, str] | None:
    """The first From address as (display name, address), however the header is written."""
    try:
        header = message["From"]
        addresses = header.addresses if header is not None else ()
        if addresses:
            return addresses[0].display_name or "", addresses[0].addr_spec
    except Exception:  # noqa: BLE001 - see _header
        # A name whose encoded words decode to a line break: the email package refuses the
        # whole header, so read it raw and decode the name alone (cleaned by the caller).
        raw = next((value for name, value in message.raw_items() if name.lower() == "from"), "")
        found = _ANGLE_ADDRESS.fullmatch(str(raw))
        if found:
            try:
                name = str(make_header(decode_header(found["name"].strip().strip('"'))))
            except (UnicodeError, LookupError, ValueError):
                name = found["name"]
            return name, found["address"]
    return None


def _sender(message: Message) -> tuple[str, str]:
    """The author's name and address from From; the address checked as the form checks it."""
    sender = _from(message)
    if sender is None:
        raise Skipped(NO_SENDER, "no From address")
    display_name, addr_spec = unescape_utf8(sender[0]), unescape_utf8(sender[1])
    try:
        address = validate_email(addr_spec, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Skipped(NO_SENDER, str(exc)) from None
    if len(address) > EMAIL_MAX:
        raise Skipped(NO_SENDER, "the address is too long")
    name = clean_line(display_name, NAME_MAX).replace("<", "").replace(">", "")
    if not any(char.isalnum() for char in name):
        name = clean_line(address.split("@", 1)[0], NAME_MAX)
    return name, address


def _title(subject: str) -> str | None:
    subject = clean_line(subject, 10 * TITLE_MAX)
    return clean_line(_PREFIX.sub("", subject), TITLE_MAX) or None


def _received(date_header: str, now: datetime) -> datetime:
    """When it was sent, by its Date; a missing, broken or future date means now."""
    try:
        when = email.utils.parsedate_to_datetime(date_header)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return now
    return when if EARLIEST <= when <= now else now


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AttributeError, AssertionError):
        # An unknown charset or broken transfer encoding: the bytes, as well as they read.
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    return content if isinstance(content, str) else ""


def _attachment_names(message: Message) -> tuple[str, ...]:
    if not message.is_multipart():
        return ()
    names = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() != "attachment":
            continue
        try:
            filename = part.get_filename()
        except Exception:  # noqa: BLE001 - see _header
            filename = None
        names.append(clean_line(filename or f"unnamed ({part.get_content_type()})", 200))
    return tuple(names)


def _contents(message: Message) -> str:
    """The message's own text: its text/plain part, or its HTML as plain text."""
    body = None
    if not message.is_multipart():
        body = message if message.get_content_maintype() == "text" else None
    elif isinstance(message, EmailMessage):
        try:
            body = message.get_body(preferencelist=("plain", "html"))
        except (KeyError, IndexError, AttributeError):
            body = None
    if body is None:  # a broken structure: the first inline text part found
        body = next(
            (
                part
                for part in message.walk()
                if part.get_content_maintype() == "text"
                and part.get_content_disposition() != "attachment"
            ),
            None,
        )
    if body is None:
        return ""
    text = _part_text(body)
    if body.get_content_subtype() == "html":
        text = get_text(text)
    return text


def trim_reply(text: str) -> str:
    """The new words of a reply: quoted earlier messages and the signature cut off."""
    try:
        replies = _trimmer.read(text=text).replies
    except (ValueError, IndexError, AttributeError):
        return text
    return replies[0].body if replies and replies[0].body.strip() else text


def read(raw: bytes, now: datetime | None = None) -> MailIdea:
    """One message as an idea.

    :raise Skipped: for machine mail, a message with no usable sender or no text.
    """
    now = now or utcnow()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    raw_headers = _raw_headers(message)
    key = message_key(raw_headers, raw)
    machine = _machine_mail(message, raw_headers)
    if machine:
        raise Skipped(machine)
    name, address = _sender(message)
    original = clean_text(_contents(message), ORIGINAL_MAX)
    body = clean_text(trim_reply(original[:TRIM_MAX]), BODY_MAX)
    attachments = _attachment_names(message)
    if not body:
        raise Skipped(NO_TEXT, "only attachments" if attachments else "")
    shown = {header: _header(message, header) for header in HEADERS_SHOWN}
    headers = "\n".join(
        f"{header}: {clean_line(value, 1000)}" for header, value in shown.items() if value
    )
    return MailIdea(
        key=key,
        author_name=name,
        email=address,
        title=_title(shown["Subject"]),
        body=body,
        received_at=_received(raw_headers.get("date", ""), now),
        headers=headers,
        original=original,
        attachments=attachments,
    )


def messages(paths: Iterable[str]) -> tuple[int, Iterator[bytes]]:
    """How many messages the paths hold, and their bytes one at a time.

    A directory is a Maildir (it has ``cur`` and ``new``); a file starting with "From " (after
    blank lines) is an mbox; any other file is one message.

    :raise ValueError: for a path that is none of these, with its name.
    """
    sources: list[tuple[mailbox.Mailbox | None, Path]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            if not ((path / "cur").is_dir() and (path / "new").is_dir()):
                raise ValueError(f"{name}: a folder, but not a Maildir (no cur/ and new/ in it)")
            sources.append((mailbox.Maildir(path, factory=None, create=False), path))
        elif path.is_file():
            with path.open("rb") as head:
                start = head.read(4096)
            if start.startswith(b"\xef\xbb\xbf"):
                raise ValueError(
                    f"{name}: starts with a byte-order mark; remove it and import again"
                )
            # An mbox may start with blank lines before its first "From " line.
            if start.lstrip(b"\r\n").startswith(b"From "):
                sources.append((mailbox.mbox(path, factory=None, create=False), path))
            else:
                sources.append((None, path))
        else:
            raise ValueError(f"{name}: no such file or folder")
    total = sum(1 if box is None else len(box) for box, _path in sources)

    def each() -> Iterator[bytes]:
        for box, path in sources:
            if box is None:
                yield path.read_bytes()
                continue
            for key in box.iterkeys():
                yield box.get_bytes(key)
            box.close()

    return total, each()


@dataclass
class Summary:
    """What an import did: counts, and each skipped message's reason."""

    imported: int = 0
    already: int = 0
    skipped: Counter = field(default_factory=Counter)

    def __add__(self, other: "Summary") -> "Summary":
        return Summary(
            self.imported + other.imported,
            self.already + other.already,
            self.skipped + other.skipped,
        )

    def line(self) -> str:
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{reason} {count}" for reason, count in self.skipped.most_common())
        return (
            f"Imported {self.imported}, already there {self.already}, skipped {skipped}"
            + (f" ({reasons})" if reasons else "")
            + "."
        )


@dataclass(frozen=True)
class Settings:
    """What the site's settings decide for emailed ideas."""

    secret_key: str
    topic_slug: str | None
    credit: Credit
    # The content rules the form's ideas meet: spam phrases and the link limit.
    max_links: int
    spam_phrases: tuple[str, ...]

    @classmethod
    def of(cls, config) -> "Settings":
        policy = submissions.Policy.from_config(config)
        return cls(
            secret_key=config["SECRET_KEY"],
            topic_slug=config.get("MAIL_TOPIC"),
            credit=Credit(config["MAIL_CREDIT"]),
            max_links=policy.max_links,
            spam_phrases=policy.spam_phrases,
        )


def topic_for_mail(session: Session, slug: str | None) -> Topic:
    """The topic emailed ideas go to: MAIL_TOPIC, else the last one (usually "Other").

    :raise ValueError: when MAIL_TOPIC names no topic, or there is none.
    """
    query = sa.select(Topic)
    if slug:
        topic = session.scalar(query.where(Topic.slug == slug))
        if topic is None:
            raise ValueError(f"FEEDBACK_MAIL_TOPIC: there is no topic #{slug}")
        return topic
    topic = session.scalar(query.order_by(Topic.position.desc(), Topic.id.desc()).limit(1))
    if topic is None:
        raise ValueError("there are no topics: add one with `flask topics add`")
    return topic


def _new_idea(idea: MailIdea, topic: Topic, settings: Settings) -> submissions.NewIdea:
    return submissions.NewIdea(
        visibility=Visibility.PRIVATE,
        author_name=idea.author_name,
        email=idea.email,
        topic_id=topic.id,
        body=idea.body,
        title=idea.title,
        credit=settings.credit,
        by_email=True,
    )


def check_sender(session: Session, idea: MailIdea, topic: Topic, settings: Settings) -> None:
    """The block check alone, for a dry run (``store`` has create() make it).

    :raise Skipped: when the owner blocked the sender's address.
    """
    try:
        submissions.check_blocks(session, _new_idea(idea, topic, settings))
    except submissions.SubmissionError as exc:
        raise Skipped(BLOCKED, str(exc)) from None


def store(session: Session, idea: MailIdea, topic: Topic, settings: Settings) -> Submission:
    """The idea, pending as a private note received by email, with its message kept. The
    content rules apply as to the form's ideas: spam goes to the spam tab, for review.

    :raise Skipped: when the owner blocked the sender's address.
    """
    new = _new_idea(idea, topic, settings)
    verdict = submissions.screen(session, new, settings.max_links, settings.spam_phrases)
    try:
        # create() checks the blocks itself, as for the form's ideas.
        item, _token = submissions.create(
            session,
            new,
            secret_key=settings.secret_key,
            auto_approve_public=False,
            verdict=verdict,
            now=idea.received_at,
        )
    except submissions.SubmissionError as exc:
        raise Skipped(BLOCKED, str(exc)) from None
    session.add(
        MailMessage(
            key=idea.key,
            submission_id=item.id,
            headers=idea.headers,
            original=idea.original,
            attachments="\n".join(idea.attachments),
        )
    )
    return item


def message_of(session: Session, item: Submission) -> MailMessage | None:
    """The email an idea was read from, for the owner's item page."""
    return session.scalar(sa.select(MailMessage).where(MailMessage.submission_id == item.id))


BATCH = 200


def import_messages(
    session: Session,
    raws: Iterable[bytes],
    settings: Settings,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _n: None,
    report: Callable[[str], None] = lambda _line: None,
) -> Summary:
    """Read each message in; commit every BATCH. A message read before adds nothing, and
    nothing is written with ``dry_run``. ``report`` gets a line for each message."""
    topic = topic_for_mail(session, settings.topic_slug)
    summary = Summary()
    seen: set[str] = set()
    batch: list[MailIdea] = []

    def flush() -> None:
        known = set(
            session.scalars(
                sa.select(MailMessage.key).where(MailMessage.key.in_([i.key for i in batch]))
            )
        )
        for idea in batch:
            if idea.key in known:
                summary.already += 1
                report(f"already there: {_described(idea)}")
                continue
            try:
                if dry_run:
                    check_sender(session, idea, topic, settings)
                else:
                    with session.begin_nested():
                        store(session, idea, topic, settings)
            except Skipped as skip:
                summary.skipped[skip.reason] += 1
                report(f"skipped ({skip.reason}): {_described(idea)}")
                continue
            except IntegrityError:  # another import stored it since the check above
                summary.already += 1
                report(f"already there: {_described(idea)}")
                continue
            summary.imported += 1
            report(f"{'would import' if dry_run else 'imported'}: {_described(idea)}")
        if not dry_run:
            session.commit()
        batch.clear()

    for raw in raws:
        try:
            idea = read(raw)
        except Skipped as skip:
            summary.skipped[skip.reason] += 1
            report(f"skipped ({skip.reason}){': ' + skip.detail if skip.detail else ''}")
        except Exception as exc:  # noqa: BLE001 - hostile mail can break the email package
            # (a RecursionError in deep MIME, say): the message is counted and named, never
            # allowed to stop the ideas around it.
            log.warning("Unreadable message skipped: %s", type(exc).__name__)
            summary.skipped[UNREADABLE] += 1
            report(f"skipped ({UNREADABLE}): {type(exc).__name__}")
        else:
            if idea.key in seen:
                summary.already += 1
                report(f"already there: {_described(idea)}")
            else:
                seen.add(idea.key)
                batch.append(idea)
                if len(batch) >= BATCH:
                    flush()
        progress(1)
    if batch:
        flush()
    return summary


def _described(idea: MailIdea) -> str:
    title = idea.title or idea.body
    return f"{idea.received_at:%Y-%m-%d} {idea.author_name} <{idea.email}>: {_cut(title, 60)}"
