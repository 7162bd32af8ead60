"""What readers do with their ideas. Services take a session and never commit."""

import dataclasses
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback import antispam, moderation, quotas
from feedback.db import utcnow
from feedback.models import (
    Block,
    BlockKind,
    Credit,
    SpamPhrase,
    Status,
    Submission,
    Topic,
    Visibility,
)
from feedback.tokens import client_hash, hash_token, manage_token, new_manage_token

# The actor of changes the author makes through their manage link.
AUTHOR = "author"


class SubmissionError(ValueError):
    """A submission that breaks a rule.

    ``field`` names the form field to show it next to (None: the whole form), ``status`` the
    HTTP status that says so.
    """

    def __init__(
        self, field: str | None, message: str, status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class NewIdea:
    """What a reader sends, already checked for shape by the form or the caller."""

    visibility: Visibility
    author_name: str
    email: str
    topic_id: int
    body: str
    website: str | None = None
    title: str | None = None
    consent_to_publish: bool = False
    client_hash: str | None = None
    credit: Credit = Credit.NAME
    organisation: str | None = None
    notify_author: bool = False
    # The form's one-time key (see new_form_key), or None when the client sent none.
    form_key: str | None = None
    # Read from an email (feedback/mail_import.py), not typed into the form.
    by_email: bool = False


_FORM_KEY = re.compile(r"[A-Za-z0-9_-]{22,64}")
# The same text from the same email within this long is the same idea sent again.
REPEAT_WINDOW = timedelta(days=1)


def new_form_key() -> str:
    """A fresh one-time key for a form, so posting it twice stores one idea."""
    return secrets.token_urlsafe(24)


def usable_form_key(raw: str | None) -> str | None:
    """The posted form key when it is one the app could have made, else None."""
    return raw if raw and _FORM_KEY.fullmatch(raw) else None


def repeat_hash(email: str, body: str) -> str:
    """The same email and text, whatever their case and spacing, give the same hash."""
    text = " ".join(body.casefold().split())
    return hashlib.sha256(f"{email.strip().lower()}\x1f{text}".encode()).hexdigest()


def check_blocks(session: Session, idea: NewIdea) -> None:
    """:raise SubmissionError: (403) when the owner blocked its email or network address."""
    keys = [(BlockKind.EMAIL, idea.email.lower())]
    if idea.client_hash:
        keys.append((BlockKind.ADDRESS, idea.client_hash))
    for kind, value in keys:
        if session.scalar(sa.select(Block.id).where(Block.kind == kind, Block.value == value)):
            where = "this email address" if kind is BlockKind.EMAIL else "your network"
            raise SubmissionError(
                "email" if kind is BlockKind.EMAIL else None,
                f"The site owner does not accept ideas from {where}.",
                status=403,
            )


def create(
    session: Session,
    idea: NewIdea,
    *,
    secret_key: str,
    auto_approve_public: bool,
    trust_authors: bool = False,
    verdict: antispam.Verdict | None = None,
    now: datetime | None = None,
) -> tuple[Submission, str]:
    """Store a new idea; return it with the author's manage token (shown once, never stored).

    Public comments are approved at once when ``auto_approve_public`` is on, or when
    ``trust_authors`` is on and an owner trusted the author, unless the content rules'
    ``verdict`` holds the idea or calls it spam. ``now`` backdates the idea, for example data
    only.

    :raise SubmissionError: for an unknown topic, or a blocked email or address.
    """
    if session.get(Topic, idea.topic_id) is None:
        raise SubmissionError("topic", "That topic no longer exists. Please choose another.")
    check_blocks(session, idea)
    verdict = verdict or antispam.Verdict()
    token, nonce, token_hash = new_manage_token(secret_key)
    approve = (
        idea.visibility is Visibility.PUBLIC
        and not (verdict.held or verdict.spam)
        and (
            auto_approve_public
            or (trust_authors and moderation.is_trusted(session, idea.email, idea.author_name))
        )
    )
    status = Status.SPAM if verdict.spam else Status.APPROVED if approve else Status.PENDING
    now = now or utcnow()
    item = Submission(
        visibility=idea.visibility,
        status=status,
        author_name=idea.author_name,
        email=idea.email,
        website=idea.website or None,
        topic_id=idea.topic_id,
        title=idea.title or None,
        body=idea.body,
        # A public comment is consent in itself (so a hidden one can be shown again); a
        # private note is published only if its author ticked the box.
        consent_to_publish=idea.visibility is Visibility.PUBLIC or idea.consent_to_publish,
        manage_token_hash=token_hash,
        manage_nonce=nonce,
        client_hash=idea.client_hash,
        credit=idea.credit,
        # The organisation only matters when the author wants to be credited with it.
        organisation=idea.organisation if idea.credit is Credit.NAME_AND_ORGANISATION else None,
        notify_author=idea.notify_author,
        created_at=now,
        updated_at=now,
        approved_at=now if approve else None,
        form_key=idea.form_key,
        repeat_hash=repeat_hash(idea.email, idea.body),
        hold_reason=verdict.reason,
        by_email=idea.by_email,
    )
    session.add(item)
    session.flush()
    if verdict.reason:
        action = "spam" if verdict.spam else "held"
        moderation.record(
            session, item, None, action, None, verdict.reason, actor=antispam.SCREEN_ACTOR
        )
    return item, token


@dataclass(frozen=True)
class Policy:
    """The site's rules for new ideas, read from the settings."""

    secret_key: str
    auto_approve_public: bool
    trust_authors: bool
    max_links: int
    spam_phrases: tuple[str, ...]
    # None when rate limits are switched off.
    quota: tuple[quotas.Rule, ...] | None

    @classmethod
    def from_config(cls, config: Mapping) -> "Policy":
        """The policy the app's settings describe."""
        return cls(
            secret_key=config["SECRET_KEY"],
            auto_approve_public=config["AUTO_APPROVE_PUBLIC"],
            trust_authors=config["TRUST_APPROVED_AUTHORS"],
            max_links=int(config["MAX_LINKS"]),
            spam_phrases=tuple(antispam.phrases_from_setting(config["SPAM_WORDS"])),
            quota=quotas.parse(config["SUBMIT_RATE_LIMIT"])
            if config["RATELIMIT_ENABLED"]
            else None,
        )


@dataclass(frozen=True)
class Receipt:
    """What became of a posted idea.

    ``token`` is the new manage token (None when nothing new was stored); ``repeat`` says
    why not: "form" when this very form was stored before, "text" when the same email sent
    the same text within a day.
    """

    item: Submission
    token: str | None = None
    repeat: str | None = None


def spam_phrases(session: Session, configured: tuple[str, ...] = ()) -> list[str]:
    """The phrases that mark an idea as spam: the setting's and the owner's list."""
    owned = session.scalars(sa.select(SpamPhrase.phrase).order_by(SpamPhrase.phrase))
    return sorted(set(configured) | set(owned))


def screen(
    session: Session, idea: NewIdea | Submission, max_links: int, configured: tuple[str, ...]
) -> antispam.Verdict:
    """The content rules on every field a reader typed; links count in title, text and
    organisation (the website field is a link by design, as in WordPress)."""
    return antispam.screen(
        (idea.author_name, idea.email, idea.website, idea.organisation, idea.title, idea.body),
        (idea.title, idea.body, idea.organisation),
        max_links,
        spam_phrases(session, configured),
    )


def _earlier(session: Session, idea: NewIdea, now: datetime) -> Receipt | None:
    same_text = repeat_hash(idea.email, idea.body)
    if idea.form_key:
        item = session.scalar(sa.select(Submission).where(Submission.form_key == idea.form_key))
        # Back, a new idea typed into the same form: the key is the old one, the idea is not.
        if item is not None and item.repeat_hash == same_text:
            return Receipt(item, repeat="form")
    item = session.scalar(
        sa.select(Submission)
        .where(
            Submission.repeat_hash == same_text,
            Submission.created_at >= now - REPEAT_WINDOW,
            Submission.status != Status.WITHDRAWN,
        )
        .order_by(Submission.id)
        .limit(1)
    )
    return Receipt(item, repeat="text") if item is not None else None


def receive(session: Session, idea: NewIdea, policy: Policy) -> Receipt:
    """Take a reader's idea from the form: store it once, or say it was stored before.

    Posts for the same address, email or form are handled one at a time in every worker, so
    two copies of a form sent at once store one idea and the quota counts exactly. Only
    stored ideas count against the quota. The caller commits, or rolls back on an error.

    :raise SubmissionError: for an unknown topic, a block, or a quota reached (status 429).
    """
    email_key = client_hash(f"email:{idea.email.strip().lower()}", policy.secret_key)
    names = [f"submit:{email_key}"]
    if idea.client_hash:
        names.append(f"submit:{idea.client_hash}")
    if idea.form_key:
        names.append(f"form:{idea.form_key}")
    quotas.serialise(session, names)
    # The clock is read once the lock is held, so hits are stored in the order they count.
    now = utcnow()
    # A block is the answer even to a copy of an idea stored before the block.
    check_blocks(session, idea)
    earlier = _earlier(session, idea, now)
    if earlier is not None:
        return earlier
    if idea.form_key and session.scalar(
        sa.select(Submission.id).where(Submission.form_key == idea.form_key)
    ):
        # A different idea sent from a form used before: stored, without the spent key.
        idea = dataclasses.replace(idea, form_key=None)
    if policy.quota and idea.client_hash:
        try:
            quotas.take(session, [quotas.Claim("submit", idea.client_hash, policy.quota)], now)
        except quotas.QuotaExceeded as exc:
            raise SubmissionError(
                None,
                "You have sent several ideas from this address in a short time. Your text is "
                f"kept below: please wait {exc.wait_words} and send it again.",
                status=429,
                retry_after=exc.retry_after,
            ) from None
    verdict = screen(session, idea, policy.max_links, policy.spam_phrases)
    try:
        item, token = create(
            session,
            idea,
            secret_key=policy.secret_key,
            auto_approve_public=policy.auto_approve_public,
            trust_authors=policy.trust_authors,
            verdict=verdict,
            now=now,
        )
    except IntegrityError:
        # The lock above makes this race impossible; should it ever happen, the unique form
        # key still decides, and the reader hears that their idea is stored.
        session.rollback()
        if idea.form_key is None:
            raise
        item = session.scalar(sa.select(Submission).where(Submission.form_key == idea.form_key))
        if item is None:
            raise
        return Receipt(item, repeat="form")
    return Receipt(item, token)


def mark_link_shown(session: Session, item: Submission) -> None:
    """Note that the thank-you page showed the item's manage link (not an edit of the idea)."""
    if item.link_shown_at is None:
        session.execute(
            sa.update(Submission)
            .where(Submission.id == item.id)
            .values(link_shown_at=utcnow(), updated_at=Submission.updated_at)
        )


def show_link(
    session: Session, receipt: Receipt, posted_key: str | None, secret_key: str
) -> str | None:
    """The manage token to show for a repeated post, or None.

    Only a repeat of the very form this browser posted before (``posted_key``, from its
    session) gets its link, and only until the thank-you page showed it: a double click
    whose first answer never arrived still sees the link; the next person at a shared
    computer, or anyone sending the same text from elsewhere, does not.
    """
    item = receipt.item
    if (
        receipt.repeat != "form"
        or posted_key is None
        or posted_key != item.form_key
        or item.link_shown_at is not None
        or item.manage_nonce is None
    ):
        return None
    return manage_link_token(session, item, secret_key)


def get_by_token(session: Session, token: str) -> Submission | None:
    """The submission a manage token belongs to, or None."""
    return session.scalar(
        sa.select(Submission).where(Submission.manage_token_hash == hash_token(token))
    )


def manage_link_token(session: Session, item: Submission, secret_key: str) -> str:
    """The item's manage token, for mailing its link again.

    Ideas stored before tokens were derivable get a new token (their old link stops working).
    """
    if item.manage_nonce is None:
        token, item.manage_nonce, item.manage_token_hash = new_manage_token(secret_key)
        return token
    token = manage_token(item.manage_nonce, secret_key)
    # After a change of SECRET_KEY the old link is dead anyway; make the mailed one work.
    item.manage_token_hash = hash_token(token)
    return token


def by_email(session: Session, email: str) -> list[Submission]:
    """Every idea sent from an address, newest first (for mailing the links again)."""
    return list(
        session.scalars(
            sa.select(Submission)
            .where(sa.func.lower(Submission.email) == email.strip().lower())
            .order_by(Submission.id.desc())
            .limit(50)
        )
    )


class AuthorActionRefused(ValueError):
    """Something the author may not do (now); the message says why."""


@dataclass(frozen=True)
class EditRules:
    """How long authors may edit, whether an edit sends a published idea back to the queue,
    and the content rules an edit must pass like a new idea."""

    window: timedelta
    reapprove: bool
    max_links: int = 2
    spam_phrases: tuple[str, ...] = ()


def can_edit(item: Submission, rules: EditRules, now: datetime | None = None) -> bool:
    """Whether the author may still edit: while pending, or for a while after approval."""
    if item.status is Status.PENDING:
        return True
    if item.status is Status.APPROVED and item.approved_at is not None:
        return (now or utcnow()) - item.approved_at <= rules.window
    return False


def edit_by_author(
    session: Session,
    item: Submission,
    rules: EditRules,
    *,
    title: str | None,
    body: str,
    topic: Topic,
    website: str | None,
) -> bool:
    """Apply the author's edit, recorded in the trail; return whether it went back to pending.

    :raise AuthorActionRefused: when the idea can no longer be edited.
    """
    if not can_edit(item, rules):
        raise AuthorActionRefused("This idea can no longer be edited. You can still withdraw it.")
    changes = {
        "edit_title": (item.title, title or None),
        "edit_body": (item.body, body),
        "topic": (item.topic.slug, topic.slug),
        "edit_website": (item.website, website or None),
    }
    changed = False
    for action, (old, new) in changes.items():
        if old != new:
            moderation.record(session, item, None, action, old, new, actor=AUTHOR)
            changed = True
    item.title, item.body, item.website = title or None, body, website or None
    if item.topic_id != topic.id:
        moderation.leave_theme(session, item)
    item.topic, item.topic_id = topic, topic.id
    back = (
        changed
        and rules.reapprove
        and item.status is Status.APPROVED
        and item.visibility is Visibility.PUBLIC
    )
    if back:
        moderation.record(session, item, None, "status", item.status, Status.PENDING, actor=AUTHOR)
        item.status = Status.PENDING
        item.approved_at = None
    return _screen_edit(session, item, rules) or back


def _screen_edit(session: Session, item: Submission, rules: EditRules) -> bool:
    """Hold or mark spam an edited idea as a new one would be; return whether it left the page."""
    verdict = screen(session, item, rules.max_links, rules.spam_phrases)
    if verdict.spam and item.status is not Status.SPAM:
        to = Status.SPAM
    elif verdict.held and item.status is Status.APPROVED:
        to = Status.PENDING
    else:
        return False
    moderation.record(session, item, None, "status", item.status, to, actor=antispam.SCREEN_ACTOR)
    item.status, item.approved_at, item.hold_reason = to, None, verdict.reason
    return True


def withdraw(session: Session, item: Submission) -> None:
    """Take the idea back: off every public page and out of every future digest.

    Any open request to publish it can no longer be answered (consent.askable).
    """
    if item.status is Status.WITHDRAWN:
        return
    moderation.record(session, item, None, "status", item.status, Status.WITHDRAWN, actor=AUTHOR)
    item.status = Status.WITHDRAWN


def set_consent(session: Session, item: Submission, consent: bool) -> None:
    """Give or take back consent to publish a private note.

    Taking it back from a note an owner already published makes it private again.
    """
    if item.status is Status.WITHDRAWN:
        raise AuthorActionRefused("This idea is withdrawn.")
    if item.consent_to_publish is not consent:
        moderation.record(
            session, item, None, "consent", item.consent_to_publish, consent, actor=AUTHOR
        )
        item.consent_to_publish = consent
    if not consent and item.visibility is Visibility.PUBLIC:
        moderation.record(
            session, item, None, "visibility", item.visibility, Visibility.PRIVATE, actor=AUTHOR
        )
        item.visibility = Visibility.PRIVATE
